package nn_test

import (
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// batches yields x cut into batches of n samples.
func batches(x *tensor.Tensor, n int) iter.Seq[*tensor.Tensor] {
	return func(yield func(*tensor.Tensor) bool) {
		per := len(x.Data) / max(x.Shape[0], 1)
		for lo := 0; lo < x.Shape[0]; lo += n {
			hi := min(lo+n, x.Shape[0])
			b := &tensor.Tensor{Shape: append([]int{hi - lo}, x.Shape[1:]...), Data: x.Data[lo*per : hi*per]}
			if !yield(b) {
				return
			}
		}
	}
}

func forward(t *testing.T, l *nn.Normalization, in []int, x ...float32) []float32 {
	t.Helper()
	s := tensor.Size(in)
	return slices.Clone(l.Forward(&tensor.Tensor{Shape: append([]int{len(x) / s}, in...), Data: x}, false).Data)
}

// TestNormalizationKeras checks the examples of Keras's Normalization
// documentation, whose outputs Keras prints: axis=None adapted on 1..5,
// the last axis adapted on four rows, mean and variance given, and the
// inverse.
func TestNormalizationKeras(t *testing.T) {
	five := &tensor.Tensor{Shape: []int{5, 1}, Data: []float32{1, 2, 3, 4, 5}}
	rows := &tensor.Tensor{Shape: []int{4, 3}, Data: []float32{0, 7, 4, 2, 9, 6, 0, 7, 4, 2, 9, 6}}
	tests := []struct {
		name  string
		l     *nn.Normalization
		in    []int
		adapt *tensor.Tensor
		x     []float32
		want  []float32
	}{
		{"axis=None", &nn.Normalization{Axis: []int{}}, []int{1}, five, []float32{1, 2, 3}, []float32{-1.4142135, -0.70710677, 0}},
		{"axis=-1", &nn.Normalization{}, []int{3}, rows, []float32{0, 7, 4}, []float32{-1, -1, -1}},
		{"given", &nn.Normalization{Mean: []float64{3}, Variance: []float64{2}}, []int{1}, nil, []float32{1, 2, 3}, []float32{-1.4142135, -0.70710677, 0}},
		{"invert", &nn.Normalization{Invert: true}, []int{3}, rows, []float32{1, 2, 3}, []float32{2, 10, 8}},
	}
	for _, tt := range tests {
		if _, err := tt.l.Build(tt.in, nil); err != nil {
			t.Fatal(err)
		}
		if tt.l.Adapted() != (tt.adapt == nil) {
			t.Errorf("%s: Adapted() = %v before adapt", tt.name, tt.l.Adapted())
		}
		if tt.adapt != nil {
			if err := tt.l.Adapt(batches(tt.adapt, 2)); err != nil {
				t.Fatal(err)
			}
		}
		if got := forward(t, tt.l, tt.in, tt.x...); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, Keras gives %v", tt.name, got, tt.want)
		}
	}
}

// TestNormalizationAdapt checks the adapted statistics of each choice of
// axes of an image against the mean and the population variance computed
// here in float64 in two passes, whatever the batches' sizes; then the
// output, the values the statistics' shape gives, and that the gradient is
// dy over the divisor.
func TestNormalizationAdapt(t *testing.T) {
	in := []int{4, 5, 3}
	const n = 37
	rng := rand.New(rand.NewPCG(5, 6))
	x := tensor.New(append([]int{n}, in...)...)
	for i := range x.Data {
		x.Data[i] = float32(3 + 2*rng.NormFloat64() + float64(i%3))
	}
	for _, axis := range [][]int{nil, {}, {1}, {2}, {-1, 1}, {1, 2, 3}, {-2}} {
		l := &nn.Normalization{Axis: axis}
		if _, err := l.Build(in, nil); err != nil {
			t.Fatal(err)
		}
		shape := l.StatsShape()
		k := tensor.Size(shape)
		if p := l.Params(); len(p) != 3 || !slices.Equal(p[0].Value.Shape, shape) || p[0].Trainable || p[1].Trainable {
			t.Fatalf("axis %v: parameters %v", axis, p)
		}
		// The statistic of each value, from its coordinates.
		stat := func(i int) int {
			c := []int{i / (in[1] * in[2]) % in[0], i / in[2] % in[1], i % in[2]}
			off := 0
			for a := range in {
				off = off*shape[a] + c[a]%shape[a]
			}
			return off
		}
		sum, cnt := make([]float64, k), make([]float64, k)
		for i, v := range x.Data {
			sum[stat(i)] += float64(v)
			cnt[stat(i)]++
		}
		mean, variance := make([]float64, k), make([]float64, k)
		for j := range mean {
			mean[j] = sum[j] / cnt[j]
		}
		for i, v := range x.Data {
			d := float64(v) - mean[stat(i)]
			variance[stat(i)] += d * d / cnt[stat(i)]
		}
		for _, size := range []int{n, 1, 5} {
			if err := l.Adapt(batches(x, size)); err != nil {
				t.Fatal(err)
			}
			m, v := l.Stats()
			for j := range mean {
				if math.Abs(float64(m[j])-mean[j]) > 1e-6*math.Abs(mean[j]) || math.Abs(float64(v[j])-variance[j]) > 1e-6*variance[j] {
					t.Fatalf("axis %v, batches of %d: statistic %d: mean %v variance %v, want %v %v", axis, size, j, m[j], v[j], mean[j], variance[j])
				}
			}
			if c := l.Params()[2].Value.Data[0]; c != float32(cnt[0]) || !l.Adapted() {
				t.Errorf("axis %v: count %v, want %v", axis, c, cnt[0])
			}
		}
		m, v := l.Stats()
		y := l.Forward(x, true)
		dy := tensor.New(x.Shape...)
		for i := range dy.Data {
			dy.Data[i] = float32(i%7) - 3
		}
		dx := l.Backward(dy)
		for i, xv := range x.Data {
			j := stat(i)
			sd := float32(math.Sqrt(float64(v[j])))
			if want := (xv - m[j]) / sd; y.Data[i] != want {
				t.Fatalf("axis %v: y[%d] = %v, want %v", axis, i, y.Data[i], want)
			}
			if want := dy.Data[i] / sd; dx.Data[i] != want {
				t.Fatalf("axis %v: dx[%d] = %v, want %v", axis, i, dx.Data[i], want)
			}
		}
	}
}

// TestNormalizationGiven checks given statistics: one value for all, one
// per channel repeated along the rows and columns of axes (1, 2, 3), a
// variance of 0 dividing by Keras's 1e-7, and that the layer then has no
// parameters and nothing to adapt.
func TestNormalizationGiven(t *testing.T) {
	l := &nn.Normalization{Axis: []int{1, 2, 3}, Mean: []float64{1, 2}, Variance: []float64{4, 0}}
	if _, err := l.Build([]int{2, 1, 2}, nil); err != nil {
		t.Fatal(err)
	}
	if len(l.Params()) != 0 || !slices.Equal(l.StatsShape(), []int{2, 1, 2}) {
		t.Fatalf("params %v, statistics of shape %v", l.Params(), l.StatsShape())
	}
	got := forward(t, l, []int{2, 1, 2}, 3, 2, -1, 2.5)
	if want := []float32{1, 0, -1, 0.5e7}; !slices.Equal(got, want) {
		t.Errorf("%v, want %v", got, want)
	}
	if err := l.Adapt(batches(tensor.New(1, 2, 1, 2), 1)); err == nil || !strings.Contains(err.Error(), "were given") {
		t.Errorf("adapting given statistics: %v", err)
	}
	// Statistics of the last kept axes, repeated, against the same written
	// out for every index, on each choice of axes of [3 4 2].
	in := []int{3, 4, 2}
	x := tensor.New(5, 3, 4, 2)
	for i := range x.Data {
		x.Data[i] = float32(i%11) - 4
	}
	for _, tt := range []struct {
		axis  []int
		tails []int
	}{{[]int{1, 2, 3}, []int{1, 2, 8, 24}}, {[]int{1, 3}, []int{1, 2, 6}}, {[]int{2}, []int{1, 4}}, {[]int{1, 2}, []int{1, 4, 12}}} {
		kept := 1
		for _, a := range tt.axis {
			kept *= in[a-1]
		}
		for _, tail := range tt.tails {
			short := &nn.Normalization{Axis: tt.axis, Invert: tail%2 == 0}
			full := &nn.Normalization{Axis: tt.axis, Invert: short.Invert}
			for i := range kept {
				if i < tail {
					short.Mean, short.Variance = append(short.Mean, float64(i)-1.5), append(short.Variance, float64(i*i)+0.5)
				}
				full.Mean, full.Variance = append(full.Mean, float64(i%tail)-1.5), append(full.Variance, float64(i%tail*(i%tail))+0.5)
			}
			for _, l := range []*nn.Normalization{short, full} {
				if _, err := l.Build(in, nil); err != nil {
					t.Fatal(err)
				}
			}
			a, b := slices.Clone(short.Forward(x, false).Data), full.Forward(x, false).Data
			if !slices.Equal(a, b) {
				t.Errorf("axis %v, %d values repeated: %v, written out %v", tt.axis, tail, a[:8], b[:8])
			}
		}
	}
}

// TestNormalizationErrors checks that bad settings and bad data are refused
// with what is wrong.
func TestNormalizationErrors(t *testing.T) {
	in := []int{4, 4, 3}
	for _, tt := range []struct {
		l    *nn.Normalization
		want string
	}{
		{&nn.Normalization{Axis: []int{0}}, "batch axis 0"},
		{&nn.Normalization{Axis: []int{4}}, "4 is not an axis"},
		{&nn.Normalization{Axis: []int{-4}}, "-4 is not an axis"},
		{&nn.Normalization{Axis: []int{3, -1}}, "listed twice"},
		{&nn.Normalization{Mean: []float64{1, 2, 3}}, "give both"},
		{&nn.Normalization{Mean: []float64{1, 2}, Variance: []float64{1, 1}}, "mean has 2 values, the kept axes of sizes [3] take 1 or 3"},
		{&nn.Normalization{Axis: []int{1, 3}, Mean: []float64{1}, Variance: make([]float64, 4)}, "variance has 4 values, the kept axes of sizes [4 3] take 1, 3 or 12"},
		{&nn.Normalization{Mean: []float64{0}, Variance: []float64{-1}}, "variance[0] = -1: want a finite number ≥ 0"},
		{&nn.Normalization{Mean: []float64{math.NaN()}, Variance: []float64{1}}, "mean[0] = NaN"},
	} {
		tt.l.SetName("norm")
		if _, err := tt.l.Build(in, nil); err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "norm") {
			t.Errorf("%+v: %v, want an error naming the layer with %q", tt.l, err, tt.want)
		}
	}
	l := &nn.Normalization{}
	if err := l.Adapt(batches(tensor.New(1, 4, 4, 3), 1)); err == nil || !strings.Contains(err.Error(), "before Build") {
		t.Errorf("adapt before Build: %v", err)
	}
	if _, err := l.Build(in, nil); err != nil {
		t.Fatal(err)
	}
	bad := tensor.New(3, 4, 4, 3)
	bad.Data[2*48+5] = float32(math.Inf(1))
	for _, tt := range []struct {
		x    iter.Seq[*tensor.Tensor]
		want string
	}{
		{batches(tensor.New(2, 4, 3, 3), 1), "batch 0 has shape [1 4 3 3], want [N [4 4 3]]"},
		{batches(bad, 2), "batch 1, sample 0: value 5 is +Inf"},
		{batches(tensor.New(0, 4, 4, 3), 1), "no data"},
	} {
		if err := l.Adapt(tt.x); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v, want %q", err, tt.want)
		}
	}
	if l.Adapted() {
		t.Error("a failed adapt marked the layer adapted")
	}
}

// TestNormalizationConfig checks the configs Keras writes: axis a list, one
// integer or null (None: one mean for all), mean and variance nested lists.
func TestNormalizationConfig(t *testing.T) {
	for _, tt := range []struct {
		cfg  map[string]any
		axis []int
		mean []float64
	}{
		{map[string]any{"axis": []any{-1.0}, "invert": false, "mean": nil, "variance": nil}, []int{-1}, nil},
		{map[string]any{"axis": -1.0}, []int{-1}, nil},
		{map[string]any{}, nil, nil},
		{map[string]any{"axis": nil}, []int{}, nil},
		{map[string]any{"axis": []any{}}, []int{}, nil},
		{map[string]any{"axis": []any{1.0, 2.0}, "mean": []any{[]any{1.0, 2.0}, []any{3.0, 4.0}}, "variance": []any{[]any{1.0, 1.0}, []any{1.0, 1.0}}},
			[]int{1, 2}, []float64{1, 2, 3, 4}},
	} {
		l, err := nn.FromConfig("Normalization", tt.cfg)
		if err != nil {
			t.Fatal(err)
		}
		n := l.(*nn.Normalization)
		if !slices.Equal(n.Axis, tt.axis) || (n.Axis == nil) != (tt.axis == nil) || !slices.Equal(n.Mean, tt.mean) {
			t.Errorf("%v: axis %#v mean %v, want %#v %v", tt.cfg, n.Axis, n.Mean, tt.axis, tt.mean)
		}
	}
	l := &nn.Normalization{Axis: []int{1, 2}, Mean: []float64{1, 2, 3, 4}, Variance: []float64{1, 1, 1, 1}}
	if _, err := l.Build([]int{2, 2, 3}, nil); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(l.Config()["mean"]); got != "[[1 2] [3 4]]" {
		t.Errorf("mean of axes (1, 2) written as %s, want [[1 2] [3 4]] as numpy's tolist", got)
	}
	if _, err := nn.FromConfig("Normalization", map[string]any{"mean": []any{"a"}}); err == nil || !strings.Contains(err.Error(), `field "mean"`) {
		t.Errorf("a mean of strings: %v", err)
	}
}
