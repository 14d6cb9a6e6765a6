package model

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestSnakeCase checks snakeCase against the names Keras's
// naming.to_snake_case gives (its re.sub calls, run in Python), which
// name the groups of a weights file.
func TestSnakeCaseKeras(t *testing.T) {
	for _, c := range [][2]string{
		{"Conv2D", "conv2d"}, {"MaxPooling2D", "max_pooling2d"}, {"BatchNormalization", "batch_normalization"},
		{"PReLU", "p_re_lu"}, {"SeparableConv2D", "separable_conv2d"}, {"DepthwiseConv2D", "depthwise_conv2d"},
		{"GlobalAveragePooling2D", "global_average_pooling2d"}, {"ReLU", "re_lu"}, {"ELU", "elu"},
		{"UpSampling2D", "up_sampling2d"}, {"LeakyReLU", "leaky_re_lu"}, {"CustomScaleLayer", "custom_scale_layer"},
	} {
		if got := snakeCase(c[0]); got != c[1] {
			t.Errorf("snakeCase(%s) = %s, want %s", c[0], got, c[1])
		}
	}
}

// TestKerasWeightPaths: the layers of a real Keras 3 Functional model's
// document are where Keras's saving puts them, the n-th of a class with
// the suffix _n.
func TestKerasWeightPaths(t *testing.T) {
	doc, err := os.ReadFile("testdata/keras/residual_keras3.json")
	if err != nil {
		t.Fatal(err)
	}
	paths, err := kerasWeightPaths(doc)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"conv2d": "layers/conv2d/vars", "conv2d_1": "layers/conv2d_1/vars", "dense": "layers/dense/vars",
		"input_layer": "layers/input_layer/vars",
	} {
		if paths[name].path != want {
			t.Errorf("%s: %q, want %q", name, paths[name].path, want)
		}
	}
}

// TestImportKerasRealFile reads a file Keras 3.15 wrote (keras-team/keras's
// test data: a subclassed model of nested Dense layers): its weights file
// opens, and the model, whose class convnet cannot know, is refused by
// name.
func TestImportKerasRealFile(t *testing.T) {
	b, err := os.ReadFile("testdata/keras/nested_container.keras")
	if err != nil {
		t.Fatal(err)
	}
	_, err = ImportKeras(bytes.NewReader(b), int64(len(b)), KerasImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "keras: config.json: ") || !strings.Contains(err.Error(), "NestedDenseModel") {
		t.Errorf("error %v, want config.json's NestedDenseModel refused", err)
	}
	if _, err := ImportKeras(bytes.NewReader(b), int64(len(b)), KerasImportOptions{MaxBytes: 1000}); err == nil || !strings.Contains(err.Error(), "more than the limit of 1000") {
		t.Errorf("MaxBytes 1000: error %v", err)
	}
}
