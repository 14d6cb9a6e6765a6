package model

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// TestKerasSequentialInFunctional reads a Sequential called as a layer of
// a Functional model, as Keras's ConvNeXt calls its stem and downsampling
// blocks: its layers chained in place, the first reading the Sequential's
// inbound layer, the layers after it reading its last; the model writes
// back flat and reads again the same.
func TestKerasSequentialInFunctional(t *testing.T) {
	conv := func(name string, filters int) string {
		return `{"class_name": "Conv2D", "config": {"name": "` + name + `", "filters": ` + strconv.Itoa(filters) +
			`, "kernel_size": [2, 2], "strides": [2, 2], "padding": "valid"}}`
	}
	stem := `{"class_name": "Sequential", "name": "stem", "inbound_nodes": [[["in", 0, 0, {}]]], "config": {"name": "stem", "layers": [` +
		`{"class_name": "InputLayer", "config": {"batch_shape": [null, 8, 8, 3], "dtype": "float32", "name": "stem_input"}}, ` +
		conv("stem_conv", 4) + `, {"class_name": "BatchNormalization", "config": {"name": "stem_bn"}}]}}`
	doc := []byte(`{"class_name": "Functional", "config": {"name": "net", "input_layers": [["in", 0, 0]], "output_layers": [["sum", 0, 0]], "layers": [
	  {"class_name": "InputLayer", "name": "in", "inbound_nodes": [], "config": {"batch_input_shape": [null, 8, 8, 3], "name": "in"}},
	  ` + stem + `,
	  {"class_name": "ReLU", "name": "relu", "inbound_nodes": [[["stem", 0, 0, {}]]], "config": {"name": "relu"}},
	  {"class_name": "Add", "name": "sum", "inbound_nodes": [[["stem", 0, 0, {}], ["relu", 0, 0, {}]]], "config": {"name": "sum"}}]}}`)
	check := func(what string, m *Model) {
		var names []string
		for _, l := range m.Layers {
			names = append(names, l.Name())
		}
		if want := []string{"stem_conv", "stem_bn", "relu", "sum"}; !slices.Equal(names, want) {
			t.Errorf("%s: layers %v, want %v", what, names, want)
		}
	}
	m := kerasRoundTrip(t, doc, check, `"inbound_nodes":[[["stem_bn",0,0,{}],["relu",0,0,{}]]]`, `"inbound_nodes":[[["in",0,0,{}]]]`)
	if got := m.OutputShape(); !slices.Equal(got, []int{4, 4, 4}) {
		t.Errorf("output shape %v, want [4 4 4]", got)
	}
	if got, want := m.Inbound(3), []int{1, 2}; !slices.Equal(got, want) {
		t.Errorf("the Add reads layers %v, want %v (the stem's last layer and the ReLU)", got, want)
	}
}

// baseModel is a Functional model of a convolution, a batch normalization
// and a ReLU on 6x6x2 images, as a keras.applications base without its top,
// in Keras 3's layout; trainable is its config's.
func baseModel(trainable string) string {
	tensor := func(name string) string {
		return `{"class_name": "__keras_tensor__", "config": {"shape": [null, 6, 6, 2], "dtype": "float32", "keras_history": ["` + name + `", 0, 0]}}`
	}
	call := func(name string) string { return `[{"args": [` + tensor(name) + `], "kwargs": {}}]` }
	return `{"module": "keras.src.models.functional", "class_name": "Functional", "name": "base", "config": {"name": "base", "trainable": ` + trainable + `, "layers": [
	  {"module": "keras.layers", "class_name": "InputLayer", "name": "base_in", "config": {"batch_shape": [null, 6, 6, 2], "dtype": "float32", "sparse": false, "name": "base_in"}, "inbound_nodes": []},
	  {"module": "keras.layers", "class_name": "Conv2D", "name": "base_conv", "config": {"name": "base_conv", "filters": 3, "kernel_size": [3, 3], "padding": "same"}, "inbound_nodes": ` + call("base_in") + `},
	  {"module": "keras.layers", "class_name": "BatchNormalization", "name": "base_bn", "config": {"name": "base_bn"}, "inbound_nodes": ` + call("base_conv") + `},
	  {"module": "keras.layers", "class_name": "Add", "name": "base_add", "config": {"name": "base_add"}, "inbound_nodes": [{"args": [[` + tensor("base_bn") + `, ` + tensor("base_conv") + `]], "kwargs": {}}]}],
	  "input_layers": [["base_in", 0, 0]], "output_layers": [["base_add", 0, 0]]}}`
}

// TestKerasFunctionalInFunctional reads the model Keras's transfer learning
// guide makes, a base called with training=False inside a Functional model:
// the base's layers in place, the first reading the outer input, and run as
// in inference in training too. A training step then leaves the moving
// statistics of the base's BatchNormalization as they were and trains its
// gamma; the model writes back flat, the calls of the base's layers with
// training false, and reads again the same.
func TestKerasFunctionalInFunctional(t *testing.T) {
	base := strings.Replace(baseModel("true"), `"name": "base", "config"`,
		`"name": "base", "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 6, 6, 2], "dtype": "float32", "keras_history": ["image", 0, 0]}}], "kwargs": {"training": false}}], "config"`, 1)
	doc := []byte(`{"class_name": "Functional", "config": {"name": "tuned", "trainable": true, "layers": [
	  {"class_name": "InputLayer", "name": "image", "config": {"batch_shape": [null, 6, 6, 2], "name": "image"}, "inbound_nodes": []},
	  ` + base + `,
	  {"class_name": "GlobalAveragePooling2D", "name": "pool", "config": {"name": "pool"}, "inbound_nodes": [[["base", 0, 0, {}]]]},
	  {"class_name": "Dense", "name": "out", "config": {"name": "out", "units": 3, "activation": "softmax"}, "inbound_nodes": [[["pool", 0, 0, {}]]]}],
	  "input_layers": [["image", 0, 0]], "output_layers": [["out", 0, 0]]}}`)
	check := func(what string, m *Model) {
		var names []string
		for _, l := range m.Layers {
			names = append(names, l.Name())
			if want := strings.HasPrefix(l.Name(), "base_"); m.inference[l] != want {
				t.Errorf("%s: layer %s runs as in inference: %v, want %v", what, l.Name(), m.inference[l], want)
			}
		}
		if want := []string{"base_conv", "base_bn", "base_add", "pool", "out"}; !slices.Equal(names, want) {
			t.Errorf("%s: layers %v, want %v", what, names, want)
		}
		if m.InputName() != "image" {
			t.Errorf("%s: input %q", what, m.InputName())
		}
	}
	m := kerasRoundTrip(t, doc, check, `"inbound_nodes":[[["image",0,0,{"training":false}]]]`, `"inbound_nodes":[[["base_add",0,0,{}]]]`)
	if got := m.Inbound(2); !slices.Equal(got, []int{1, 0}) {
		t.Errorf("the Add reads layers %v, want [1 0]", got)
	}
	bn := m.Layers[1].Params()
	for _, p := range bn[2:] { // moving statistics away from a batch's
		for i := range p.Value.Data {
			p.Value.Data[i] = 0.5 + float32(i)
		}
	}
	if err := m.Compile(&optim.SGD{LearningRate: 0.1}, nn.CrossEntropy{}); err != nil {
		t.Fatal(err)
	}
	x, y := tensor.New(4, 6, 6, 2), tensor.New(4, 3)
	for i := range x.Data {
		x.Data[i] = float32(math.Sin(float64(i)))
	}
	for i := range 4 {
		y.Data[i*3+i%3] = 1
	}
	mean, gamma := slices.Clone(bn[2].Value.Data), slices.Clone(bn[0].Value.Data)
	m.TrainStep(x, y)
	if !slices.Equal(bn[2].Value.Data, mean) || slices.Equal(bn[0].Value.Data, gamma) {
		t.Errorf("base_bn after a step: moving mean %v (was %v), gamma %v (was %v): want the mean kept, gamma trained", bn[2].Value.Data, mean, bn[0].Value.Data, gamma)
	}
}

// TestKerasFunctionalInSequential reads Sequential([base, pooling, dense])
// with the base frozen, Keras's shortest transfer-learning model: a graph
// that is a chain, the base's layers frozen, the input the base's.
func TestKerasFunctionalInSequential(t *testing.T) {
	doc := []byte(`{"class_name": "Sequential", "config": {"name": "s", "layers": [` + baseModel("false") + `,
	  {"class_name": "GlobalAveragePooling2D", "config": {"name": "pool"}},
	  {"class_name": "Dense", "config": {"name": "out", "units": 3, "activation": "softmax"}}]}}`)
	check := func(what string, m *Model) {
		var names []string
		for _, l := range m.Layers {
			names = append(names, l.Name())
			if want := strings.HasPrefix(l.Name(), "base_"); m.Trainable(l) == want {
				t.Errorf("%s: layer %s trainable %v, want %v", what, l.Name(), m.Trainable(l), !want)
			}
		}
		if want := []string{"base_conv", "base_bn", "base_add", "pool", "out"}; !slices.Equal(names, want) || !slices.Equal(m.InputShape(), []int{6, 6, 2}) {
			t.Errorf("%s: layers %v, input %v", what, names, m.InputShape())
		}
	}
	kerasRoundTrip(t, doc, check, `"scale":true,"trainable":false`, `"input_layers":[["base_in",0,0]]`)
}

// TestKerasApplicationAsBase calls a real Keras 3 MobileNetV2 (its first
// blocks, testdata/keras/mobilenet_keras3.json) with training=False inside
// a Functional model, frozen, as Keras's transfer-learning guide does: its
// 31 layers come in place with their weights' count, frozen and in
// inference mode, and the model writes back and reads again the same.
func TestKerasApplicationAsBase(t *testing.T) {
	base, err := os.ReadFile(filepath.Join("testdata", "keras", "mobilenet_keras3.json"))
	if err != nil {
		t.Fatal(err)
	}
	alone := readKeras(t, "mobilenet_keras3.json")
	frozen := bytes.Replace(base, []byte(`"trainable": true`), []byte(`"trainable": false`), 1)
	entry := bytes.Replace(frozen, []byte(`"config": {`), []byte(`"name": "mobilenetv2_0.35_32", "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["image", 0, 0]}}], "kwargs": {"training": false}}], "config": {`), 1)
	doc := []byte(`{"class_name": "Functional", "config": {"name": "tuned", "layers": [
	  {"class_name": "InputLayer", "name": "image", "config": {"batch_shape": [null, 32, 32, 1], "name": "image"}, "inbound_nodes": []},
	  ` + string(entry) + `,
	  {"class_name": "Dense", "name": "head", "config": {"name": "head", "units": 5, "activation": "softmax"},
	   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["mobilenetv2_0.35_32", 0, 0]}}], "kwargs": {}}]}],
	  "input_layers": [["image", 0, 0]], "output_layers": [["head", 0, 0]]}}`)
	check := func(what string, m *Model) {
		if len(m.Layers) != len(alone.Layers)+1 {
			t.Fatalf("%s: %d layers, want %d", what, len(m.Layers), len(alone.Layers)+1)
		}
		for i, l := range m.Layers[:len(alone.Layers)] {
			if l.Name() != alone.Layers[i].Name() || m.Trainable(l) || !m.InferenceInTraining(l) {
				t.Errorf("%s: layer %d %s (want %s): trainable %v, in inference %v", what, i, l.Name(), alone.Layers[i].Name(), m.Trainable(l), m.InferenceInTraining(l))
			}
		}
	}
	m := kerasRoundTrip(t, doc, check)
	tr, non := m.ParamCount()
	atr, anon := alone.ParamCount()
	if tr != alone.NumClasses()*5+5 || non != atr+anon {
		t.Errorf("ParamCount = %d, %d; want the head's %d trainable and the base's %d", tr, non, alone.NumClasses()*5+5, atr+anon)
	}
}
