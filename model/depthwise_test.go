package model

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// TestKerasDepthwiseConv2D reads DepthwiseConv2D as tf.keras 2 writes it
// (Conv's config without filters and the kernel's fields, with
// depth_multiplier and the depthwise ones) and writes it back without
// groups, which Keras 3 does not take.
func TestKerasDepthwiseConv2D(t *testing.T) {
	common := `"name": "depthwise_conv2d", "trainable": true, "dtype": "float32", "kernel_size": [3, 3], "strides": [2, 2],
	  "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "relu", "use_bias": true,
	  "bias_initializer": {"class_name": "Zeros", "config": {}}, "bias_regularizer": null, "activity_regularizer": null,
	  "bias_constraint": null, "depth_multiplier": 2, "depthwise_initializer": {"class_name": "HeUniform", "config": {"seed": null}},
	  "depthwise_regularizer": null, "depthwise_constraint": null`
	m, err := ParseArchitecture([]byte(`{"class_name": "Sequential", "config": {"name": "sequential", "layers": [
	  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 6, 5, 4], "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}},
	  {"class_name": "DepthwiseConv2D", "config": {` + common + `, "groups": 1}}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	// Keras: a 3x3 kernel per input channel and output, 3·3·4·2 = 72
	// weights, and a bias per output channel, 4·2 = 8.
	if tr, _ := m.ParamCount(); tr != 80 || !slices.Equal(m.OutputShape(), []int{3, 3, 8}) {
		t.Errorf("ParamCount %d, output shape %v; want 80, [3 3 8]", tr, m.OutputShape())
	}
	l := m.Layers[0].(*nn.DepthwiseConv2D)
	if l.KernelInit != "he_uniform" || l.Activation != "relu" || l.DepthMultiplier != 2 {
		t.Errorf("read %+v", l)
	}
	a, _ := m.Architecture()
	var doc struct {
		Config struct{ Layers []any }
	}
	json.Unmarshal(a, &doc)
	var want any
	json.Unmarshal([]byte(`{"class_name": "DepthwiseConv2D", "config": {`+common+`}}`), &want)
	if len(doc.Config.Layers) != 2 || !sameDoc(doc.Config.Layers[1], want) {
		t.Errorf("Architecture() =\n%s", a)
	}
	for _, bad := range []struct{ field, want string }{
		{`"groups": 2`, "groups = 2: convnet supports only 1"},
		{`"dilation_rate": [2, "x"]`, `d (DepthwiseConv2D): nn: DepthwiseConv2D config: field "dilation_rate"`},
		{`"depthwise_regularizer": {"class_name": "L1", "config": {"l1": "x"}}`, `d (DepthwiseConv2D): nn: DepthwiseConv2D config: field "depthwise_regularizer"`},
		{`"depthwise_initializer": "ones"`, "d (DepthwiseConv2D): depthwise_initializer = \"ones\": unknown kernel initializer \"ones\" (valid: glorot_uniform"},
	} {
		cfg := `{"name": "d", "kernel_size": 3, ` + bad.field + `}`
		_, err := ParseArchitecture([]byte(`{"class_name": "Sequential", "config": {"layers": [{"class_name": "DepthwiseConv2D", "config": ` + cfg + `}]}}`))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want one containing %q", bad.field, err, bad.want)
		}
	}
}

// TestImportONNXGroups: a convolution of one group per channel is a
// DepthwiseConv2D; other groupings are refused by node.
func TestImportONNXGroups(t *testing.T) {
	m := mixed(t)
	x := randomPixels(m, 16)
	got := roundTrip(t, m, x)
	d, ok := got.Layers[3].(*nn.DepthwiseConv2D)
	if !ok || d.DepthMultiplier != 2 || d.Activation != "relu" {
		t.Fatalf("layer 3 imported as %s %+v, want a DepthwiseConv2D with multiplier 2 and its ReLU", got.Layers[3].Type(), got.Layers[3].Config())
	}
	for _, tt := range []struct {
		name   string
		change func(n *onnxpb.NodeProto, w *onnxpb.TensorProto)
		want   string
	}{
		{"two groups, weights of one channel", func(n *onnxpb.NodeProto, w *onnxpb.TensorProto) {
			setGroup(n, 2)
		}, `node "depthwise_conv2d" (Conv): weights of shape [8 1 3 3] in 2 groups for an input of 4 channels`},
		{"no group", func(n *onnxpb.NodeProto, w *onnxpb.TensorProto) {
			setGroup(n, 0)
		}, `node "depthwise_conv2d" (Conv): attribute group = 0: must be positive`},
		{"weights of two channels a group", func(n *onnxpb.NodeProto, w *onnxpb.TensorProto) {
			w.Dims, n.Input = []int64{4, 2, 3, 3}, n.Input[:2] // the 72 values of [8 1 3 3], no bias
		}, `node "depthwise_conv2d" (Conv): weights of shape [4 2 3 3] in 4 groups for an input of 4 channels`},
		{"filters not a multiple", func(n *onnxpb.NodeProto, w *onnxpb.TensorProto) {
			w.Dims, w.RawData, n.Input = []int64{6, 1, 3, 3}, w.RawData[:6*9*4], n.Input[:2]
		}, `weights of shape [6 1 3 3] in 4 groups`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mp, err := onnxModel(m, ONNXExportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var w *onnxpb.TensorProto
			for _, init := range mp.Graph.Initializer {
				if init.GetName() == "depthwise_conv2d/kernel" {
					w = init
				}
			}
			tt.change(onnxNode(t, mp, "depthwise_conv2d"), w)
			_, err = importBytes(marshal(t, mp), ONNXImportOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("import: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func setGroup(n *onnxpb.NodeProto, g int) {
	for i, a := range n.Attribute {
		if a.GetName() == "group" {
			n.Attribute[i] = attrInt("group", g)
		}
	}
}

// separableDoc is a Sequential document as tf.keras 2 writes a
// SeparableConv2D (Conv's config with its unused kernel fields, and the
// depthwise and pointwise ones), extra replacing nothing if empty.
func separableDoc(extra string) string {
	return `{"class_name": "Sequential", "config": {"name": "sequential", "layers": [
	  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 8, 7, 3], "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}},
	  {"class_name": "SeparableConv2D", "config": {"name": "sep", "trainable": true, "dtype": "float32", "filters": 5, "kernel_size": [3, 3],
	    "strides": [2, 2], "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "relu",
	    "use_bias": true, "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
	    "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": null, "bias_regularizer": null,
	    "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null, "depth_multiplier": 2,
	    "depthwise_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
	    "pointwise_initializer": {"class_name": "HeNormal", "config": {"seed": null}}, "depthwise_regularizer": null,
	    "pointwise_regularizer": null, "depthwise_constraint": null, "pointwise_constraint": null` + extra + `}},
	  {"class_name": "GlobalAveragePooling2D", "config": {"name": "gap", "trainable": true, "dtype": "float32", "data_format": "channels_last"}},
	  {"class_name": "Dense", "config": {"name": "out", "units": 4, "activation": "softmax"}}]}}`
}

// TestKerasSeparableConv2D reads a SeparableConv2D as the depthwise and
// pointwise convolutions it computes, and checks the pair against the one
// convolution whose kernel is their product, as Keras defines the layer:
// K[ky,kx,c,f] = Σ_m depthwise[ky,kx,c,m] · pointwise[c·M+m, f].
func TestKerasSeparableConv2D(t *testing.T) {
	m, err := ParseArchitecture([]byte(separableDoc("")))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	// Keras: 3·3·3·2 = 54 depthwise weights, 3·2·5 = 30 pointwise, 5
	// biases; the Dense 5·4+4 = 24.
	if tr, _ := m.ParamCount(); tr != 113 {
		t.Errorf("ParamCount %d, want 113", tr)
	}
	d, ok1 := m.Layers[0].(*nn.DepthwiseConv2D)
	p, ok2 := m.Layers[1].(*nn.Conv2D)
	if !ok1 || !ok2 || d.Name() != "sep_depthwise" || p.Name() != "sep" || d.Activation != "" || !d.NoBias ||
		p.Activation != "relu" || p.KernelInit != "he_normal" || d.DepthMultiplier != 2 || d.Padding != "same" {
		t.Fatalf("layers %s %+v, %s %+v", m.Layers[0].Type(), m.Layers[0].Config(), m.Layers[1].Type(), m.Layers[1].Config())
	}
	full := &nn.Conv2D{Filters: 5, KernelSize: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: "same", Activation: "relu"}
	if _, err := full.Build([]int{8, 7, 3}, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	dk, pk, k := d.Params()[0].Value.Data, p.Params()[0].Value.Data, full.Params()[0].Value.Data
	clear(k)
	for tap := range 9 {
		for c := range 3 {
			for f := range 5 {
				for j := range 2 {
					k[(tap*3+c)*5+f] += dk[(tap*3+c)*2+j] * pk[(c*2+j)*5+f]
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(2, 3))
	for i := range p.Params()[1].Value.Data {
		v := float32(rng.NormFloat64())
		p.Params()[1].Value.Data[i], full.Params()[1].Value.Data[i] = v, v
	}
	x := tensor.New(2, 8, 7, 3)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	got, want := p.Forward(d.Forward(x, false), false).Data, full.Forward(x, false).Data
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-5 {
			t.Fatalf("output[%d] = %v, the product kernel's convolution gives %v", i, got[i], want[i])
		}
	}
	for _, bad := range []struct{ field, want string }{
		{`, "pointwise_regularizer": {"class_name": "L2", "config": {"l2": -0.01}}`, `sep (SeparableConv2D): nn: Conv2D config: field "kernel_regularizer": want null, "l1", "l2", or an L1, L2 or L1L2 regularizer of factors from 0 up`},
		{`, "activity_regularizer": {"class_name": "L2", "config": {"l2": 0.01}}`, `sep (SeparableConv2D): activity_regularizer =`},
		{`, "pointwise_initializer": "ones"`, `sep (SeparableConv2D): pointwise_initializer = "ones"`},
		{`, "dilation_rate": [2, 0.5]`, `sep (SeparableConv2D): nn: DepthwiseConv2D config: field "dilation_rate"`},
		{`, "depth_multiplier": 0.5`, `field "depth_multiplier": want an integer`},
		{`, "momentum": 0.5`, `sep (SeparableConv2D): unknown field "momentum"`},
	} {
		doc := strings.Replace(separableDoc(""), `"depthwise_constraint": null, "pointwise_constraint": null`, `"depthwise_constraint": null, "pointwise_constraint": null`+bad.field, 1)
		// A key given twice: encoding/json keeps the last.
		_, err := ParseArchitecture([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want one containing %q", bad.field, err, bad.want)
		}
	}
}

// TestKerasSeparableConv2DGraph: in a Functional document the depthwise
// half reads the SeparableConv2D's inbound layer and the layers that call
// the SeparableConv2D read its pointwise half; the graph trains, saves and
// loads back with the same predictions.
func TestKerasSeparableConv2DGraph(t *testing.T) {
	m, err := ParseArchitecture([]byte(`{"class_name": "Functional", "config": {"name": "model", "layers": [
	  {"class_name": "InputLayer", "name": "in", "inbound_nodes": [], "config": {"batch_input_shape": [null, 6, 6, 3], "name": "in"}},
	  {"class_name": "SeparableConv2D", "name": "sep", "inbound_nodes": [[["in", 0, 0, {}]]],
	   "config": {"name": "sep", "filters": 3, "kernel_size": [3, 3], "padding": "same"}},
	  {"class_name": "Add", "name": "add", "inbound_nodes": [[["sep", 0, 0, {}], ["in", 0, 0, {}]]], "config": {"name": "add"}},
	  {"class_name": "Flatten", "name": "flat", "inbound_nodes": [[["add", 0, 0, {}]]], "config": {"name": "flat"}},
	  {"class_name": "Dense", "name": "out", "inbound_nodes": [[["flat", 0, 0, {}]]], "config": {"name": "out", "units": 2, "activation": "softmax"}}],
	  "input_layers": [["in", 0, 0]], "output_layers": [["out", 0, 0]]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	// The input feeds the depthwise half and the Add; the pointwise half
	// feeds the Add.
	if m.Layers[0].Name() != "sep_depthwise" || m.Layers[1].Name() != "sep" || m.Layers[2].Type() != "Add" ||
		!slices.Equal(m.Inbound(0), []int{-1}) || !slices.Equal(m.Inbound(1), []int{0}) || !slices.Equal(m.Inbound(2), []int{1, -1}) {
		t.Errorf("layers %s <- %v, %s <- %v, %s <- %v; want sep_depthwise <- the input, sep <- it, the Add <- sep and the input",
			m.Layers[0].Name(), m.Inbound(0), m.Layers[1].Name(), m.Inbound(1), m.Layers[2].Name(), m.Inbound(2))
	}
	// 3·3·3 depthwise, 3·3 pointwise, 3 biases; 108·2+2 for the Dense.
	if tr, _ := m.ParamCount(); tr != 27+9+3+218 {
		t.Errorf("ParamCount %d, want %d", tr, 27+9+3+218)
	}
	if err := m.Compile(&optim.SGD{LearningRate: 0.1}, nn.CrossEntropy{Sparse: true}); err != nil {
		t.Fatal(err)
	}
	x, y := tensor.New(4, 6, 6, 3), tensor.FromData([]float32{0, 1, 1, 0}, 4)
	rng := rand.New(rand.NewPCG(4, 5))
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	first, _ := m.TrainStep(x, y)
	for range 20 {
		m.TrainStep(x, y)
	}
	if last, _ := m.TrainStep(x, y); !(last < first) {
		t.Errorf("loss %v after 21 steps, %v at the first", last, first)
	}
	path := filepath.Join(t.TempDir(), "sep.safetensors")
	if err := Save(path, m, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, b := tensor.New(4, 2), tensor.New(4, 2)
	m.Predict(a, x)
	back.Predict(b, x)
	if !slices.Equal(a.Data, b.Data) {
		t.Errorf("the loaded model predicts %v, the saved one %v", b.Data, a.Data)
	}
}

// TestKerasMobileNetV2 reads the first blocks of Keras's MobileNetV2
// (testdata/keras/mobilenet_keras3.json) and counts its parameters as
// Keras's summary would, by hand: Conv1 3·3·1·16 = 144 and its batch
// normalization 4·16 = 64; block 0, a depthwise 3·3·16 = 144, 64, a
// projection 16·8 = 128, 32; blocks 1 and 2, an expansion 8·48 = 384, 192,
// a depthwise 3·3·48 = 432, 192, a projection 48·8 = 384, 32, each; Conv_1
// 8·1280 = 10,240, 5,120; the classifier 1280·28+28 = 35,868. Half of each
// batch normalization's (the moving statistics) is not trainable: 3,056 of
// 55,036. The model trains, saves and loads back.
func TestKerasMobileNetV2(t *testing.T) {
	m := readKeras(t, "mobilenet_keras3.json")
	tr, non := m.ParamCount()
	if tr+non != 55036 || non != 3056 {
		t.Errorf("ParamCount %d + %d, want 51,980 + 3,056", tr, non)
	}
	types := map[string]int{}
	for _, l := range m.Layers {
		types[l.Type()]++
	}
	if types["DepthwiseConv2D"] != 3 || types["ZeroPadding2D"] != 1 || types["Add"] != 1 || types["ReLU"] != 7 || !m.IsGraph() {
		t.Errorf("layer types %v", types)
	}
	if err := m.Compile(&optim.RMSprop{}, nn.CrossEntropy{Sparse: true}); err != nil {
		t.Fatal(err)
	}
	x, y := tensor.New(2, 32, 32, 1), tensor.FromData([]float32{3, 17}, 2)
	rng := rand.New(rand.NewPCG(6, 7))
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	if loss, _ := m.TrainStep(x, y); math.IsNaN(loss) || loss <= 0 {
		t.Errorf("loss %v", loss)
	}
	path := filepath.Join(t.TempDir(), "mobilenet.safetensors")
	if err := Save(path, m, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, b := tensor.New(2, 28), tensor.New(2, 28)
	m.Predict(a, x)
	back.Predict(b, x)
	if !slices.Equal(a.Data, b.Data) {
		t.Errorf("the loaded model predicts differently")
	}
}
