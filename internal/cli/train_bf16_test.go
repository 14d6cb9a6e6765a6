package cli

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
)

// convnet train --bf16 multiplies in bfloat16 while it trains (its losses
// are not float32's), and tests and saves a model that predicts in
// float32: the test it stores is what convnet evaluate finds for the file.
// Without AVX512-BF16 it is a usage error.
func TestTrainBF16(t *testing.T) {
	f := writeCSVSet(t, smallSet)
	dir := t.TempDir()
	if !model.BF16Native() {
		code, _, stderr := runCLI(append(trainArgs(t, f, filepath.Join(dir, "m.safetensors")), "--bf16")...)
		if code != 2 || !strings.Contains(stderr, "--bf16: this CPU has no AVX512-BF16") {
			t.Errorf("train --bf16 without AVX512-BF16: exit %d, stderr %q; want 2 and why", code, stderr)
		}
		t.Skip("this CPU has no AVX512-BF16")
	}
	var losses [2]float64
	for i, extra := range [][]string{nil, {"--bf16"}} {
		out := filepath.Join(dir, []string{"float32", "bf16"}[i]+".safetensors")
		code, _, stderr := runCLI(append(trainArgs(t, f, out), extra...)...)
		if code != 0 {
			t.Fatalf("train %v: exit %d\n%s", extra, code, stderr)
		}
		if got := strings.Contains(stderr, "products in bfloat16"); got != (i == 1) {
			t.Errorf("train %v: the header says products in bfloat16: %v\n%s", extra, got, stderr)
		}
		m, err := model.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		h, err := m.History()
		if err != nil || len(h.Epochs) != 2 {
			t.Fatalf("train %v: history %+v, %v", extra, h, err)
		}
		losses[i] = h.Epochs[1].Loss
		stored, err := model.ParseEvaluation(m.Meta["evaluation"], len(m.ClassNames))
		if err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := runCLI("evaluate", "--model", out, "--csv", f.Train, "--test-csv", f.Test, "--json")
		if code != 0 {
			t.Fatalf("evaluate: exit %d: %s", code, stderr)
		}
		var ev struct {
			Loss float64 `json:"loss"`
		}
		if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
			t.Fatalf("evaluate --json: %v\n%s", err, stdout)
		}
		if ev.Loss != stored.Loss {
			t.Errorf("train %v stored a test loss of %v; convnet evaluate finds %v for the file", extra, stored.Loss, ev.Loss)
		}
	}
	if losses[0] == losses[1] {
		t.Errorf("the second epoch's loss is %v with --bf16 and without: the same", losses[0])
	}
}

// convnet bench --bf16 measures in bfloat16 and says so.
func TestBenchBF16(t *testing.T) {
	if !model.BF16Native() {
		if code, _, stderr := runCLI("bench", "--bf16"); code != 2 || !strings.Contains(stderr, "AVX512-BF16") {
			t.Errorf("bench --bf16 without AVX512-BF16: exit %d, stderr %q; want 2 and why", code, stderr)
		}
		t.Skip("this CPU has no AVX512-BF16")
	}
	code, stdout, stderr := runCLI("bench", "--model", "ahcd", "--bf16", "--repeats", "1", "--infer-runs", "5", "--infer-batch", "8")
	if code != 0 {
		t.Fatalf("bench --bf16: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"(products in bfloat16)", "GFLOP/s (bfloat16)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("bench --bf16 output lacks %q:\n%s", want, stdout)
		}
	}
}

// The PyTorch project of a --bf16 recipe trains under torch.autocast to
// bfloat16: it says so, its losses are not those of the float32 project's,
// and its test, in float32, is what convnet evaluate finds for its model.
func TestExportPyTorchBF16(t *testing.T) {
	skipRace(t)
	py := python(t, "torch", "torchvision", "numpy")
	f := writeCSVSet(t, smallSet)
	arch := smallSetNet(t, t.TempDir())
	var losses [2]string
	for i, extra := range [][]string{nil, {"--bf16"}} {
		project := filepath.Join(t.TempDir(), "project")
		recipe := append([]string{"--csv", f.Train, "--test-csv", f.Test, "--model", arch, "--epochs", "1", "--batch-size", "10",
			"--no-augment", "--validation-split", "0.25"}, extra...)
		out := string(exportAndTrain(t, py, project, recipe...))
		if got := strings.Contains(out, "products in bfloat16"); got != (i == 1) {
			t.Errorf("train.py of %v says products in bfloat16: %v\n%s", extra, got, out)
		}
		line, _, _ := strings.Cut(out[strings.Index(out, "Epoch 1/1"):], "\n")
		_, losses[i], _ = strings.Cut(line, "loss: ")
		if !strings.Contains(line, "val_loss") {
			t.Errorf("train.py of %v: epoch line %q without validation", extra, line)
		}
		_, test, _ := strings.Cut(out, "Test loss: ")
		code, stdout, stderr := runCLI("evaluate", "--model", filepath.Join(project, "model.safetensors"), "--csv", f.Train, "--test-csv", f.Test)
		if code != 0 {
			t.Fatalf("evaluate: exit %d: %s", code, stderr)
		}
		if loss, _, _ := strings.Cut(test, " "); !strings.Contains(stdout, "loss: "+loss) && !strings.Contains(stdout, "Test loss: "+loss) {
			t.Errorf("train.py of %v: test loss %s; convnet evaluate of its model:\n%s", extra, loss, stdout)
		}
	}
	if losses[0] == losses[1] {
		t.Errorf("train.py's epoch with --bf16 and without: the same, %s", losses[0])
	}
}

// evaluate, predict and serve --bf16 run a float32 model in bfloat16: close
// to its float32 figures, not the same. evaluate --update-model stores the
// file's own, float32 results, so it refuses --bf16.
func TestPredictBF16(t *testing.T) {
	f := writeCSVSet(t, smallSet)
	out := filepath.Join(t.TempDir(), "small.safetensors")
	if code, _, stderr := runCLI(trainArgs(t, f, out)...); code != 0 {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	if !model.BF16Native() {
		for _, cmd := range []string{"evaluate", "predict"} {
			if code, _, stderr := runCLI(cmd, "--model", out, "--test-csv", f.Test, "--csv-label", "label", "--bf16", f.Test); code != 2 || !strings.Contains(stderr, "AVX512-BF16") {
				t.Errorf("%s --bf16 without AVX512-BF16: exit %d, stderr %q; want 2 and why", cmd, code, stderr)
			}
		}
		t.Skip("this CPU has no AVX512-BF16")
	}
	var evs [2]struct {
		Loss     float64 `json:"loss"`
		Accuracy float64 `json:"accuracy"`
	}
	var preds [2]string
	for i, extra := range [][]string{nil, {"--bf16"}} {
		code, stdout, stderr := runCLI(append([]string{"evaluate", "--model", out, "--csv", f.Train, "--test-csv", f.Test, "--json", "--force"}, extra...)...)
		if code != 0 {
			t.Fatalf("evaluate %v: exit %d: %s", extra, code, stderr)
		}
		if err := json.Unmarshal([]byte(stdout), &evs[i]); err != nil {
			t.Fatalf("evaluate --json: %v\n%s", err, stdout)
		}
		code, preds[i], stderr = runCLI(append([]string{"predict", "--model", out, "--csv-label", "label", "--output", "json", "--top", "1", f.Test}, extra...)...)
		if code != 0 {
			t.Fatalf("predict %v: exit %d: %s", extra, code, stderr)
		}
	}
	if d := evs[1].Loss - evs[0].Loss; d == 0 || d > 0.05 || d < -0.05 || evs[1].Accuracy < evs[0].Accuracy-0.05 {
		t.Errorf("evaluate --bf16: loss %v, accuracy %v; float32: %v, %v; want a loss within 0.05 but not the same", evs[1].Loss, evs[1].Accuracy, evs[0].Loss, evs[0].Accuracy)
	}
	if preds[0] == preds[1] || strings.Count(preds[1], "\n") != strings.Count(preds[0], "\n") {
		t.Errorf("predict --bf16 gives the same output as float32, or another number of lines:\n%s", preds[1])
	}
	if code, _, stderr := runCLI("evaluate", "--model", out, "--csv", f.Train, "--test-csv", f.Test, "--bf16", "--update-model"); code != 2 || !strings.Contains(stderr, "not with --bf16") {
		t.Errorf("evaluate --bf16 --update-model: exit %d, stderr %q; want 2 and why", code, stderr)
	}

	// The server answers with the bfloat16 probabilities.
	path := tinyModelFile(t)
	body := `{"pixels":[` + strings.TrimSuffix(strings.Repeat("0,1,3,", 21), ",") + `,2]}`
	var probs [2]float32
	for i, extra := range [][]string{nil, {"--bf16"}} {
		base, stop := startServe(t, append([]string{"--model", path}, extra...)...)
		resp, err := http.Post(base+"/api/predict?model=tiny&k=1", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ Top []model.Prediction }
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || len(got.Top) != 1 {
			t.Fatalf("serve %v: POST /api/predict: %+v, %v", extra, got, err)
		}
		probs[i] = got.Top[0].Probability
		if code, stderr := stop(); code != exitOK {
			t.Errorf("serve %v: exit %d: %s", extra, code, stderr)
		}
	}
	if d := probs[1] - probs[0]; d == 0 || d > 0.02 || d < -0.02 {
		t.Errorf("serve --bf16: top probability %v, float32 %v; want within 0.02 but not the same", probs[1], probs[0])
	}
}
