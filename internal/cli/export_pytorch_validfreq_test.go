package cli

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
)

// TestExportPyTorchValidationFreq runs a recipe with --validation-freq 2
// in convnet and in its PyTorch project, for 7 epochs with early stopping
// (patience 2, a min_delta no epoch beats) and the plateau schedule
// (patience 0) on val_loss: both validate after epochs 2, 4 and 6 only,
// their early stopping counts those alone and stops after epoch 6, the
// plateau lowers the rate after epochs 4 and 6 alone, each says once that
// it skips the other epochs, their CSV logs have NA in the same cells, the
// validation columns from the first row, and TensorBoard's validation run
// has the same steps. Then both early stoppings, given one sequence of
// val_loss with an epoch in two not validated, stop at the same epoch with
// the same best.
func TestExportPyTorchValidationFreq(t *testing.T) {
	py, base := smallProject(t)
	recipe := append(slices.Clone(base), "--epochs", "7", "--batch-size", "16", "--validation-split", "0.2", "--validation-freq", "2",
		"--early-stopping", "2", "--early-stopping-min-delta", "1e6", "--schedule", "plateau", "--plateau-patience", "0", "--plateau-min-delta", "1",
		"--csv-log", "log.csv", "--tensorboard", "logs")
	project := exportProject(t, recipe)
	torch := trainPy(t, py, project, project)
	dir := t.TempDir()
	args := append([]string{"train", "--out", filepath.Join(dir, "m.safetensors")}, recipe...)
	args[slices.Index(args, "logs")] = filepath.Join(dir, "logs")
	args[slices.Index(args, "log.csv")] = filepath.Join(dir, "log.csv")
	code, _, ours := runCLI(args...)
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, ours)
	}
	for name, out := range map[string]string{"convnet": ours, "the PyTorch project": torch} {
		for _, want := range []string{"Epoch 6: early stopping", "Warning: Early stopping is conditioned on metric `val_loss`",
			"Warning: Learning rate reduction is conditioned on metric `val_loss`"} {
			if n := strings.Count(out, want); n != 1 {
				t.Errorf("%s says %q %d times, want once:\n%s", name, want, n, out)
			}
		}
	}

	type row struct {
		validated bool
		lr        float64
	}
	rows := func(path, lr string) []row {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := func(name string) int {
			i := slices.Index(recs[0], name)
			if i < 0 {
				t.Fatalf("%s: no column %s in %v", path, name, recs[0])
			}
			return i
		}
		var out []row
		for _, r := range recs[1:] {
			v, err := strconv.ParseFloat(r[col(lr)], 64)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			na := r[col("val_loss")] == "NA"
			if na != (r[col("val_accuracy")] == "NA") {
				t.Errorf("%s: row %v has one validation figure of two", path, r)
			}
			out = append(out, row{!na, v})
		}
		return out
	}
	a, b := rows(filepath.Join(dir, "log.csv"), "learning_rate"), rows(filepath.Join(project, "log.csv"), "lr")
	want := []row{{false, 0.001}, {true, 0.001}, {false, 0.001}, {true, 0.001}, {false, 0.0005}, {true, 0.0005}}
	for name, got := range map[string][]row{"convnet": a, "the PyTorch project": b} {
		if len(got) != len(want) {
			t.Fatalf("%s's CSV log: %v, want %v", name, got, want)
		}
		for i := range want {
			if got[i].validated != want[i].validated || math.Abs(got[i].lr-want[i].lr) > 1e-12 {
				t.Errorf("%s's CSV log: epoch %d validated %v at rate %g, want %v at %g", name, i+1, got[i].validated, got[i].lr, want[i].validated, want[i].lr)
			}
		}
	}

	steps := func(logs string) []string {
		files, _ := filepath.Glob(filepath.Join(logs, "validation", "events.out.tfevents.*"))
		if len(files) != 1 {
			t.Fatalf("%s: validation event files %v, want one", logs, files)
		}
		var out []string
		for _, s := range eventSteps(t, files[0]) {
			if !strings.Contains(s, " ") {
				out = append(out, s)
			}
		}
		return out
	}
	for name, got := range map[string][]string{"convnet": steps(filepath.Join(dir, "logs")), "the PyTorch project": steps(filepath.Join(project, "logs"))} {
		if !slices.Equal(got, []string{"1", "3", "5"}) {
			t.Errorf("%s's TensorBoard validation scalars at steps %v, want [1 3 5]", name, got)
		}
	}

	// One sequence for both early stoppings: epochs 1, 3, 5, ... not
	// validated (NaN here, no val_loss in their logs).
	flags := append(slices.Clone(base), "--epochs", "12", "--validation-split", "0.2", "--validation-freq", "2", "--early-stopping", "2")
	values := []float64{-1, 1.0, -1, 0.9, -1, 0.95, -1, 0.85, -1, 0.86, -1, 0.87}
	es := earlyStopper(t, flags)
	var convnet [2]int // the epoch it stops at (from 1), 0: none; the best epoch
	h := &model.History{}
	for epoch, v := range values {
		l := model.EpochLogs{Epoch: epoch, ValidationSkipped: true}
		if v >= 0 {
			l = model.EpochLogs{Epoch: epoch, HasValidation: true, ValLoss: v}
		}
		h.Epochs = append(h.Epochs, l)
		if stop, err := es.OnEpochEnd(nil, h); err != nil {
			t.Fatal(err)
		} else if stop {
			convnet[0] = epoch + 1
			break
		}
	}
	convnet[1] = es.BestEpoch()
	seq, _ := json.Marshal(values)
	var pytorch [2]int
	projectJSON(t, py, flags, `es, stopped = train.EarlyStopping(), 0
for epoch, v in enumerate(json.loads(sys.argv[2])):
    if es.epoch_end(epoch, {"loss": 1.0} if v < 0 else {"loss": 1.0, "val_loss": v}, None, print):
        stopped = epoch + 1
        break
print(json.dumps([stopped, es.best_epoch + 1]))`, &pytorch, string(seq))
	// 8 is the best; 10 and 12 wait 1 and 2: the stop after epoch 12.
	if convnet != [2]int{12, 8} || pytorch != convnet {
		t.Errorf("early stopping on %v: convnet stopped at epoch %d, best %d; the PyTorch project %d and %d; want 12 and 8", values, convnet[0], convnet[1], pytorch[0], pytorch[1])
	}
}
