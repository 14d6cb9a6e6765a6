package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// TestLayerNormalizationTorch checks a LayerNormalization over the
// channels and one over the whole sample against PyTorch's F.layer_norm
// (eps 1e-3) on one NHWC image of 2×2×3, gamma 0.5 + 0.25·i and beta
// 0.25 - 0.125·i, the values printed by torch 2 in float64:
//
//	y = F.layer_norm(x, shape, g, b, eps=1e-3); y.backward(dy)
//
// with shape (3,) and (2, 2, 3). Within 2e-6: the layer computes in
// float32.
func TestLayerNormalizationTorch(t *testing.T) {
	x := []float32{-2, 1.5, 0.5, -0.75, -0.25, -3, 3, -0.5, -1, 2, 0, -1.25}
	dy := []float32{1, 2, -2, 1, 0.5, -0.5, 0.25, 1.5, 3, -1, -1, 4}
	for _, tt := range []struct {
		axis             []int
		y, dx, dg, dbeta []float64
	}{
		{nil,
			[]float64{-0.4292095, 0.8891107, 0.3396047, 0.4937714, 0.8040774, -1.392979, 0.9523285, -0.2963971, -0.8427942, 0.9035191, -0.01503981, -1.120318},
			[]float64{0.3918275, 0.9796472, -1.371475, 0.1395885, -0.1138837, -0.02570481, 0.05951155, -0.477977, 0.4184655, 0.567213, -1.476983, 0.9097698},
			[]float64{-1.82675, 1.834272, -6.992376},
			[]float64{1.25, 3, 4.5}},
		{[]int{1, 2, 3},
			[]float64{-0.3204517, 0.884534, 0.3973933, -0.5896938, -0.3461435, -3.448389, 3.37138, -1.115332, -2.063962, 2.756021, -0.7307981, -3.333097},
			[]float64{-1.598044, 0.7029211, -1.932307, -0.5345383, -0.601391, -2.92572, 0.8100223, 0.8934172, 3.1908, -1.671377, -2.788433, 6.45465},
			[]float64{-1.140903, 2.025424, -0.7947866, -0.371755, -0.03204785, 0.878111, 0.4839225, -0.326888, -1.576754, -1.320371, -0.08973397, -2.717657},
			[]float64{1, 2, -2, 1, 0.5, -0.5, 0.25, 1.5, 3, -1, -1, 4}},
	} {
		checkTorch(t, fmt.Sprintf("axis %v", tt.axis), &nn.LayerNormalization{Axis: tt.axis}, []int{2, 2, 3}, x, dy, [][]float64{tt.y, tt.dx, tt.dg, tt.dbeta})
	}
}

// checkTorch builds the normalization l for one sample of shape in, sets
// gamma to 0.5 + 0.25·i and beta to 0.25 - 0.125·i, runs Forward on x and
// Backward on dy, and compares y, dx, gamma's and beta's gradients with
// PyTorch's, within 2e-6 (the layer computes in float32).
func checkTorch(t *testing.T, what string, l nn.Layer, in []int, x, dy []float32, want [][]float64) {
	t.Helper()
	if _, err := l.Build(in, nil); err != nil {
		t.Fatal(err)
	}
	gamma, beta := l.Params()[0], l.Params()[1]
	for i := range gamma.Value.Data {
		gamma.Value.Data[i], beta.Value.Data[i] = 0.5+0.25*float32(i), 0.25-0.125*float32(i)
	}
	shape := append([]int{1}, in...)
	y := l.Forward(&tensor.Tensor{Shape: shape, Data: x}, true)
	dx := l.Backward(&tensor.Tensor{Shape: shape, Data: dy})
	got := [][]float32{y.Data, dx.Data, gamma.Grad.Data, beta.Grad.Data}
	for k, name := range []string{"y", "dx", "dgamma", "dbeta"} {
		for i, w := range want[k] {
			if math.Abs(float64(got[k][i])-w) > 2e-6*math.Max(1, math.Abs(w)) {
				t.Errorf("%s: %s = %v,\nPyTorch's %v", what, name, got[k], want[k])
				break
			}
		}
	}
}

// TestLayerNormalizationAxes checks choices of axes of an image against the
// definition computed here in float64 from each value's coordinates, and
// that GOMAXPROCS 1 and all give the same bits.
func TestLayerNormalizationAxes(t *testing.T) {
	in := []int{6, 7, 5}
	const n = 200 // samples: several pieces of splitGrain values
	rng := rand.New(rand.NewPCG(3, 4))
	x, dy := tensor.New(append([]int{n}, in...)...), tensor.New(append([]int{n}, in...)...)
	for i := range x.Data {
		x.Data[i], dy.Data[i] = float32(3+2*rng.NormFloat64()), float32(rng.NormFloat64())
	}
	for _, axis := range [][]int{nil, {1}, {2}, {1, 2}, {2, 3}, {1, 3}, {3, 1, 2}, {-3}} {
		var runs [][]float32
		for _, procs := range []int{1, runtime.GOMAXPROCS(0)} {
			prev := runtime.GOMAXPROCS(procs)
			l := &nn.LayerNormalization{Axis: axis, Epsilon: 1e-4}
			if _, err := l.Build(in, nil); err != nil {
				t.Fatal(err)
			}
			gamma := l.Params()[0]
			for i := range gamma.Value.Data {
				gamma.Value.Data[i] = float32(i%5) - 1.5
			}
			y := l.Forward(x, true).Clone()
			dx := l.Backward(dy).Clone()
			runtime.GOMAXPROCS(prev)
			runs = append(runs, slices.Concat(y.Data, dx.Data, gamma.Grad.Data, l.Params()[1].Grad.Data))
			if procs == 1 {
				checkLayerNorm(t, axis, in, x.Data, y.Data, gamma.Value.Data)
			}
		}
		if !slices.Equal(runs[0], runs[1]) {
			t.Errorf("axis %v: GOMAXPROCS %d gives other bits than 1", axis, runtime.GOMAXPROCS(0))
		}
	}
}

// checkLayerNorm compares y with the definition, each value's group and
// gamma found from its coordinates.
func checkLayerNorm(t *testing.T, axis, in []int, x, y, gamma []float32) {
	t.Helper()
	norm := make([]bool, 3)
	if axis == nil {
		axis = []int{-1}
	}
	for _, a := range axis {
		if a < 0 {
			a += 4
		}
		norm[a-1] = true
	}
	size := in[0] * in[1] * in[2]
	key := func(s, i int, kept bool) int { // the group (kept) or gamma's index of value i of sample s
		c, k := []int{i / (in[1] * in[2]), i / in[2] % in[1], i % in[2]}, 0
		for a := range 3 {
			if norm[a] != kept {
				k = k*in[a] + c[a]
			}
		}
		if kept {
			k += s * size
		}
		return k
	}
	sum, sq, cnt := map[int]float64{}, map[int]float64{}, map[int]float64{}
	for i, v := range x {
		k := key(i/size, i%size, true)
		sum[k] += float64(v)
		cnt[k]++
	}
	for i, v := range x {
		k := key(i/size, i%size, true)
		d := float64(v) - sum[k]/cnt[k]
		sq[k] += d * d
	}
	for i, v := range x {
		k := key(i/size, i%size, true)
		want := (float64(v) - sum[k]/cnt[k]) / math.Sqrt(sq[k]/cnt[k]+1e-4) * float64(gamma[key(0, i%size, false)])
		if math.Abs(float64(y[i])-want) > 1e-5*math.Max(1, math.Abs(want)) {
			t.Fatalf("axis %v: y[%d] = %v, want %v", axis, i, y[i], want)
		}
	}
}

// TestLayerNormalizationErrors checks the messages of what a
// LayerNormalization cannot be.
func TestLayerNormalizationErrors(t *testing.T) {
	for _, tt := range []struct {
		l    *nn.LayerNormalization
		in   []int
		want string
	}{
		{&nn.LayerNormalization{Axis: []int{0}}, []int{4, 4, 3}, "LayerNormalization: axis [0]: 0 is not an axis of the input [4 4 3] (1 to 3, or -1 to -3 from the end; the batch axis 0 cannot be normalised)"},
		{&nn.LayerNormalization{Axis: []int{4}}, []int{4, 4, 3}, "axis [4]: 4 is not an axis"},
		{&nn.LayerNormalization{Axis: []int{-4}}, []int{4, 4, 3}, "axis [-4]: -4 is not an axis"},
		{&nn.LayerNormalization{Axis: []int{2}}, []int{10}, "axis [2]: 2 is not an axis of the input [10]"},
		{&nn.LayerNormalization{Axis: []int{3, -1}}, []int{4, 4, 3}, "axis [3 -1]: axis -1 is listed twice"},
		{&nn.LayerNormalization{Axis: []int{}}, []int{4}, "axis []: want at least one axis"},
		{&nn.LayerNormalization{Epsilon: -1}, []int{4}, "LayerNormalization: epsilon = -1: must be a positive number"},
		{&nn.LayerNormalization{Epsilon: math.NaN()}, []int{4}, "epsilon = NaN"},
		{&nn.LayerNormalization{}, []int{}, "input shape []: want at least one positive axis"},
		{&nn.LayerNormalization{}, []int{0, 3}, "input shape [0 3]"},
	} {
		if _, err := tt.l.Build(tt.in, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v.Build(%v): %v, want %q", tt.l, tt.in, err, tt.want)
		}
	}
}

// TestLayerNormalizationConfig reads axis as Keras writes it, a number or
// a list, and refuses an epsilon of 0, which Keras's own layer would take.
func TestLayerNormalizationConfig(t *testing.T) {
	for _, tt := range []struct {
		cfg  map[string]any
		want nn.LayerNormalization
	}{
		{map[string]any{"axis": -1.0}, nn.LayerNormalization{Axis: []int{-1}}},
		{map[string]any{"axis": []any{1.0, 2.0, 3.0}, "epsilon": 1e-5}, nn.LayerNormalization{Axis: []int{1, 2, 3}, Epsilon: 1e-5}},
		{map[string]any{"center": false, "scale": true}, nn.LayerNormalization{NoCenter: true}},
		{map[string]any{"scale": false}, nn.LayerNormalization{NoScale: true}},
	} {
		l, err := nn.FromConfig("LayerNormalization", tt.cfg)
		if err != nil {
			t.Fatalf("%v: %v", tt.cfg, err)
		}
		got := l.(*nn.LayerNormalization)
		if !slices.Equal(got.Axis, tt.want.Axis) || got.Epsilon != tt.want.Epsilon || got.NoCenter != tt.want.NoCenter || got.NoScale != tt.want.NoScale {
			t.Errorf("%v: %+v, want %+v", tt.cfg, got, tt.want)
		}
	}
	for cfg, want := range map[string]map[string]any{
		`field "epsilon": want a positive number`: {"epsilon": 0.0},
		`field "axis": want a list of integers`:   {"axis": "last"},
		`field "center": want true or false`:      {"center": 1.0},
	} {
		if _, err := nn.FromConfig("LayerNormalization", want); err == nil || !strings.Contains(err.Error(), cfg) {
			t.Errorf("%v: %v, want %q", want, err, cfg)
		}
	}
}
