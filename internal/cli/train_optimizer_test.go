package cli

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
)

// trainTutorial trains the tutorial network on 2,000 real AHCD letters
// for three epochs without augmentation, with the flags given, and
// returns the last epoch's logs. The run must say want.
func trainTutorial(t *testing.T, want string, flags ...string) model.EpochLogs {
	t.Helper()
	out := filepath.Join(t.TempDir(), "m.safetensors")
	if i := slices.Index(flags, "--out"); i >= 0 {
		out = flags[i+1]
	}
	args := append([]string{"train", "--dataset", "ahcd", "--data-dir", dataDir(t), "--limit", "2000", "--model", "tutorial",
		"--no-augment", "--epochs", "3", "--no-evaluate", "--out", out}, flags...)
	code, _, stderr := runCLI(args...)
	if code != 0 {
		t.Fatalf("train %v: exit code %d\n%s", args, code, stderr)
	}
	if !strings.Contains(stderr, want) {
		t.Errorf("train does not say %q:\n%s", want, stderr)
	}
	m, err := model.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	h, err := m.History()
	if err != nil {
		t.Fatal(err)
	}
	last := h.Epochs[len(h.Epochs)-1]
	t.Logf("%v: loss %.4f, accuracy %.4f", flags, last.Loss, last.Accuracy)
	return last
}

// TestTrainClipping trains with SGD at a learning rate of 1: without
// clipping its first steps throw the network where it can only guess (a
// loss of ln 28 = 3.33, 1 in 28 right), with --global-clipnorm 1 it learns
// (seeds 2 and 3 give the same picture).
func TestTrainClipping(t *testing.T) {
	skipRace(t)
	if e := trainTutorial(t, "sgd lr 1, seed", "--optimizer", "sgd", "--lr", "1"); e.Loss < 3.3 || e.Accuracy > 0.06 {
		t.Errorf("without clipping, loss %.4f and accuracy %.4f: the network learnt at a rate meant to break it", e.Loss, e.Accuracy)
	}
	if e := trainTutorial(t, "sgd lr 1, global_clipnorm 1,", "--optimizer", "sgd", "--lr", "1", "--global-clipnorm", "1"); e.Loss > 3.2 || e.Accuracy < 0.1 {
		t.Errorf("with --global-clipnorm 1, loss %.4f and accuracy %.4f, want below 3.2 and above 0.1", e.Loss, e.Accuracy)
	}
}

// TestTrainOptimizers trains with each optimizer that the other tests do
// not train (their rules are checked against formulas in package optim
// and against the PyTorch project's step): each must take the loss well
// below chance, ln 28 = 3.33. Adagrad trains six epochs, the others
// three: its steps shrink as its sums grow, and after three epochs its
// loss sits at the edge (2.96 to 3.15 across seeds 1 to 3 and the
// convolutions' rounding, direct or by Winograd's transforms; 2.26 to 2.41
// after six).
func TestTrainOptimizers(t *testing.T) {
	skipRace(t)
	for _, opt := range [][3]string{{"adagrad", "0.1", "6"}, {"adadelta", "1", "3"}, {"adamax", "0.002", "3"}, {"nadam", "0.001", "3"}, {"lion", "0.0003", "3"}} {
		e := trainTutorial(t, ", "+opt[0]+" lr "+opt[1]+",", "--optimizer", opt[0], "--lr", opt[1], "--epochs", opt[2])
		if e.Loss > 3.1 || e.Accuracy < 0.1 {
			t.Errorf("%s: loss %.4f and accuracy %.4f after %s epochs, want below 3.1 and above 0.1", opt[0], e.Loss, e.Accuracy, opt[2])
		}
	}
}

// TestTrainEMA trains with --ema on real letters and checks, through the
// last epoch's checkpoint (the raw weights and the optimizer's state), that
// the saved model holds the optimizer's moving averages of the weights, not
// the weights the last step left.
func TestTrainEMA(t *testing.T) {
	skipRace(t)
	dir := t.TempDir()
	e := trainTutorial(t, "rmsprop lr 0.001, ema 0.9, seed", "--ema", "0.9", "--out", filepath.Join(dir, "m.safetensors"),
		"--checkpoint", filepath.Join(dir, "ck-{epoch}.safetensors"))
	if e.Loss > 3 {
		t.Errorf("loss %.4f after three epochs, want below 3", e.Loss)
	}
	final, err := model.Load(filepath.Join(dir, "m.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	ck, err := model.Load(filepath.Join(dir, "ck-3.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	st := ck.Optimizer().State()
	if names := ck.Optimizer().SlotNames(); len(st) != len(final.Params()) || names[len(names)-1] != "average" {
		t.Fatalf("the checkpoint's optimizer keeps %d parameters' %v, want the model's %d with an average", len(st), names, len(final.Params()))
	}
	for i, ps := range st {
		avg, w := ps.Slots[len(ps.Slots)-1].Data, ps.Param.Value.Data
		if !slices.Equal(final.Params()[i].Value.Data, avg) {
			t.Fatalf("parameter %d (%s): the saved model's weights are not the moving average", i, ps.Param.Name)
		}
		if slices.Equal(avg, w) {
			t.Fatalf("parameter %d (%s): the average equals the last step's weights", i, ps.Param.Name)
		}
	}
}
