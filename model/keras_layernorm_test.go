package model

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
)

// TestKerasLayerNormalization reads LayerNormalization layers as Keras 3
// writes them (axis -1, rms_scaling false, objects for the dtype and the
// initializers) and as tf.keras does (axis a list of positive axes after
// build, center false), writes them back as Keras does and reads them back
// the same; what convnet cannot honour is refused by name.
func TestKerasLayerNormalization(t *testing.T) {
	doc := []byte(`{"class_name": "Sequential", "config": {"name": "s", "layers": [
	  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 6, 6, 3], "dtype": "float32", "name": "in"}},
	  {"module": "keras.layers", "class_name": "LayerNormalization", "config": {"name": "ln", "trainable": true,
	    "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
	    "axis": -1, "epsilon": 0.001, "center": true, "scale": true, "rms_scaling": false,
	    "beta_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null},
	    "gamma_initializer": {"module": "keras.initializers", "class_name": "Ones", "config": {}, "registered_name": null},
	    "beta_regularizer": null, "gamma_regularizer": null, "beta_constraint": null, "gamma_constraint": null},
	    "registered_name": null, "build_config": {"input_shape": [null, 6, 6, 3]}},
	  {"class_name": "LayerNormalization", "config": {"name": "whole", "trainable": true, "dtype": "float32", "axis": [1, 2, 3],
	    "epsilon": 1e-05, "center": false, "scale": true,
	    "beta_initializer": {"class_name": "Zeros", "config": {}}, "gamma_initializer": {"class_name": "Ones", "config": {}},
	    "beta_regularizer": null, "gamma_regularizer": null, "beta_constraint": null, "gamma_constraint": null}},
	  {"class_name": "Flatten", "config": {"name": "f"}},
	  {"class_name": "Dense", "config": {"name": "d", "units": 2, "activation": "softmax"}}]}}`)
	check := func(what string, m *Model) {
		t.Helper()
		a, ok1 := m.Layers[0].(*nn.LayerNormalization)
		b, ok2 := m.Layers[1].(*nn.LayerNormalization)
		if !ok1 || !ok2 || !slices.Equal(a.Axis, []int{-1}) || a.Epsilon != 1e-3 || a.NoCenter || a.NoScale || a.Name() != "ln" ||
			!slices.Equal(b.Axis, []int{1, 2, 3}) || b.Epsilon != 1e-5 || !b.NoCenter || b.NoScale {
			t.Fatalf("%s: layers %v and %v", what, m.Layers[0].Config(), m.Layers[1].Config())
		}
	}
	m := kerasRoundTrip(t, doc, check,
		`"axis":[-1],"beta_constraint":null,"beta_initializer":{"class_name":"Zeros","config":{}},"beta_regularizer":null,"center":true,"dtype":"float32","epsilon":0.001,"gamma_constraint":null,"gamma_initializer":{"class_name":"Ones","config":{}},"gamma_regularizer":null,"name":"ln","scale":true,"trainable":true`,
		`"axis":[1,2,3]`, `"center":false`)
	if tr, non := m.ParamCount(); non != 0 || tr != 3+3+108+216+2 {
		t.Errorf("parameters: %d trainable, %d not; want 332 and 0", tr, non)
	}
	if s := m.Layers[1].Params()[0].Value.Shape; !slices.Equal(s, []int{6, 6, 3}) {
		t.Errorf("whole's gamma has shape %v, want Keras's [6 6 3]", s)
	}
	for _, tt := range []struct{ field, want string }{
		{`"rms_scaling": true`, `ln (LayerNormalization): rms_scaling = true: convnet supports only false`},
		{`"gamma_regularizer": {"class_name": "L2", "config": {"l2": 0.01}}`, `ln (LayerNormalization): gamma_regularizer = {"class_name":"L2","config":{"l2":0.01}}: convnet supports only null`},
		{`"beta_initializer": "ones"`, `ln (LayerNormalization): beta_initializer = "ones": convnet supports only {"class_name":"Zeros","config":{}}`},
		{`"axis": [1, 4]`, `ln (LayerNormalization): axis [1 4]: 4 is not an axis of the input [4 4 3]`},
		{`"axis": [3, -1]`, `axis [3 -1]: axis -1 is listed twice`},
		{`"epsilon": 0`, `ln (LayerNormalization): nn: LayerNormalization config: field "epsilon": want a positive number, got 0`},
		{`"epsilon": -1`, `ln (LayerNormalization): epsilon = -1: must be a positive number`},
	} {
		doc := `{"class_name": "Sequential", "config": {"layers": [
		  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 3]}},
		  {"class_name": "LayerNormalization", "config": {"name": "ln", ` + tt.field + `}}]}}`
		m, err := ParseArchitecture([]byte(doc))
		if err == nil {
			err = m.Build(nil, 1)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.field, err, tt.want)
		}
	}
}

// TestLayerNormalizationFile saves a model of LayerNormalization layers
// with trained-like weights and loads it back: the same layers, weights
// and predictions, and the same bytes when saved again.
func TestLayerNormalizationFile(t *testing.T) {
	m := layerNorms(t)
	b := encode(t, m, false)
	got, err := decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !equalWeights(weights(m), weights(got)) {
		t.Error("loaded weights differ")
	}
	for i, l := range m.Layers {
		if a, b := l.Config(), got.Layers[i].Config(); jsonText(a) != jsonText(b) {
			t.Errorf("layer %d: %s, want %s", i, jsonText(b), jsonText(a))
		}
	}
	x := randomPixels(m, 4)
	if a, b := rawProbabilities(m, x), rawProbabilities(got, x); !slices.Equal(a.Data, b.Data) {
		t.Errorf("predictions %v, want %v", b.Data, a.Data)
	}
	if !bytes.Equal(encode(t, got, false), b) {
		t.Error("the loaded model encodes to different bytes")
	}
}
