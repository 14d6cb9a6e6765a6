package model

import (
	"bytes"
	"math"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
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

// TestImportKeras2File reads an HDF5 file in the layout of Keras 2's
// model.save("m.h5") (written with h5py by internal/cli's
// testdata/write_keras.py: a 3x3 convolution of 2 filters, a Dense layer of
// 3 after it) and checks its probabilities for one input against numpy's,
// computed from the same weights by hand.
func TestImportKeras2File(t *testing.T) {
	b, err := os.ReadFile("testdata/keras/tiny_keras2.h5")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ImportKeras(bytes.NewReader(b), int64(len(b)), KerasImportOptions{ClassNames: []string{"a", "b", "c"}})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(1, 4, 4, 1)
	for i := range x.Data {
		x.Data[i] = float32(i) / 16
	}
	p := tensor.New(1, 3)
	m.Predict(p, x)
	for i, want := range []float64{0.71407287, 0.06024894, 0.22567818} { // numpy, float64
		if math.Abs(float64(p.Data[i])-want) > 1e-6 {
			t.Errorf("probabilities %v, want [0.71407287 0.06024894 0.22567818]", p.Data)
			break
		}
	}
	if m.Meta["source"] != "Keras 2.15.0 (HDF5 file)" || m.ClassNames[2] != "c" {
		t.Errorf("source %q, classes %v", m.Meta["source"], m.ClassNames)
	}
}

// FuzzImportKeras feeds ImportKeras .keras and HDF5 files changed at
// random: it must return a model or an error, never panic, and allocate
// within a bound linear in the input.
func FuzzImportKeras(f *testing.F) {
	for _, name := range []string{"testdata/keras/tiny_keras2.h5", "testdata/keras/nested_container.keras"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// What ExportKeras writes: HDF5 of version 2, the attribute convnet.
	m := New(&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}}, &nn.BatchNormalization{}, &nn.Flatten{}, &nn.Dense{Units: 3, Activation: "softmax"})
	if err := m.Build([]int{5, 5, 1}, 1); err != nil {
		f.Fatal(err)
	}
	m.ClassNames, m.Standardizer = []string{"a", "b", "c"}, &data.Standardizer{Rescale: 0.5}
	var b bytes.Buffer
	if err := ExportKeras(&b, m, KerasExportOptions{}); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		ImportKeras(bytes.NewReader(b), int64(len(b)), KerasImportOptions{})
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > 64*uint64(len(b))+32<<20 {
			t.Errorf("an input of %d bytes allocated %d bytes", len(b), n)
		}
	})
}
