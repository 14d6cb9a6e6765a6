package cli

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/tensor"
)

// kerasStack is a Keras 3 Sequential, as to_json and a .keras file's
// config.json write it, of layers whose variables a weights file names in
// every way Keras's saving does: a second layer of a class ("conv2d_1"),
// a SeparableConv2D's three variables shared by the two layers convnet
// reads it as, a batch normalization's non-trainable statistics after its
// trainable ones, and a nested Sequential's layers under its own "layers".
const kerasStack = `{"module": "keras", "class_name": "Sequential", "config": {"name": "stack", "trainable": true,
 "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
 "layers": [
  {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 12, 12, 1], "dtype": "float32", "sparse": false, "name": "input_layer"}, "registered_name": null},
  {"module": "keras.layers", "class_name": "Conv2D", "config": {"name": "first", "filters": 4, "kernel_size": [3, 3], "activation": "relu", "padding": "same"}, "registered_name": null, "build_config": {"input_shape": [null, 12, 12, 1]}},
  {"module": "keras.layers", "class_name": "BatchNormalization", "config": {"name": "bn", "trainable": false}, "registered_name": null},
  {"module": "keras.layers", "class_name": "Conv2D", "config": {"name": "second", "filters": 6, "kernel_size": [3, 3], "activation": "relu"}, "registered_name": null},
  {"module": "keras.layers", "class_name": "SeparableConv2D", "config": {"name": "sep", "filters": 5, "kernel_size": [3, 3], "depth_multiplier": 2, "activation": "relu"}, "registered_name": null},
  {"module": "keras", "class_name": "Sequential", "config": {"name": "inner", "trainable": false, "layers": [
    {"module": "keras.layers", "class_name": "Conv2D", "config": {"name": "inner_conv", "filters": 3, "kernel_size": [1, 1]}, "registered_name": null},
    {"module": "keras.layers", "class_name": "PReLU", "config": {"name": "inner_prelu", "shared_axes": [1, 2]}, "registered_name": null}]}, "registered_name": null},
  {"module": "keras.layers", "class_name": "MaxPooling2D", "config": {"name": "pool", "pool_size": [2, 2]}, "registered_name": null},
  {"module": "keras.layers", "class_name": "Flatten", "config": {"name": "flatten"}, "registered_name": null},
  {"module": "keras.layers", "class_name": "Dense", "config": {"name": "hidden", "units": 8, "activation": "relu"}, "registered_name": null},
  {"module": "keras.layers", "class_name": "Dense", "config": {"name": "out", "units": 3, "activation": "softmax"}, "registered_name": null}]},
 "registered_name": null, "build_config": {"input_shape": [null, 12, 12, 1]},
 "compile_config": {"optimizer": "rmsprop", "loss": "categorical_crossentropy", "metrics": ["accuracy"]}}`

// kerasTransfer is the model of Keras's transfer-learning guide in Keras
// 3's layout: a frozen base, a Functional model, called with
// training=False inside a Functional model that pools and classifies.
const kerasTransfer = `{"module": "keras.src.models.functional", "class_name": "Functional", "config": {"name": "transfer", "trainable": true,
 "layers": [
  {"module": "keras.layers", "class_name": "InputLayer", "name": "image", "config": {"batch_shape": [null, 10, 10, 3], "dtype": "float32", "sparse": false, "name": "image"}, "inbound_nodes": []},
  {"module": "keras.src.models.functional", "class_name": "Functional", "name": "base", "config": {"name": "base", "trainable": false, "layers": [
    {"module": "keras.layers", "class_name": "InputLayer", "name": "base_in", "config": {"batch_shape": [null, 10, 10, 3], "dtype": "float32", "sparse": false, "name": "base_in"}, "inbound_nodes": []},
    {"module": "keras.layers", "class_name": "Conv2D", "name": "base_conv", "config": {"name": "base_conv", "filters": 4, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same", "activation": "relu"},
     "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 10, 10, 3], "dtype": "float32", "keras_history": ["base_in", 0, 0]}}], "kwargs": {}}]},
    {"module": "keras.layers", "class_name": "BatchNormalization", "name": "base_bn", "config": {"name": "base_bn"},
     "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 5, 5, 4], "dtype": "float32", "keras_history": ["base_conv", 0, 0]}}], "kwargs": {}}]}],
    "input_layers": [["base_in", 0, 0]], "output_layers": [["base_bn", 0, 0]]},
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 10, 10, 3], "dtype": "float32", "keras_history": ["image", 0, 0]}}], "kwargs": {"training": false}}]},
  {"module": "keras.layers", "class_name": "GlobalAveragePooling2D", "name": "pool", "config": {"name": "pool"},
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 5, 5, 4], "dtype": "float32", "keras_history": ["base", 0, 0]}}], "kwargs": {}}]},
  {"module": "keras.layers", "class_name": "Dense", "name": "head", "config": {"name": "head", "units": 2, "activation": "softmax"},
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 4], "dtype": "float32", "keras_history": ["pool", 0, 0]}}], "kwargs": {}}]}],
 "input_layers": [["image", 0, 0]], "output_layers": [["head", 0, 0]]}}`

// kerasOld is the model_config of a Sequential model saved by Keras 2.1
// (the tutorial's time): a list of layers, the first holding the input
// shape, every field at the values of the time.
const kerasOld = `{"class_name": "Sequential", "config": [
 {"class_name": "Conv2D", "config": {"name": "conv2d_1", "trainable": true, "batch_input_shape": [null, 12, 12, 1], "dtype": "float32", "filters": 4, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "relu", "use_bias": true, "kernel_initializer": {"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}},
 {"class_name": "MaxPooling2D", "config": {"name": "max_pooling2d_1", "trainable": true, "pool_size": [2, 2], "padding": "valid", "strides": [2, 2], "data_format": "channels_last"}},
 {"class_name": "Dropout", "config": {"name": "dropout_1", "trainable": true, "rate": 0.25, "noise_shape": null, "seed": null}},
 {"class_name": "Flatten", "config": {"name": "flatten_1", "trainable": true, "data_format": "channels_last"}},
 {"class_name": "Dense", "config": {"name": "dense_1", "trainable": true, "units": 28, "activation": "softmax", "use_bias": true, "kernel_initializer": {"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}}],
 "keras_version": "2.1.6", "backend": "tensorflow"}`

// writeKeras writes m, built from the architecture doc, as Keras 3's
// model.save writes a .keras file (testdata/write_keras.py, with h5py),
// with weights drawn at random (or edited by edit: a layer's name and its
// variables, [shape, values] each), and returns its path.
func writeKeras(t *testing.T, m *model.Sequential, doc []byte, edit func(map[string][][3]any), flags ...string) string {
	t.Helper()
	py := python(t, "h5py", "numpy")
	rng := rand.New(rand.NewPCG(9, 10))
	weights := map[string][][3]any{}
	for _, l := range m.Layers {
		for _, p := range l.Params() {
			for i := range p.Value.Data {
				p.Value.Data[i] = float32(rng.NormFloat64() * 0.5)
				if strings.HasPrefix(p.Name, "moving_variance") {
					p.Value.Data[i] = 0.5 + rng.Float32()
				}
			}
			weights[l.Name()] = append(weights[l.Name()], [3]any{p.Value.Shape, p.Value.Data, p.Name})
		}
	}
	for name, vars := range weights { // a SeparableConv2D's: depthwise kernel, pointwise kernel, bias
		if base, ok := strings.CutSuffix(name, "_depthwise"); ok && weights[base] != nil {
			weights[base][0][2] = "pointwise_kernel"
			weights[base] = append(vars, weights[base]...)
			delete(weights, name)
		}
	}
	if edit != nil {
		edit(weights)
	}
	dir := t.TempDir()
	b, err := json.Marshal(weights)
	if err != nil {
		t.Fatal(err)
	}
	cfg, wts, out := filepath.Join(dir, "config.json"), filepath.Join(dir, "weights.json"), filepath.Join(dir, "m.keras")
	os.WriteFile(cfg, doc, 0o644)
	os.WriteFile(wts, b, 0o644)
	if slices.Contains(flags, "--h5") {
		out = filepath.Join(dir, "m.h5")
	}
	if msg, err := exec.Command(py, append([]string{"testdata/write_keras.py", cfg, wts, out}, flags...)...).CombinedOutput(); err != nil {
		t.Fatalf("write_keras.py: %v\n%s", err, msg)
	}
	return out
}

// sameModel checks that got has want's weights, bit for bit, and computes
// its outputs on a few inputs.
func sameModel(t *testing.T, got, want *model.Sequential) {
	t.Helper()
	w, have := want.Params(), got.Params()
	if len(have) != len(w) {
		t.Fatalf("%d parameters, want %d", len(have), len(w))
	}
	for i := range w {
		if !slices.Equal(have[i].Value.Data, w[i].Value.Data) {
			t.Fatalf("parameter %d (%s, shape %v) differs", i, w[i].Name, w[i].Value.Shape)
		}
	}
	x := tensor.New(append([]int{4}, want.InputShape()...)...)
	for i := range x.Data {
		x.Data[i] = float32(i%7) - 3
	}
	a, b := tensor.New(4, want.NumClasses()), tensor.New(4, got.NumClasses())
	want.Predict(a, x)
	got.Predict(b, x)
	if !slices.Equal(a.Data, b.Data) {
		t.Errorf("outputs %v, want %v", b.Data[:4], a.Data[:4])
	}
}

// TestImportKeras writes model files of a stack, of a real Keras 3
// Functional model's architecture, of the tutorial's Keras 2 architecture
// and of a frozen base inside a Functional model (Keras's transfer
// learning), with random weights, as Keras 3 saves a .keras file and as
// Keras 2 saves an HDF5 file (a whole model, or weights alone with the
// architecture given to --arch); imports them with convnet import --keras,
// and checks that every weight arrived where it belongs, bit for bit, that
// the imported model computes what the original does, and that frozen
// layers (trainable false) come in frozen.
func TestImportKeras(t *testing.T) {
	docs := map[string][]byte{"stack": []byte(kerasStack), "keras-2.1": []byte(kerasOld), "transfer": []byte(kerasTransfer)}
	for name, file := range map[string]string{"residual-functional": "residual_keras3.json", "tutorial": "tutorial_sequential.json"} {
		b, err := os.ReadFile("../../model/testdata/keras/" + file)
		if err != nil {
			t.Fatal(err)
		}
		docs[name] = b
	}
	for _, c := range []struct {
		name, doc string
		writer    []string // write_keras.py's flags
		arch      bool     // give the architecture to --arch
		source    string
	}{
		{"stack", "stack", nil, false, "Keras 3.15.0 (.keras file"},
		{"residual-functional", "residual-functional", nil, false, "Keras 3.15.0 (.keras file"},
		{"stack-keras2", "stack", []string{"--h5"}, false, "Keras 2.15.0 (HDF5 file)"},
		{"tutorial-keras2", "tutorial", []string{"--h5"}, false, "Keras 2.15.0 (HDF5 file)"},
		{"residual-keras2-weights", "residual-functional", []string{"--h5", "--weights-only"}, true, "Keras 2.15.0 (HDF5 file)"},
		{"keras-2.1", "keras-2.1", []string{"--h5"}, false, "Keras 2.15.0 (HDF5 file)"},
		{"transfer", "transfer", nil, false, "Keras 3.15.0 (.keras file"},
		{"transfer-keras2", "transfer", []string{"--h5"}, false, "Keras 2.15.0 (HDF5 file)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := docs[c.doc]
			parsed := doc
			if c.doc == "keras-2.1" { // its list of layers, as later versions write it
				parsed = bytes.Replace(bytes.Replace(doc, []byte(`"config": [`), []byte(`"config": {"layers": [`), 1), []byte(`}}],`), []byte(`}}]},`), 1)
			}
			m, err := model.ParseArchitecture(parsed)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Build(nil, 3); err != nil {
				t.Fatal(err)
			}
			path := writeKeras(t, m, doc, nil, c.writer...)
			out := filepath.Join(t.TempDir(), "m.safetensors")
			args := []string{"import", "--keras", path, "--out", out, "--rescale", "1/255"}
			if c.arch {
				arch := filepath.Join(t.TempDir(), "arch.json")
				os.WriteFile(arch, doc, 0o644)
				args = append(args, "--arch", arch)
			}
			code, stdout, stderr := runCLI(args...)
			if code != 0 {
				t.Fatalf("import: exit %d: %s", code, stderr)
			}
			t.Logf("%s", stdout)
			got, err := model.Load(out)
			if err != nil {
				t.Fatal(err)
			}
			sameModel(t, got, m)
			frozen := map[string][]string{"stack": {"bn", "inner_conv", "inner_prelu"}, "transfer": {"base_conv", "base_bn"}}[c.doc]
			for _, l := range got.Layers { // a frozen layer, a frozen Sequential or Functional model in it
				if want := slices.Contains(frozen, l.Name()); got.Trainable(l) == want {
					t.Errorf("layer %s: trainable %v, want %v", l.Name(), got.Trainable(l), !want)
				}
			}
			if got.Standardizer == nil || got.Standardizer.Rescale != 1.0/255 || !strings.HasPrefix(got.Meta["source"], c.source) {
				t.Errorf("preprocessing %+v, source %q, want %q", got.Standardizer, got.Meta["source"], c.source)
			}
		})
	}
}

// TestImportKerasErrors: a file whose weights do not fit its architecture,
// or that is not a model saved by Keras 3, is refused with a message that
// says which layer or member, and what was expected.
func TestImportKerasErrors(t *testing.T) {
	m, err := model.ParseArchitecture([]byte(kerasStack))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 3); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	notZip := filepath.Join(dir, "m.keras")
	os.WriteFile(notZip, []byte("not a zip"), 0o644)
	emptyZip := filepath.Join(dir, "empty.keras")
	os.WriteFile(emptyZip, []byte("PK\x05\x06"+strings.Repeat("\x00", 18)), 0o644) // what zipfile writes for no member
	for _, c := range []struct {
		name string
		path string
		want string
	}{
		{"missing layer", writeKeras(t, m, []byte(kerasStack), func(w map[string][][3]any) { delete(w, "second") }),
			"layer second (Conv2D): hdf5: /layers/conv2d_1: no such group or dataset (/layers holds batch_normalization, conv2d, dense, dense_1, separable_conv2d, sequential)"},
		{"wrong shape", writeKeras(t, m, []byte(kerasStack), func(w map[string][][3]any) {
			w["hidden"][1] = [3]any{[]int{2, 4}, make([]float32, 8), "bias"}
		}), "layer hidden (Dense): /layers/dense/vars/1: shape [2 4], the layer's bias is [8]"},
		{"extra variable", writeKeras(t, m, []byte(kerasStack), func(w map[string][][3]any) {
			w["bn"] = append(w["bn"], [3]any{[]int{4}, make([]float32, 4), "extra"})
		}), "layer bn (BatchNormalization): /layers/batch_normalization/vars holds 5 variables, the layer has 4 (gamma [4], beta [4], moving_mean [4], moving_variance [4])"},
		{"nested layer", writeKeras(t, m, []byte(kerasStack), func(w map[string][][3]any) { delete(w, "inner_prelu") }),
			"layer inner_prelu (PReLU): hdf5: /layers/sequential/layers/p_re_lu: no such group or dataset (/layers/sequential/layers holds conv2d)"},
		{"keras 2 missing weight", writeKeras(t, m, []byte(kerasStack), func(w map[string][][3]any) { w["hidden"] = w["hidden"][1:] }, "--h5"),
			"layer hidden: no weight hidden/kernel:0 in /model_weights"},
		{"keras 2 weight left over", writeKeras(t, m, []byte(kerasStack), func(w map[string][][3]any) {
			w["bn"] = append(w["bn"], [3]any{[]int{4}, make([]float32, 4), "extra"})
		}, "--h5"), "weight bn/extra:0 of the file belongs to no layer of the architecture"},
		{"keras 2 wrong shape", writeKeras(t, m, []byte(kerasStack), func(w map[string][][3]any) {
			w["inner_prelu"][0] = [3]any{[]int{1, 1, 4}, make([]float32, 4), "alpha"}
		}, "--h5"), "layer inner_prelu: /model_weights/inner/inner/inner_prelu/alpha:0: shape [1 1 4], the layer's alpha is [1 1 3]"},
		// An architecture of far more weights than the file holds is
		// refused before they are allocated.
		{"architecture larger than the file", writeKeras(t, m, []byte(strings.Replace(kerasStack, `"units": 8`, `"units": 4000000`, 1)), nil, "--h5"),
			"layer 10: hidden (Dense) would bring the weights to 196000472 values, more than a weights file of "},
		{"weights without architecture", writeKeras(t, m, []byte(kerasStack), nil, "--h5", "--weights-only"),
			"the file holds weights only (Keras's save_weights): give the architecture too"},
		{"not a zip", notZip, "neither a .keras file (a zip archive) nor an HDF5 file of Keras: hdf5: no HDF5 signature"},
		{"empty zip", emptyZip, "the archive lacks config.json or model.weights.h5: not a model saved by Keras 3's model.save"},
		{"custom model", "../../model/testdata/keras/nested_container.keras", `NestedDenseModel`},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI("import", "--keras", c.path, "--out", filepath.Join(t.TempDir(), "m.safetensors"))
			if code != exitError || !strings.Contains(stderr, c.want) || !strings.Contains(stderr, c.path) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, exitError, c.want)
			}
		})
	}
	if code, _, stderr := runCLI("import", "--keras", notZip, "--onnx", notZip, "--out", "x"); code != exitUsage || !strings.Contains(stderr, "give one of --onnx, --keras and --tfjs, and --out") {
		t.Errorf("--keras with --onnx: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runCLI("import", "--onnx", notZip, "--arch", notZip, "--out", "x"); code != exitUsage || !strings.Contains(stderr, "--arch goes with --keras") {
		t.Errorf("--arch with --onnx: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runCLI("import", "--onnx", notZip, "--rescale", "0", "--out", "x"); code != exitUsage || !strings.Contains(stderr, `--rescale "0": want one positive number`) {
		t.Errorf("--rescale 0: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runCLI("import", "--onnx", notZip, "--classes", writeFile(t, filepath.Join(t.TempDir(), "empty.txt"), nil), "--out", filepath.Join(t.TempDir(), "m.safetensors")); code != exitError || !strings.Contains(stderr, "no class names (want one per line)") {
		t.Errorf("--classes of an empty file: exit %d, %s", code, stderr)
	}
	arch := writeFile(t, filepath.Join(t.TempDir(), "arch.json"), []byte(kerasStack))
	for _, full := range []string{writeKeras(t, m, []byte(kerasStack), nil, "--h5"), "../../model/testdata/keras/nested_container.keras"} {
		if code, _, stderr := runCLI("import", "--keras", full, "--arch", arch, "--out", filepath.Join(t.TempDir(), "m.safetensors")); code != exitError || !strings.Contains(stderr, "an architecture given too is for a file of weights alone") {
			t.Errorf("--arch with a whole model %s: exit %d, %s", full, code, stderr)
		}
	}
	if code, _, stderr := runCLI("evaluate", "--model", notZip); code != exitError || !strings.Contains(stderr, "convnet import --keras "+notZip+" --out MODEL.safetensors") {
		t.Errorf("evaluate a .keras file: exit %d, %s", code, stderr)
	}
}

// TestImportKerasNormalization reads an adapted Normalization as Keras
// keeps it, in a .keras file and in a Keras 2 HDF5 file: its mean and
// variance of the kept axes alone, (3,) where convnet's parameters are
// [1 1 3], and its count a scalar.
func TestImportKerasNormalization(t *testing.T) {
	doc := []byte(`{"class_name": "Sequential", "config": {"name": "s", "layers": [
	  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 3], "dtype": "float32", "name": "in"}},
	  {"class_name": "Normalization", "config": {"name": "norm", "axis": [-1], "mean": null, "variance": null}},
	  {"class_name": "Flatten", "config": {"name": "f"}},
	  {"class_name": "Dense", "config": {"name": "d", "units": 2, "activation": "softmax"}}]}}`)
	for _, flags := range [][]string{nil, {"--h5"}} {
		m, err := model.ParseArchitecture(doc)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Build(nil, 3); err != nil {
			t.Fatal(err)
		}
		keras := func(w map[string][][3]any) {
			for i, v := range w["norm"] {
				values := v[1].([]float32) // the model's own, set here too
				switch v[2] {
				case "mean":
					w["norm"][i][0] = []int{3}
				case "variance":
					w["norm"][i][0] = []int{3}
					for j := range values {
						values[j] = float32(math.Abs(float64(values[j]))) + 0.5
					}
				case "count":
					w["norm"][i][0] = []int{}
					values[0] = 5
				}
			}
		}
		path := writeKeras(t, m, doc, keras, flags...)
		out := filepath.Join(t.TempDir(), "m.safetensors")
		if code, _, stderr := runCLI("import", "--keras", path, "--out", out); code != 0 {
			t.Fatalf("%v: import: exit %d: %s", flags, code, stderr)
		}
		got, err := model.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		sameModel(t, got, m)
	}
}
