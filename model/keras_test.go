package model

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
)

// The documents in testdata/keras are written by hand in the layouts Keras
// writes with model.to_json():
//
//   - tutorial_sequential.json: the tutorial's network as tf.keras 2.x
//     (2.12 and before) writes a Sequential model built with input_shape,
//     an InputLayer "conv2d_input" first and the first layer's
//     batch_input_shape (tf_keras/tests/get_config_samples.py shows the
//     layer configs);
//   - residual_functional.json: a small ResNet as tf.keras 2.13 and later
//     write a Functional model (module and registered_name beside each
//     class_name, inbound_nodes [[["name", 0, 0, {}]]], BatchNormalization's
//     axis [3] as built);
//   - residual_keras3.json: the same network as Keras 3 writes it (dtype
//     policies, batch_shape, inbound nodes of __keras_tensor__ arguments);
//   - mobilenet_keras3.json: the first blocks of Keras's
//     applications.MobileNetV2 (alpha 0.35, a 32x32x1 input, 28 classes),
//     its layers named and configured as keras/src/applications/
//     mobilenet_v2.py builds them (ReLU(6.0), ZeroPadding2D before the
//     stride-2 DepthwiseConv2D, inverted residual blocks joined by Add),
//     laid out as Keras 3 writes them.
func readKeras(t testing.TB, name string) *Model {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "keras", name))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseArchitecture(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := m.Build(nil, 1); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func TestKerasSequential(t *testing.T) {
	m := readKeras(t, "tutorial_sequential.json")
	var b bytes.Buffer
	if err := m.Summary(&b); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != tutorialSummary {
		t.Errorf("Summary() =\n%s\nwant\n%s", got, tutorialSummary)
	}
	// It is the preset, layer for layer.
	p, _ := Preset("tutorial")
	p.Build(nil, 1)
	for i, l := range m.Layers {
		a, _ := json.Marshal(l.Config())
		b, _ := json.Marshal(p.Layers[i].Config())
		if !bytes.Equal(a, b) {
			t.Errorf("layer %d: config %s, the preset's %s", i, a, b)
		}
	}
	if m.IsGraph() {
		t.Errorf("a Sequential document reads as a graph")
	}
}

// residualParams is the parameter count Keras's summary prints for the
// network of residual_functional.json, counted by hand: kernels kh·kw·in·out
// (no biases), batch normalizations 4 per channel (gamma, beta and the two
// non-trainable moving statistics), the dense layer in·out + out.
const residualParams = 3*3*1*16 + 4*16 + // stem: conv2d, batch_normalization
	2*(3*3*16*16+4*16) + // the first residual block
	3*3*16*32 + 4*32 + 3*3*32*32 + 4*32 + // the second block, stride 2
	1*1*16*32 + 4*32 + // its 1x1 projection shortcut
	32*10 + 10 // dense

func TestKerasFunctional(t *testing.T) {
	for _, name := range []string{"residual_functional.json", "residual_keras3.json"} {
		t.Run(name, func(t *testing.T) {
			m := readKeras(t, name)
			tr, non := m.ParamCount()
			if tr+non != residualParams || non != 2*(16*3+32*3) || residualParams != 19994 {
				t.Errorf("ParamCount() = %d + %d, want %d in all, %d non-trainable", tr, non, residualParams, 2*(16*3+32*3))
			}
			var b bytes.Buffer
			m.Summary(&b)
			if !strings.Contains(b.String(), "Total params: 19,994\nTrainable params: 19,706\nNon-trainable params: 288\n") {
				t.Errorf("Summary() =\n%s", b.String())
			}
			if !m.IsGraph() || !slices.Equal(m.InputShape(), []int{28, 28, 1}) || !slices.Equal(m.OutputShape(), []int{10}) {
				t.Fatalf("IsGraph %v, InputShape %v, OutputShape %v", m.IsGraph(), m.InputShape(), m.OutputShape())
			}
			add := m.Layer("add_1")
			i := slices.Index(m.Layers, add)
			var in []string
			for _, j := range m.Inbound(i) {
				in = append(in, m.Layers[j].Name())
			}
			if !slices.Equal(in, []string{"batch_normalization_4", "batch_normalization_5"}) {
				t.Errorf("add_1 is called on %v", in)
			}
			// It trains, saves and loads.
			if err := m.Compile(&optim.Adam{LearningRate: 0.01}, nn.CrossEntropy{Sparse: true}); err != nil {
				t.Fatal(err)
			}
			x, y := randomBatch(m, 4, 1)
			lossFalls(t, m, x, y, 8)
			path := filepath.Join(t.TempDir(), "r.safetensors")
			if err := Save(path, m, SaveOptions{IncludeOptimizer: true}); err != nil {
				t.Fatal(err)
			}
			l, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if !l.IsGraph() || !equalWeights(weights(l), weights(m)) {
				t.Fatalf("the loaded graph differs (IsGraph %v)", l.IsGraph())
			}
			for range 2 {
				m.TrainStep(x, y)
				l.TrainStep(x, y)
			}
			if !equalWeights(weights(l), weights(m)) {
				t.Errorf("training the loaded graph diverges from training the original")
			}
		})
	}
}

// Architecture writes Keras's layout, which reads back to the same model
// and the same document.
func TestArchitectureRoundTrip(t *testing.T) {
	tut, _ := Preset("tutorial")
	tut.Build(nil, 1)
	pad, mx := padded(t), mixed(t)
	pad.Build(nil, 1) // the seed the document is read back with
	mx.Build(nil, 1)
	for _, m := range []*Model{tut, readKeras(t, "residual_keras3.json"), branchy(t, "relu", "softmax", true), small(t, 1), pad, merges(t), mx} {
		if !m.Built() {
			m.Build(nil, 1)
		}
		a, err := m.Architecture()
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		json.Unmarshal(a, &doc)
		want := "Sequential"
		if m.IsGraph() {
			want = "Functional"
		}
		if doc["class_name"] != want {
			t.Errorf("class_name %v, want %s", doc["class_name"], want)
		}
		r, err := ParseArchitecture(a)
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		if err := r.Build(nil, 1); err != nil {
			t.Fatal(err)
		}
		b, _ := r.Architecture()
		if !bytes.Equal(a, b) {
			t.Errorf("the architecture read back writes\n%s\nnot\n%s", b, a)
		}
		if r.IsGraph() != m.IsGraph() || !equalWeights(weights(r), weights(m)) && !m.IsGraph() {
			t.Errorf("the model read back differs")
		}
	}
	// A graph's document as Keras 2 writes it.
	in := Input(4)
	d := Call(&nn.Dense{Units: 3, KernelInit: "he_uniform"}, in)
	m, _ := NewGraph(in, Call(&nn.Add{}, d, Call(&nn.Dense{Units: 3, NoBias: true}, in)))
	m.Build(nil, 1)
	a, _ := m.Architecture()
	var got any
	json.Unmarshal(a, &got)
	var want any
	json.Unmarshal([]byte(`{"class_name": "Functional", "config": {"name": "model", "trainable": true,
	  "input_layers": [["input_1", 0, 0]], "output_layers": [["add", 0, 0]],
	  "layers": [
	    {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
	     "config": {"batch_input_shape": [null, 4], "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}},
	    {"class_name": "Dense", "name": "dense", "inbound_nodes": [[["input_1", 0, 0, {}]]],
	     "config": {"name": "dense", "trainable": true, "dtype": "float32", "units": 3, "activation": "linear", "use_bias": true,
	       "kernel_initializer": {"class_name": "HeUniform", "config": {"seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}},
	       "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}},
	    {"class_name": "Dense", "name": "dense_1", "inbound_nodes": [[["input_1", 0, 0, {}]]],
	     "config": {"name": "dense_1", "trainable": true, "dtype": "float32", "units": 3, "activation": "linear", "use_bias": false,
	       "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}},
	       "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}},
	    {"class_name": "Add", "name": "add", "inbound_nodes": [[["dense", 0, 0, {}], ["dense_1", 0, 0, {}]]],
	     "config": {"name": "add", "trainable": true, "dtype": "float32"}}]}}`), &want)
	if !sameDoc(got, want) {
		t.Errorf("Architecture() =\n%s", a)
	}
}

// sameDoc compares decoded JSON documents.
func sameDoc(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestKerasErrors(t *testing.T) {
	tut, err := os.ReadFile(filepath.Join("testdata", "keras", "tutorial_sequential.json"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := os.ReadFile(filepath.Join("testdata", "keras", "residual_functional.json"))
	if err != nil {
		t.Fatal(err)
	}
	// edit returns doc with f applied to its config and the entry of its
	// layer called name.
	edit := func(doc []byte, name string, f func(top, entry map[string]any)) []byte {
		var d map[string]any
		json.Unmarshal(doc, &d)
		cfg := d["config"].(map[string]any)
		var entry map[string]any
		for _, l := range cfg["layers"].([]any) {
			e := l.(map[string]any)
			if e["config"].(map[string]any)["name"] == name {
				entry = e
			}
		}
		f(cfg, entry)
		b, _ := json.Marshal(d)
		return b
	}
	set := func(doc []byte, name, key string, v any) []byte {
		return edit(doc, name, func(_, e map[string]any) { e["config"].(map[string]any)[key] = v })
	}
	inbound := func(name string, refs ...string) []byte {
		return edit(res, name, func(_, e map[string]any) {
			var node []any
			for _, r := range refs {
				node = append(node, []any{r, 0, 0, map[string]any{}})
			}
			e["inbound_nodes"] = []any{node}
		})
	}
	tests := []struct {
		name string
		doc  []byte
		want string
	}{
		{"dilation with strides", set(set(tut, "conv2d_1", "dilation_rate", []any{2, 2}), "conv2d_1", "strides", 2),
			"conv2d_1 (Conv2D): strides 2x2 with dilation_rate 2x2: as in Keras, one of them must be 1x1"},
		{"activity regularizer", set(tut, "dense", "activity_regularizer", map[string]any{"class_name": "L2", "config": map[string]any{"l2": 0.01}}),
			`dense (Dense): activity_regularizer = {"class_name":"L2","config":{"l2":0.01}}: convnet supports only null`},
		{"orthogonal regularizer", set(tut, "dense", "kernel_regularizer", map[string]any{"class_name": "OrthogonalRegularizer", "config": map[string]any{"factor": 0.01, "mode": "rows"}}),
			`dense (Dense): nn: Dense config: field "kernel_regularizer": want null, "l1", "l2", or an L1, L2 or L1L2 regularizer of factors from 0 up`},
		{"trainable not a boolean", set(tut, "dense_1", "trainable", "no"), `dense_1 (Dense): trainable = "no": convnet supports only true or false`},
		{"float16", set(tut, "dense_1", "dtype", "float16"), `dense_1 (Dense): dtype = "float16"`},
		{"bias initializer", set(tut, "dense_2", "bias_initializer", map[string]any{"class_name": "Ones", "config": map[string]any{}}), "dense_2 (Dense): bias_initializer"},
		{"unknown field", set(tut, "flatten", "colour", "red"), `flatten (Flatten): nn: Flatten config: unknown field "colour"`},
		{"unknown layer", edit(tut, "flatten", func(_, e map[string]any) { e["class_name"] = "LSTM" }), `unknown layer type "LSTM"`},
		{"groups", set(res, "conv2d_1", "groups", 3), "conv2d_1 (Conv2D): groups = 3: must divide the input's 16 channels and the 16 filters"},
		{"axis", set(res, "batch_normalization", "axis", []any{1}), "layer 2: batch_normalization (BatchNormalization): axis 1 is not the last axis"},
		{"center not a boolean", set(res, "batch_normalization", "center", "yes"), `batch_normalization (BatchNormalization): nn: BatchNormalization config: field "center"`},
		{"relu slope", set(res, "re_lu", "negative_slope", 0.1), "re_lu (ReLU): negative_slope = 0.1: convnet supports only 0"},
		{"relu cap", set(res, "re_lu", "max_value", -6), "re_lu (ReLU): max_value = -6: must be a positive number, or 0 for none"},
		{"cycle", inbound("conv2d_1", "batch_normalization_2"),
			"layers batch_normalization_2 → conv2d_2 → re_lu_1 → batch_normalization_1 → conv2d_1 → batch_normalization_2 form a cycle"},
		{"cycle", inbound("re_lu_1", "add"), "form a cycle"},
		{"unknown inbound", inbound("re_lu_1", "nothing"), `re_lu_1 (ReLU) is called on "nothing", which is not a layer of the model`},
		// An input of 3 channels added to 16: an axis of size 1 would broadcast.
		{"shapes", set(inbound("add", "batch_normalization_2", "input_1"), "input_1", "batch_input_shape", []any{nil, 28, 28, 3}),
			"add (Add): input 2 has shape [28 28 3] but input 1 has [28 28 16]: Add needs inputs of one shape, or of size 1 along the axes where they differ (inputs: batch_normalization_2 (None, 28, 28, 16), input_1 (None, 28, 28, 3))"},
		{"dangling layer", inbound("add_1", "batch_normalization_4", "re_lu_2"), "conv2d_5 (Conv2D) does not lead to the output dense"},
		{"dangling input", edit(res, "dense", func(top, _ map[string]any) {
			top["layers"] = append(top["layers"].([]any), map[string]any{"class_name": "InputLayer", "name": "input_2", "inbound_nodes": []any{},
				"config": map[string]any{"batch_input_shape": []any{nil, 4}, "name": "input_2"}})
		}), "input_2 (InputLayer) does not lead to the output dense"},
		{"another input", edit(res, "dense", func(top, _ map[string]any) {
			top["layers"] = append(top["layers"].([]any), map[string]any{"class_name": "InputLayer", "name": "input_2", "inbound_nodes": []any{},
				"config": map[string]any{"batch_input_shape": []any{nil, 28, 28, 1}, "name": "input_2"}})
			top["input_layers"] = []any{[]any{"input_2", 0, 0}}
		}), "the model's input input_2 (InputLayer) does not lead to the output dense"},
		{"two inputs", edit(res, "dense", func(top, _ map[string]any) {
			top["input_layers"] = []any{[]any{"input_1", 0, 0}, []any{"input_1", 0, 0}}
		}), "input_layers lists 2 layers: convnet models have one input and one output"},
		{"same name", edit(res, "re_lu_1", func(_, e map[string]any) {
			e["name"] = "re_lu"
			e["config"].(map[string]any)["name"] = "re_lu"
		}), `two layers are named "re_lu"`},
		{"shared layer", edit(res, "re_lu_4", func(_, e map[string]any) {
			e["inbound_nodes"] = []any{[]any{[]any{"add_1", 0, 0, map[string]any{}}}, []any{[]any{"add", 0, 0, map[string]any{}}}}
		}), "re_lu_4 (ReLU): inbound_nodes: the layer is called 2 times"},
		{"training argument", edit(res, "dropout", func(_, e map[string]any) {
			e["inbound_nodes"] = []any{[]any{[]any{"global_average_pooling2d", 0, 0, map[string]any{"training": true}}}}
		}), "call argument training = true is not supported"},
		{"conv on two", inbound("conv2d_4", "re_lu_3", "re_lu_2"), "conv2d_4 (Conv2D) is called on 2 inputs (re_lu_3, re_lu_2) but takes one"},
		{"not a model", []byte(`{"class_name": "Dense", "config": {}}`), `class_name "Dense": want Sequential or Functional`},
		{"no layers", []byte(`{"class_name": "Sequential", "config": {"name": "s", "layers": []}}`), "no layers"},
		{"unknown top field", []byte(`{"class_name": "Sequential", "config": {"name": "s", "layers": []}, "extra": 1}`), `unknown field "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseArchitecture(tt.doc)
			if err == nil {
				err = m.Build(nil, 1)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// convnet's first architecture form still reads.
func TestFirstArchitectureForm(t *testing.T) {
	m, err := ParseArchitecture([]byte(`{"input_shape": [8, 8, 1], "layers": [
		{"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "kernel_size": [3, 3], "padding": "same", "kernel_initializer": "he_uniform"}},
		{"class_name": "Flatten", "config": {}},
		{"class_name": "Dense", "config": {"units": 3, "activation": "softmax"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	if tr, _ := m.ParamCount(); tr != 3*3*2+2+128*3+3 || m.Layers[0].Name() != "c" || m.IsGraph() {
		t.Errorf("ParamCount %d, first layer %q, IsGraph %v", tr, m.Layers[0].Name(), m.IsGraph())
	}
}

// TestKerasNestedSequential reads a Sequential model used as a layer of a
// Sequential one, as tf.keras writes it (the TensorFlow image
// classification tutorial's data_augmentation): its layers in place, the
// input shape from the inner InputLayer when the outer has none. Keras's
// augmentation layers are refused, all named, with train's flags; a
// Functional model inside another is refused.
func TestKerasNestedSequential(t *testing.T) {
	dense := func(name string) string {
		return `{"class_name": "Dense", "config": {"name": "` + name + `", "units": 3}}`
	}
	input := `{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 1], "dtype": "float32", "name": "in"}}`
	nested := func(layers ...string) string {
		return `{"class_name": "Sequential", "config": {"name": "inner", "layers": [` + strings.Join(layers, ", ") + `]}}`
	}
	doc := func(layers ...string) []byte {
		return []byte(`{"class_name": "Sequential", "config": {"name": "outer", "layers": [` + strings.Join(layers, ", ") + `]}}`)
	}
	flatten := `{"class_name": "Flatten", "config": {"name": "f"}}`
	for _, b := range [][]byte{
		doc(nested(input, flatten, dense("a")), nested(nested(dense("b"))), dense("c")),
		doc(input, nested(flatten, dense("a")), nested(nested(dense("b"))), dense("c")),
	} {
		m, err := ParseArchitecture(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if err := m.Build(nil, 1); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, l := range m.Layers {
			names = append(names, l.Name())
		}
		if want := []string{"f", "a", "b", "c"}; !slices.Equal(names, want) || !slices.Equal(m.InputShape(), []int{4, 4, 1}) {
			t.Errorf("%s: layers %v, input %v; want %v, [4 4 1]", b, names, m.InputShape(), want)
		}
	}
	// Nested eight deep reads; nine deep is refused (each level is decoded
	// again: a deep document would take minutes).
	deep := func(levels int) []byte {
		l := dense("a")
		for range levels {
			l = nested(l)
		}
		return doc(input, flatten, l)
	}
	if _, err := ParseArchitecture(deep(8)); err != nil {
		t.Errorf("eight deep: %v", err)
	}
	if _, err := ParseArchitecture(deep(9)); err == nil || !strings.HasSuffix(err.Error(), "inner (Sequential): models nested more than 8 deep") {
		t.Errorf("nine deep: %v, want an error ending in %q", err, "models nested more than 8 deep")
	}
	flip := `{"class_name": "RandomFlip", "config": {"name": "random_flip", "mode": "horizontal", "seed": null}}`
	rotate := `{"class_name": "RandomRotation", "config": {"name": "random_rotation", "factor": [-0.05, 0.05], "fill_mode": "reflect"}}`
	zoom := `{"class_name": "RandomZoom", "config": {"name": "random_zoom", "height_factor": 0.1, "width_factor": null}}`
	shift := `{"class_name": "RandomTranslation", "config": {"name": "t", "height_factor": 0.2, "width_factor": 0.1}}`
	contrast := `{"class_name": "RandomContrast", "config": {"name": "c", "factor": 0.2}}`
	mixup := `{"class_name": "MixUp", "config": {"name": "mix_up", "alpha": 0.4}}`
	cutmix := `{"class_name": "CutMix", "config": {"name": "cut_mix", "factor": 1.0}}`
	for b, want := range map[string]string{
		string(doc(input, nested(flip, rotate, zoom), dense("d"))): "random_flip (RandomFlip), random_rotation (RandomRotation), random_zoom (RandomZoom): Keras augmentation layers, which change images at random in training only; " +
			"convnet augments the data instead: remove them from the architecture and give convnet train --hflip --rotation 18 --zoom 0.1; in Go, data.LoaderOptions.Augment and Mix",
		string(doc(input, shift, flip, flip, contrast, flatten)): "t (RandomTranslation), random_flip (RandomFlip), random_flip (RandomFlip), c (RandomContrast): Keras augmentation layers, " +
			"which change images at random in training only; convnet augments the data instead: remove them from the architecture and give convnet train --height-shift 0.2 --width-shift 0.1 --hflip and the augmentation flags that come nearest to the others (convnet train -h)",
		string(doc(input, mixup, cutmix, flatten)): "mix_up (MixUp), cut_mix (CutMix): Keras augmentation layers, which change images at random in training only; " +
			"convnet augments the data instead: remove them from the architecture and give convnet train --mixup 0.4 --cutmix 1; in Go, data.LoaderOptions.Augment and Mix",
		string(doc(input, contrast)): "give convnet train's augmentation flags that come nearest (convnet train -h); in Go",
		`{"class_name": "Functional", "config": {"input_layers": [["in", 0, 0]], "output_layers": [["inner", 0, 0]], "layers": [` +
			`{"class_name": "InputLayer", "name": "in", "inbound_nodes": [], "config": {"batch_input_shape": [null, 4], "name": "in"}},` +
			`{"class_name": "Functional", "name": "inner", "inbound_nodes": [[["in", 0, 0, {}]]], "config": {"name": "inner", "layers": [` + dense("a") + `]}}]}}`: "layers[1]: inner (Functional): input_layers = null: want [[name, 0, 0]]",
		string(doc(input, nested(input, `{"class_name": "Conv3D", "config": {"name": "x"}}`))): `layers[1]: inner (Sequential): layers[1]: x (Conv3D): nn: unknown layer type "Conv3D"`,
	} {
		if _, err := ParseArchitecture([]byte(b)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n%v\nwant an error containing\n%s", b, err, want)
		}
	}
}

// kerasRoundTrip reads the Keras architecture doc, checks it, builds it,
// writes it back and checks that the document, without its spaces, holds
// each of wants and reads back to a model that passes check too. It
// returns the built model.
func kerasRoundTrip(t *testing.T, doc []byte, check func(what string, m *Model), wants ...string) *Model {
	t.Helper()
	m, err := ParseArchitecture(doc)
	if err != nil {
		t.Fatal(err)
	}
	check("read", m)
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	a, err := m.Architecture()
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, a); err != nil {
		t.Fatal(err)
	}
	for _, want := range wants {
		if !strings.Contains(compact.String(), want) {
			t.Errorf("written as %s, without %s", compact.String(), want)
		}
	}
	back, err := ParseArchitecture(a)
	if err != nil {
		t.Fatal(err)
	}
	check("written back", back)
	return m
}
