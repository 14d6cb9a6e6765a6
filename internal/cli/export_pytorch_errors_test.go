package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/model/pretrained"
)

// TestExportPyTorchErrors: what the PyTorch project cannot reproduce, bad
// flags and an output in the way give a clear error, a non-zero exit and
// nothing written.
func TestExportPyTorchErrors(t *testing.T) {
	dir := t.TempDir()
	tiny := tinyModelFile(t)
	samplewise, err := model.Load(tiny)
	if err != nil {
		t.Fatal(err)
	}
	samplewise.Standardizer = &data.Standardizer{SamplewiseCenter: true}
	samplewiseFile := filepath.Join(dir, "samplewise.safetensors")
	if err := model.Save(samplewiseFile, samplewise, model.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	existing := filepath.Join(dir, "existing")
	if err := os.Mkdir(existing, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"existing folder", []string{"--model", tiny, "--out", existing}, exitError, "exists (use --force"},
		{"file in the way", []string{"--model", tiny, "--out", file, "--force"}, exitError, "not a folder"},
		{"resume", []string{"--model", tiny, "--resume", "ckpt.safetensors"}, exitUsage, "--resume is not part of --format pytorch"},
		{"lr-find", []string{"--model", tiny, "--lr-find"}, exitUsage, "--lr-find is not part of --format pytorch: the range test runs in place of convnet train's training"},
		{"watch", []string{"--model", tiny, "--watch"}, exitUsage, "--watch is not part of --format pytorch: the demo page while training is convnet train's"},
		{"workers", []string{"--model", tiny, "--workers", "2"}, exitUsage, "train.py's own --workers"},
		{"checkpoint", []string{"--model", tiny, "--checkpoint", "c.safetensors"}, exitUsage, "--checkpoint is not part of --format pytorch: convnet's Keras-style checkpoint files are convnet train's; train.py writes its own checkpoint"},
		{"samplewise", []string{"--model", samplewiseFile}, exitError, "cannot reproduce preprocessing: samplewise"},
		{"standard input", []string{"--model", tiny, "--csv", "-"}, exitError, "cannot reproduce --csv -"},
		{"plateau without validation", []string{"--model", tiny, "--schedule", "plateau"}, exitUsage, "watches val_loss but there is no validation data"},
		{"early stopping without validation", []string{"--model", tiny, "--early-stopping", "3"}, exitUsage, "watches val_loss but there is no validation data"},
		{"bad optimizer", []string{"--model", tiny, "--optimizer", "ftrl"}, exitUsage, "unknown optimizer"},
		{"unknown model", []string{"--model", "inception"}, exitUsage, "not a preset"},
		{"no out", []string{"--model", tiny}, exitUsage, "--out is required"},
		{"onnx with a training flag", []string{"--format", "onnx", "--model", tiny, "--epochs", "3"}, exitUsage, "--epochs is a training flag"},
		{"onnx without model", []string{"--format", "onnx"}, exitUsage, "--model and --out are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			args := []string{"export", "--format", "pytorch", "--out", out}
			if tt.name == "no out" {
				args = []string{"export", "--format", "pytorch"}
			}
			args = append(args, tt.args...)
			code, _, errs := runCLI(args...)
			if code != tt.code || !strings.Contains(errs, tt.want) {
				t.Errorf("convnet %s: exit %d, stderr %q; want exit %d and %q", strings.Join(args, " "), code, errs, tt.code, tt.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written", out)
			}
		})
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("a temporary %s is left in %s", e.Name(), dir)
		}
	}
}

// TestExportPyTorchBuiltin: a built-in model starts the project with its
// trained weights.
func TestExportPyTorchBuiltin(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "project")
	if code, _, errs := runCLI("export", "--format", "pytorch", "--model", "mnist", "--dataset", "mnist", "--out", dir); code != 0 {
		t.Fatalf("export --model mnist: exit %d: %s", code, errs)
	}
	m, err := model.Load(filepath.Join(dir, "convnet.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := pretrained.Load("mnist")
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := maxDiff(m.Params()[0].Value.Data, want.Params()[0].Value.Data); d != 0 || len(m.ClassNames) != 10 {
		t.Errorf("the project's model file: first kernel %.3g from the built-in model's, %d classes; want its weights and 10 classes", d, len(m.ClassNames))
	}
	b, err := os.ReadFile(filepath.Join(dir, "train.py"))
	if err != nil || !strings.Contains(string(b), `DATASET = "mnist"`) {
		t.Errorf("train.py: %v; want it to read MNIST", err)
	}

	// --freeze applies to a model file as convnet train applies it: the
	// project's model file says so and its network leaves those weights out.
	frozen := filepath.Join(t.TempDir(), "project")
	code, _, errs := runCLI("export", "--format", "pytorch", "--model", "mnist", "--dataset", "mnist", "--freeze", "base", "--out", frozen)
	if code != 0 || !strings.Contains(errs, "Frozen: ") {
		t.Fatalf("export --model mnist --freeze base: exit %d: %s", code, errs)
	}
	f, err := model.Load(filepath.Join(frozen, "convnet.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	last := f.Layers[len(f.Layers)-1]
	for _, l := range f.Layers {
		if f.Trainable(l) != (l == last) {
			t.Errorf("the project's model file: layer %s trainable %v", l.Name(), f.Trainable(l))
		}
	}
	if b, err := os.ReadFile(filepath.Join(frozen, "model.py")); err != nil || !strings.Contains(string(b), ".requires_grad_(False)") {
		t.Errorf("model.py: %v; want the frozen weights' requires_grad off", err)
	}
}

// TestExportPyTorchForce: --force rewrites the project's files in an
// existing folder and leaves the others alone.
func TestExportPyTorchForce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "project")
	tiny := tinyModelFile(t)
	if code, _, errs := runCLI("export", "--format", "pytorch", "--model", tiny, "--out", dir, "--epochs", "3"); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errs)
	}
	other := filepath.Join(dir, "model.onnx")
	if err := os.WriteFile(other, []byte("trained"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI("export", "--format", "pytorch", "--model", tiny, "--out", dir, "--epochs", "7", "--force"); code != 0 {
		t.Fatalf("export --force: exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(filepath.Join(dir, "train.py"))
	if err != nil || !strings.Contains(string(b), "\nEPOCHS = 7\n") {
		t.Errorf("train.py after export --force --epochs 7: %v, EPOCHS = 7 missing", err)
	}
	if b, err := os.ReadFile(other); err != nil || string(b) != "trained" {
		t.Errorf("export --force changed %s: %q, %v", other, b, err)
	}
	m, err := model.Load(filepath.Join(dir, "convnet.safetensors"))
	if err != nil || len(m.Layers) != 3 {
		t.Errorf("the project's model file: %v", err)
	}
}
