package model

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
)

// TestKerasZeroPadding2D reads ZeroPadding2D as Keras 2's to_json writes it
// and writes it back the same.
func TestKerasZeroPadding2D(t *testing.T) {
	layer := `{"class_name": "ZeroPadding2D", "config": {"name": "zero_padding2d", "trainable": true, "dtype": "float32",
	  "padding": [[1, 2], [0, 3]], "data_format": "channels_last"}}`
	m, err := ParseArchitecture([]byte(`{"class_name": "Sequential", "config": {"name": "sequential", "layers": [
	  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 6, 5, 1], "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}},
	  ` + layer + `]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	if got := m.OutputShape(); !slices.Equal(got, []int{9, 8, 1}) {
		t.Errorf("output shape %v, want [9 8 1]", got)
	}
	a, _ := m.Architecture()
	var doc struct {
		Config struct{ Layers []any }
	}
	json.Unmarshal(a, &doc)
	var want any
	json.Unmarshal([]byte(layer), &want)
	if len(doc.Config.Layers) != 2 || !sameDoc(doc.Config.Layers[1], want) {
		t.Errorf("Architecture() =\n%s", a)
	}
}

// TestKerasRescaling reads Rescaling as tf.keras 2 and Keras 3 write it: a
// scale and an offset, or one per channel (a list, or Keras 3's numpy
// array), and refuses a list of the wrong length naming the layer.
func TestKerasRescaling(t *testing.T) {
	doc := func(cfg string) []byte {
		return []byte(`{"class_name": "Sequential", "config": {"name": "s", "layers": [
		  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 3], "dtype": "float32", "name": "in"}},
		  {"class_name": "Rescaling", "config": ` + cfg + `},
		  {"class_name": "Flatten", "config": {"name": "f"}}]}}`)
	}
	for _, tt := range []struct {
		cfg             string
		scale, offset   float64
		scales, offsets []float64
	}{
		{`{"name": "rescaling", "trainable": true, "dtype": "float32", "scale": 0.00392156862745098, "offset": 0.0}`, 1.0 / 255, 0, nil, nil},
		{`{"name": "rescaling", "trainable": true, "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null}, "scale": 0.00784313725490196, "offset": -1}`, 1 / 127.5, -1, nil, nil},
		// Keras's EfficientNet with ImageNet weights: 1/sqrt of the
		// channels' standard deviations.
		{`{"name": "rescaling", "trainable": true, "dtype": "float32", "scale": [2.0896918976428387, 2.1128856368212916, 2.1081851067789197], "offset": 0.0}`,
			0, 0, []float64{2.0896918976428387, 2.1128856368212916, 2.1081851067789197}, nil},
		{`{"name": "rescaling", "scale": {"class_name": "__numpy__", "config": {"value": [0.5, 1.0, 2.0], "dtype": "float32"}}, "offset": [[[1.0, 0.0, -1.0]]]}`,
			0, 0, []float64{0.5, 1, 2}, []float64{1, 0, -1}},
	} {
		m, err := ParseArchitecture(doc(tt.cfg))
		if err == nil {
			err = m.Build(nil, 1)
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.cfg, err)
		}
		r, ok := m.Layers[0].(*nn.Rescaling)
		if !ok || r.Scale != tt.scale || r.Offset != tt.offset || !slices.Equal(r.Scales, tt.scales) || !slices.Equal(r.Offsets, tt.offsets) || r.Name() != "rescaling" {
			t.Errorf("%s: layer %s %v, want a Rescaling of scale %v %v, offset %v %v", tt.cfg, m.Layers[0].Type(), m.Layers[0].Config(), tt.scale, tt.scales, tt.offset, tt.offsets)
		}
	}
	for cfg, want := range map[string]string{
		`{"name": "r", "scale": [0.5, 0.25]}`: `r (Rescaling): scales: 2 values for 3 channels`,
		`{"name": "r", "scale": ["x"]}`:       `r (Rescaling): nn: Rescaling config: field "scale"`,
		`{"name": "r", "offset": 1}`:          `r (Rescaling): scale = 0: must be a finite number other than 0`,
	} {
		m, err := ParseArchitecture(doc(cfg))
		if err == nil {
			err = m.Build(nil, 1)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", cfg, err, want)
		}
	}
}

// TestKerasSpatialDropout2D reads SpatialDropout2D as tf.keras 2 and Keras
// 3 write it, and refuses channels first.
func TestKerasSpatialDropout2D(t *testing.T) {
	doc := func(cfg string) []byte {
		return []byte(`{"class_name": "Sequential", "config": {"name": "s", "layers": [
		  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 2], "dtype": "float32", "name": "in"}},
		  {"class_name": "SpatialDropout2D", "config": ` + cfg + `}]}}`)
	}
	for _, cfg := range []string{
		`{"name": "sd", "trainable": true, "dtype": "float32", "rate": 0.2, "noise_shape": null, "seed": null}`,
		`{"name": "sd", "trainable": true, "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null}, "rate": 0.2, "seed": null, "data_format": "channels_last"}`,
	} {
		m, err := ParseArchitecture(doc(cfg))
		if err != nil {
			t.Fatal(err)
		}
		if d, ok := m.Layers[0].(*nn.SpatialDropout2D); !ok || d.Rate != 0.2 || d.Name() != "sd" {
			t.Errorf("%s: layer %s %v, want a SpatialDropout2D of rate 0.2", cfg, m.Layers[0].Type(), m.Layers[0].Config())
		}
	}
	_, err := ParseArchitecture(doc(`{"name": "sd", "rate": 0.2, "data_format": "channels_first"}`))
	if want := `sd (SpatialDropout2D): data_format = "channels_first": convnet supports only "channels_last"`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("channels first: %v, want an error containing %q", err, want)
	}
}

// TestKerasSmoothActivations reads the activations gelu, selu, softplus,
// softsign and mish as Keras writes them: by name in a Conv2D or Dense,
// and as Keras 3 writes the function of an Activation layer, an object,
// and selu's AlphaDropout; the architecture written back names them again
// and reads back the same.
func TestKerasSmoothActivations(t *testing.T) {
	doc := []byte(`{"class_name": "Sequential", "config": {"name": "s", "layers": [
	  {"class_name": "InputLayer", "config": {"batch_shape": [null, 6, 6, 1], "dtype": "float32", "name": "in"}},
	  {"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "kernel_size": [3, 3], "activation": "gelu"}},
	  {"class_name": "Activation", "config": {"name": "a", "activation": {"module": "keras.activations", "class_name": "function", "config": "mish", "registered_name": "function"}}},
	  {"class_name": "Flatten", "config": {"name": "f"}},
	  {"class_name": "Dense", "config": {"name": "d1", "units": 4, "activation": "selu"}},
	  {"class_name": "AlphaDropout", "config": {"name": "ad", "trainable": true, "dtype": "float32", "rate": 0.1, "noise_shape": null, "seed": null}},
	  {"class_name": "Activation", "config": {"name": "sp", "activation": "softplus"}},
	  {"class_name": "Dense", "config": {"name": "d2", "units": 3, "activation": "softsign"}}]}}`)
	m, err := ParseArchitecture(doc)
	if err != nil {
		t.Fatal(err)
	}
	fns := func(m *Model) []string {
		var got []string
		for _, l := range m.Layers {
			if fn, _ := l.Config()["activation"].(string); fn != "" {
				got = append(got, fn)
			}
		}
		return got
	}
	want := []string{"gelu", "mish", "selu", "softplus", "softsign"}
	if got := fns(m); !slices.Equal(got, want) {
		t.Fatalf("activations %v, want %v", got, want)
	}
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	a, err := m.Architecture()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseArchitecture(a)
	if err != nil {
		t.Fatal(err)
	}
	if got := fns(back); !slices.Equal(got, want) {
		t.Errorf("written back: activations %v, want %v", got, want)
	}
	for _, m := range []*Model{m, back} {
		if d, ok := m.Layers[4].(*nn.AlphaDropout); !ok || d.Rate != 0.1 || d.Name() != "ad" {
			t.Errorf("layer 4: %s %v, want the AlphaDropout ad of rate 0.1", m.Layers[4].Type(), m.Layers[4].Config())
		}
	}
}

// TestKerasPReLU reads PReLU layers as tf.keras and Keras 3 write them (a
// Zeros object, a Constant of Keras 3, shared axes or null), writes them
// back as Keras 2 does and reads them back the same; a regularizer and an
// initializer convnet cannot follow are refused by name.
func TestKerasPReLU(t *testing.T) {
	doc := []byte(`{"class_name": "Sequential", "config": {"name": "s", "layers": [
	  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 6, 6, 1], "dtype": "float32", "name": "in"}},
	  {"class_name": "Conv2D", "config": {"name": "c", "filters": 3, "kernel_size": [3, 3]}},
	  {"class_name": "PReLU", "config": {"name": "p1", "trainable": true, "dtype": "float32", "alpha_initializer": {"class_name": "Zeros", "config": {}},
	    "alpha_regularizer": null, "alpha_constraint": null, "shared_axes": [1, 2]}},
	  {"class_name": "Flatten", "config": {"name": "f"}},
	  {"module": "keras.layers", "class_name": "PReLU", "config": {"name": "p2", "trainable": true,
	    "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
	    "alpha_initializer": {"module": "keras.initializers", "class_name": "Constant", "config": {"value": 0.25}, "registered_name": null},
	    "alpha_regularizer": null, "alpha_constraint": null, "shared_axes": null}, "registered_name": null},
	  {"class_name": "Dense", "config": {"name": "d", "units": 2, "activation": "softmax"}}]}}`)
	check := func(what string, m *Model) {
		t.Helper()
		p1, ok1 := m.Layers[1].(*nn.PReLU)
		p2, ok2 := m.Layers[3].(*nn.PReLU)
		if !ok1 || !ok2 || p1.AlphaInit != 0 || !slices.Equal(p1.SharedAxes, []int{1, 2}) || p2.AlphaInit != 0.25 || p2.SharedAxes != nil {
			t.Fatalf("%s: layers %v and %v, want PReLU zeros [1 2] and PReLU 0.25 unshared", what, m.Layers[1].Config(), m.Layers[3].Config())
		}
	}
	m := kerasRoundTrip(t, doc, check, `"alpha_initializer":{"class_name":"Zeros","config":{}}`,
		`"alpha_initializer":{"class_name":"Constant","config":{"value":0.25}}`, `"alpha_regularizer":null`, `"shared_axes":[1,2]`)
	if s := m.Layers[1].Params()[0].Value.Shape; !slices.Equal(s, []int{1, 1, 3}) {
		t.Errorf("p1's alpha has shape %v, want [1 1 3]", s)
	}
	if a := m.Layers[3].Params()[0].Value; a.Len() != 48 || a.Data[47] != 0.25 {
		t.Errorf("p2's alpha: %d values, the last %v; want 48 at 0.25", a.Len(), a.Data[47])
	}
	for _, tt := range []struct{ field, want string }{
		{`"alpha_regularizer": {"class_name": "L2", "config": {"l2": 0.01}}`, `p (PReLU): alpha_regularizer = {"class_name":"L2","config":{"l2":0.01}}: convnet supports only null`},
		{`"alpha_initializer": "glorot_uniform"`, `p (PReLU): nn: PReLU config: field "alpha_initializer": want "zeros", "ones" or a Zeros, Ones or Constant initializer, got "glorot_uniform"`},
		{`"shared_axes": [1, 5]`, `shared_axes [1 5]: axis 5 is not an axis of the input [4 4 3]`},
	} {
		doc := `{"class_name": "Sequential", "config": {"layers": [
		  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 3]}},
		  {"class_name": "PReLU", "config": {"name": "p", ` + tt.field + `}}]}}`
		m, err := ParseArchitecture([]byte(doc))
		if err == nil {
			err = m.Build(nil, 1)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.field, err, tt.want)
		}
	}
}

// TestKerasNoise reads GaussianNoise and GaussianDropout as Keras writes
// them (the seed dropped: convnet draws from the model's source), writes
// them back with a null seed and reads them back the same; a rate of 1 is
// refused by name.
func TestKerasNoise(t *testing.T) {
	doc := []byte(`{"class_name": "Sequential", "config": {"name": "s", "layers": [
	  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 6, 6, 1], "dtype": "float32", "name": "in"}},
	  {"class_name": "GaussianNoise", "config": {"name": "gn", "trainable": true, "dtype": "float32", "stddev": 0.1, "seed": 7}},
	  {"class_name": "Flatten", "config": {"name": "f"}},
	  {"module": "keras.layers", "class_name": "GaussianDropout", "config": {"name": "gd", "trainable": true, "dtype": "float32", "rate": 0.3, "seed": null}, "registered_name": null},
	  {"class_name": "Dense", "config": {"name": "d", "units": 2, "activation": "softmax"}}]}}`)
	check := func(what string, m *Model) {
		t.Helper()
		gn, ok1 := m.Layers[0].(*nn.GaussianNoise)
		gd, ok2 := m.Layers[2].(*nn.GaussianDropout)
		if !ok1 || !ok2 || gn.Stddev != 0.1 || gd.Rate != 0.3 || gn.Name() != "gn" || gd.Name() != "gd" {
			t.Fatalf("%s: layers %v and %v, want GaussianNoise gn 0.1 and GaussianDropout gd 0.3", what, m.Layers[0].Config(), m.Layers[2].Config())
		}
	}
	kerasRoundTrip(t, doc, check, `"seed":null,"stddev":0.1`, `"rate":0.3,"seed":null`)
	m, err := ParseArchitecture(bytes.Replace(doc, []byte(`"rate": 0.3`), []byte(`"rate": 1`), 1))
	if err == nil {
		err = m.Build(nil, 1)
	}
	if err == nil || !strings.Contains(err.Error(), "gd (GaussianDropout): rate = 1: must be in [0, 1)") {
		t.Errorf("rate 1: %v", err)
	}
}
