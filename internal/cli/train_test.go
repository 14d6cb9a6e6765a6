package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
)

// smallNet is a JSON architecture small enough to train in tests.
const smallNet = `{
  "layers": [
    {"class_name": "Conv2D", "config": {"filters": 8, "kernel_size": [3, 3], "padding": "same", "activation": "relu"}},
    {"class_name": "MaxPooling2D", "config": {"pool_size": [2, 2]}},
    {"class_name": "Dropout", "config": {"rate": 0.25}},
    {"class_name": "Flatten", "config": {}},
    {"class_name": "Dense", "config": {"units": 28, "activation": "softmax"}}
  ]
}`

func dataDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CONVNET_DATA")
	if dir == "" {
		t.Skip("CONVNET_DATA is not set: the real data sets are needed (CI sets it to ../shared/data)")
	}
	return dir
}

// runCtx runs convnet with args under ctx and returns its exit code and outputs.
func runCtx(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

// smallGraph is smallNet with a skip connection, in the layout of Keras's
// Functional to_json().
const smallGraph = `{"class_name": "Functional", "config": {"name": "model", "layers": [
  {"class_name": "InputLayer", "name": "input_1", "config": {"batch_input_shape": [null, 32, 32, 1], "name": "input_1"}, "inbound_nodes": []},
  {"class_name": "Conv2D", "name": "conv2d", "config": {"name": "conv2d", "filters": 8, "kernel_size": [3, 3], "padding": "same", "activation": "relu"},
   "inbound_nodes": [[["input_1", 0, 0, {}]]]},
  {"class_name": "Conv2D", "name": "conv2d_1", "config": {"name": "conv2d_1", "filters": 8, "kernel_size": [3, 3], "padding": "same"},
   "inbound_nodes": [[["conv2d", 0, 0, {}]]]},
  {"class_name": "Add", "name": "add", "config": {"name": "add"}, "inbound_nodes": [[["conv2d_1", 0, 0, {}], ["conv2d", 0, 0, {}]]]},
  {"class_name": "MaxPooling2D", "name": "max_pooling2d", "config": {"name": "max_pooling2d", "pool_size": [2, 2]}, "inbound_nodes": [[["add", 0, 0, {}]]]},
  {"class_name": "Dropout", "name": "dropout", "config": {"name": "dropout", "rate": 0.25}, "inbound_nodes": [[["max_pooling2d", 0, 0, {}]]]},
  {"class_name": "Flatten", "name": "flatten", "config": {"name": "flatten"}, "inbound_nodes": [[["dropout", 0, 0, {}]]]},
  {"class_name": "Dense", "name": "dense", "config": {"name": "dense", "units": 28, "activation": "softmax"}, "inbound_nodes": [[["flatten", 0, 0, {}]]]}],
  "input_layers": [["input_1", 0, 0]], "output_layers": [["dense", 0, 0]]}}`

// trainArgs are the flags of a quick run of smallNet on a few hundred real
// AHCD images.
func trainArgs(t *testing.T, dir, out string) []string { return trainArgsWith(t, dir, out, smallNet) }

// trainArgsWith is trainArgs for the architecture arch.
func trainArgsWith(t *testing.T, dir, out, archJSON string) []string {
	arch := filepath.Join(dir, "small.json")
	if err := os.WriteFile(arch, []byte(archJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"train", "--data-dir", dataDir(t), "--model", arch, "--limit", "400", "--test-limit", "200",
		"--epochs", "2", "--batch-size", "50", "--seed", "7", "--validation-split", "0.25", "--out", out}
}

func TestTrainEvaluatePredict(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "small.safetensors")
	args := append(trainArgs(t, dir, out), "--csv-log", filepath.Join(dir, "log.csv"))
	code, stdout, stderr := runCLI(args...)
	if code != 0 {
		t.Fatalf("train exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"Epoch 1/2", "Epoch 2/2", "val_accuracy:", "lr: 1.0000e-03"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("train progress lacks %q:\n%s", want, stderr)
		}
	}
	for _, f := range []string{out, filepath.Join(dir, "small.curves.png"), filepath.Join(dir, "log.csv")} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("train did not write %s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "small.ckpt.safetensors")); err == nil {
		t.Error("the run's checkpoint is left behind after a successful run")
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "log.csv"))
	if lines := strings.Split(strings.TrimSpace(string(csv)), "\n"); len(lines) != 3 || lines[0] != "epoch,accuracy,learning_rate,loss,val_accuracy,val_loss" {
		t.Errorf("CSV log:\n%s\nwant a Keras header and 2 rows", csv)
	}

	m, err := model.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	h, err := m.History()
	if err != nil || h == nil || len(h.Epochs) != 2 || !h.Epochs[1].HasValidation {
		t.Fatalf("stored history = %+v, %v; want 2 validated epochs", h, err)
	}
	if m.Standardizer == nil || !m.Standardizer.ImageCenter || len(m.Standardizer.MeanImage) != 32*32 {
		t.Fatalf("stored preprocessing = %+v, want the mean image", m.Standardizer)
	}
	if _, ok := m.Meta["evaluation"]; !ok {
		t.Error("train did not store the test evaluation in the model")
	}

	// Training again into the same file is refused without --force.
	if code, _, stderr := runCLI(trainArgs(t, dir, out)...); code != 1 || !strings.Contains(stderr, "--force") {
		t.Errorf("train over an existing model: exit %d, stderr %q; want 1 and a hint about --force", code, stderr)
	}

	// Evaluate: JSON output whose confusion matrix sums to the test count.
	code, stdout, stderr = runCLI("evaluate", "--model", out, "--data-dir", dataDir(t), "--dataset", "ahcd", "--test-limit", "200", "--json")
	if code != 0 {
		t.Fatalf("evaluate exit code %d: %s", code, stderr)
	}
	var ev struct {
		Count     int     `json:"count"`
		Accuracy  float64 `json:"accuracy"`
		Confusion struct {
			Counts [][]int `json:"counts"`
		} `json:"confusion"`
		Report struct {
			Support int `json:"support"`
		} `json:"report"`
	}
	if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
		t.Fatalf("evaluate --json: %v\n%s", err, stdout)
	}
	sum, diag := 0, 0
	for i, row := range ev.Confusion.Counts {
		for j, v := range row {
			sum += v
			if i == j {
				diag += v
			}
		}
	}
	if ev.Count != 200 || sum != 200 || ev.Report.Support != 200 {
		t.Errorf("evaluate: count %d, confusion sum %d, support %d; want 200 each", ev.Count, sum, ev.Report.Support)
	}
	if got := float64(diag) / float64(sum); got != ev.Accuracy {
		t.Errorf("evaluate: accuracy %v, confusion diagonal gives %v", ev.Accuracy, got)
	}
	for _, f := range []string{"small.confusion.png", "small.misclassified.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("evaluate did not write %s", f)
		}
	}

	// Predict on PNGs of test images gives the class evaluate gives.
	_, test, err := data.Named("ahcd", dataDir(t))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, i := range []int{0, 500, 1234, 3000} {
		f := filepath.Join(dir, "img"+strings.Repeat("x", i%7)+".png")
		writeGrayPNG(t, f, test.Image(i), 32, 32)
		files = append(files, f)
	}
	code, stdout, stderr = runCLI(append([]string{"predict", "--model", out, "--json"}, files...)...)
	if code != 0 {
		t.Fatalf("predict exit code %d: %s", code, stderr)
	}
	var pr struct {
		Predictions []prediction `json:"predictions"`
	}
	if err := json.Unmarshal([]byte(stdout), &pr); err != nil || len(pr.Predictions) != len(files) {
		t.Fatalf("predict --json: %v\n%s", err, stdout)
	}
	imgs := [][]float32{test.Image(0), test.Image(500), test.Image(1234), test.Image(3000)}
	direct := predictImages(m, imgs, 1)
	for i, p := range pr.Predictions {
		if len(p.Top) != 5 {
			t.Errorf("predict %s: %d classes, want 5", files[i], len(p.Top))
		}
		if p.Top[0].Label != direct[i].Top[0].Label {
			t.Errorf("predict %s = class %d, evaluating the same image gives %d", files[i], p.Top[0].Label, direct[i].Top[0].Label)
		}
	}
}

func writeGrayPNG(t *testing.T, path string, px []float32, h, w int) {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i, v := range px {
		img.Pix[i] = uint8(v)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTrainResume interrupts a run in the middle of its first epoch and
// resumes it from the checkpoint: the final weights equal those of an
// uninterrupted run bit for bit, for a stack and for a graph.
func TestTrainResume(t *testing.T) {
	t.Run("stack", func(t *testing.T) { testTrainResume(t, smallNet) })
	t.Run("graph", func(t *testing.T) { testTrainResume(t, smallGraph) })
}

func testTrainResume(t *testing.T, arch string) {
	dir := t.TempDir()
	trainArgs := func(t *testing.T, dir, out string) []string { return trainArgsWith(t, dir, out, arch) }
	whole := filepath.Join(dir, "whole.safetensors")
	if code, _, stderr := runCLI(append(trainArgs(t, dir, whole), "--no-evaluate")...); code != 0 {
		t.Fatalf("uninterrupted run: exit %d: %s", code, stderr)
	}

	split := filepath.Join(dir, "split.safetensors")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	onTrainBatch = func(epoch, step int, _ float64) {
		if epoch == 0 && step == 3 {
			cancel()
		}
	}
	defer func() { onTrainBatch = nil }()
	code, _, stderr := runCtx(ctx, append(trainArgs(t, dir, split), "--no-evaluate")...)
	onTrainBatch = nil
	ckpt := filepath.Join(dir, "split.ckpt.safetensors")
	if code != 1 || !strings.Contains(stderr, "convnet train --resume "+ckpt) {
		t.Fatalf("interrupted run: exit %d, stderr:\n%s\nwant 1 and how to resume", code, stderr)
	}
	if _, err := os.Stat(split); err == nil {
		t.Fatal("an interrupted run wrote the final model")
	}
	if code, _, stderr := runCLI("train", "--resume", ckpt, "--epochs", "3"); code != 2 {
		t.Errorf("--resume with a changed flag: exit %d (%s), want 2", code, stderr)
	}
	code, _, stderr = runCLI("train", "--resume", ckpt)
	if code != 0 {
		t.Fatalf("resumed run: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "Resuming") || !strings.Contains(stderr, "epoch 1, step 3") {
		t.Errorf("resumed run does not say where it resumes:\n%s", stderr)
	}
	a, err := model.Load(whole)
	if err != nil {
		t.Fatal(err)
	}
	b, err := model.Load(split)
	if err != nil {
		t.Fatal(err)
	}
	if a.IsGraph() != (arch == smallGraph) || b.IsGraph() != a.IsGraph() {
		t.Errorf("IsGraph: uninterrupted %v, resumed %v", a.IsGraph(), b.IsGraph())
	}
	pa, pb := a.Params(), b.Params()
	for i := range pa {
		if !slices.Equal(pa[i].Value.Data, pb[i].Value.Data) {
			t.Fatalf("parameter %d (%s) differs between the uninterrupted and the resumed run", i, pa[i].Name)
		}
	}
}

func TestTrainBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"layers": [{"class_name": "Conv2D", "config": {"filters": 0, "kernel_size": [3, 3]}}]}`), 0o644)
	ten := filepath.Join(dir, "ten.json")
	os.WriteFile(ten, []byte(strings.Replace(smallNet, `"units": 28`, `"units": 10`, 1)), 0o644)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown recipe", []string{"train", "--recipe", "magic"}, 2, `unknown recipe "magic"`},
		{"unknown preset", []string{"train", "--model", "resnet999"}, 2, "neither a preset"},
		{"unknown dataset", []string{"train", "--dataset", "cifar"}, 2, `unknown dataset "cifar"`},
		{"bad epochs", []string{"train", "--epochs", "0"}, 2, "--epochs 0"},
		{"bad optimizer", []string{"train", "--optimizer", "adagrad"}, 2, "adagrad"},
		{"bad fill mode", []string{"train", "--fill-mode", "mirror"}, 2, "mirror"},
		{"bad zoom", []string{"train", "--zoom", "big"}, 2, "zoom"},
		{"bad schedule", []string{"train", "--schedule", "warm"}, 2, "warm"},
		{"bad flag", []string{"train", "--no-such-flag"}, 2, "no-such-flag"},
		{"bad layer", []string{"train", "--data-dir", dataDir(t), "--limit", "50", "--model", bad}, 1, "filters"},
		{"batch larger than data", []string{"train", "--data-dir", dataDir(t), "--limit", "50", "--model", filepath.Join(dir, "small.json")}, 2, "larger than the 50 training images"},
		{"class count", []string{"train", "--data-dir", dataDir(t), "--limit", "50", "--batch-size", "10", "--model", ten}, 1, "10 outputs but ahcd has 28 classes"},
		{"unwritable output", []string{"train", "--data-dir", dataDir(t), "--limit", "50", "--batch-size", "25", "--epochs", "1", "--no-evaluate", "--model", ten[:len(ten)-len("ten.json")] + "small.json", "--out", filepath.Join(dir, "missing", "m.safetensors")}, 1, "missing"},
		{"evaluate without model", []string{"evaluate"}, 2, "--model is required"},
		{"evaluate missing file", []string{"evaluate", "--model", filepath.Join(dir, "none.safetensors"), "--dataset", "ahcd"}, 1, "none.safetensors"},
		{"predict nothing", []string{"predict", "--model", "x"}, 2, "image files"},
	}
	os.WriteFile(filepath.Join(dir, "small.json"), []byte(smallNet), 0o644)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI(c.args...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Errorf("convnet %s: exit %d, stderr %q; want exit %d mentioning %q", strings.Join(c.args, " "), code, stderr, c.code, c.want)
			}
			if strings.Contains(stderr, "goroutine ") {
				t.Errorf("a stack trace reached the user:\n%s", stderr)
			}
		})
	}
}

func TestPredictUndecodable(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.safetensors")
	m, err := model.ParseArchitecture([]byte(smallNet))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build([]int{32, 32, 1}, 1); err != nil {
		t.Fatal(err)
	}
	if err := model.Save(out, m, model.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk.png")
	os.WriteFile(junk, []byte("not an image"), 0o644)
	code, _, stderr := runCLI("predict", "--model", out, junk)
	if code != 1 || !strings.Contains(stderr, "junk.png") {
		t.Errorf("predict on a non-image: exit %d, stderr %q; want 1 naming the file", code, stderr)
	}
	// A light image with a dark stroke is inverted to match the training data.
	light := filepath.Join(dir, "light.png")
	img := image.NewGray(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = 250
	}
	for y := 10; y < 54; y++ {
		img.Set(32, y, color.Gray{Y: 0})
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	os.WriteFile(light, b.Bytes(), 0o644)
	code, stdout, stderr := runCLI("predict", "--model", out, "--top", "3", light)
	if code != 0 || !strings.Contains(stdout, "inverted") || strings.Count(stdout, "%") != 3 {
		t.Errorf("predict on a light image: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
