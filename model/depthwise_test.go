package model

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
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
		{`"dilation_rate": [2, 2]`, "dilation_rate = [2,2]"},
		{`"depthwise_regularizer": {"class_name": "L2", "config": {"l2": 0.01}}`, "depthwise_regularizer"},
		{`"depthwise_initializer": "ones"`, "depthwise_initializer = \"ones\": convnet supports only glorot_uniform"},
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
		{"two groups of two channels", func(n *onnxpb.NodeProto, w *onnxpb.TensorProto) {
			setGroup(n, 2)
		}, `node "depthwise_conv2d" (Conv): attribute group = 2 on 4 channels: convnet supports 1 (a convolution) and one group per channel`},
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
