package cli

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// branchNet is a Functional network for smallSet's images: a residual
// Add of two convolutions, a batch normalization called with
// training=False, a pooling and a Dense.
const branchNet = `{"class_name": "Functional", "config": {"name": "branchy", "layers": [
  {"class_name": "InputLayer", "name": "image", "config": {"batch_shape": [null, 12, 12, 1], "name": "image"}, "inbound_nodes": []},
  {"class_name": "Conv2D", "name": "a", "config": {"name": "a", "filters": 6, "kernel_size": [3, 3], "padding": "same", "activation": "relu"},
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["image", 0, 0]}}], "kwargs": {}}]},
  {"class_name": "Conv2D", "name": "b", "config": {"name": "b", "filters": 6, "kernel_size": [3, 3], "padding": "same"},
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["a", 0, 0]}}], "kwargs": {}}]},
  {"class_name": "Add", "name": "sum", "config": {"name": "sum"}, "inbound_nodes": [{"args": [[
    {"class_name": "__keras_tensor__", "config": {"keras_history": ["b", 0, 0]}},
    {"class_name": "__keras_tensor__", "config": {"keras_history": ["a", 0, 0]}}]], "kwargs": {}}]},
  {"class_name": "BatchNormalization", "name": "bn", "config": {"name": "bn"},
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["sum", 0, 0]}}], "kwargs": {"training": false}}]},
  {"class_name": "MaxPooling2D", "name": "pool", "config": {"name": "pool", "pool_size": [2, 2]},
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["bn", 0, 0]}}], "kwargs": {}}]},
  {"class_name": "Flatten", "name": "flat", "config": {"name": "flat"},
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["pool", 0, 0]}}], "kwargs": {}}]},
  {"class_name": "Dense", "name": "out", "config": {"name": "out", "units": 4, "activation": "softmax"},
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["flat", 0, 0]}}], "kwargs": {}}]}],
  "input_layers": [["image", 0, 0]], "output_layers": [["out", 0, 0]]}}`

// TestExportPyTorchTensorBoard trains the PyTorch project of a recipe with
// a Functional network (branchNet) and --tensorboard and a histogram of
// every weight each epoch, and batch scalars every step with the steps per
// second: train.py writes the event files itself, and they read as
// convnet's do (checkEvents: the scalars as its CSV log has them, the batch
// ones as checkBatchEvents wants them,
// the histograms of the weights it saved as PyTorch's SummaryWriter makes
// them, the graph as TensorBoard draws it), under the same tags; convnet's
// own run of the recipe draws the same graph.
func TestExportPyTorchTensorBoard(t *testing.T) {
	skipRace(t)
	py := python(t, "torch", "torchvision", "numpy")
	f := writeCSVSet(t, smallSet)
	arch := filepath.Join(t.TempDir(), "branchy.json")
	if err := os.WriteFile(arch, []byte(branchNet), 0o644); err != nil {
		t.Fatal(err)
	}
	project := filepath.Join(t.TempDir(), "project")
	recipe := []string{"--csv", f.Train, "--test-csv", f.Test, "--model", arch, "--epochs", "2", "--batch-size", "16", "--validation-split", "0.2",
		"--csv-log", "log.csv", "--tensorboard", "logs", "--tensorboard-histogram-freq", "1", "--tensorboard-write-images",
		"--tensorboard-update-freq", "batch", "--tensorboard-write-steps-per-second"}
	exportAndTrain(t, py, project, recipe...)
	checkEvents(t, filepath.Join(project, "logs"), load(t, filepath.Join(project, "model.safetensors")), filepath.Join(project, "log.csv"), "lr", 2)
	checkBatchEvents(t, filepath.Join(project, "logs"), 2)

	// convnet's own run of the recipe: the same tags in each run folder.
	dir := t.TempDir()
	args := append([]string{"train", "--out", filepath.Join(dir, "m.safetensors")}, recipe...)
	args[slices.Index(args, "logs")] = filepath.Join(dir, "logs")
	args[slices.Index(args, "log.csv")] = filepath.Join(dir, "log.csv")
	if code, _, stderr := runCLI(args...); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	evs := readTensorBoard(t, filepath.Join(dir, "logs"), nil).Runs["train"][0].Events
	checkGraph(t, evs[2].Step, evs[2].Graphs, load(t, filepath.Join(dir, "m.safetensors")))
	checkBatchEvents(t, filepath.Join(dir, "logs"), 2)
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
				for tag := range e.Graphs {
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
