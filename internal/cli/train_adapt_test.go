package cli

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// TestTrainAdapt trains an architecture that begins with Keras's
// Normalization on pixels 0..255 (--rescale 1 --center none, the Keras
// way): train adapts it on the training images before the first step and
// says so, and the model file holds the mean and the variance of every
// training pixel, computed here from the CSV.
func TestTrainAdapt(t *testing.T) {
	f := writeCSVSet(t, smallSet)
	dir := t.TempDir()
	arch := filepath.Join(dir, "norm.json")
	net := strings.Replace(smallNet, `"layers": [`, `"layers": [
    {"class_name": "Normalization", "config": {"name": "pixels", "axis": -1, "invert": false, "mean": null, "variance": null}},`, 1)
	net = strings.Replace(net, `"units": 28`, `"units": 4`, 1)
	if err := os.WriteFile(arch, []byte(net), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "norm.safetensors")
	code, _, stderr := runCLI("train", "--csv", f.Train, "--model", arch, "--epochs", "1", "--batch-size", "10",
		"--rescale", "1", "--center", "none", "--seed", "3", "--out", out)
	if code != 0 {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	b, err := os.ReadFile(f.Train)
	if err != nil {
		t.Fatal(err)
	}
	var px []float64
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
		for _, v := range strings.Split(line, ",")[1:] {
			x, _ := strconv.Atoi(v)
			px = append(px, float64(x))
		}
	}
	var mean, variance float64
	for _, x := range px {
		mean += x / float64(len(px))
	}
	for _, x := range px {
		variance += (x - mean) * (x - mean) / float64(len(px))
	}
	want := "Adapted pixels (Normalization) on the 120 training images: mean " + strconv.FormatFloat(mean, 'g', 4, 64)
	if !strings.Contains(stderr, want) {
		t.Errorf("train's output lacks %q:\n%s", want, stderr)
	}
	m, err := model.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	mu, v := m.Layers[0].(*nn.Normalization).Stats()
	if math.Abs(float64(mu[0])-mean) > 1e-4*mean || math.Abs(float64(v[0])-variance) > 1e-4*variance || mean < 1 {
		t.Errorf("the model holds mean %v and variance %v; the training pixels' are %v and %v", mu, v, mean, variance)
	}
}

// TestExportPyTorchAdapt checks that the PyTorch project of an architecture
// with a Normalization starts from the statistics adapted on the training
// images, as convnet train's run would, and says so.
func TestExportPyTorchAdapt(t *testing.T) {
	f := writeCSVSet(t, smallSet)
	dir := t.TempDir()
	arch := filepath.Join(dir, "norm.json")
	net := strings.Replace(smallNet, `"layers": [`, `"layers": [
    {"class_name": "Normalization", "config": {"name": "pixels"}},`, 1)
	if err := os.WriteFile(arch, []byte(strings.Replace(net, `"units": 28`, `"units": 4`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "project")
	code, _, stderr := runCLI("export", "--format", "pytorch", "--model", arch, "--csv", f.Train, "--rescale", "1", "--center", "none", "--out", out)
	if code != 0 || !strings.Contains(stderr, "Adapted pixels (Normalization) on the 120 training images") {
		t.Fatalf("export: exit %d, stderr %q; want 0 and the adaptation reported", code, stderr)
	}
	m, err := model.Load(filepath.Join(out, "convnet.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if n := m.Layers[0].(*nn.Normalization); !n.Adapted() {
		t.Error("the project's model file holds a Normalization that was not adapted")
	}
}
