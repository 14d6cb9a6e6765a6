package model

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// exportBytes returns m exported to ONNX.
func exportBytes(t testing.TB, m *Sequential) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := ExportONNX(&b, m, ONNXExportOptions{ProducerVersion: "test"}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func importBytes(b []byte, opts ONNXImportOptions) (*Sequential, error) {
	return ImportONNX(bytes.NewReader(b), opts)
}

// rawProbabilities applies m's Standardizer to raw images x and returns
// the class probabilities, as convnet predict does.
func rawProbabilities(m *Sequential, x *tensor.Tensor) *tensor.Tensor {
	in := x.Clone()
	if m.Standardizer != nil {
		m.Standardizer.Apply(in, x)
	}
	n := x.Shape[0]
	p := tensor.New(n, m.NumClasses())
	for lo := 0; lo < n; lo += 256 {
		hi := min(lo+256, n)
		m.Predict(p.Slice(lo, hi), in.Slice(lo, hi))
	}
	return p
}

// mixed is a model with most layer types (two Rescalings, with and without an offset, two PReLUs), zero padding, even kernels and strides with
// "same" padding, folded and separate activations, and channel
// standardization.
func mixed(t testing.TB) *Sequential {
	m := New(
		&nn.Conv2D{Filters: 4, KernelSize: pair(4), Strides: pair(2), Padding: "same", Activation: "leaky_relu"},
		&nn.BatchNormalization{Epsilon: 0.01},
		&nn.ELU{Alpha: 0.7},
		&nn.DepthwiseConv2D{KernelSize: pair(3), Padding: "same", DepthMultiplier: 2, Activation: "relu"},
		&nn.Rescaling{Scale: 1.5, Offset: -0.25},
		&nn.Normalization{Axis: []int{1, 3}},
		&nn.PReLU{SharedAxes: []int{1, 2}, AlphaInit: 0.25},
		&nn.ZeroPadding2D{Padding: [2][2]int{{0, 1}, {2, 1}}},
		&nn.MaxPool2D{PoolSize: pair(2), Strides: pair(1), Padding: "same"},
		&nn.SpatialDropout2D{Rate: 0.1},
		&nn.GaussianNoise{Stddev: 0.1},
		&nn.Conv2D{Filters: 3, KernelSize: [2]int{3, 2}, Activation: "sigmoid", NoBias: true},
		&nn.AveragePooling2D{PoolSize: pair(3), Strides: pair(2), Padding: "same"},
		&nn.LeakyReLU{Alpha: 0.05},
		&nn.Activation{Func: "gelu"},
		&nn.ReLU{MaxValue: 0.5},
		&nn.Activation{Func: "mish"},
		&nn.Flatten{},
		&nn.Normalization{Invert: true},
		&nn.Dropout{Rate: 0.5},
		&nn.PReLU{AlphaInit: -0.1},
		&nn.Dense{Units: 6, Activation: "selu"},
		&nn.AlphaDropout{Rate: 0.2},
		&nn.GaussianDropout{Rate: 0.2},
		&nn.Rescaling{Scale: 0.5},
		&nn.BatchNormalization{},
		&nn.Activation{Func: "elu"},
		&nn.Dense{Units: 3},
	)
	if err := m.Build([]int{11, 10, 2}, 4); err != nil {
		t.Fatal(err)
	}
	randomStats(m, 1)
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255, FeaturewiseStd: true, Mean: []float32{0.3, 0.6}, Std: []float32{0.2, 0.4}}
	m.ClassNames = []string{"x", "y", "z"}
	return m
}

// randomStats gives the batch normalization layers of m random moving
// means and variances, as training would, and its Normalization layers
// random statistics, as adapting would.
func randomStats(m *Sequential, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 2))
	for _, p := range m.Params() {
		if p.Name == "moving_variance" || p.Name == "variance" || p.Name == "count" {
			for i := range p.Value.Data {
				p.Value.Data[i] = float32(0.5 + rng.Float64())
			}
		} else if !p.Trainable {
			for i := range p.Value.Data {
				p.Value.Data[i] = float32(rng.NormFloat64() * 0.2)
			}
		}
	}
}

// TestONNXRoundTrip exports models, imports them back and compares the
// predictions: export then import gives back the same computation.
func TestONNXRoundTrip(t *testing.T) {
	type testCase struct {
		name string
		m    *Sequential
		x    *tensor.Tensor // raw pixels
	}
	mx := mixed(t)
	cases := []testCase{{"mixed", mx, randomPixels(mx, 64)}}
	// The built-in models on their test sets: long, so neither in -race
	// builds nor on the generic kernels (scripts/test runs them in its pass
	// without the race detector).
	if dir := os.Getenv("CONVNET_DATA"); dir != "" && !raceEnabled && !puregoBuild {
		for _, name := range []string{"ahcd", "mnist"} {
			m, err := Load(filepath.Join("pretrained", name+".safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			var test *data.Dataset
			if name == "ahcd" {
				_, test, err = data.LoadAHCD(context.Background(), filepath.Join(dir, "ahcd", "ahcd_csv.zip"), nil)
			} else {
				_, test, err = data.LoadMNIST(context.Background(), filepath.Join(dir, "mnist"), nil)
				test = test.Subset(tensorRange(3000)) // the first 3,000 of 10,000
			}
			if err != nil {
				t.Fatal(err)
			}
			cases = append(cases, testCase{"builtin-" + name, m, test.Tensor()})
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { roundTrip(t, tc.m, tc.x) })
	}
}

// roundTrip exports m, imports it back and compares the predictions on the
// raw images x: export then import gives back the same computation. It
// returns the imported model.
func roundTrip(t *testing.T, m *Sequential, x *tensor.Tensor) *Sequential {
	t.Helper()
	b := exportBytes(t, m)
	got, err := importBytes(b, ONNXImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.ClassNames, m.ClassNames) || !slices.Equal(got.InputShape(), m.InputShape()) {
		t.Errorf("classes %v input %v, want %v %v", got.ClassNames, got.InputShape(), m.ClassNames, m.InputShape())
	}
	wf, err := m.Framing()
	if err != nil {
		t.Fatal(err)
	}
	if gf, err := got.Framing(); err != nil || gf != wf {
		t.Errorf("framing %+v (%v), want %+v", gf, err, wf)
	}
	want, have := rawProbabilities(m, x), rawProbabilities(got, x)
	worst := 0.0
	for i, v := range want.Data {
		worst = max(worst, math.Abs(float64(v)-float64(have.Data[i])))
	}
	t.Logf("%d layers -> %d; max |difference| over %d images: %.3g", len(m.Layers), len(got.Layers), x.Shape[0], worst)
	if worst > 1e-6 {
		t.Errorf("export then import: predictions differ by %.3g, want <= 1e-6", worst)
	}
	// One round trip reaches a fixed point: the import has lost the
	// dropout and folded the final softmax into its layer, and nothing
	// else changes after that.
	b2 := exportBytes(t, got)
	again, err := importBytes(b2, ONNXImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b3 := exportBytes(t, again); !bytes.Equal(b3, b2) {
		t.Errorf("a second round trip changes the file: %d bytes, then %d", len(b2), len(b3))
	}
	return got
}

// randomPixels returns n random images of m's input shape, pixels 0..255.
func randomPixels(m *Sequential, n int) *tensor.Tensor {
	x := tensor.New(append([]int{n}, m.InputShape()...)...)
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range x.Data {
		x.Data[i] = float32(rng.IntN(256))
	}
	return x
}

func tensorRange(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// importWant imports mp: with want "", the model, failing the test on an
// error; else nil once the error holds want, failing the test otherwise.
func importWant(t *testing.T, mp *onnxpb.ModelProto, want string) *Sequential {
	t.Helper()
	got, err := importBytes(marshal(t, mp), ONNXImportOptions{})
	switch {
	case want == "" && err != nil:
		t.Fatal(err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Fatalf("ImportONNX: %v, want an error containing %q", err, want)
	case want != "":
		return nil
	}
	return got
}

// sameProbabilities checks that got predicts what m does on n random
// images, within 1e-6.
func sameProbabilities(t *testing.T, m, got *Sequential, n int) {
	t.Helper()
	x := randomPixels(m, n)
	want, have := rawProbabilities(m, x), rawProbabilities(got, x)
	for i, v := range want.Data {
		if math.Abs(float64(v-have.Data[i])) > 1e-6 {
			t.Fatalf("probabilities %v, want %v", have.Data, want.Data)
		}
	}
}

// TestImportONNXMaxBytes: a file at the limit is read, one byte more is
// not, and the largest limit there is reads any file.
func TestImportONNXMaxBytes(t *testing.T) {
	b := exportBytes(t, small(t, 1))
	for _, c := range []struct {
		limit int64
		ok    bool
	}{{int64(len(b)), true}, {int64(len(b)) - 1, false}, {math.MaxInt64, true}, {0, true}} {
		_, err := importBytes(b, ONNXImportOptions{MaxBytes: c.limit})
		if (err == nil) != c.ok {
			t.Errorf("MaxBytes %d for a file of %d bytes: error %v", c.limit, len(b), err)
		}
	}
}
