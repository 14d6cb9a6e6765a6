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

// TestGroupNormalizationTorch checks two and four groups against
// PyTorch's F.group_norm (eps 1e-3) on one NHWC image of 2×2×4 (permuted
// to NCHW for PyTorch), gamma 0.5 + 0.25·c and beta 0.25 - 0.125·c, the
// values printed by torch in float64:
//
//	y = F.group_norm(x, G, g, b, eps=1e-3); y.backward(dy)
//
// Within 2e-6: the layer computes in float32.
func TestGroupNormalizationTorch(t *testing.T) {
	x := []float32{-2, 1.5, 0.5, -0.75, -0.25, -3, 3, -0.5, -1, 2, 0, -1.25, 0.75, 1, -1.5, 2.5}
	dy := []float32{1, 2, -2, 1, 0.5, -0.5, 0.25, 1.5, 3, -1, -1, 4, -0.25, 0.5, 2, -3}
	for _, tt := range []struct {
		groups           int
		y, dx, dg, dbeta []float64
	}{
		{2,
			[]float64{-0.318469, 0.8640097, 0.1595849, -0.9229243, 0.2121021, -1.182479, 1.755433, -0.7234432, -0.01528553, 1.091397, -0.1595849, -1.321886, 0.5152855, 0.6366221, -1.117094, 1.67033},
			[]float64{0.08282095, 0.6937601, -1.389896, -0.1954458, -0.06648468, -0.4490565, 1.806674, 0.3795469, 0.6904942, -0.6699123, -1.103618, 1.846266, -0.2925659, 0.01094412, -0.2447832, -1.098745},
			[]float64{-2.899192, 1.894897, -1.954914, -9.495299},
			[]float64{4.25, 1, -0.75, 3.5}},
		{4,
			[]float64{-0.4318554, 0.5510019, 0, -0.7632944, 0.4359606, -1.153006, 1.54274, -0.5505296, 0.06403943, 0.7403361, -0.3085479, -1.188824, 0.9318554, 0.3616677, -1.234192, 2.002648},
			[]float64{-0.4763834, 0.5914046, -1.118486, -0.9292094, -0.1574709, -0.07020622, 0.6922354, -0.1584825, 0.8393263, -0.5762738, -0.5858416, 0.9335737, -0.205472, 0.05507542, 1.012092, 0.1541183},
			[]float64{-2.634441, 1.325339, -1.774151, -9.531863},
			[]float64{4.25, 1, -0.75, 3.5}},
	} {
		checkTorch(t, fmt.Sprintf("%d groups", tt.groups), &nn.GroupNormalization{Groups: tt.groups}, []int{2, 2, 4}, x, dy, [][]float64{tt.y, tt.dx, tt.dg, tt.dbeta})
	}
}

// TestGroupNormalizationIsLayerNorm checks one group against a layer
// normalization of the whole image whose gamma and beta repeat the
// channels' at every pixel, and one group per channel against a layer
// normalization over the rows and columns (gamma and beta ones and zeros):
// the same outputs and input gradients, over 200 samples in pieces on the
// cores; and that GOMAXPROCS 1 and all give the same bits.
func TestGroupNormalizationIsLayerNorm(t *testing.T) {
	in := []int{6, 7, 5}
	const n = 200
	rng := rand.New(rand.NewPCG(5, 6))
	x, dy := tensor.New(append([]int{n}, in...)...), tensor.New(append([]int{n}, in...)...)
	for i := range x.Data {
		x.Data[i], dy.Data[i] = float32(3+2*rng.NormFloat64()), float32(rng.NormFloat64())
	}
	for _, tt := range []struct {
		groups int
		axis   []int
	}{{1, []int{1, 2, 3}}, {-1, []int{1, 2}}} {
		var runs [][]float32
		for _, procs := range []int{1, runtime.GOMAXPROCS(0)} {
			prev := runtime.GOMAXPROCS(procs)
			g := &nn.GroupNormalization{Groups: tt.groups, Epsilon: 1e-4}
			if _, err := g.Build(in, nil); err != nil {
				t.Fatal(err)
			}
			if tt.groups == 1 {
				for i := range 5 {
					g.Params()[0].Value.Data[i], g.Params()[1].Value.Data[i] = float32(i)-1.5, 0.25*float32(i)
				}
			}
			y := g.Forward(x, true).Clone()
			dx := g.Backward(dy).Clone()
			runtime.GOMAXPROCS(prev)
			runs = append(runs, slices.Concat(y.Data, dx.Data, g.Params()[0].Grad.Data, g.Params()[1].Grad.Data))
		}
		if !slices.Equal(runs[0], runs[1]) {
			t.Errorf("%d groups: GOMAXPROCS %d gives other bits than 1", tt.groups, runtime.GOMAXPROCS(0))
		}
		l := &nn.LayerNormalization{Axis: tt.axis, Epsilon: 1e-4}
		if _, err := l.Build(in, nil); err != nil {
			t.Fatal(err)
		}
		if tt.groups == 1 {
			for i := range l.Params()[0].Value.Data {
				c := i % 5
				l.Params()[0].Value.Data[i], l.Params()[1].Value.Data[i] = float32(c)-1.5, 0.25*float32(c)
			}
		}
		y := l.Forward(x, true).Clone()
		dx := l.Backward(dy)
		size := len(y.Data)
		for i, want := range slices.Concat(y.Data, dx.Data) {
			if got := runs[0][i]; math.Abs(float64(got-want)) > 2e-5*math.Max(1, math.Abs(float64(want))) {
				what := map[bool]string{true: "y", false: "dx"}[i < size]
				t.Fatalf("%d groups: %s[%d] = %v, the layer normalization's %v", tt.groups, what, i%size, got, want)
			}
		}
	}
}

// TestGroupNormalizationErrors checks the messages of what a
// GroupNormalization cannot be.
func TestGroupNormalizationErrors(t *testing.T) {
	for _, tt := range []struct {
		l    *nn.GroupNormalization
		in   []int
		want string
	}{
		{&nn.GroupNormalization{}, []int{4, 4, 16}, "GroupNormalization: groups = 32 (the default): want a divisor of the input's 16 channels, or -1 for one group per channel"},
		{&nn.GroupNormalization{Groups: 3}, []int{4, 4, 16}, "groups = 3: want a divisor of the input's 16 channels"},
		{&nn.GroupNormalization{Groups: -2}, []int{4}, "groups = -2"},
		{&nn.GroupNormalization{Groups: 2, Axis: 1}, []int{4, 4, 2}, "axis 1: convnet normalises groups of the last axis, the channels (-1 or 3 of the input [4 4 2])"},
		{&nn.GroupNormalization{Groups: 2, Axis: -2}, []int{4, 4, 2}, "axis -2"},
		{&nn.GroupNormalization{Groups: 1, Epsilon: -1}, []int{4}, "epsilon = -1: must be a positive number"},
		{&nn.GroupNormalization{Groups: 1}, []int{}, "input shape []: want at least one positive axis"},
	} {
		if _, err := tt.l.Build(tt.in, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v.Build(%v): %v, want %q", tt.l, tt.in, err, tt.want)
		}
	}
	l := &nn.GroupNormalization{Groups: 2, Axis: 3}
	if _, err := l.Build([]int{4, 4, 2}, nil); err != nil {
		t.Errorf("axis 3 of a [4 4 2] input, the channels: %v", err)
	}
}
