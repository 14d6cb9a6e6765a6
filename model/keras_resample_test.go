package model

import (
	"bytes"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
)

// resampleDoc is a Keras 3 model as a TensorFlow tutorial writes one: a
// Resizing inside the model, then an UpSampling2D.
var resampleDoc = []byte(`{"module": "keras", "class_name": "Sequential", "config": {"name": "s", "trainable": true, "dtype": "float32", "layers": [
  {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 9, 7, 3], "dtype": "float32", "sparse": false, "name": "in"}, "registered_name": null},
  {"module": "keras.layers", "class_name": "Resizing", "config": {"name": "resizing", "trainable": true, "dtype": "float32", "height": 6, "width": 4,
    "interpolation": "bilinear", "crop_to_aspect_ratio": true, "pad_to_aspect_ratio": false, "fill_mode": "constant", "fill_value": 0.0,
    "antialias": false, "data_format": "channels_last"}, "registered_name": null},
  {"module": "keras.layers", "class_name": "UpSampling2D", "config": {"name": "up_sampling2d", "trainable": true, "dtype": "float32",
    "size": [2, 3], "data_format": "channels_last", "interpolation": "nearest"}, "registered_name": null},
  {"module": "keras.layers", "class_name": "Flatten", "config": {"name": "f", "trainable": true, "dtype": "float32", "data_format": "channels_last"}, "registered_name": null},
  {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d", "trainable": true, "dtype": "float32", "units": 2, "activation": "softmax"}, "registered_name": null}]}}`)

// TestKerasResample reads Keras 3's Resizing and UpSampling2D, writes them
// back as tf.keras does and reads that again; what convnet does not do is
// refused naming the layer, the field, its value and what is supported.
func TestKerasResample(t *testing.T) {
	check := func(what string, m *Model) {
		t.Helper()
		r, ok := m.Layers[0].(*nn.Resizing)
		if !ok || r.Name() != "resizing" || r.Height != 6 || r.Width != 4 || r.Interpolation != "bilinear" || !r.CropToAspectRatio {
			t.Fatalf("%s: layer 0 %#v, want Resizing to 6x4, bilinear, cropped", what, m.Layers[0])
		}
		u, ok := m.Layers[1].(*nn.UpSampling2D)
		if !ok || u.Size != [2]int{2, 3} || u.Interpolation != "nearest" {
			t.Fatalf("%s: layer 1 %#v, want UpSampling2D by 2x3, nearest", what, m.Layers[1])
		}
	}
	m := kerasRoundTrip(t, resampleDoc, check, `"class_name":"Resizing"`, `"crop_to_aspect_ratio":true`,
		`"size":[2,3]`, `"data_format":"channels_last"`)
	if s := m.Layers[1].OutputShape(); len(s) != 3 || s[0] != 12 || s[1] != 12 || s[2] != 3 {
		t.Errorf("the upsampling gives %v, want [12 12 3]", s)
	}
	for _, tt := range []struct{ from, to, want string }{
		{`"interpolation": "bilinear"`, `"interpolation": "bicubic"`,
			`resizing (Resizing): nn: Resizing config: field "interpolation": want "bilinear" or "nearest" (bicubic, lanczos and area are not supported), got "bicubic"`},
		{`"pad_to_aspect_ratio": false`, `"pad_to_aspect_ratio": true`, `resizing (Resizing): pad_to_aspect_ratio = true: convnet supports only false`},
		{`"antialias": false`, `"antialias": true`, `resizing (Resizing): antialias = true: convnet supports only false`},
		{`"height": 6`, `"height": 0`, `resizing (Resizing): nn: Resizing config: field "height": want an integer of at least 1, got 0`},
		{`"size": [2, 3]`, `"size": [2, 0]`, `up_sampling2d (UpSampling2D): nn: UpSampling2D config: field "size": want two integers of at least 1, got [2,0]`},
		{`"size": [2, 3], "data_format": "channels_last"`, `"size": [2, 3], "data_format": "channels_first"`,
			`up_sampling2d (UpSampling2D): data_format = "channels_first": convnet supports only "channels_last"`},
		{`"interpolation": "nearest"`, `"interpolation": "lanczos3"`,
			`up_sampling2d (UpSampling2D): nn: UpSampling2D config: field "interpolation": want "nearest" or "bilinear", got "lanczos3"`},
	} {
		_, err := ParseArchitecture(bytes.Replace(resampleDoc, []byte(tt.from), []byte(tt.to), 1))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("with %s: %v, want an error with %s", tt.to, err, tt.want)
		}
	}
}
