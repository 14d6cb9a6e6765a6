package cli

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/tensor"
)

// The cross-runtime checks run the scripts of scripts/onnx: ONNX Runtime
// (onnxruntime-node, installed there by npm install --ignore-scripts), the
// onnx package's checker and PyTorch (Debian's python3-onnx and
// python3-torch). Where one is missing the test is skipped, except in CI
// (CONVNET_CI set), which installs them: there it fails.

const onnxScripts = "../../scripts/onnx"

// skipRace skips the cross-runtime checks in a -race build.
func skipRace(t *testing.T) {
	if raceEnabled {
		t.Skip("a numeric check with nothing concurrent: it runs without -race (.ci/run)")
	}
}

// missingRuntime skips the test, or fails it in CI.
func missingRuntime(t *testing.T, what string, err error) {
	t.Helper()
	if os.Getenv("CONVNET_CI") != "" {
		t.Fatalf("%s is missing (CI installs it in .ci/run): %v", what, err)
	}
	t.Skipf("%s is missing (%v): skipping the test", what, err)
}

// python returns Debian's python3 with the given modules, or skips.
func python(t *testing.T, modules ...string) string {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		if py, err = exec.LookPath("python3"); err != nil {
			missingRuntime(t, "python3", err)
		}
	}
	// Importing torch takes seconds: each set of modules is tried once.
	key := strings.Join(modules, ", ")
	check, _ := pythonChecks.LoadOrStore(key, sync.OnceValue(func() error {
		if out, err := exec.Command(py, "-c", "import "+key).CombinedOutput(); err != nil {
			return errors.New(strings.TrimSpace(string(out)))
		}
		return nil
	}))
	if err := check.(func() error)(); err != nil {
		missingRuntime(t, "python3 with "+key, err)
	}
	return py
}

// pythonChecks holds, for each list of modules python was asked for, the
// function that imports them once.
var pythonChecks sync.Map

// checkONNX runs the onnx package's checker on path.
func checkONNX(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command(python(t, "onnx"), filepath.Join(onnxScripts, "check.py"), path).CombinedOutput()
	if err != nil {
		t.Fatalf("onnx.checker.check_model(%s): %v\n%s", filepath.Base(path), err, out)
	}
	t.Logf("%s", strings.TrimSpace(string(out)))
}

// runORT runs the ONNX model at path with ONNX Runtime on x, [N C H W]
// or [N F], and returns its output.
func runORT(t *testing.T, path string, x *tensor.Tensor) []float32 {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		missingRuntime(t, "node", err)
	}
	if _, err := os.Stat(filepath.Join(onnxScripts, "node_modules", "onnxruntime-node")); err != nil {
		missingRuntime(t, "onnxruntime-node (cd scripts/onnx && npm install --ignore-scripts)", err)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "x.f32"), filepath.Join(dir, "y.f32")
	writeFloats(t, in, x.Data)
	msg, err := exec.Command(node, filepath.Join(onnxScripts, "run.js"), path, in, shapeArg(x), out).CombinedOutput()
	if err != nil {
		t.Fatalf("ONNX Runtime on %s: %v\n%s", filepath.Base(path), err, msg)
	}
	return readFloats(t, out)
}

// shapeArg writes x's shape as the scripts take it: 2,32,32,1.
func shapeArg(x *tensor.Tensor) string {
	var dims []string
	for _, d := range x.Shape {
		dims = append(dims, strconv.Itoa(d))
	}
	return strings.Join(dims, ",")
}

func writeFloats(t *testing.T, path string, v []float32) {
	t.Helper()
	b := make([]byte, 0, 4*len(v))
	for _, f := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFloats(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// nchwBatch stacks HWC images into an [N C H W] tensor.
func nchwBatch(images [][]float32, shape []int) *tensor.Tensor {
	h, w, c := shape[0], shape[1], shape[2]
	x := tensor.New(len(images), c, h, w)
	for i, img := range images {
		for y := range h {
			for xx := range w {
				for k := range c {
					x.Data[((i*c+k)*h+y)*w+xx] = img[(y*w+xx)*c+k]
				}
			}
		}
	}
	return x
}

// probabilities returns the class probabilities `convnet predict` gives
// for raw images, one row per image.
func probabilities(t *testing.T, m *model.Sequential, images [][]float32) [][]float32 {
	t.Helper()
	c, err := model.NewClassifier(m, model.ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := c.ClassifyPixels(context.Background(), images, 1)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]float32
	for _, r := range rs {
		out = append(out, r.Probabilities)
	}
	return out
}

// compareProbabilities checks got (rows of want's width, flattened)
// against want: the largest absolute difference at most tol and the same
// top class for every image.
func compareProbabilities(t *testing.T, what string, got []float32, want [][]float32, tol float64) {
	t.Helper()
	classes := len(want[0])
	if len(got) != len(want)*classes {
		t.Fatalf("%s: %d values, want %d images x %d classes", what, len(got), len(want), classes)
	}
	worst, agree := 0.0, 0
	for i, row := range want {
		g := got[i*classes : (i+1)*classes]
		for j := range row {
			worst = max(worst, math.Abs(float64(g[j])-float64(row[j])))
		}
		if tensor.ArgMax(g) == tensor.ArgMax(row) {
			agree++
		}
	}
	t.Logf("%s: max |difference| = %.3g over %d images x %d classes; same top-1 on %d/%d", what, worst, len(want), classes, agree, len(want))
	if worst > tol || agree != len(want) {
		t.Errorf("%s: max |difference| %.3g (want <= %g), same top-1 on %d of %d images", what, worst, tol, agree, len(want))
	}
}

// testImages returns n test images of a named data set, spread over it by
// a prime stride: AHCD's test rows go through the classes two images at a
// time, 56 rows a writer, so that an even spread such as every 168th row
// meets a single class.
func testImages(t *testing.T, dataset string, n int) [][]float32 {
	t.Helper()
	dir := dataDir(t)
	var test *data.Dataset
	var err error
	if dataset == "mnist" {
		_, test, err = data.LoadMNIST(context.Background(), filepath.Join(dir, "mnist"), nil)
	} else {
		_, test, err = data.LoadAHCD(context.Background(), filepath.Join(dir, "ahcd", "ahcd_csv.zip"), nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	var images [][]float32
	for i := range n {
		images = append(images, test.Image(i*7919%test.Len()))
	}
	return images
}

// randomImages returns n images of the given shape with pixels 0..255.
func randomImages(n int, shape []int) [][]float32 {
	rng := rand.New(rand.NewPCG(3, 4))
	var images [][]float32
	for range n {
		img := make([]float32, tensor.Size(shape))
		for i := range img {
			img[i] = float32(rng.IntN(256))
		}
		images = append(images, img)
	}
	return images
}

// TestExportONNXRuntime exports models, checks the files with the onnx
// checker and runs them with ONNX Runtime on 100 images: the probabilities
// must be those of convnet predict. The models: the built-in ones, the
// tutorial's and the resnet preset's networks (random and briefly
// trained), one with every layer type, a graph with every merge layer
// (graphModel), one with per-sample standardization and a graph with a
// squeeze-and-excitation block and the silu, hard_sigmoid and hard_silu
// activations (squeezeExcitation), and one with the selu, gelu, softplus,
// softsign and mish activations (smoothActivations). Importing each file
// back (all but per-sample standardization imports) must give identical
// predictions, and a graph must come back as a graph.
func TestExportONNXRuntime(t *testing.T) {
	skipRace(t)
	dir := t.TempDir()
	trained := filepath.Join(dir, "tutorial-trained.safetensors")
	resnet := filepath.Join(dir, "resnet-trained.safetensors")
	save := func(name string, m *model.Sequential) string {
		path := filepath.Join(dir, name+".safetensors")
		if err := model.Save(path, m, model.SaveOptions{}); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name, model, images string // images: a data set, or "" for random pixels
		train               []string
	}{
		{"builtin-ahcd", "ahcd", "ahcd", nil}, // by its name
		{"builtin-mnist", "../../model/pretrained/mnist.safetensors", "mnist", nil},
		{"tutorial-random", "tutorial", "ahcd", nil},
		{"tutorial-trained", trained, "ahcd", []string{"train", "--data-dir", dataDir(t), "--model", "tutorial", "--limit", "1000",
			"--epochs", "1", "--batch-size", "50", "--seed", "3", "--no-evaluate", "--out", trained}},
		{"resnet-random", save("resnet-random", resnetRandom(t)), "ahcd", nil},
		{"resnet-trained", resnet, "ahcd", []string{"train", "--data-dir", dataDir(t), "--model", "resnet", "--limit", "800",
			"--epochs", "1", "--batch-size", "8", "--seed", "3", "--no-evaluate", "--out", resnet}},
		{"every-layer", save("every-layer", everyLayer(t)), "", nil},
		{"resampling", save("resampling", resampling(t)), "", nil},
		{"group-normalizations", save("group-normalizations", groupNormalizations(t)), "", nil},
		{"normalizations", save("normalizations", normalizations(t)), "", nil},
		{"pools-and-pads", save("pools-and-pads", poolsAndPads(t)), "", nil},
		{"every-merge", save("every-merge", graphModel(t)), "", nil},
		{"global-pool", save("global-pool", globalPool(t)), "", nil},
		{"squeeze-excitation", save("squeeze-excitation", squeezeExcitation(t)), "", nil},
		{"shuffle-unit", save("shuffle-unit", shuffleUnit(t)), "", nil},
		{"smooth-activations", save("smooth-activations", smoothActivations(t)), "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.train != nil {
				if code, _, errs := runCLI(tc.train...); code != 0 {
					t.Fatalf("convnet %s: exit %d: %s", strings.Join(tc.train, " "), code, errs)
				}
			}
			out := filepath.Join(dir, tc.name+".onnx")
			if code, _, errs := runCLI("export", "--model", tc.model, "--format", "onnx", "--out", out); code != 0 {
				t.Fatalf("convnet export: exit %d: %s", code, errs)
			}
			checkONNX(t, out)
			m, err := openModel(tc.model, nil, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			images := randomImages(100, m.InputShape())
			if tc.images != "" {
				images = testImages(t, tc.images, 100)
			}
			want := probabilities(t, m, images)
			got := runORT(t, out, nchwBatch(images, m.InputShape()))
			compareProbabilities(t, "ONNX Runtime vs convnet predict", got, want, 1e-5)
			if tc.name == "global-pool" {
				return // per-sample standardization exports but does not import
			}
			back := filepath.Join(dir, tc.name+"-imported.safetensors")
			if code, _, errs := runCLI("import", "--onnx", out, "--out", back); code != 0 {
				t.Fatalf("convnet import: exit %d: %s", code, errs)
			}
			imported, err := model.Load(back)
			if err != nil {
				t.Fatal(err)
			}
			if imported.IsGraph() != m.IsGraph() {
				t.Errorf("imported IsGraph() = %v, want %v", imported.IsGraph(), m.IsGraph())
			}
			var flat []float32
			for _, row := range probabilities(t, imported, images) {
				flat = append(flat, row...)
			}
			compareProbabilities(t, "export then import vs convnet predict", flat, want, 0)
		})
	}
}
