package cli

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/model/pretrained"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

const tfjsScripts = "../../scripts/tfjs"

// tfjsAnswer is what scripts/tfjs/run.js prints.
type tfjsAnswer struct {
	Shape   []int `json:"shape"`
	Weights int   `json:"weights"`
	Meta    struct {
		Convnet struct {
			Classes       []string        `json:"classes"`
			Preprocessing json.RawMessage `json:"preprocessing"`
		} `json:"convnet"`
	} `json:"meta"`
}

// runTFJS loads the TensorFlow.js model of folder dir with TensorFlow.js
// and runs it on x, [N H W C] or [N F].
func runTFJS(t *testing.T, dir string, x *tensor.Tensor) ([]float32, tfjsAnswer) {
	t.Helper()
	node := tfjsNode(t)
	tmp := t.TempDir()
	in, out := filepath.Join(tmp, "x.f32"), filepath.Join(tmp, "y.f32")
	writeFloats(t, in, x.Data)
	cmd := exec.Command(node, filepath.Join(tfjsScripts, "run.js"), dir, in, shapeArg(x), out)
	msg, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if e, ok := err.(*exec.ExitError); ok {
			stderr = e.Stderr
		}
		t.Fatalf("TensorFlow.js on %s: %v\n%s%s", dir, err, msg, stderr)
	}
	var a tfjsAnswer
	line, _, _ := strings.Cut(string(msg), "\n")
	if err := json.Unmarshal([]byte(line), &a); err != nil {
		t.Fatalf("TensorFlow.js's answer %q: %v", line, err)
	}
	return readFloats(t, out), a
}

// tfjsNode returns node, with TensorFlow.js installed in scripts/tfjs, or
// skips.
func tfjsNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		missingRuntime(t, "node", err)
	}
	if _, err := os.Stat(filepath.Join(tfjsScripts, "node_modules", "@tensorflow", "tfjs-layers")); err != nil {
		missingRuntime(t, "TensorFlow.js (cd scripts/tfjs && npm install --ignore-scripts)", err)
	}
	return node
}

// TestExportTFJS exports models of many layer types with --format tfjs,
// loads each with TensorFlow.js (tf.loadLayersModel, its CPU backend) and
// runs it on 20 images standardised as the model says: its outputs are
// convnet's within 1e-5, its weights the model's, its metadata the class
// names. A model with a layer TensorFlow.js has not is refused, naming it.
func TestExportTFJS(t *testing.T) {
	skipRace(t)
	ahcd, err := pretrained.Load("ahcd")
	if err != nil {
		t.Fatal(err)
	}
	tutorial, err := model.Preset("tutorial")
	if err != nil {
		t.Fatal(err)
	}
	if err := tutorial.Build(nil, 3); err != nil {
		t.Fatal(err)
	}
	tutorial.ClassNames = ahcd.ClassNames
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		m       *model.Sequential
		refused string // the error, for a model TensorFlow.js cannot run
	}{
		{"builtin-ahcd", ahcd, ""},
		{"tutorial", tutorial, ""},
		{"resnet-graph", resnetRandom(t), ""},
		{"lenet5", preset(t, "lenet5"), ""},
		{"elsawy2017", preset(t, "elsawy2017"), ""},
		{"smooth-activations", smoothActivations(t), ""},
		{"global-pool", globalPool(t), ""},
		{"tfjs-layers", tfjsLayerModel(t), ""},
		{"merges", tfjsMerges(t), ""},
		{"layer-norm-image", tfjsOne(t, &nn.LayerNormalization{Axis: []int{1, 2, 3}}), ""},
		{"dense-at-each-pixel", tfjsOne(t, &nn.Dense{Units: 3, Activation: "tanh"}), ""},
		{"reshape", tfjsOne(t, &nn.Reshape{TargetShape: []int{9, 4, 2}}), ""},
		{"frozen", frozenNet(t), ""},                        // layers with trainable false
		{"called-for-inference", calledForInference(t), ""}, // calls with training false
		{"squeeze-excitation", squeezeExcitation(t), `layer conv2d (Conv2D): TensorFlow.js has no activation "hard_silu"`},
		{"pools-and-pads", poolsAndPads(t), "layer elu (ELU): alpha = 0.5: TensorFlow.js's ELU layer takes only 1"},
		{"leaky-relu", tfjsOne(t, &nn.Conv2D{Filters: 3, KernelSize: [2]int{3, 3}, Activation: "leaky_relu"}), ""},
		{"leaky-relu-graph", tfjsLeakyGraph(t), ""},
		{"resampling", resampling(t), "layer resizing (Resizing): TensorFlow.js has no such layer"},
		{"group-normalizations", groupNormalizations(t), "(GroupNormalization): TensorFlow.js has no such layer"},
		{"merges-graph", graphModel(t), "(CustomScaleLayer): TensorFlow.js has no such layer"},
		{"grouped", grouped(t), "groups = 2: TensorFlow.js's convolutions have no groups"},
		{"elu", tfjsOne(t, &nn.ELU{Alpha: 0.5}), "layer elu (ELU): alpha = 0.5: TensorFlow.js's ELU layer takes only 1"},
		{"dilated-depthwise", tfjsOne(t, &nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, DilationRate: [2]int{2, 2}, Padding: "same"}),
			"layer depthwise_conv2d (DepthwiseConv2D): dilation_rate = [2 2]"},
		{"bilinear-upsampling", tfjsOne(t, &nn.UpSampling2D{Interpolation: "bilinear"}), "layer up_sampling2d (UpSampling2D): interpolation bilinear"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name)
			code, stdout, stderr := runCLI("export", "--model", save(t, dir, tc.name, tc.m), "--format", "tfjs", "--out", out)
			if tc.refused != "" {
				if code != 1 || !strings.Contains(stderr, tc.refused) {
					t.Fatalf("export: exit %d, stderr %q; want 1 and %q", code, stderr, tc.refused)
				}
				if _, err := os.Stat(out); err == nil {
					t.Errorf("a refused export left %s", out)
				}
				return
			}
			if code != 0 || !strings.HasPrefix(stdout, "wrote "+out+" (TensorFlow.js layers format") {
				t.Fatalf("export: exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			images, _ := randomBatch(rand.New(rand.NewPCG(5, 6)), tc.m)
			images = images[:20] // TensorFlow.js's JavaScript kernels take seconds for 100
			x, _ := batch(tc.m, images, make([]int, len(images)))
			got, a := runTFJS(t, out, x)
			params := 0
			for _, l := range tc.m.Layers {
				params += len(l.Params())
			}
			if a.Weights != params || !slices.Equal(a.Meta.Convnet.Classes, tc.m.ClassNames) || !slices.Equal(a.Shape, []int{len(images), tc.m.NumClasses()}) {
				t.Errorf("TensorFlow.js: %d weights (want %d), classes %q (want %q), output %v", a.Weights, params, a.Meta.Convnet.Classes, tc.m.ClassNames, a.Shape)
			}
			if want, _ := json.Marshal(tc.m.Standardizer); tc.m.Standardizer != nil && string(a.Meta.Convnet.Preprocessing) != string(want) {
				t.Errorf("TensorFlow.js's metadata: preprocessing %s, want %s", a.Meta.Convnet.Preprocessing, want)
			}
			// Within 2e-5: with CONVNET_WINOGRAD=on, convnet's 5x5
			// convolutions by Winograd's transforms differ from
			// TensorFlow.js's direct sums by up to 1.1e-5 here
			// (elsawy2017, 2026-12-07).
			compareProbabilities(t, "outputs, TensorFlow.js vs convnet", got, probabilities(t, tc.m, images), 2e-5)
		})
	}
}

// save writes m into dir as name.safetensors and returns the path.
func save(t *testing.T, dir, name string, m *model.Sequential) string {
	t.Helper()
	path := filepath.Join(dir, name+".safetensors")
	if err := model.Save(path, m, model.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	return path
}

// tfjsLayerModel is a stack of the layers TensorFlow.js has, at settings
// where a layer computed another way shows: uneven pads and crops, pools
// with "same" padding (an average over the cells inside the image),
// a dilated convolution, a depthwise one, the clipped ReLUs, per-channel
// slopes, batch and layer normalizations of random statistics.
func tfjsLayerModel(t *testing.T) *model.Sequential {
	m := model.New(
		&nn.Conv2D{Filters: 4, KernelSize: [2]int{4, 4}, Strides: [2]int{2, 2}, Padding: "same", Activation: "silu"},
		&nn.ZeroPadding2D{Padding: [2][2]int{{1, 0}, {2, 1}}},
		&nn.Cropping2D{Cropping: [2][2]int{{0, 1}, {2, 0}}},
		&nn.MaxPool2D{PoolSize: [2]int{3, 3}, Strides: [2]int{1, 1}, Padding: "same"},
		&nn.Conv2D{Filters: 6, KernelSize: [2]int{3, 3}, DilationRate: [2]int{2, 2}, Padding: "same"},
		&nn.ELU{},
		&nn.AveragePooling2D{PoolSize: [2]int{3, 2}, Strides: [2]int{2, 2}, Padding: "same"},
		&nn.UpSampling2D{Size: [2]int{2, 3}},
		&nn.BatchNormalization{},
		&nn.Rescaling{Scale: 12, Offset: -1},
		&nn.DepthwiseConv2D{KernelSize: [2]int{3, 2}, Padding: "same", DepthMultiplier: 2, Activation: "relu6"},
		&nn.PReLU{SharedAxes: []int{1, 2}, AlphaInit: 0.25},
		&nn.LeakyReLU{Alpha: 0.1},
		&nn.UpSampling2D{},
		&nn.LayerNormalization{},
		&nn.ReLU{MaxValue: 0.8},
		&nn.AveragePooling2D{PoolSize: [2]int{2, 1}, Strides: [2]int{1, 1}},
		&nn.SpatialDropout2D{Rate: 0.3},
		&nn.Conv2D{Filters: 6, KernelSize: [2]int{1, 1}, Activation: "tanh"},
		&nn.GlobalMaxPooling2D{},
		&nn.Dense{Units: 5, Activation: "softmax"},
	)
	if err := m.Build([]int{17, 15, 3}, 6); err != nil {
		t.Fatal(err)
	}
	spread(m, 1)
	randomStats(m)
	return m
}

// tfjsMerges is a graph of the merge layers TensorFlow.js has: Add,
// Multiply, Average, Maximum, Minimum and Concatenate.
func tfjsMerges(t *testing.T) *model.Sequential {
	in := model.Input(12, 12, 3)
	a := model.Call(&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "relu"}, in)
	b := model.Call(&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "sigmoid"}, a)
	c := model.Call(&nn.Conv2D{Filters: 4, KernelSize: [2]int{1, 1}}, in)
	x := model.Call(&nn.Concatenate{},
		model.Call(&nn.Add{}, a, b, c),
		model.Call(&nn.Multiply{}, a, b),
		model.Call(&nn.Average{}, b, c),
		model.Call(&nn.Maximum{}, a, c),
		model.Call(&nn.Minimum{}, b, c),
	)
	x = model.Call(&nn.GlobalAveragePooling2D{}, x)
	out := model.Call(&nn.Dense{Units: 5, Activation: "softmax"}, x)
	m, err := model.NewGraph(in, out)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 8); err != nil {
		t.Fatal(err)
	}
	spread(m, 4)
	return m
}

// tfjsOne is a small network with layer l, its last Dense layer's weights
// spread.
func tfjsOne(t *testing.T, l nn.Layer) *model.Sequential {
	m := model.New(&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}}, l, &nn.Flatten{}, &nn.Dense{Units: 5, Activation: "softmax"})
	if err := m.Build([]int{8, 8, 1}, 1); err != nil {
		t.Fatal(err)
	}
	spread(m, 4)
	return m
}

// preset returns the preset called name, built with random weights.
func preset(t *testing.T, name string) *model.Sequential {
	t.Helper()
	m, err := model.Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 5); err != nil {
		t.Fatal(err)
	}
	return m
}

// tfjsLeakyGraph is a graph whose convolution with the leaky_relu activation
// feeds two layers, and a Dense with it before the softmax one:
// TensorFlow.js gets a LeakyReLU layer after each, read where the layer
// was.
func tfjsLeakyGraph(t *testing.T) *model.Sequential {
	t.Helper()
	in := model.Input(8, 8, 1)
	a := model.Call(&nn.Conv2D{Filters: 3, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "leaky_relu"}, in)
	b := model.Call(&nn.Conv2D{Filters: 3, KernelSize: [2]int{3, 3}, Padding: "same"}, a)
	x := model.Call(&nn.Flatten{}, model.Call(&nn.Add{}, a, b))
	x = model.Call(&nn.Dense{Units: 6, Activation: "leaky_relu"}, x)
	m, err := model.NewGraph(in, model.Call(&nn.Dense{Units: 5, Activation: "softmax"}, x))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 2); err != nil {
		t.Fatal(err)
	}
	spread(m, 4)
	return m
}

// TestExportTFJSForce exports again over a folder with --force: weight files
// of the model written there before, which model.json no longer names, go.
func TestExportTFJSForce(t *testing.T) {
	out := filepath.Join(t.TempDir(), "web")
	if code, _, stderr := runCLI("export", "--model", "ahcd", "--format", "tfjs", "--out", out); code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	stale := filepath.Join(out, "group1-shard7of9.bin")
	writeFile(t, stale, []byte("old"))
	if code, _, stderr := runCLI("export", "--model", "ahcd", "--format", "tfjs", "--out", out, "--force"); code != 0 {
		t.Fatalf("export --force: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("a weight file of another model left in the folder")
	}
	if _, err := os.Stat(filepath.Join(out, "group1-shard1of1.bin")); err != nil {
		t.Errorf("the model's own weights: %v", err)
	}
}
