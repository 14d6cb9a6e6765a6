package model

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
)

// TestKerasGroupNormalization reads GroupNormalization layers as Keras 3
// writes them (groups, axis -1, objects for the dtype and the
// initializers; groups -1 for instance normalization, before build),
// writes them back as Keras does and reads them back the same; what
// convnet cannot honour is refused by name. A model of them saves and
// loads with the same predictions and bytes.
func TestKerasGroupNormalization(t *testing.T) {
	doc := []byte(`{"class_name": "Sequential", "config": {"name": "s", "layers": [
	  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 6, 6, 8], "dtype": "float32", "name": "in"}},
	  {"module": "keras.layers", "class_name": "GroupNormalization", "config": {"name": "gn", "trainable": true,
	    "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
	    "groups": 4, "axis": -1, "epsilon": 0.001, "center": true, "scale": true,
	    "beta_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null},
	    "gamma_initializer": {"module": "keras.initializers", "class_name": "Ones", "config": {}, "registered_name": null},
	    "beta_regularizer": null, "gamma_regularizer": null, "beta_constraint": null, "gamma_constraint": null},
	    "registered_name": null, "build_config": {"input_shape": [null, 6, 6, 8]}},
	  {"class_name": "GroupNormalization", "config": {"name": "instance", "groups": -1, "axis": 3, "epsilon": 1e-05, "center": false}},
	  {"class_name": "Flatten", "config": {"name": "f"}},
	  {"class_name": "Dense", "config": {"name": "d", "units": 2, "activation": "softmax"}}]}}`)
	check := func(what string, m *Model) {
		t.Helper()
		a, ok1 := m.Layers[0].(*nn.GroupNormalization)
		b, ok2 := m.Layers[1].(*nn.GroupNormalization)
		if !ok1 || !ok2 || a.Groups != 4 || a.Epsilon != 1e-3 || a.NoCenter || a.NoScale || a.Name() != "gn" ||
			b.Groups != -1 && b.Groups != 8 || b.Epsilon != 1e-5 || !b.NoCenter || b.NoScale {
			t.Fatalf("%s: layers %v and %v", what, m.Layers[0].Config(), m.Layers[1].Config())
		}
	}
	m := kerasRoundTrip(t, doc, check,
		`"axis":-1,"beta_constraint":null,"beta_initializer":{"class_name":"Zeros","config":{}},"beta_regularizer":null,"center":true,"dtype":"float32","epsilon":0.001,"gamma_constraint":null,"gamma_initializer":{"class_name":"Ones","config":{}},"gamma_regularizer":null,"groups":4,"name":"gn","scale":true,"trainable":true`,
		`"groups":8`, `"center":false`)
	if tr, non := m.ParamCount(); non != 0 || tr != 8+8+8+288*2+2 {
		t.Errorf("parameters: %d trainable, %d not; want 602 and 0", tr, non)
	}
	for _, tt := range []struct{ field, want string }{
		{`"groups": 3`, `gn (GroupNormalization): groups = 3: want a divisor of the input's 8 channels, or -1 for one group per channel`},
		{`"groups": 0`, `gn (GroupNormalization): nn: GroupNormalization config: field "groups": want a positive number of groups, or -1 for one per channel, got 0`},
		{`"axis": 1`, `gn (GroupNormalization): axis 1: convnet normalises groups of the last axis, the channels (-1 or 3 of the input [4 4 8])`},
		{`"axis": [1, 2]`, `field "axis": want one axis, the channels', got [1,2]`},
		{`"gamma_regularizer": {"class_name": "L2", "config": {"l2": 0.01}}`, `gn (GroupNormalization): gamma_regularizer = {"class_name":"L2","config":{"l2":0.01}}: convnet supports only null`},
		{`"epsilon": 0`, `field "epsilon": want a positive number, got 0`},
	} {
		doc := `{"class_name": "Sequential", "config": {"layers": [
		  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 8]}},
		  {"class_name": "GroupNormalization", "config": {"name": "gn", ` + tt.field + `}}]}}`
		m, err := ParseArchitecture([]byte(doc))
		if err == nil {
			err = m.Build(nil, 1)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.field, err, tt.want)
		}
	}

	g := groupNorms(t)
	b := encode(t, g, false)
	got, err := decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !equalWeights(weights(g), weights(got)) {
		t.Error("loaded weights differ")
	}
	x := randomPixels(g, 4)
	if a, b := rawProbabilities(g, x), rawProbabilities(got, x); !slices.Equal(a.Data, b.Data) {
		t.Errorf("predictions %v, want %v", b.Data, a.Data)
	}
	if !bytes.Equal(encode(t, got, false), b) {
		t.Error("the loaded model encodes to different bytes")
	}
}
