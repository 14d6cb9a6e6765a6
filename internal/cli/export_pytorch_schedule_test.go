package cli

import (
	"encoding/json"
	"io"
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
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
