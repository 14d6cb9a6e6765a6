package cli

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// TestExportPyTorchSchedules: the PyTorch project's learning rate at every
// step of a run is convnet's, for the step and cosine schedules, each with
// a warmup too (Keras's for the cosine), and for a warmup before a
// constant rate (3 steps an epoch, 5 epochs, and past the end).
func TestExportPyTorchSchedules(t *testing.T) {
	py, base := smallProject(t)
	const steps, epochs = 3, 5
	for _, flags := range [][]string{
		{"--schedule", "step", "--step-every", "2", "--step-factor", "0.3"},
		{"--schedule", "cosine", "--cosine-alpha", "0.1"},
		{"--schedule", "cosine", "--cosine-alpha", "0.2", "--warmup-epochs", "2", "--lr", "0.01"},
		{"--schedule", "step", "--step-every", "2", "--step-factor", "0.3", "--warmup-epochs", "1"},
		{"--warmup-epochs", "2", "--lr", "0.003"},
	} {
		t.Run(strings.Join(flags, " "), func(t *testing.T) {
			t.Parallel()
			flags := append(append(slices.Clone(base), "--epochs", "5"), flags...)
			o, err := parseTrain(flags, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			var torch []float64
			projectJSON(t, py, flags, `s = train.Schedule(3, 5)
print(json.dumps([s.lr(i, i // 3) for i in range(3 * 5 + 3)]))`, &torch)
			sched := o.lrSchedule(steps)
			for i, want := range torch {
				if got := sched.LR(i, i/steps); math.Abs(got-want) > 1e-15*math.Max(1, math.Abs(want)) {
					t.Errorf("step %d: convnet %v, PyTorch project %v", i, got, want)
				}
			}
		})
	}
}

// smallProject skips under the race detector, and returns the Python of
// the PyTorch comparisons and the flags of a run on smallSet's CSV file
// with smallSetNet's network.
func smallProject(t *testing.T) (py string, flags []string) {
	skipRace(t)
	py = python(t, "torch", "torchvision", "numpy")
	return py, []string{"--csv", writeCSVSet(t, smallSet).Train, "--model", smallSetNet(t, t.TempDir())}
}

// projectJSON exports the PyTorch project of convnet train's flags, runs
// the Python script with its train.py imported as train (and json and sys;
// sys.argv[2:] are args), and reads the JSON the script prints last into v.
func projectJSON(t *testing.T, py string, flags []string, script string, v any, args ...string) {
	t.Helper()
	project := filepath.Join(t.TempDir(), "project")
	if code, _, stderr := runCLI(append([]string{"export", "--format", "pytorch", "--out", project}, flags...)...); code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	script = "import json, sys; sys.path.insert(0, sys.argv[1]); import train\n" + script
	out, err := exec.Command(py, append([]string{"-c", script, project}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	if err := json.Unmarshal(out[strings.LastIndexByte(strings.TrimSpace(string(out)), '\n')+1:], v); err != nil {
		t.Fatalf("python's output %q: %v", out, err)
	}
}

// TestExportPyTorchSWA: the PyTorch project's learning rate of every epoch
// of a run with stochastic weight averaging is convnet's, annealed along
// half a cosine and along a straight line, and its average is the mean of
// the averaged epochs' weights.
func TestExportPyTorchSWA(t *testing.T) {
	py, base := smallProject(t)
	for _, strategy := range []string{"cos", "linear"} {
		t.Run(strategy, func(t *testing.T) {
			t.Parallel()
			flags := append(slices.Clone(base), "--epochs", "6", "--lr", "0.001", "--swa-start", "2", "--swa-lr", "0.0002",
				"--swa-anneal-epochs", "3", "--swa-anneal-strategy", strategy)
			var torch struct {
				LR      []float64
				Average []float64
			}
			projectJSON(t, py, flags, `w = train.torch.zeros(2, requires_grad=True)
s, lrs = train.SWA([w]), []
for e in range(6):
    lr = s.lr(e) if s.averaging(e) else train.LEARNING_RATE
    lrs.append(lr)
    with train.torch.no_grad():
        w.fill_(e + 1)
    s.epoch_end(e, lr)
print(json.dumps({"LR": lrs, "Average": s.averages[0].tolist()}))`, &torch)
			m := model.New(&nn.Flatten{}, &nn.Dense{Units: 3, Activation: "softmax"})
			if err := m.Build([]int{2, 2, 1}, 1); err != nil {
				t.Fatal(err)
			}
			m.Compile(&optim.SGD{LearningRate: 0.001}, nn.CrossEntropy{Sparse: true})
			b := model.Batch{X: tensor.New(1, 2, 2, 1), Y: tensor.New(1)}
			h, err := m.Fit(context.Background(), model.FitOptions{Epochs: 6, SWA: &model.SWA{Start: 2, LR: 0.0002, AnnealEpochs: 3, AnnealStrategy: strategy},
				Train: func(int, int) (model.Batches, error) { return &onceBatches{b: b}, nil }})
			if err != nil {
				t.Fatal(err)
			}
			for e, want := range torch.LR {
				if got := h.Epochs[e].LearningRate; math.Abs(got-want) > 1e-15 {
					t.Errorf("epoch %d: convnet's rate %v, the PyTorch project's %v", e+1, got, want)
				}
			}
			if !slices.Equal(torch.Average, []float64{4, 4}) { // the mean of epochs 2 to 6's 2, ..., 6
				t.Errorf("the PyTorch project's average %v, want [4 4]", torch.Average)
			}
		})
	}
}
