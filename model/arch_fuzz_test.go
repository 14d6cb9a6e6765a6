package model

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// FuzzParseArchitecture feeds ParseArchitecture arbitrary documents, the
// JSON files `convnet summary --model` and `convnet train --model` read. It
// must return a model or an error, never panic; a model it returns either
// fails to build with an error or builds, runs one sample and writes an
// architecture that reads back to the same architecture. Build's bound on
// the weights is lowered to 2^20 values here, so that an input declaring
// large layers costs megabytes, not gigabytes.
//
//	go test ./model/ -run '^$' -fuzz '^FuzzParseArchitecture$' -fuzztime 60s -fuzzminimizetime 1s
func FuzzParseArchitecture(f *testing.F) {
	for _, name := range []string{"tutorial_sequential.json", "residual_functional.json", "residual_keras3.json", "mobilenet_keras3.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "keras", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, m := range []*Model{tiny(f), tinyGraph(f), padded(f), mixed(f), merges(f), reshapes(f), dilatedModel(f), groupNorms(f)} {
		b, err := m.Architecture()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(separableDoc("")))
	// Models inside models, frozen or called with training=False.
	f.Add([]byte(`{"class_name": "Sequential", "config": {"name": "s", "layers": [` + baseModel("false") + `,
	  {"class_name": "GlobalAveragePooling2D", "config": {"name": "pool"}}, {"class_name": "Dense", "config": {"name": "out", "units": 3, "trainable": false}}]}}`))
	f.Add([]byte(`{"class_name": "Functional", "config": {"name": "tuned", "layers": [
	  {"class_name": "InputLayer", "name": "image", "config": {"batch_shape": [null, 6, 6, 2], "name": "image"}, "inbound_nodes": []},
	  ` + strings.Replace(baseModel("true"), `"name": "base", "config"`, `"name": "base", "inbound_nodes": [[["image", 0, 0, {"training": false}]]], "config"`, 1) + `,
	  {"class_name": "Flatten", "name": "flat", "config": {"name": "flat"}, "inbound_nodes": [[["base", 0, 0, {}]]]}],
	  "input_layers": [["image", 0, 0]], "output_layers": [["flat", 0, 0]]}}`))
	f.Add(resampleDoc)
	// Keras 3's operations of a tensor and a number: x + 3.0, 1.0 - x.
	f.Add([]byte(`{"class_name": "Functional", "config": {"name": "ops", "layers": [
		{"class_name": "InputLayer", "name": "in", "config": {"batch_shape": [null, 4, 4, 1], "name": "in"}, "inbound_nodes": []},
		{"class_name": "Add", "name": "add", "config": {"name": "add"}, "inbound_nodes": [{"args": [
			{"class_name": "__keras_tensor__", "config": {"keras_history": ["in", 0, 0]}}, 3.0], "kwargs": {}}]},
		{"class_name": "Subtract", "name": "sub", "config": {"name": "sub"}, "inbound_nodes": [{"args": [1.0,
			{"class_name": "__keras_tensor__", "config": {"keras_history": ["add", 0, 0]}}], "kwargs": {}}]},
		{"class_name": "Flatten", "name": "flat", "config": {"name": "flat"}, "inbound_nodes": [{"args": [
			{"class_name": "__keras_tensor__", "config": {"keras_history": ["sub", 0, 0]}}], "kwargs": {}}]}],
		"input_layers": [["in", 0, 0]], "output_layers": [["flat", 0, 0]]}}`))
	// tf.keras 2's: a TFOpLambda of x * 0.5.
	f.Add([]byte(`{"class_name": "Functional", "config": {"name": "ops", "layers": [
		{"class_name": "InputLayer", "name": "in", "config": {"batch_input_shape": [null, 4, 4, 1], "name": "in"}, "inbound_nodes": []},
		{"class_name": "TFOpLambda", "name": "tf.math.multiply", "config": {"name": "tf.math.multiply", "trainable": true, "dtype": "float32",
			"function": "math.multiply"}, "inbound_nodes": [[["in", 0, 0, {"y": 0.5, "name": null}]]]},
		{"class_name": "Flatten", "name": "flat", "config": {"name": "flat"}, "inbound_nodes": [[["tf.math.multiply", 0, 0, {}]]]}],
		"input_layers": [["in", 0, 0]], "output_layers": [["flat", 0, 0]]}}`))
	// InceptionResNetV2's CustomScaleLayer, as Keras 3 and tf.keras 2 write
	// it: x + relu(x)·0.17.
	f.Add([]byte(`{"class_name": "Functional", "config": {"name": "irv2", "layers": [
		{"class_name": "InputLayer", "name": "in", "config": {"batch_shape": [null, 4, 4, 2], "name": "in"}, "inbound_nodes": []},
		{"class_name": "Activation", "name": "up", "config": {"name": "up", "activation": "relu"}, "inbound_nodes": [{"args": [
			{"class_name": "__keras_tensor__", "config": {"keras_history": ["in", 0, 0]}}], "kwargs": {}}]},
		{"module": "keras.src.applications.inception_resnet_v2", "class_name": "CustomScaleLayer", "registered_name": "CustomScaleLayer",
			"name": "custom_scale_layer", "config": {"name": "custom_scale_layer", "trainable": true, "scale": 0.17}, "inbound_nodes": [{"args": [[
			{"class_name": "__keras_tensor__", "config": {"keras_history": ["in", 0, 0]}},
			{"class_name": "__keras_tensor__", "config": {"keras_history": ["up", 0, 0]}}]], "kwargs": {}}]}],
		"input_layers": [["in", 0, 0]], "output_layers": [["custom_scale_layer", 0, 0]]}}`))
	f.Add([]byte(`{"class_name": "Functional", "config": {"name": "irv2", "layers": [
		{"class_name": "InputLayer", "name": "in", "config": {"batch_input_shape": [null, 4, 4, 2], "name": "in"}, "inbound_nodes": []},
		{"class_name": "Activation", "name": "up", "config": {"name": "up", "activation": "relu"}, "inbound_nodes": [[["in", 0, 0, {}]]]},
		{"class_name": "CustomScaleLayer", "name": "block35_1", "config": {"name": "block35_1", "scale": 0.17},
			"inbound_nodes": [[["in", 0, 0, {}], ["up", 0, 0, {}]]]}],
		"input_layers": [["in", 0, 0]], "output_layers": [["block35_1", 0, 0]]}}`))
	f.Add([]byte(`{"input_shape": [8, 8, 1], "layers": [{"class_name": "Conv2D", "config": {"filters": 2, "kernel_size": [3, 3]}},
		{"class_name": "Flatten", "config": {}}, {"class_name": "Dense", "config": {"units": 3, "activation": "softmax"}}]}`))
	// Windows and strides far larger than the image, which build: a max
	// pool's buffer of window cells (a panic at the first Predict) and a
	// convolution's row buffer, sized by the stride (out of memory).
	for _, layer := range []string{
		`{"class_name": "MaxPooling2D", "config": {"pool_size": [2147483648, 2147483648], "padding": "same"}}`,
		`{"class_name": "Conv2D", "config": {"filters": 2, "kernel_size": [3, 3], "strides": [2147483648, 2147483648]}}`,
		// Given statistics, one per channel repeated along the columns, and
		// one for all.
		`{"class_name": "Normalization", "config": {"axis": [2, -1], "invert": false, "mean": [0.5, 1], "variance": [1, 4]}}`,
		`{"class_name": "Normalization", "config": {"axis": null, "invert": true, "mean": 0.5, "variance": 2}}`,
	} {
		f.Add([]byte(`{"input_shape": [8, 8, 2], "layers": [` + layer + `,
			{"class_name": "Flatten", "config": {}}, {"class_name": "Dense", "config": {"units": 2}}]}`))
	}

	defer func(n int64) { maxWeights = n }(maxWeights)
	maxWeights = 1 << 20
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseArchitecture(b)
		if err != nil {
			return
		}
		if m.Build(nil, 1) != nil {
			return
		}
		if need := m.ActivationBytes(1); need <= 16<<20 {
			x := tensor.New(append([]int{1}, m.InputShape()...)...)
			p := tensor.New(append([]int{1}, m.OutputShape()...)...)
			m.Predict(p, x)
		}
		a, err := m.Architecture()
		if err != nil {
			t.Fatalf("Architecture() of a built model: %v", err)
		}
		r, err := ParseArchitecture(a)
		if err != nil {
			t.Fatalf("the architecture written does not read back: %v\n%s", err, a)
		}
		if err := r.Build(nil, 1); err != nil {
			t.Fatalf("the architecture written does not build back: %v\n%s", err, a)
		}
		if a2, _ := r.Architecture(); !bytes.Equal(a, a2) {
			t.Fatalf("the architecture changed when read back:\n%s\nthen\n%s", a, a2)
		}
	})
}
