package model

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
)

// TestKerasNormalization reads Normalization layers as Keras 3 writes them
// (axis a list, mean and variance null: adapted) and as tf.keras does with
// given statistics, writes them back as Keras does and reads them back the
// same; a mean without a variance is refused by name.
func TestKerasNormalization(t *testing.T) {
	doc := []byte(`{"class_name": "Sequential", "config": {"name": "s", "layers": [
	  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 6, 6, 3], "dtype": "float32", "name": "in"}},
	  {"module": "keras.layers", "class_name": "Normalization", "config": {"name": "norm", "trainable": true, "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null}, "axis": [-1], "invert": false, "mean": null, "variance": null}, "registered_name": null, "build_config": {"input_shape": [null, 6, 6, 3]}},
	  {"class_name": "Normalization", "config": {"name": "given", "trainable": true, "dtype": "float32", "axis": null, "invert": true, "mean": 0.5, "variance": 4.0}},
	  {"class_name": "Flatten", "config": {"name": "f"}},
	  {"class_name": "Dense", "config": {"name": "d", "units": 2, "activation": "softmax"}}]}}`)
	check := func(what string, m *Model) {
		t.Helper()
		a, ok1 := m.Layers[0].(*nn.Normalization)
		b, ok2 := m.Layers[1].(*nn.Normalization)
		if !ok1 || !ok2 || !slices.Equal(a.Axis, []int{-1}) || a.Mean != nil || a.Invert || a.Name() != "norm" ||
			b.Axis == nil || len(b.Axis) != 0 || !slices.Equal(b.Mean, []float64{0.5}) || !slices.Equal(b.Variance, []float64{4}) || !b.Invert {
			t.Fatalf("%s: layers %v and %v", what, m.Layers[0].Config(), m.Layers[1].Config())
		}
	}
	m := kerasRoundTrip(t, doc, check, `"axis":[-1],"dtype":"float32","invert":false,"mean":null,"name":"norm","trainable":true,"variance":null`, `"axis":[],"dtype":"float32","invert":true,"mean":0.5,"name":"given","trainable":true,"variance":4}`)
	if tr, non := m.ParamCount(); non != 3+3+1 || tr != 6*6*3*2+2 {
		t.Errorf("parameters: %d trainable, %d not; want 218 and 7 (mean, variance and count of 3 channels, as Keras counts them)", tr, non)
	}
	m, err := ParseArchitecture(bytes.Replace(doc, []byte(`"variance": 4.0`), []byte(`"variance": null`), 1))
	if err == nil {
		err = m.Build(nil, 1)
	}
	if err == nil || !strings.Contains(err.Error(), "given (Normalization): mean [0.5], variance []: give both or neither") {
		t.Errorf("a mean without a variance: %v", err)
	}
}
