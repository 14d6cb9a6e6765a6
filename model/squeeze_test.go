package model

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// seDoc is a Keras Functional document with a squeeze-and-excitation block
// as Keras's MobileNetV3 and EfficientNet build it: the map's channel
// means (GlobalAveragePooling2D with keepdims), a 1x1 convolution with
// ReLU, a 1x1 convolution with hard_sigmoid, the map multiplied by the
// result; the activations silu, swish and hard_silu, by Activation layers
// and a Conv2D's own; and a convolution of 4 groups. Keras 3 writes an
// Activation's function as an object.
const seDoc = `{"class_name": "Functional", "config": {"name": "se", "layers": [
  {"class_name": "InputLayer", "name": "in", "inbound_nodes": [], "config": {"batch_input_shape": [null, 8, 8, 2], "name": "in"}},
  {"class_name": "Conv2D", "name": "stem", "inbound_nodes": [[["in", 0, 0, {}]]],
   "config": {"name": "stem", "filters": 8, "kernel_size": [3, 3], "padding": "same", "activation": "hard_silu"}},
  {"class_name": "GlobalAveragePooling2D", "name": "squeeze", "inbound_nodes": [[["stem", 0, 0, {}]]],
   "config": {"name": "squeeze", "keepdims": true}},
  {"class_name": "Conv2D", "name": "reduce", "inbound_nodes": [[["squeeze", 0, 0, {}]]],
   "config": {"name": "reduce", "filters": 2, "kernel_size": [1, 1], "activation": "relu"}},
  {"class_name": "Conv2D", "name": "expand", "inbound_nodes": [[["reduce", 0, 0, {}]]],
   "config": {"name": "expand", "filters": 8, "kernel_size": [1, 1], "activation": "hard_sigmoid"}},
  {"class_name": "Multiply", "name": "excite", "inbound_nodes": [[["stem", 0, 0, {}], ["expand", 0, 0, {}]]], "config": {"name": "excite"}},
  {"class_name": "Activation", "name": "act", "inbound_nodes": [[["excite", 0, 0, {}]]],
   "config": {"name": "act", "activation": {"module": "keras.activations", "class_name": "function", "config": "silu", "registered_name": "function"}}},
  {"class_name": "Conv2D", "name": "grouped", "inbound_nodes": [[["act", 0, 0, {}]]],
   "config": {"name": "grouped", "filters": 8, "kernel_size": [3, 3], "padding": "same", "groups": 4}},
  {"class_name": "Conv2D", "name": "head", "inbound_nodes": [[["grouped", 0, 0, {}]]],
   "config": {"name": "head", "filters": 4, "kernel_size": [1, 1], "activation": "swish"}},
  {"class_name": "GlobalAveragePooling2D", "name": "pool", "inbound_nodes": [[["head", 0, 0, {}]]], "config": {"name": "pool"}},
  {"class_name": "Dense", "name": "out", "inbound_nodes": [[["pool", 0, 0, {}]]], "config": {"name": "out", "units": 3, "activation": "softmax"}}],
  "input_layers": [["in", 0, 0]], "output_layers": [["out", 0, 0]]}}`

// TestKerasSqueezeExcitation reads seDoc and counts its parameters as
// Keras's summary would, by hand: stem 3·3·2·8+8 = 152, reduce 8·2+2 = 18,
// expand 2·8+8 = 24, grouped 3·3·(8/4)·8+8 = 152, head 8·4+4 = 36, out
// 4·3+3 = 15: 397. The block's
// output is checked against its definition on one image; the model trains,
// saves, loads back and writes the same document's layers again.
func TestKerasSqueezeExcitation(t *testing.T) {
	m, err := ParseArchitecture([]byte(seDoc))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	if tr, _ := m.ParamCount(); tr != 397 {
		t.Errorf("ParamCount %d, want 397", tr)
	}
	if got := m.Layers[1].OutputShape(); !slices.Equal(got, []int{1, 1, 8}) {
		t.Errorf("squeeze's output shape %v, want [1 1 8]", got)
	}
	if err := m.Compile(&optim.Adam{LearningRate: 0.01}, nn.CrossEntropy{Sparse: true}); err != nil {
		t.Fatal(err)
	}
	x, y := tensor.New(6, 8, 8, 2), tensor.FromData([]float32{0, 1, 2, 0, 1, 2}, 6)
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}

	// The block by its definition: excite[y,x,c] = stem[y,x,c]·gate[c],
	// gate = hard_sigmoid(expand(relu(reduce(mean of stem over y, x)))).
	outs := m.ForwardAll(x.Slice(0, 1))
	stem, excite := outs[0].Data, outs[4].Data
	reduce, expand := m.Layers[2].Params(), m.Layers[3].Params()
	var mean [8]float64
	for i, v := range stem {
		mean[i%8] += float64(v) / 64
	}
	var hidden [2]float64
	for j := range 2 {
		s := float64(reduce[1].Value.Data[j])
		for c := range 8 {
			s += mean[c] * float64(reduce[0].Value.Data[c*2+j])
		}
		hidden[j] = max(s, 0)
	}
	for c := range 8 {
		s := float64(expand[1].Value.Data[c])
		for j := range 2 {
			s += hidden[j] * float64(expand[0].Value.Data[j*8+c])
		}
		gate := min(max(s+3, 0), 6) / 6
		for p := range 64 {
			if d := float64(excite[p*8+c]) - float64(stem[p*8+c])*gate; d > 1e-5 || d < -1e-5 {
				t.Fatalf("excite at cell %d, channel %d = %v, want %v·%v", p, c, excite[p*8+c], stem[p*8+c], gate)
			}
		}
	}

	first, _ := m.TrainStep(x, y)
	for range 30 {
		m.TrainStep(x, y)
	}
	if last, _ := m.TrainStep(x, y); !(last < first) {
		t.Errorf("loss %v after 31 steps, %v at the first", last, first)
	}
	path := filepath.Join(t.TempDir(), "se.safetensors")
	if err := Save(path, m, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, b := tensor.New(6, 3), tensor.New(6, 3)
	m.Predict(a, x)
	back.Predict(b, x)
	if !slices.Equal(a.Data, b.Data) {
		t.Errorf("the loaded model predicts %v, the saved one %v", b.Data, a.Data)
	}
	doc, err := back.Architecture()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"keepdims": true`, `"activation": "hard_sigmoid"`, `"activation": "hard_silu"`, `"activation": "swish"`, `"class_name": "Multiply"`, `"groups": 4`} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("the written document lacks %s", want)
		}
	}
}

// TestKerasHardSigmoidVersion refuses tf.keras 2's hard_sigmoid, another
// function than Keras 3's.
func TestKerasHardSigmoidVersion(t *testing.T) {
	doc := `{"class_name": "Sequential", "keras_version": "2.15.0", "config": {"name": "s", "layers": [
	  {"class_name": "Dense", "config": {"name": "d", "units": 3, "activation": "hard_sigmoid", "batch_input_shape": [null, 4]}}]}}`
	_, err := ParseArchitecture([]byte(doc))
	if err == nil || !strings.Contains(err.Error(), `layer d (Dense): activation "hard_sigmoid" of keras_version 2.15.0 is clip(0.2·x + 0.5, 0, 1)`) {
		t.Errorf("error = %v, want the two hard sigmoids named", err)
	}
	if _, err := ParseArchitecture([]byte(strings.Replace(doc, "2.15.0", "3.3.3", 1))); err != nil {
		t.Errorf("Keras 3: %v", err)
	}
}
