package cli

import (
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// TestExportPyTorchTensorBoard trains the PyTorch project of a recipe with
// --tensorboard and a histogram of every weight each epoch: train.py writes
// the event files itself, and they read as convnet's do (checkEvents: the
// scalars as its CSV log has them, the histograms of the weights it saved
// as PyTorch's SummaryWriter makes them), under the same tags.
func TestExportPyTorchTensorBoard(t *testing.T) {
	skipRace(t)
	py := python(t, "torch", "torchvision", "numpy")
	f := writeCSVSet(t, smallSet)
	arch := smallSetNet(t, t.TempDir())
	project := filepath.Join(t.TempDir(), "project")
	recipe := []string{"--csv", f.Train, "--test-csv", f.Test, "--model", arch, "--epochs", "2", "--batch-size", "16", "--validation-split", "0.2",
		"--csv-log", "log.csv", "--tensorboard", "logs", "--tensorboard-histogram-freq", "1"}
	if code, _, stderr := runCLI(append([]string{"export", "--format", "pytorch", "--out", project}, recipe...)...); code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	cmd := exec.Command(py, filepath.Join(project, "train.py"), "--threads", "1")
	cmd.Dir = project
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("train.py: %v\n%s", err, out)
	}
	checkEvents(t, filepath.Join(project, "logs"), load(t, filepath.Join(project, "model.safetensors")), filepath.Join(project, "log.csv"), "lr", 2)

	// convnet's own run of the recipe: the same tags in each run folder.
	dir := t.TempDir()
	args := append([]string{"train", "--out", filepath.Join(dir, "m.safetensors")}, recipe...)
	args[slices.Index(args, "logs")] = filepath.Join(dir, "logs")
	args[slices.Index(args, "log.csv")] = filepath.Join(dir, "log.csv")
	if code, _, stderr := runCLI(args...); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	tags := func(logs string) map[string][]string {
		out := map[string][]string{}
		for run, files := range readTensorBoard(t, logs, nil).Runs {
			for _, e := range files[0].Events {
				for tag := range e.Scalars {
					out[run] = append(out[run], tag)
				}
				for tag := range e.Histograms {
					out[run] = append(out[run], tag)
				}
			}
			slices.Sort(out[run])
		}
		return out
	}
	ours, theirs := tags(filepath.Join(dir, "logs")), tags(filepath.Join(project, "logs"))
	for _, run := range []string{"train", "validation"} {
		if !slices.Equal(ours[run], theirs[run]) || len(ours[run]) == 0 {
			t.Errorf("%s: convnet's tags %v, the project's %v", run, ours[run], theirs[run])
		}
	}
}
