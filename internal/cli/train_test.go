package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/tensor"
)

// trainArgs are the flags of a quick run on the files of smallSet, into out:
// 2 epochs of 9 steps, with a quarter of the training images held out.
func trainArgs(t *testing.T, f csvFiles, out string) []string {
	t.Helper()
	return []string{"train", "--csv", f.Train, "--test-csv", f.Test, "--model", smallSetNet(t, filepath.Dir(out)),
		"--epochs", "2", "--batch-size", "10", "--seed", "7", "--validation-split", "0.25", "--out", out}
}

func TestTrainEvaluatePredict(t *testing.T) {
	f := writeCSVSet(t, smallSet)
	dir := t.TempDir()
	out := filepath.Join(dir, "small.safetensors")
	args := append(trainArgs(t, f, out), "--csv-log", filepath.Join(dir, "log.csv"))
	code, stdout, stderr := runCLI(args...)
	if code != 0 {
		t.Fatalf("train exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"Epoch 1/2", "Epoch 2/2", "9/9", "val_accuracy:", "lr: 1.0000e-03"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("train progress lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, "(40 images)") {
		t.Errorf("train output does not report the test evaluation on 40 images:\n%s", stdout)
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
	if m.Standardizer == nil || !m.Standardizer.ImageCenter || len(m.Standardizer.MeanImage) != smallSet.Size*smallSet.Size {
		t.Fatalf("stored preprocessing = %+v, want the mean image", m.Standardizer)
	}
	if _, ok := m.Meta["evaluation"]; !ok {
		t.Error("train did not store the test evaluation in the model")
	}

	// Training again into the same file is refused without --force.
	if code, _, stderr := runCLI(trainArgs(t, f, out)...); code != 1 || !strings.Contains(stderr, "--force") {
		t.Errorf("train over an existing model: exit %d, stderr %q; want 1 and a hint about --force", code, stderr)
	}

	// Evaluate: JSON output whose confusion matrix sums to the test count.
	code, stdout, stderr = runCLI("evaluate", "--model", out, "--csv", f.Train, "--test-csv", f.Test, "--json")
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
	if ev.Count != 40 || sum != 40 || ev.Report.Support != 40 {
		t.Errorf("evaluate: count %d, confusion sum %d, support %d; want 40 each", ev.Count, sum, ev.Report.Support)
	}
	if got := float64(diag) / float64(sum); got != ev.Accuracy {
		t.Errorf("evaluate: accuracy %v, confusion diagonal gives %v", ev.Accuracy, got)
	}
	for _, f := range []string{"small.confusion.png", "small.misclassified.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil && ev.Accuracy < 1 {
			t.Errorf("evaluate did not write %s", f)
		}
	}

	// Predict on PNGs of test images gives the class evaluate gives.
	test, err := data.LoadCSV(context.Background(), f.Test, data.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	var imgs [][]float32
	for _, i := range []int{0, 5, 17, 38} {
		file := filepath.Join(dir, fmt.Sprintf("img%d.png", i))
		writeGrayPNG(t, file, test.Image(i), smallSet.Size, smallSet.Size)
		files, imgs = append(files, file), append(imgs, test.Image(i))
	}
	code, stdout, stderr = runCLI(append([]string{"predict", "--model", out, "--output", "json", "--top", "5"}, files...)...)
	if code != 0 {
		t.Fatalf("predict exit code %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != len(files) {
		t.Fatalf("predict --output json: %d lines for %d files:\n%s", len(lines), len(files), stdout)
	}
	direct := probabilities(t, m, imgs)
	for i, line := range lines {
		var p jsonPrediction
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("predict --output json line %d: %v\n%s", i+1, err, line)
		}
		if len(p.Top) != smallSet.Classes {
			t.Errorf("predict %s: %d classes, want %d (all of them, fewer than 5)", files[i], len(p.Top), smallSet.Classes)
		}
		if want := tensor.ArgMax(direct[i]); p.Top[0].Label != want {
			t.Errorf("predict %s = class %d, evaluating the same image gives %d", files[i], p.Top[0].Label, want)
		}
	}
}

// TestTrainAHCD trains on the real AHCD briefly, then evaluates on the data
// set the model file names.
func TestTrainAHCD(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "small.safetensors")
	arch := filepath.Join(dir, "small.json")
	if err := os.WriteFile(arch, []byte(smallNet), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI("train", "--data-dir", dataDir(t), "--model", arch, "--limit", "400", "--test-limit", "200",
		"--epochs", "1", "--batch-size", "50", "--no-evaluate", "--out", out)
	if code != 0 {
		t.Fatalf("train exit code %d\nstderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "Training "+arch+" on ahcd: 400 images (8 steps of 50 per epoch)") {
		t.Errorf("train does not describe the run:\n%s", stderr)
	}
	m, err := model.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if m.Meta["dataset"] != "ahcd" || len(m.ClassNames) != 28 || len(m.Standardizer.MeanImage) != 32*32 {
		t.Errorf("model: dataset %q, %d classes, mean image of %d values; want ahcd, 28, 1024", m.Meta["dataset"], len(m.ClassNames), len(m.Standardizer.MeanImage))
	}
	code, stdout, stderr := runCLI("evaluate", "--model", out, "--data-dir", dataDir(t), "--test-limit", "200", "--json")
	if code != 0 || !strings.Contains(stdout, `"count": 200`) {
		t.Errorf("evaluate on the model's data set: exit %d, stdout %.200q, stderr %q", code, stdout, stderr)
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

func TestTrainBadInput(t *testing.T) {
	f := writeCSVSet(t, smallSet)
	dir := t.TempDir()
	small := smallSetNet(t, dir)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"layers": [{"class_name": "Conv2D", "config": {"filters": 0, "kernel_size": [3, 3]}}]}`), 0o644)
	graph32 := filepath.Join(dir, "graph32.json")
	os.WriteFile(graph32, []byte(strings.Replace(smallGraph, `"units": 28`, `"units": 4`, 1)), 0o644)
	onnxFile := filepath.Join(dir, "cnn.onnx")
	os.WriteFile(onnxFile, []byte("\x08\x07\x12\x07pytorch"), 0o644)
	pixels := filepath.Join(dir, "pixels.json") // no Flatten: the Dense applies at each pixel
	os.WriteFile(pixels, []byte(strings.Replace(smallNet, `{"class_name": "Flatten", "config": {}},`, "", 1)), 0o644)
	ten := filepath.Join(dir, "ten.json")
	os.WriteFile(ten, []byte(strings.Replace(smallNet, `"units": 28`, `"units": 10`, 1)), 0o644)
	csv := []string{"train", "--csv", f.Train, "--no-evaluate", "--epochs", "1"}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown recipe", []string{"train", "--recipe", "magic"}, 2, `--recipe "magic": want resnet, strong or tutorial`},
		{"unknown preset", append(csv, "--model", "resnet999"), 2, "neither a preset"},
		{"unknown dataset", []string{"train", "--dataset", "cifar"}, 2, `unknown dataset "cifar"`},
		{"bad epochs", []string{"train", "--epochs", "0"}, 2, "--epochs 0"},
		{"bad optimizer", []string{"train", "--optimizer", "ftrl"}, 2, `unknown optimizer "ftrl"`},
		{"bad fill mode", []string{"train", "--fill-mode", "mirror"}, 2, "mirror"},
		{"bad zoom", []string{"train", "--zoom", "big"}, 2, "zoom"},
		{"bad schedule", []string{"train", "--schedule", "warm"}, 2, "warm"},
		{"bad flag", []string{"train", "--no-such-flag"}, 2, "no-such-flag"},
		{"extra argument", []string{"train", "extra"}, 2, `unexpected argument "extra"`},
		{"resume and another flag", []string{"train", "--resume", "x", "--epochs", "2"}, 2, "--epochs cannot be changed when resuming"},
		{"resume a missing file", []string{"train", "--resume", filepath.Join(dir, "none.safetensors")}, 1, "none.safetensors"},
		{"resume a model", []string{"train", "--resume", small}, 1, "small.json"},
		{"bad layer", append(csv, "--model", bad), 1, "filters"},
		{"batch larger than data", append(csv, "--model", small, "--batch-size", "200"), 2, "larger than the 120 training images"},
		{"architecture's input shape", append(csv, "--batch-size", "10", "--model", graph32, "--out", filepath.Join(dir, "g.safetensors")), 1,
			graph32 + ": the architecture takes inputs of shape [32 32 1], the images of csv:" + f.Train + " have shape [12 12 1]"},
		{"class count", append(csv, "--batch-size", "10", "--model", ten), 1, "10 outputs but csv:" + f.Train + " has 4 classes"},
		{"output of images", append(csv, "--batch-size", "10", "--model", pixels), 1,
			pixels + ": compile: the model's output shape [6 6 28] is not a vector of class scores: put a Flatten (or a GlobalAveragePooling2D) before the Dense layers, which apply at each pixel of an image"},
		{"missing output folder", append(csv, "--batch-size", "30", "--model", small, "--out", filepath.Join(dir, "missing", "m.safetensors")), 1, "folder " + filepath.Join(dir, "missing") + " does not exist"},
		{"batch beyond --max-memory", append(csv, "--model", small, "--batch-size", "30", "--max-memory", "64KiB"), 1,
			small + ": the model needs 1015 KiB for a training batch of 30 samples of shape [12 12 1], more than the limit of 64 KiB (--max-memory, or a smaller --batch-size)"},
		{"bad --max-memory", append(csv, "--max-memory", "lots"), 2, `"lots": want a positive size`},
		{"plateau without validation", append(csv, "--model", small, "--schedule", "plateau"), 2, "no validation data"},
		{"class weight without a class", append(csv, "--class-weight", "0:1,2"), 2, `--class-weight "0:1,2": pair 2 "2": want CLASS:WEIGHT`},
		{"negative class weight", append(csv, "--class-weight", "1:-0.5"), 2, `the weight of 1 is "-0.5": want a finite number >= 0`},
		{"class weight of NaN", append(csv, "--class-weight", "1:NaN"), 2, `the weight of 1 is "NaN"`},
		{"class weight of an unknown class", append(csv, "--model", small, "--class-weight", "4:2"), 2, `class "4" is not one of the data's: an index in [0, 3]`},
		{"class weight twice", append(csv, "--model", small, "--class-weight", "1:2,1:3"), 2, `class "1" is given twice`},
		{"two kinds of clipping", append(csv, "--clipnorm", "1", "--global-clipnorm", "2"), 2, "give one of --clipnorm, --clipvalue and --global-clipnorm, not --clipnorm and --global-clipnorm"},
		{"negative clipping", append(csv, "--clipvalue", "-1"), 2, "--clipvalue -1: want a value in [0, 1e+30]"},
		{"ema momentum above 1", append(csv, "--ema", "1.5"), 2, "--ema 1.5: want a value in [0, 1)"},
		{"ema momentum of 1", append(csv, "--ema", "1"), 2, "--ema 1: want a value in [0, 1)"},
		{"model file exists", append(csv, "--out", writeFile(t, filepath.Join(dir, "exists.safetensors"), []byte("x"))), 1, "exists.safetensors exists: use --force to overwrite it, or another --out"},
		{"checkpoint name with a brace open", append(csv, "--checkpoint", filepath.Join(dir, "c_{epoch:02d.safetensors")), 2, `a { or } outside a field such as {epoch:02d}`},
		{"cosine alpha without cosine", append(csv, "--cosine-alpha", "0.1"), 2, "--cosine-alpha goes with --schedule cosine: without it, it would change nothing"},
		{"restore best without early stopping", append(csv, "--restore-best"), 2, "--restore-best goes with --early-stopping N"},
		{"cval without constant", append(csv, "--cval", "3"), 2, "--cval goes with --fill-mode constant"},
		{"height without images", append(csv, "--height", "28"), 2, "--height goes with --images"},
		{"early stopping without validation", append(csv, "--early-stopping", "2"), 2, "--early-stopping watches val_loss but there is no validation data"},
		{"best checkpoint without validation", append(csv, "--checkpoint", filepath.Join(dir, "c.safetensors"), "--checkpoint-best-only"), 2, "--checkpoint-best-only watches val_loss but there is no validation data"},
		{"test images of another size", append(csv, "--test-csv", writeFile(t, filepath.Join(dir, "big.csv"), csvRows(3, func(int) int { return 0 }))), 1, "images of shape [28 28 1], those of --csv"},
		{"writers of a CSV", append(csv, "--validation-split", "0.2", "--validation-mode", "writers"), 2, "--validation-mode writers holds out whole writers of AHCD's training set"},
		{"a file twice", append(csv, "--csv-log", filepath.Join(dir, "m.safetensors"), "--out", filepath.Join(dir, "m.safetensors")), 2, "--csv-log " + filepath.Join(dir, "m.safetensors") + " is also --out, the trained model: give them different names"},
		{"ema overwrite without ema", append(csv, "--ema-overwrite-frequency", "10"), 2, "--ema-overwrite-frequency 10: without --ema there is no moving average to put in place"},
		{"warmup with plateau", append(csv, "--warmup-epochs", "2", "--schedule", "plateau"), 2, "--warmup-epochs 2: the plateau schedule lowers the rate from the metrics of the epochs, after no warmup; give --schedule constant, step or cosine"},
		{"warmup as long as the run", append(csv, "--schedule", "cosine", "--epochs", "3", "--warmup-epochs", "3"), 2, "--warmup-epochs 3: want 0 to 2, fewer than the 3 epochs"},
		{"negative ema overwrite", append(csv, "--ema", "0.9", "--ema-overwrite-frequency", "-1"), 2, "--ema-overwrite-frequency -1: want a value in [0, 1000000000]"},
		{"swa past the run", append(csv, "--epochs", "3", "--swa-start", "4"), 2, "--swa-start 4: want an epoch of the run's 3"},
		{"swa with ema", append(csv, "--swa-start", "1", "--ema", "0.9"), 2, "--swa-start averages the weights, and so does --ema: choose one"},
		{"swa with early stopping", append(csv, "--swa-start", "1", "--early-stopping", "2"), 2, "--swa-start averages the last epochs' weights: not with --early-stopping"},
		{"swa lr without swa", append(csv, "--swa-lr", "0.01"), 2, "--swa-lr goes with --swa-start N: without it, it would change nothing"},
		{"swa strategy", append(csv, "--swa-start", "1", "--swa-anneal-strategy", "exp"), 2, `--swa-anneal-strategy "exp"`},
		{"negative swa lr", append(csv, "--swa-start", "1", "--swa-lr", "-1"), 2, "--swa-lr -1: want a value in [0, 10]"},
		{"lr-find with swa", append(csv, "--lr-find", "--swa-start", "1"), 2, "--lr-find sweeps the rate over steps and saves no model: not with --swa-start"},
		{"accumulate 1", append(csv, "--gradient-accumulation-steps", "1"), 2, "--gradient-accumulation-steps 1: every step updates the weights already; give 2 or more (or 0)"},
		{"accumulate past the run", append(csv, "--gradient-accumulation-steps", "500"), 2, "--gradient-accumulation-steps 500: the run has "},
		{"exclude without decay", append(csv, "--exclude-from-weight-decay", "bias"), 2, "--exclude-from-weight-decay bias: without --weight-decay (or adamw) there is no weight decay to leave out"},
		{"exclude, bad expression", append(csv, "--weight-decay", "0.1", "--exclude-from-weight-decay", "bias,(gamma"), 2, "exclude_from_weight_decay: error parsing regexp: missing closing ): `(gamma`"},
		{"exclude, empty name", append(csv, "--weight-decay", "0.1", "--exclude-from-weight-decay", "bias,"), 2, "exclude_from_weight_decay holds an empty name"},
		{"exclude, no such weight", append(csv, "--weight-decay", "0.1", "--exclude-from-weight-decay", "bias,gama"), 2, `--exclude-from-weight-decay bias,gama: "gama" matches no weight of the model that trains (their names: kernel, bias)`},
		{"early-stopping tuned, off", append(csv, "--early-stopping-min-delta", "0.1"), 2, "--early-stopping-min-delta, --early-stopping-baseline and --early-stopping-start-from-epoch tune --early-stopping N, which is off"},
		{"early-stopping baseline", append(csv, "--early-stopping", "2", "--early-stopping-monitor", "loss", "--early-stopping-baseline", "low"), 2, `--early-stopping-baseline "low": want a number`},
		{"early-stopping negative delta", append(csv, "--early-stopping", "2", "--early-stopping-min-delta", "-1"), 2, "--early-stopping-min-delta -1: want a value in [0, 1e+30]"},
		{"mixup, sparse", append(csv, "--mixup", "0.2", "--loss", "sparse_categorical_crossentropy"), 2, "--mixup and --cutmix mix the one-hot targets of two images, which --loss sparse_categorical_crossentropy cannot hold"},
		{"erasing above 1", append(csv, "--random-erasing", "1.5"), 2, "--random-erasing 1.5: want a value in [0, 1]"},
		{"cutmix negative", append(csv, "--cutmix", "-1"), 2, "--cutmix -1: want a value in [0, 100]"},
		{"accumulate negative", append(csv, "--gradient-accumulation-steps", "-3"), 2, "--gradient-accumulation-steps -3: want a value in [0, 1000000]"},
		{"evaluate without model", []string{"evaluate"}, 2, "--model is required"},
		{"evaluate missing file", []string{"evaluate", "--model", filepath.Join(dir, "none.safetensors"), "--dataset", "ahcd"}, 1, "none.safetensors"},
		{"evaluate with --limit", []string{"evaluate", "--model", "ahcd", "--limit", "5"}, 2, "--limit 5 cuts the training set, which evaluate does not test: --test-limit cuts the test set"},
		{"predict with an architecture", []string{"predict", "--model", small, f.Train}, 1,
			small + " is an architecture (JSON) without trained weights, not a model file: train it first (convnet train --model " + small + ")"},
		{"evaluate an ONNX file", []string{"evaluate", "--model", onnxFile}, 1, "convnet import --onnx " + onnxFile + " --out MODEL.safetensors"},
		{"predict nothing", []string{"predict", "--model", "x"}, 2, "image files"},
	}
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
