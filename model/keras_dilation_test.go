package model

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
)

// TestKerasDilatedConv2D reads a Conv2D with a dilation_rate as tf.keras
// 2's to_json writes it, with Keras's single number too, and writes it
// back the same; a dilation with strides is refused naming the layer.
func TestKerasDilatedConv2D(t *testing.T) {
	layer := `{"class_name": "Conv2D", "config": {"name": "conv2d", "trainable": true, "dtype": "float32", "filters": 4,
	  "kernel_size": [3, 3], "strides": [1, 1], "padding": "same", "data_format": "channels_last", "dilation_rate": [2, 3],
	  "groups": 1, "activation": "relu", "use_bias": true,
	  "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}},
	  "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}}`
	doc := func(layer string) []byte {
		return []byte(`{"class_name": "Sequential", "config": {"name": "sequential", "layers": [
	  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 9, 8, 1], "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}},
	  ` + layer + `]}}`)
	}
	m, err := ParseArchitecture(doc(layer))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	if d := m.Layers[0].(*nn.Conv2D).DilationRate; d != [2]int{2, 3} {
		t.Errorf("DilationRate = %v, want [2 3]", d)
	}
	if got := m.OutputShape(); !slices.Equal(got, []int{9, 8, 4}) {
		t.Errorf("output shape %v, want [9 8 4]", got)
	}
	a, _ := m.Architecture()
	var written struct {
		Config struct{ Layers []any }
	}
	json.Unmarshal(a, &written)
	var want any
	json.Unmarshal([]byte(layer), &want)
	if len(written.Config.Layers) != 2 || !sameDoc(written.Config.Layers[1], want) {
		t.Errorf("Architecture() =\n%s", a)
	}

	m, err = ParseArchitecture(doc(strings.Replace(layer, `"dilation_rate": [2, 3]`, `"dilation_rate": 2`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if d := m.Layers[0].(*nn.Conv2D).DilationRate; d != [2]int{2, 2} {
		t.Errorf("dilation_rate 2: DilationRate = %v, want [2 2]", d)
	}

	m, err = ParseArchitecture(doc(strings.Replace(layer, `"strides": [1, 1]`, `"strides": [2, 2]`, 1)))
	if err == nil {
		err = m.Build(nil, 1)
	}
	if want := "conv2d (Conv2D): strides 2x2 with dilation_rate 2x3: as in Keras, one of them must be 1x1"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("dilation with strides: error %v, want one containing %q", err, want)
	}
}

// TestKerasDilatedDepthwiseSeparable reads a DepthwiseConv2D and a
// SeparableConv2D with a dilation_rate (DeepLab's atrous separable
// convolutions) as tf.keras 2 writes them: the SeparableConv2D's
// dilation goes to its depthwise half, and the written document reads
// back the same.
func TestKerasDilatedDepthwiseSeparable(t *testing.T) {
	doc := strings.Replace(separableDoc(""), `"strides": [2, 2], "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1]`,
		`"strides": [1, 1], "padding": "same", "data_format": "channels_last", "dilation_rate": [3, 2]`, 1)
	doc = strings.Replace(doc, `{"class_name": "SeparableConv2D"`, `{"class_name": "DepthwiseConv2D", "config": {"name": "dw", "trainable": true,
	  "dtype": "float32", "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", "data_format": "channels_last", "dilation_rate": 2,
	  "activation": "relu", "use_bias": true, "bias_initializer": {"class_name": "Zeros", "config": {}}, "bias_regularizer": null,
	  "activity_regularizer": null, "bias_constraint": null, "depth_multiplier": 1, "depthwise_initializer": {"class_name": "GlorotUniform",
	  "config": {"seed": null}}, "depthwise_regularizer": null, "depthwise_constraint": null}},
	  {"class_name": "SeparableConv2D"`, 1)
	m := parseBuilt(t, []byte(doc))
	dw, sep := m.Layers[0].(*nn.DepthwiseConv2D), m.Layers[1].(*nn.DepthwiseConv2D)
	if dw.DilationRate != [2]int{2, 2} || sep.DilationRate != [2]int{3, 2} || sep.Name() != "sep_depthwise" {
		t.Errorf("DilationRate %v and %s's %v, want [2 2] and sep_depthwise's [3 2]", dw.DilationRate, sep.Name(), sep.DilationRate)
	}
	// The 8x7 input less the 3x3 kernel's span of 5x5: 4x3.
	if got := m.Layers[2].OutputShape(); !slices.Equal(got, []int{4, 3, 5}) {
		t.Errorf("the SeparableConv2D's output shape %v, want [4 3 5]", got)
	}
	if back := readsBack(t, m); back.Layers[1].(*nn.DepthwiseConv2D).DilationRate != [2]int{3, 2} {
		t.Errorf("read back, DilationRate %v", back.Layers[1].(*nn.DepthwiseConv2D).DilationRate)
	}
	strided := strings.Replace(doc, `"strides": [1, 1], "padding": "same"`, `"strides": [2, 2], "padding": "same"`, 1)
	m, err := ParseArchitecture([]byte(strided))
	if err == nil {
		err = m.Build(nil, 1)
	}
	if want := "sep_depthwise (DepthwiseConv2D): strides 2x2 with dilation_rate 3x2: as in Keras, one of them must be 1x1"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("dilation with strides: error %v, want one containing %q", err, want)
	}
}

// dilatedModel has dilated convolutions: ordinary, depthwise with a depth
// multiplier, and a Conv2D of one group per channel, asymmetric "same"
// pads among them.
func dilatedModel(t testing.TB) *Sequential {
	m := New(
		&nn.Conv2D{Filters: 4, KernelSize: pair(3), DilationRate: [2]int{2, 2}, Padding: "same", Activation: "relu"},
		&nn.DepthwiseConv2D{KernelSize: [2]int{2, 3}, DilationRate: [2]int{3, 2}, Padding: "same", DepthMultiplier: 2, Activation: "elu"},
		&nn.Conv2D{Filters: 8, KernelSize: pair(3), DilationRate: [2]int{1, 3}, Groups: 8, NoBias: true},
		&nn.Flatten{},
		&nn.Dense{Units: 3, Activation: "softmax"},
	)
	if err := m.Build([]int{9, 8, 1}, 4); err != nil {
		t.Fatal(err)
	}
	m.ClassNames = []string{"a", "b", "c"}
	return m
}

// TestImportONNXDilated: dilated convolutions go to ONNX as Conv nodes
// with dilations and come back as the layers they were, with the same
// probabilities.
func TestImportONNXDilated(t *testing.T) {
	m := dilatedModel(t)
	got := roundTrip(t, m, randomPixels(m, 5))
	var depthwise []*nn.DepthwiseConv2D
	for _, l := range got.Layers {
		if d, ok := l.(*nn.DepthwiseConv2D); ok {
			depthwise = append(depthwise, d)
		}
	}
	if c, ok := got.Layers[0].(*nn.Conv2D); !ok || c.DilationRate != [2]int{2, 2} || len(depthwise) != 2 ||
		depthwise[0].DilationRate != [2]int{3, 2} || depthwise[0].DepthMultiplier != 2 || depthwise[1].DilationRate != [2]int{1, 3} {
		t.Errorf("imported %v, %v", got.Layers[0].Config(), depthwise)
	}
}
