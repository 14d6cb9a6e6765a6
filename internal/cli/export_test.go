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
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
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
	if out, err := exec.Command(py, "-c", "import "+strings.Join(modules, ", ")).CombinedOutput(); err != nil {
		missingRuntime(t, "python3 with "+strings.Join(modules, ", "), errors.New(strings.TrimSpace(string(out))))
	}
	return py
}

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
	var dims []string
	for _, d := range x.Shape {
		dims = append(dims, strconv.Itoa(d))
	}
	msg, err := exec.Command(node, filepath.Join(onnxScripts, "run.js"), path, in, strings.Join(dims, ","), out).CombinedOutput()
	if err != nil {
		t.Fatalf("ONNX Runtime on %s: %v\n%s", filepath.Base(path), err, msg)
	}
	return readFloats(t, out)
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

// testImages returns n test images of a named data set, spread over it
// (AHCD's are sorted by class).
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
		images = append(images, test.Image(i*test.Len()/n))
	}
	return images
}

// everyLayer returns a model with every layer type and activation of nn,
// "same" padding with even kernels and strides (asymmetric pads), dilated
// convolutions (one of asymmetric pads, one depthwise), a Dense layer on
// an image and a LayerScale of random scales, resampling (Resizing cropped
// and nearest, UpSampling2D bilinear and nearest), random batch normalization
// statistics (one without gamma, one without beta), PReLUs with random
// slopes (one per channel, per pixel, per feature of a flattened image,
// one in all),
// Normalizations with random statistics (per channel, inverted per pixel,
// given per channel, per feature of a flattened image), LayerNormalizations
// with random gamma and beta (over the channels, the whole image, the
// features of a flattened image), GroupNormalizations (of four groups,
// one per channel without beta, one over a flattened image's features
// without gamma, three of a vector) and a per-channel standardizer.
func everyLayer(t *testing.T) *model.Sequential {
	m := model.New(
		&nn.Rescaling{Scale: 2, Offset: -1}, // after the standardizer: a layer when imported back
		&nn.Conv2D{Filters: 6, KernelSize: [2]int{4, 4}, Strides: [2]int{2, 2}, Padding: "same", Activation: "leaky_relu",
			KernelRegularizer: nn.Regularizer{L2: 0.01}, BiasRegularizer: nn.Regularizer{L1: 0.001},
			KernelConstraint: nn.Constraint{Kind: "max_norm", Max: 0.5, Axis: []int{0, 1, 2}}, BiasConstraint: nn.Constraint{Kind: "non_neg"}},
		// 8x7 cropped to 8x5, resized to 9x6, then 9x12, 18x24 and 8x8 (no
		// ties between two nearest inputs: floor((o+0.5)·in/out) never whole).
		&nn.Resizing{Height: 9, Width: 6, CropToAspectRatio: true},
		&nn.UpSampling2D{Size: [2]int{1, 2}, Interpolation: "bilinear"},
		&nn.UpSampling2D{},
		&nn.Resizing{Height: 8, Width: 8, Interpolation: "nearest"},
		&nn.BatchNormalization{NoScale: true},
		&nn.ELU{Alpha: 0.5},
		&nn.Normalization{},
		&nn.LayerNormalization{},
		&nn.PReLU{SharedAxes: []int{1, 2}, AlphaInit: 0.25},
		&nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, Padding: "same", DepthMultiplier: 2, Activation: "relu", KernelRegularizer: nn.Regularizer{L1: 0.002},
			KernelConstraint: nn.Constraint{Kind: "unit_norm", Axis: []int{0, 1}}},
		&nn.ZeroPadding2D{Padding: [2][2]int{{1, 0}, {2, 1}}},
		&nn.Cropping2D{Cropping: [2][2]int{{0, 1}, {2, 0}}},
		&nn.MaxPool2D{PoolSize: [2]int{2, 2}, Strides: [2]int{1, 1}, Padding: "same"},
		&nn.Conv2D{Filters: 12, KernelSize: [2]int{3, 3}, DilationRate: [2]int{2, 2}, Padding: "same", Activation: "relu"},
		&nn.Conv2D{Filters: 12, KernelSize: [2]int{2, 3}, DilationRate: [2]int{3, 2}, Padding: "same"},
		&nn.DepthwiseConv2D{KernelSize: [2]int{3, 2}, DilationRate: [2]int{2, 3}, Padding: "same", Activation: "relu"},
		&nn.Dense{Units: 12, Activation: "gelu"}, // at each pixel
		&nn.GroupNormalization{Groups: 4},
		&nn.LayerScale{InitValues: 1e-6},
		&nn.PReLU{SharedAxes: []int{3}},
		&nn.Normalization{Axis: []int{1, 2}, Invert: true},
		&nn.Rescaling{Scales: []float64{0.5, 2, -1, 1.5, 0.25, -0.75, 1, 3, 0.125, 1, 2, -2}, Offset: 0.25},
		&nn.GaussianNoise{Stddev: 0.2},
		&nn.Conv2D{Filters: 5, KernelSize: [2]int{3, 2}, Activation: "elu"},
		&nn.LayerNormalization{Axis: []int{1, 2, 3}, Epsilon: 1e-5},
		&nn.GroupNormalization{Groups: -1, NoCenter: true},
		&nn.LeakyReLU{Alpha: 0.1},
		&nn.Normalization{Mean: []float64{0.1, -0.2, 0.3, 0, 0.5}, Variance: []float64{1.5, 0.5, 2, 1, 0.25}},
		&nn.ReLU{MaxValue: 0.8},
		&nn.AveragePooling2D{PoolSize: [2]int{3, 2}, Strides: [2]int{2, 2}, Padding: "same"},
		&nn.SpatialDropout2D{Rate: 0.2},
		&nn.Dropout{Rate: 0.2, NoiseShape: []int{0, 1, 1, 1}},
		&nn.Activation{Func: "sigmoid"},
		&nn.Dropout{Rate: 0.1, NoiseShape: []int{0, 0, 1, 0}},
		&nn.Conv2D{Filters: 4, KernelSize: [2]int{1, 1}, Activation: "tanh", NoBias: true},
		&nn.DepthwiseConv2D{KernelSize: [2]int{2, 2}, Strides: [2]int{2, 1}, NoBias: true},
		&nn.Dropout{Rate: 0.3},
		&nn.Flatten{},
		&nn.Rescaling{Scale: 0.75},
		&nn.Rescaling{Scale: 1.25, Offsets: []float64{-0.5, 0, 0.5, 1, 0.25, 0.5, 0.75, 1, 0.5, -1, 2, 0.5}},
		&nn.Normalization{},
		&nn.LayerNormalization{Axis: []int{-1}, NoCenter: true},
		&nn.GroupNormalization{Groups: 1, NoScale: true},
		&nn.PReLU{},
		&nn.GaussianDropout{Rate: 0.1},
		&nn.Dense{Units: 12, Activation: "relu", KernelRegularizer: nn.Regularizer{L1: 0.001, L2: 0.005},
			KernelConstraint: nn.Constraint{Kind: "min_max_norm", Min: 0.2, Max: 0.8, Rate: 0.5, Axis: []int{0}}},
		&nn.BatchNormalization{NoCenter: true},
		&nn.GroupNormalization{Groups: 3, Epsilon: 1e-5},
		&nn.PReLU{SharedAxes: []int{1}, AlphaInit: 0.1},
		&nn.Activation{Func: "tanh"},
		&nn.ReLU{},
		&nn.Dense{Units: 7, Activation: "sigmoid", NoBias: true},
		&nn.Softmax{},
		&nn.Dense{Units: 5},
	)
	if err := m.Build([]int{15, 14, 3}, 5); err != nil {
		t.Fatal(err)
	}
	randomStats(m)
	randomSlopes(m)
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255, FeaturewiseStd: true, Mean: []float32{0.4, 0.5, 0.6}, Std: []float32{0.2, 0.3, 0.25}}
	m.ClassNames = []string{"a", "b", "c", "d", "e"}
	return m
}

// randomSlopes gives the PReLU and LayerScale layers of m slopes and
// scales between -0.5 and 0.5, as training would: different from each
// other.
func randomSlopes(m *model.Sequential) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, l := range m.Layers {
		switch l.(type) {
		case *nn.PReLU, *nn.LayerScale:
			for i := range l.Params()[0].Value.Data {
				l.Params()[0].Value.Data[i] = float32(rng.Float64() - 0.5)
			}
		}
	}
}

// globalPool is a model ending in global average pooling, with a softmax
// over channels and a mean image.
func globalPool(t *testing.T) *model.Sequential {
	m := model.New(
		&nn.Conv2D{Filters: 8, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "softmax"},
		&nn.GlobalAveragePooling2D{},
		&nn.Dense{Units: 4, Activation: "softmax"},
	)
	if err := m.Build([]int{8, 9, 3}, 6); err != nil {
		t.Fatal(err)
	}
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255, ImageCenter: true, SamplewiseCenter: true, SamplewiseStd: true, MeanImage: make([]float32, 8*9*3)}
	for i := range m.Standardizer.MeanImage {
		m.Standardizer.MeanImage[i] = float32(i%7) / 10
	}
	return m
}

// resnetRandom is the resnet preset with random weights and batch
// normalization statistics, on pixels rescaled to 0..1.
func resnetRandom(t *testing.T) *model.Sequential {
	m, err := model.Preset("resnet")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 7); err != nil {
		t.Fatal(err)
	}
	randomStats(m)
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}
	return m
}

// randomStats gives every batch normalization layer random statistics.
func randomStats(m *model.Sequential) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, l := range m.Layers {
		for _, p := range l.Params() {
			switch p.Name {
			case "moving_mean", "beta", "mean":
				for i := range p.Value.Data {
					p.Value.Data[i] = float32(rng.NormFloat64() * 0.3)
				}
			case "moving_variance", "gamma", "variance":
				for i := range p.Value.Data {
					p.Value.Data[i] = float32(0.5 + rng.Float64())
				}
			}
		}
	}
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
		{"builtin-ahcd", "../../model/pretrained/ahcd.safetensors", "ahcd", nil},
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
