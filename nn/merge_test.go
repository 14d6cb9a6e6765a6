package nn_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

func buildInputs(t testing.TB, l nn.MultiInput, in ...[]int) nn.MultiInput {
	t.Helper()
	if _, err := l.BuildInputs(in, rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestMergeHandComputed(t *testing.T) {
	a := tensor.FromData([]float32{1, 2, 3, 4}, 2, 2)
	b := tensor.FromData([]float32{10, 20, 30, 40}, 2, 2)
	c := tensor.FromData([]float32{0, -1, 2, 0.5}, 2, 2)
	dy := tensor.FromData([]float32{1, 2, 3, 4}, 2, 2)
	tests := []struct {
		l   nn.MultiInput
		y   []float32
		dxs [][]float32
	}{
		{&nn.Add{}, []float32{11, 21, 35, 44.5}, [][]float32{{1, 2, 3, 4}, {1, 2, 3, 4}, {1, 2, 3, 4}}},
		{&nn.Average{}, []float32{11.0 / 3, 7, 35.0 / 3, 44.5 / 3},
			[][]float32{{1.0 / 3, 2.0 / 3, 1, 4.0 / 3}, {1.0 / 3, 2.0 / 3, 1, 4.0 / 3}, {1.0 / 3, 2.0 / 3, 1, 4.0 / 3}}},
		// dx_a = dy·b·c, dx_b = dy·a·c, dx_c = dy·a·b.
		{&nn.Multiply{}, []float32{0, -40, 180, 80},
			[][]float32{{0, -40, 180, 80}, {0, -4, 18, 8}, {10, 80, 270, 640}}},
		// Along the last axis: row n is a[n], b[n], c[n].
		{&nn.Concatenate{}, []float32{1, 2, 10, 20, 0, -1, 3, 4, 30, 40, 2, 0.5},
			[][]float32{{1, 2, 5, 6}, {3, 4, 7, 8}, {9, 10, 11, 12}}},
	}
	for _, tt := range tests {
		l := buildInputs(t, tt.l, []int{2}, []int{2}, []int{2})
		y := l.ForwardInputs([]*tensor.Tensor{a, b, c}, true)
		if !slices.Equal(y.Data, tt.y) {
			t.Errorf("%s.ForwardInputs = %v, want %v", l.Type(), y.Data, tt.y)
		}
		g := dy
		if _, ok := l.(*nn.Concatenate); ok {
			g = tensor.FromData([]float32{1, 2, 3, 4, 9, 10, 5, 6, 7, 8, 11, 12}, 2, 6)
		}
		dxs := l.BackwardInputs(g)
		for k, dx := range dxs {
			if !slices.Equal(dx.Data, tt.dxs[k]) {
				t.Errorf("%s.BackwardInputs: input %d gradient = %v, want %v", l.Type(), k+1, dx.Data, tt.dxs[k])
			}
		}
	}
}

// TestMergeBroadcast checks by hand an input of size 1 along an axis,
// repeated along it: a [2,1,2] map times per-channel weights [1,1,2], and
// Add and Average of a [1,3,1] and a [2,1,1] input into [2,3,1].
func TestMergeBroadcast(t *testing.T) {
	x := tensor.FromData([]float32{1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 1, 2) // two images of 2x1x2
	s := tensor.FromData([]float32{10, -1, 0.5, 2}, 2, 1, 1, 2)         // their channel weights
	m := buildInputs(t, &nn.Multiply{}, []int{2, 1, 2}, []int{1, 1, 2})
	y := m.ForwardInputs([]*tensor.Tensor{x, s}, true)
	if want := []float32{10, -2, 30, -4, 2.5, 12, 3.5, 16}; !slices.Equal(y.Shape, []int{2, 2, 1, 2}) || !slices.Equal(y.Data, want) {
		t.Errorf("Multiply broadcast = %v %v, want [2 2 1 2] %v", y.Shape, y.Data, want)
	}
	// The weights first, and a sum with them.
	ys := buildInputs(t, &nn.Multiply{}, []int{1, 1, 2}, []int{2, 1, 2}).ForwardInputs([]*tensor.Tensor{s, x}, false)
	sum := buildInputs(t, &nn.Add{}, []int{1, 1, 2}, []int{2, 1, 2}).ForwardInputs([]*tensor.Tensor{s, x}, false)
	if want := []float32{11, 1, 13, 3, 5.5, 8, 7.5, 10}; !slices.Equal(ys.Data, y.Data) || !slices.Equal(sum.Data, want) {
		t.Errorf("weights first: Multiply %v, Add %v; want %v, %v", ys.Data, sum.Data, y.Data, want)
	}
	dy := tensor.FromData([]float32{1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 1, 2)
	dxs := m.BackwardInputs(dy)
	// dx = dy·s; ds[c] = Σ over the image's cells of dy·x.
	if want := []float32{10, -2, 30, -4, 2.5, 12, 3.5, 16}; !slices.Equal(dxs[0].Data, want) {
		t.Errorf("Multiply broadcast: input 1 gradient = %v, want %v", dxs[0].Data, want)
	}
	if want := []float32{1*1 + 3*3, 2*2 + 4*4, 5*5 + 7*7, 6*6 + 8*8}; !slices.Equal(dxs[1].Shape, []int{2, 1, 1, 2}) || !slices.Equal(dxs[1].Data, want) {
		t.Errorf("Multiply broadcast: input 2 gradient = %v %v, want [2 1 1 2] %v", dxs[1].Shape, dxs[1].Data, want)
	}

	a := tensor.FromData([]float32{1, 2, 3}, 1, 1, 3, 1)
	b := tensor.FromData([]float32{10, 20}, 1, 2, 1, 1)
	g := tensor.FromData([]float32{1, 2, 3, 4, 5, 6}, 1, 2, 3, 1)
	for _, tt := range []struct {
		l      nn.MultiInput
		y      []float32
		da, db []float32
	}{
		{&nn.Add{}, []float32{11, 12, 13, 21, 22, 23}, []float32{5, 7, 9}, []float32{6, 15}},
		{&nn.Average{}, []float32{5.5, 6, 6.5, 10.5, 11, 11.5}, []float32{2.5, 3.5, 4.5}, []float32{3, 7.5}},
	} {
		l := buildInputs(t, tt.l, []int{1, 3, 1}, []int{2, 1, 1})
		if y := l.ForwardInputs([]*tensor.Tensor{a, b}, true); !slices.Equal(y.Data, tt.y) || !slices.Equal(y.Shape, []int{1, 2, 3, 1}) {
			t.Errorf("%s broadcast = %v %v, want [1 2 3 1] %v", l.Type(), y.Shape, y.Data, tt.y)
		}
		dxs := l.BackwardInputs(g)
		if !slices.Equal(dxs[0].Data, tt.da) || !slices.Equal(dxs[1].Data, tt.db) {
			t.Errorf("%s broadcast gradients = %v, %v, want %v, %v", l.Type(), dxs[0].Data, dxs[1].Data, tt.da, tt.db)
		}
	}
}

// Concatenating along the height of two images interleaves nothing: the
// first image's rows, then the second's.
func TestConcatenateAxis(t *testing.T) {
	a := tensor.FromData([]float32{1, 2, 3, 4}, 1, 1, 2, 2) // [N=1, H=1, W=2, C=2]
	b := tensor.FromData([]float32{5, 6, 7, 8}, 1, 1, 2, 2)
	for _, tt := range []struct {
		axis  int
		shape []int
		y     []float32
	}{
		{1, []int{1, 2, 2, 2}, []float32{1, 2, 3, 4, 5, 6, 7, 8}},
		{-3, []int{1, 2, 2, 2}, []float32{1, 2, 3, 4, 5, 6, 7, 8}},
		{2, []int{1, 1, 4, 2}, []float32{1, 2, 3, 4, 5, 6, 7, 8}},
		{3, []int{1, 1, 2, 4}, []float32{1, 2, 5, 6, 3, 4, 7, 8}},
		{-1, []int{1, 1, 2, 4}, []float32{1, 2, 5, 6, 3, 4, 7, 8}},
	} {
		l := buildInputs(t, &nn.Concatenate{Axis: tt.axis}, []int{1, 2, 2}, []int{1, 2, 2})
		y := l.ForwardInputs([]*tensor.Tensor{a, b}, false)
		if !slices.Equal(y.Shape, tt.shape) || !slices.Equal(y.Data, tt.y) {
			t.Errorf("Concatenate{Axis: %d} = %v %v, want %v %v", tt.axis, y.Shape, y.Data, tt.shape, tt.y)
		}
	}
}

func TestMergeBuildErrors(t *testing.T) {
	tests := []struct {
		l    nn.MultiInput
		in   [][]int
		want string
	}{
		{&nn.Add{}, [][]int{{3}}, "at least 2 inputs, got 1"},
		{&nn.Add{}, [][]int{{3}, {4}}, "input 2 has shape [4] but input 1 has [3]: Add needs inputs of one shape, or of size 1 along the axes where they differ"},
		{&nn.Multiply{}, [][]int{{4, 4, 8}, {1, 1, 4}}, "input 2 has shape [1 1 4] but input 1 has [4 4 8]"},
		{&nn.Multiply{}, [][]int{{4, 4, 8}, {1, 1, 8}, {2, 1, 8}}, "input 3 has shape [2 1 8]"},
		{&nn.Multiply{}, [][]int{{2, 2, 1}, {2, 2}}, "input 2 has shape [2 2]"},
		{&nn.Average{}, [][]int{{2}, {2}, {0}}, "input 3 has shape [0]"},
		{&nn.Concatenate{}, [][]int{{2, 2, 1}, {2, 3, 1}}, "all axes but axis 3 must agree"},
		{&nn.Concatenate{}, [][]int{{2, 2, 1}, {2, 1}}, "input 2 has shape [2 1]"},
		{&nn.Concatenate{Axis: 4}, [][]int{{2, 2, 1}, {2, 2, 1}}, "axis 4"},
		{&nn.Concatenate{Axis: -4}, [][]int{{2, 2, 1}, {2, 2, 1}}, "axis -4"},
		{&nn.Maximum{}, [][]int{{3, 2}, {2, 2}}, "input 2 has shape [2 2] but input 1 has [3 2]: Maximum needs inputs of one shape"},
		{&nn.Minimum{}, [][]int{{3}}, "at least 2 inputs, got 1"},
		{&nn.Subtract{}, [][]int{{3}, {3}, {3}}, "Subtract takes exactly 2 inputs, got 3"},
	}
	for _, tt := range tests {
		tt.l.SetName("m")
		_, err := tt.l.BuildInputs(tt.in, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "m ("+tt.l.Type()+")") {
			t.Errorf("%s.BuildInputs(%v) error = %v, want it to start with the layer and contain %q", tt.l.Type(), tt.in, err, tt.want)
		}
	}
	for _, l := range []nn.Layer{&nn.Add{}, &nn.Multiply{}, &nn.Average{}, &nn.Subtract{}, &nn.ScaledAdd{Scale: 0.1}, &nn.Maximum{}, &nn.Minimum{}, &nn.Concatenate{}} {
		if _, err := l.Build([]int{3}, nil); err == nil || !strings.Contains(err.Error(), "takes at least 2 inputs") {
			t.Errorf("%s.Build(one input) error = %v, want a request for several inputs", l.Type(), err)
		}
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "ForwardInputs") {
					t.Errorf("%s.Forward(one input) panic = %v, want a pointer to ForwardInputs", l.Type(), r)
				}
			}()
			l.Forward(tensor.New(1, 3), false)
		}()
	}
}

func TestMergeNoAllocationsInSteadyState(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	for _, l := range []nn.MultiInput{&nn.Add{}, &nn.Multiply{}, &nn.Average{}, &nn.Subtract{}, &nn.ScaledAdd{Scale: 0.1}, &nn.Maximum{}, &nn.Minimum{}, &nn.Concatenate{}} {
		buildInputs(t, l, []int{4, 4, 3}, []int{4, 4, 3})
		big := []*tensor.Tensor{tensor.New(16, 4, 4, 3), tensor.New(16, 4, 4, 3)}
		small := []*tensor.Tensor{big[0].Slice(0, 5), big[1].Slice(0, 5)}
		step := func(xs []*tensor.Tensor) { l.BackwardInputs(l.ForwardInputs(xs, true)) }
		step(big)
		step(small)
		if n := testing.AllocsPerRun(20, func() { step(big); step(small) }); n != 0 {
			t.Errorf("%s: ForwardInputs+BackwardInputs allocates %v times per step, want 0", l.Type(), n)
		}
	}
	for _, l := range []nn.MultiInput{&nn.Add{}, &nn.Multiply{}, &nn.Average{}, &nn.Subtract{}, &nn.ScaledAdd{Scale: 0.1}, &nn.Maximum{}, &nn.Minimum{}} {
		buildInputs(t, l, []int{4, 4, 3}, []int{1, 1, 3})
		big := []*tensor.Tensor{tensor.New(16, 4, 4, 3), tensor.New(16, 1, 1, 3)}
		small := []*tensor.Tensor{big[0].Slice(0, 5), big[1].Slice(0, 5)}
		step := func(xs []*tensor.Tensor) { l.BackwardInputs(l.ForwardInputs(xs, true)) }
		step(big)
		step(small)
		if n := testing.AllocsPerRun(20, func() { step(big); step(small) }); n != 0 {
			t.Errorf("%s broadcast: ForwardInputs+BackwardInputs allocates %v times per step, want 0", l.Type(), n)
		}
	}
}

// TestSubtract checks Subtract by hand: a - b, of one shape and with b one
// value per channel repeated over the rows, the gradients dy and -dy (the
// second summed over the rows); more or fewer than two inputs are refused.
func TestSubtract(t *testing.T) {
	a := tensor.FromData([]float32{1, 2, 3, 4, 5, 6}, 1, 3, 2)
	b := tensor.FromData([]float32{0.5, -1, 2, 2, 0, 8}, 1, 3, 2)
	dy := tensor.FromData([]float32{1, 2, 3, 4, 5, 6}, 1, 3, 2)
	l := buildInputs(t, &nn.Subtract{}, []int{3, 2}, []int{3, 2})
	if y := l.ForwardInputs([]*tensor.Tensor{a, b}, true); !slices.Equal(y.Data, []float32{0.5, 3, 1, 2, 5, -2}) {
		t.Errorf("a - b = %v", y.Data)
	}
	if dxs := l.BackwardInputs(dy); !slices.Equal(dxs[0].Data, dy.Data) || !slices.Equal(dxs[1].Data, []float32{-1, -2, -3, -4, -5, -6}) {
		t.Errorf("gradients %v %v, want dy and -dy", dxs[0].Data, dxs[1].Data)
	}
	c := tensor.FromData([]float32{10, 20}, 1, 1, 2)
	l = buildInputs(t, &nn.Subtract{}, []int{1, 2}, []int{3, 2})
	if y := l.ForwardInputs([]*tensor.Tensor{c, a}, true); !slices.Equal(y.Data, []float32{9, 18, 7, 16, 5, 14}) {
		t.Errorf("c - a, c repeated over the rows = %v", y.Data)
	}
	if dxs := l.BackwardInputs(dy); !slices.Equal(dxs[0].Data, []float32{9, 12}) || !slices.Equal(dxs[1].Data, []float32{-1, -2, -3, -4, -5, -6}) {
		t.Errorf("gradients %v %v, want [9 12] (dy summed over the rows) and -dy", dxs[0].Data, dxs[1].Data)
	}
	for _, n := range []int{1, 3} {
		in := slices.Repeat([][]int{{2}}, n)
		if _, err := (&nn.Subtract{}).BuildInputs(in, nil); err == nil || !strings.Contains(err.Error(), "exactly 2 inputs") && !strings.Contains(err.Error(), "at least 2") {
			t.Errorf("%d inputs: %v", n, err)
		}
	}
}

// TestMaximumTorch checks Maximum and Minimum of three inputs against
// torch.maximum(torch.maximum(a, b), c) (and minimum) and their gradients,
// printed by torch 1.13: ties halve the gradient at each pair, a NaN wins
// and gives its pair all of it.
func TestMaximumTorch(t *testing.T) {
	nan := float32(math.NaN())
	a := tensor.FromData([]float32{1, 5, 2, 3, nan, 0}, 1, 6)
	b := tensor.FromData([]float32{4, 5, 2, 1, 1, -1}, 1, 6)
	c := tensor.FromData([]float32{0, 5, 3, 3, 2, nan}, 1, 6)
	dy := tensor.FromData([]float32{1, 2, 3, 4, 5, 6}, 1, 6)
	same := func(x, y []float32) bool {
		return slices.EqualFunc(x, y, func(p, q float32) bool { return p == q || p != p && q != q })
	}
	for _, tt := range []struct {
		l   nn.MultiInput
		y   []float32
		dxs [3][]float32
	}{
		{&nn.Maximum{}, []float32{4, 5, 3, 3, nan, nan}, [3][]float32{{0, 0.5, 0, 2, 5, 6}, {1, 0.5, 0, 0, 5, 0}, {0, 1, 3, 2, 5, 6}}},
		{&nn.Minimum{}, []float32{0, 5, 2, 1, nan, nan}, [3][]float32{{0, 0.5, 1.5, 0, 5, 0}, {0, 0.5, 1.5, 4, 5, 6}, {1, 1, 0, 0, 5, 6}}},
	} {
		l := buildInputs(t, tt.l, []int{6}, []int{6}, []int{6})
		if y := l.ForwardInputs([]*tensor.Tensor{a, b, c}, true); !same(y.Data, tt.y) {
			t.Errorf("%s = %v, PyTorch's %v", l.Type(), y.Data, tt.y)
		}
		for k, dx := range l.BackwardInputs(dy) {
			if !same(dx.Data, tt.dxs[k]) {
				t.Errorf("%s: input %d's gradient %v, PyTorch's %v", l.Type(), k+1, dx.Data, tt.dxs[k])
			}
		}
	}
	// One value per channel against a map: its gradient sums where it won.
	m := buildInputs(t, &nn.Maximum{}, []int{2, 2}, []int{1, 2})
	y := m.ForwardInputs([]*tensor.Tensor{tensor.FromData([]float32{1, 8, 5, 2}, 1, 2, 2), tensor.FromData([]float32{3, 3}, 1, 1, 2)}, true)
	dxs := m.BackwardInputs(tensor.FromData([]float32{1, 1, 1, 1}, 1, 2, 2))
	if !slices.Equal(y.Data, []float32{3, 8, 5, 3}) || !slices.Equal(dxs[0].Data, []float32{0, 1, 1, 0}) || !slices.Equal(dxs[1].Data, []float32{1, 1}) {
		t.Errorf("broadcast maximum %v, gradients %v %v", y.Data, dxs[0].Data, dxs[1].Data)
	}
}
