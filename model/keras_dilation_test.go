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
