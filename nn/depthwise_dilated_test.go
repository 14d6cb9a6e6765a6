package nn_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
)

// A dilated DepthwiseConv2D is the undilated one with the spread kernel
// (output, input gradient, the kernel and bias gradients at the taps),
// whatever the padding and depth multiplier, with dilations up to past the
// input and rows whose taps all fall outside; the same on 1, 2 and 4
// cores, bit for bit; and a Conv2D of one group per channel, dilated, is
// the same layer.
func TestDepthwiseDilatedIsSpreadKernel(t *testing.T) {
	cases := []struct {
		in      []int
		k, d    [2]int
		m       int
		padding string
		act     string
	}{
		{[]int{9, 9, 3}, [2]int{3, 3}, [2]int{2, 2}, 1, "same", "relu"},
		{[]int{8, 11, 2}, [2]int{3, 2}, [2]int{2, 3}, 2, "valid", "tanh"},
		{[]int{6, 7, 1}, [2]int{3, 3}, [2]int{4, 6}, 1, "same", ""},
		{[]int{12, 10, 20}, [2]int{3, 3}, [2]int{3, 1}, 1, "same", "elu"}, // the vector loops and their tail
		{[]int{10, 10, 4}, [2]int{2, 4}, [2]int{5, 2}, 3, "valid", ""},
		{[]int{1, 6, 3}, [2]int{2, 2}, [2]int{3, 2}, 1, "same", "elu"}, // rows: every tap outside the input
	}
	for _, c := range cases {
		name := strings.Join([]string{c.padding, c.act}, "/")
		f := c.in[2] * c.m
		bias := make([]float32, f)
		for i := range bias {
			bias[i] = 0.1 * float32(i%5-2)
		}
		run := func(procs int, l nn.Layer, w []float32) (y, dx, dw, db []float32) {
			return passes(t, procs, l, c.in, w, bias)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		w := make([]float32, c.k[0]*c.k[1]*f)
		for i := range w {
			w[i] = float32(rng.NormFloat64()) / 4
		}
		dilated := func() *nn.DepthwiseConv2D {
			return &nn.DepthwiseConv2D{KernelSize: c.k, DilationRate: c.d, DepthMultiplier: c.m, Padding: c.padding, Activation: c.act}
		}
		y1, dx1, dw1, db1 := run(1, dilated(), w)
		for _, procs := range []int{2, 4} {
			y, dx, dw, db := run(procs, dilated(), w)
			if !slices.Equal(y, y1) || !slices.Equal(dx, dx1) || !slices.Equal(dw, dw1) || !slices.Equal(db, db1) {
				t.Errorf("%v %s dilation %v: results differ between GOMAXPROCS 1 and %d", c.in, name, c.d, procs)
			}
		}
		if c.in[2] > 1 { // one channel: one group, an ordinary Conv2D
			grouped := &nn.Conv2D{Filters: f, Groups: c.in[2], KernelSize: c.k, DilationRate: c.d, Padding: c.padding, Activation: c.act}
			y, dx, dw, db := run(1, grouped, w)
			if !slices.Equal(y, y1) || !slices.Equal(dx, dx1) || !slices.Equal(dw, dw1) || !slices.Equal(db, db1) {
				t.Errorf("%v %s dilation %v: a Conv2D of %d groups differs from the DepthwiseConv2D", c.in, name, c.d, c.in[2])
			}
		}
		sw, eh, ew := spread(w, c.k[0], c.k[1], c.in[2], c.m, c.d)
		undilated := &nn.DepthwiseConv2D{KernelSize: [2]int{eh, ew}, DepthMultiplier: c.m, Padding: c.padding, Activation: c.act}
		y, dx, dwSpread, db := run(1, undilated, sw)
		label := fmt.Sprintf("%v %s dilation %v", c.in, name, c.d)
		near := func(what string, got, want []float32) { nearSpread(t, label, what, got, want) }
		near("output", y1, y)
		near("input gradient", dx1, dx)
		near("bias gradient", db1, db)
		taps := make([]float32, len(dw1))
		for ky := range c.k[0] {
			for kx := range c.k[1] {
				copy(taps[(ky*c.k[1]+kx)*f:][:f], dwSpread[(ky*c.d[0]*ew+kx*c.d[1])*f:][:f])
			}
		}
		near("kernel gradient", dw1, taps)
	}
}

// Strides and dilation do not go together, as in Keras; the window, the
// cost and the config carry the dilation.
func TestDepthwiseDilatedWindowConfigErrors(t *testing.T) {
	bad := &nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, DilationRate: [2]int{2, 2}, Strides: [2]int{1, 2}}
	if _, err := bad.Build([]int{9, 9, 2}, rand.New(rand.NewPCG(1, 2))); err == nil ||
		!strings.Contains(err.Error(), "strides 1x2 with dilation_rate 2x2: as in Keras, one of them must be 1x1") {
		t.Errorf("Build(strides and dilation) = %v", err)
	}
	l := &nn.DepthwiseConv2D{KernelSize: [2]int{3, 2}, DilationRate: [2]int{2, 3}, Padding: "same"}
	build(t, l, 6, 5, 2)
	want := nn.Window{Size: [2]int{3, 2}, Strides: [2]int{1, 1}, Pad: [2]int{2, 1}, Dilation: [2]int{2, 3}}
	if w, ok := nn.WindowOf(l); !ok || w != want {
		t.Errorf("WindowOf(dilated DepthwiseConv2D) = %+v, %v; want %+v, true", w, ok, want)
	}
	if got := l.Cost([]int{6, 5, 2}); got.MACs != 6*5*2*3*2 {
		t.Errorf("MACs = %d, want %d", got.MACs, 6*5*2*3*2)
	}
	back, err := nn.FromConfig("DepthwiseConv2D", l.Config())
	if err != nil {
		t.Fatal(err)
	}
	if d := back.(*nn.DepthwiseConv2D).DilationRate; d != [2]int{2, 3} {
		t.Errorf("DilationRate from config = %v, want [2 3]", d)
	}
	if _, set := (&nn.DepthwiseConv2D{KernelSize: [2]int{1, 1}}).Config()["dilation_rate"]; set {
		t.Errorf("an undilated DepthwiseConv2D's config has a dilation_rate")
	}
}
