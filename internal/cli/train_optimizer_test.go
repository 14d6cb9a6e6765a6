package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
)

// TestTrainClipping trains the tutorial network on 2,000 real AHCD
// letters with SGD at a learning rate of 1, three epochs:
// without clipping its first steps throw the network where it can only
// guess (a loss of ln 28 = 3.33, 1 in 28 right), with --global-clipnorm 1
// it learns.
func TestTrainClipping(t *testing.T) {
	skipRace(t)
	dir := t.TempDir()
	for _, seed := range []int{1} { // seeds 2 and 3 give the same picture
		for _, clip := range []string{"", "1"} {
			out := filepath.Join(dir, fmt.Sprintf("m%s%d.safetensors", clip, seed))
			args := []string{"train", "--dataset", "ahcd", "--data-dir", dataDir(t), "--limit", "2000", "--model", "tutorial",
				"--optimizer", "sgd", "--lr", "1", "--no-augment", "--epochs", "3", "--seed", fmt.Sprint(seed), "--no-evaluate", "--out", out}
			if clip != "" {
				args = append(args, "--global-clipnorm", clip)
			}
			code, _, stderr := runCLI(args...)
			if code != 0 {
				t.Fatalf("train %v: exit code %d\n%s", args, code, stderr)
			}
			if want := "sgd lr 1, global_clipnorm 1,"; clip != "" && !strings.Contains(stderr, want) {
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
			t.Logf("seed %d, global clipnorm %q: loss %.4f, accuracy %.4f", seed, clip, last.Loss, last.Accuracy)
			if clip == "" && (last.Loss < 3.3 || last.Accuracy > 0.06) {
				t.Errorf("seed %d: without clipping, loss %.4f and accuracy %.4f: the network learnt at a rate meant to break it", seed, last.Loss, last.Accuracy)
			}
			if clip != "" && (last.Loss > 3.2 || last.Accuracy < 0.1) {
				t.Errorf("seed %d: with --global-clipnorm %s, loss %.4f and accuracy %.4f, want below 3.2 and above 0.1", seed, clip, last.Loss, last.Accuracy)
			}
		}
	}
}

// TestTrainOptimizers trains the tutorial network on 2,000 real AHCD
// letters for three epochs with each optimizer that the other tests do
// not train (their rules are checked against formulas in package optim
// and against the PyTorch project's step): each must take the loss well
// below chance, ln 28 = 3.33.
func TestTrainOptimizers(t *testing.T) {
	skipRace(t)
	dir := t.TempDir()
	for _, opt := range [][]string{{"adagrad", "0.1"}, {"adadelta", "1"}, {"adamax", "0.002"}, {"nadam", "0.001"}, {"lion", "0.0003"}} {
		out := filepath.Join(dir, opt[0]+".safetensors")
		args := []string{"train", "--dataset", "ahcd", "--data-dir", dataDir(t), "--limit", "2000", "--model", "tutorial",
			"--optimizer", opt[0], "--lr", opt[1], "--no-augment", "--epochs", "3", "--no-evaluate", "--out", out}
		code, _, stderr := runCLI(args...)
		if code != 0 {
			t.Fatalf("train %v: exit code %d\n%s", args, code, stderr)
		}
		if want := fmt.Sprintf(", %s lr %s,", opt[0], opt[1]); !strings.Contains(stderr, want) {
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
		t.Logf("%s, lr %s: loss %.4f, accuracy %.4f", opt[0], opt[1], last.Loss, last.Accuracy)
		if last.Loss > 3.1 || last.Accuracy < 0.1 {
			t.Errorf("%s: loss %.4f and accuracy %.4f after three epochs, want below 3.1 and above 0.1", opt[0], last.Loss, last.Accuracy)
		}
	}
}
