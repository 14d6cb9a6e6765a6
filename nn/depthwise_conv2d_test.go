package nn_test

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// TestDepthwiseConv2DByHand checks a 2x2 kernel on a 3x3 image of two
// channels, each convolved with its own kernel.
func TestDepthwiseConv2DByHand(t *testing.T) {
	l := build(t, &nn.DepthwiseConv2D{KernelSize: [2]int{2, 2}}, 3, 3, 2)
	// kernel [ky,kx,c,m]: channel 0 sums its window, channel 1 takes the
	// difference of its top-left and bottom-right cells.
	copy(l.Params()[0].Value.Data, []float32{1, 1, 1, 0, 1, 0, 1, -1})
	copy(l.Params()[1].Value.Data, []float32{0.5, 0})
	// channel 0: 1..9; channel 1: 10, 20, ..., 90.
	x := tensor.New(1, 3, 3, 2)
	for i := range 9 {
		x.Data[2*i], x.Data[2*i+1] = float32(i+1), float32(10*(i+1))
	}
	y := l.Forward(x, false)
	want := []float32{
		12.5, -40, 16.5, -40,
		24.5, -40, 28.5, -40,
	}
	if !slices.Equal(y.Shape, []int{1, 2, 2, 2}) || !slices.Equal(y.Data, want) {
		t.Fatalf("Forward = %v %v, want [1 2 2 2] %v", y.Shape, y.Data, want)
	}
	dy := tensor.FromData([]float32{1, 1, 0, 0, 0, 0, 0, 2}, 1, 2, 2, 2)
	dx := l.Backward(dy)
	// channel 0: the first window's cells get 1; channel 1: cell (0,0)
	// gets +1 from the first output, cell (1,1) -1 from it and +2 from the
	// last output, cell (2,2) -2.
	wantDx := []float32{1, 1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, -2}
	if !slices.Equal(dx.Data, wantDx) {
		t.Errorf("Backward dx = %v, want %v", dx.Data, wantDx)
	}
	// dw[ky,kx,0] = x0 of the first window; dw[ky,kx,1] = 10·(that cell)
	// from the first output plus 2·(the last window's cell).
	wantDw := []float32{1, 10 + 2*50, 2, 20 + 2*60, 4, 40 + 2*80, 5, 50 + 2*90}
	if g := l.Params()[0].Grad.Data; !slices.Equal(g, wantDw) {
		t.Errorf("kernel gradient = %v, want %v", g, wantDw)
	}
	if g := l.Params()[1].Grad.Data; !slices.Equal(g, []float32{1, 3}) {
		t.Errorf("bias gradient = %v, want [1 3]", g)
	}
}

// TestDepthwiseConv2DIsBlockDiagonalConv2D compares the layer with a
// Conv2D whose kernel links each input channel to its own output channels
// only: outputs, dL/dx and the kernel gradient of the kept weights agree.
// The cases cover strides, both paddings, a depth multiplier of 3 and
// channels that the vector loops take 16 at a time.
func TestDepthwiseConv2DIsBlockDiagonalConv2D(t *testing.T) {
	directSums(t) // Conv2D is the reference
	for _, tc := range []struct {
		c, m    int
		k, s    [2]int
		padding string
		act     string
		in      [2]int
	}{
		{5, 3, [2]int{3, 2}, [2]int{2, 1}, "same", "relu", [2]int{7, 6}},
		{32, 1, [2]int{3, 3}, [2]int{1, 1}, "same", "", [2]int{6, 7}},
		{48, 1, [2]int{3, 3}, [2]int{2, 2}, "same", "relu", [2]int{8, 9}},
		{20, 1, [2]int{5, 3}, [2]int{1, 2}, "valid", "tanh", [2]int{7, 8}},
		{20, 1, [2]int{5, 3}, [2]int{1, 1}, "valid", "", [2]int{7, 8}},
		{64, 1, [2]int{3, 3}, [2]int{1, 1}, "same", "relu", [2]int{9, 10}},
		{144, 1, [2]int{3, 3}, [2]int{2, 2}, "same", "relu", [2]int{6, 7}},
	} {
		c, m := tc.c, tc.m
		in := []int{tc.in[0], tc.in[1], c}
		dw := &nn.DepthwiseConv2D{KernelSize: tc.k, Strides: tc.s, Padding: tc.padding, DepthMultiplier: m, Activation: tc.act}
		conv := &nn.Conv2D{Filters: c * m, KernelSize: tc.k, Strides: tc.s, Padding: tc.padding, Activation: tc.act}
		build(t, dw, in...)
		build(t, conv, in...)
		taps := tc.k[0] * tc.k[1]
		k, ck := dw.Params()[0].Value.Data, conv.Params()[0].Value.Data
		clear(ck)
		for tap := range taps {
			for ci := range c {
				for j := range m {
					ck[(tap*c+ci)*c*m+ci*m+j] = k[(tap*c+ci)*m+j]
				}
			}
		}
		rng := rand.New(rand.NewPCG(3, 4))
		for i := range dw.Params()[1].Value.Data {
			v := float32(rng.NormFloat64())
			dw.Params()[1].Value.Data[i], conv.Params()[1].Value.Data[i] = v, v
		}
		x := tensor.New(3, in[0], in[1], in[2])
		for i := range x.Data {
			x.Data[i] = float32(rng.NormFloat64())
		}
		y, cy := dw.Forward(x, true), conv.Forward(x, true)
		close := func(what string, a, b []float32) {
			t.Helper()
			if len(a) != len(b) {
				t.Fatalf("%+v: %s: %d values, want %d", tc, what, len(a), len(b))
			}
			for i := range a {
				if math.Abs(float64(a[i]-b[i])) > 1e-5*max(1, math.Abs(float64(b[i]))) {
					t.Fatalf("%+v: %s[%d] = %v, Conv2D gives %v", tc, what, i, a[i], b[i])
				}
			}
		}
		close("output", y.Data, cy.Data)
		dy := y.Clone()
		for i := range dy.Data {
			dy.Data[i] = float32(rng.NormFloat64())
		}
		close("dx", dw.Backward(dy).Data, conv.Backward(dy).Data)
		g, cg := dw.Params()[0].Grad.Data, conv.Params()[0].Grad.Data
		kept := make([]float32, len(g))
		for tap := range taps {
			for ci := range c {
				for j := range m {
					kept[(tap*c+ci)*m+j] = cg[(tap*c+ci)*c*m+ci*m+j]
				}
			}
		}
		close("kernel gradient", g, kept)
		close("bias gradient", dw.Params()[1].Grad.Data, conv.Params()[1].Grad.Data)
	}
}

// Results must not depend on the number of cores.
func TestDepthwiseConv2DSameResultAnyGOMAXPROCS(t *testing.T) {
	for _, tc := range []struct{ c, m int }{{20, 2}, {160, 1}} {
		testDepthwiseAnyGOMAXPROCS(t, tc.c, tc.m)
	}
}

func testDepthwiseAnyGOMAXPROCS(t *testing.T, c, m int) {
	run := func(procs int) [][]float32 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		l := &nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, Padding: "same", DepthMultiplier: m, Activation: "relu"}
		if _, err := l.Build([]int{9, 9, c}, rand.New(rand.NewPCG(5, 6))); err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(7, 8))
		x := tensor.New(13, 9, 9, c)
		for i := range x.Data {
			x.Data[i] = float32(rng.NormFloat64())
		}
		out := l.Forward(x, true).Clone()
		g := out.Clone()
		for i := range g.Data {
			g.Data[i] = float32(rng.NormFloat64())
		}
		d := l.Backward(g)
		return [][]float32{out.Data, d.Clone().Data, l.Params()[0].Grad.Data, l.Params()[1].Grad.Data}
	}
	one, two, four := run(1), run(2), run(4)
	for i, what := range []string{"y", "dx", "kernel grad", "bias grad"} {
		if !slices.Equal(one[i], two[i]) || !slices.Equal(one[i], four[i]) {
			t.Errorf("DepthwiseConv2D (%d channels, multiplier %d): %s differs between GOMAXPROCS 1, 2 and 4", c, m, what)
		}
	}
}

func TestDepthwiseConv2DBuildErrors(t *testing.T) {
	tests := []struct {
		l    *nn.DepthwiseConv2D
		in   []int
		want string
	}{
		{&nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, DepthMultiplier: -1}, []int{8, 8, 1}, "DepthwiseConv2D: depth_multiplier = -1: must be positive"},
		{&nn.DepthwiseConv2D{}, []int{8, 8, 1}, "DepthwiseConv2D: kernel size 0x0: must be positive"},
		{&nn.DepthwiseConv2D{KernelSize: [2]int{5, 5}}, []int{3, 3, 2}, `kernel 5x5 is larger than the 3x3 input with padding "valid"`},
		{&nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, Activation: "prelu"}, []int{8, 8, 1}, `unknown activation "prelu"`},
		{&nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, KernelInit: "ones"}, []int{8, 8, 1}, `unknown kernel initializer "ones"`},
		{&nn.DepthwiseConv2D{KernelSize: [2]int{1, 1}, DepthMultiplier: 1 << 20}, []int{4, 4, 1 << 10}, "too large"},
		{&nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}}, []int{8, 8}, "DepthwiseConv2D: input shape [8 8]"},
	}
	for _, tt := range tests {
		_, err := tt.l.Build(tt.in, rand.New(rand.NewPCG(1, 1)))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Build(%+v, %v) = %v, want an error containing %q", tt.l, tt.in, err, tt.want)
		}
	}
}
