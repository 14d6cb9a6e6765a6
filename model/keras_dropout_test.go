package model

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
)

// TestKerasDropoutNoiseShape reads a Dropout with Keras's noise_shape (as
// Keras's EfficientNet drops whole samples of a residual branch), builds
// it and writes it back as Keras does, a plain Dropout with noise_shape
// null; a noise shape that does not fit the input is refused naming the
// layer.
func TestKerasDropoutNoiseShape(t *testing.T) {
	doc := []byte(`{"class_name": "Sequential", "config": {"name": "s", "layers": [
	  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 2], "dtype": "float32", "name": "in"}},
	  {"module": "keras.layers", "class_name": "Dropout", "config": {"name": "drop_connect", "trainable": true, "dtype": "float32", "rate": 0.2, "noise_shape": [null, 1, 1, 1], "seed": null}, "registered_name": null},
	  {"class_name": "Flatten", "config": {"name": "f"}},
	  {"class_name": "Dropout", "config": {"name": "top_dropout", "rate": 0.5, "noise_shape": null, "seed": null}},
	  {"class_name": "Dense", "config": {"name": "d", "units": 2, "activation": "softmax"}}]}}`)
	check := func(what string, m *Model) {
		t.Helper()
		d, ok := m.Layers[0].(*nn.Dropout)
		if !ok || d.Name() != "drop_connect" || !slices.Equal(d.NoiseShape, []int{0, 1, 1, 1}) {
			t.Fatalf("%s: layer 0 %v, want the Dropout drop_connect with noise shape (None, 1, 1, 1)", what, m.Layers[0].Config())
		}
		if d := m.Layers[2].(*nn.Dropout); d.NoiseShape != nil {
			t.Fatalf("%s: top_dropout has noise shape %v", what, d.NoiseShape)
		}
	}
	kerasRoundTrip(t, doc, check, `"noise_shape":[null,1,1,1]`, `"name":"top_dropout","noise_shape":null`)

	m, err := ParseArchitecture(bytes.Replace(doc, []byte(`[null, 1, 1, 1]`), []byte(`[null, 1, 1]`), 1))
	if err == nil {
		err = m.Build(nil, 1)
	}
	if err == nil || !strings.Contains(err.Error(), "drop_connect (Dropout): noise_shape (None, 1, 1): want 4 sizes, the batch's and those of the input [4 4 2]") {
		t.Errorf("a noise shape of three sizes: %v", err)
	}
	_, err = ParseArchitecture(bytes.Replace(doc, []byte(`[null, 1, 1, 1]`), []byte(`[null, 0, 1, 1]`), 1))
	if err == nil || !strings.Contains(err.Error(), "layers[1]: drop_connect (Dropout)") || !strings.Contains(err.Error(), "noise_shape") {
		t.Errorf("a size 0: %v", err)
	}
}
