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

// Hand-computed: a 2×2 kernel of ones, taps 2 apart, over the 5×5 ramp
// 1..25 reads x[oy,ox] + x[oy,ox+2] + x[oy+2,ox] + x[oy+2,ox+2]
// = 4·(5oy+ox+1) + 24.
func TestConv2DDilatedHandComputed(t *testing.T) {
	l := &nn.Conv2D{Filters: 1, KernelSize: [2]int{2, 2}, DilationRate: [2]int{2, 2}, NoBias: true}
	if _, err := l.Build([]int{5, 5, 1}, rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Fatal(err)
	}
	for i := range l.Params()[0].Value.Data {
		l.Params()[0].Value.Data[i] = 1
	}
	y := l.Forward(ramp(5, 5), false)
	if !slices.Equal(y.Shape, []int{1, 3, 3, 1}) {
		t.Fatalf("output shape %v, want [1 3 3 1]", y.Shape)
	}
	for oy := range 3 {
		for ox := range 3 {
			if got, want := y.Data[oy*3+ox], float32(4*(5*oy+ox+1)+24); got != want {
				t.Errorf("y[%d,%d] = %g, want %g", oy, ox, got, want)
			}
		}
	}
}

// spread returns the kernel of a dilated kernel w [kh,kw,c,f] as an
// undilated one: [(kh-1)·d0+1, (kw-1)·d1+1, c, f], w's taps d apart and
// zeros between them.
func spread(w []float32, kh, kw, c, f int, d [2]int) (out []float32, eh, ew int) {
	eh, ew = (kh-1)*d[0]+1, (kw-1)*d[1]+1
	out = make([]float32, eh*ew*c*f)
	for ky := range kh {
		for kx := range kw {
			copy(out[(ky*d[0]*ew+kx*d[1])*c*f:][:c*f], w[(ky*kw+kx)*c*f:][:c*f])
		}
	}
	return out, eh, ew
}

// passes builds l for inputs of shape in with the kernel w and the bias b
// (as much of them as fits; nil keeps Build's), runs it forward in training on 7 images of
// normal noise and back from a gradient of normal noise, on procs cores,
// and returns the output, the input gradient and the kernel's and the
// bias's gradients.
func passes(t *testing.T, procs int, l nn.Layer, in []int, w, b []float32) (y, dx, dw, db []float32) {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	if _, err := l.Build(in, rand.New(rand.NewPCG(3, 4))); err != nil {
		t.Fatal(err)
	}
	copy(l.Params()[0].Value.Data, w)
	copy(l.Params()[1].Value.Data, b)
	rng := rand.New(rand.NewPCG(5, 6))
	x := tensor.New(append([]int{7}, in...)...)
	fillNormal(rng, 1, x.Data)
	out := l.Forward(x, true)
	g := out.Clone()
	fillNormal(rng, 1, g.Data)
	dx = l.Backward(g).Clone().Data
	return out.Clone().Data, dx, l.Params()[0].Grad.Clone().Data, l.Params()[1].Grad.Clone().Data
}

// nearSpread fails t unless got is want within 1e-4 relative: a dilated
// layer's values against the spread kernel's.
func nearSpread(t *testing.T, label, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %s has %d values, want %d", label, what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > 1e-4*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("%s: %s[%d] = %g, the spread kernel's %g", label, what, i, got[i], want[i])
		}
	}
}

// A dilated convolution is the undilated convolution with the spread
// kernel: output, input gradient, and the kernel gradient at the taps
// (the spread kernel's gradient there), whatever the padding, with
// dilations from 2 to past the input's size; the same on 1, 2 and 4
// cores, bit for bit.
func TestConv2DDilatedIsSpreadKernel(t *testing.T) {
	cases := []struct {
		in      []int
		k, d    [2]int
		f       int
		padding string
		act     string
	}{
		{[]int{9, 9, 3}, [2]int{3, 3}, [2]int{2, 2}, 5, "same", "relu"},
		{[]int{8, 11, 2}, [2]int{3, 2}, [2]int{2, 3}, 4, "valid", "tanh"},
		{[]int{6, 7, 1}, [2]int{3, 3}, [2]int{4, 6}, 3, "same", ""},
		{[]int{12, 10, 16}, [2]int{3, 3}, [2]int{3, 1}, 20, "same", "elu"},
		{[]int{10, 10, 4}, [2]int{2, 4}, [2]int{5, 2}, 2, "valid", ""},
		{[]int{1, 6, 3}, [2]int{2, 2}, [2]int{3, 2}, 4, "same", "relu"}, // rows: every tap outside the input
	}
	for _, c := range cases {
		name := strings.Join([]string{c.padding, c.act}, "/")
		bias := []float32{0.1, -0.2, 0.3, -0.05, 0.2}
		run := func(procs int, l nn.Layer, w []float32) (y, dx, dw []float32) {
			y, dx, dw, _ = passes(t, procs, l, c.in, w, bias)
			return y, dx, dw
		}
		rng := rand.New(rand.NewPCG(1, 2))
		w := make([]float32, c.k[0]*c.k[1]*c.in[2]*c.f)
		for i := range w {
			w[i] = float32(rng.NormFloat64()) / 4
		}
		dilated := func() *nn.Conv2D {
			return &nn.Conv2D{Filters: c.f, KernelSize: c.k, DilationRate: c.d, Padding: c.padding, Activation: c.act}
		}
		y1, dx1, dw1 := run(1, dilated(), w)
		for _, procs := range []int{2, 4} {
			y, dx, dw := run(procs, dilated(), w)
			if !slices.Equal(y, y1) || !slices.Equal(dx, dx1) || !slices.Equal(dw, dw1) {
				t.Errorf("%v %s dilation %v: results differ between GOMAXPROCS 1 and %d", c.in, name, c.d, procs)
			}
		}
		sw, eh, ew := spread(w, c.k[0], c.k[1], c.in[2], c.f, c.d)
		y, dx, dwSpread := run(1, &nn.Conv2D{Filters: c.f, KernelSize: [2]int{eh, ew}, Padding: c.padding, Activation: c.act}, sw)
		label := fmt.Sprintf("%v %s dilation %v", c.in, name, c.d)
		near := func(what string, got, want []float32) { nearSpread(t, label, what, got, want) }
		near("output", y1, y)
		near("input gradient", dx1, dx)
		taps := make([]float32, len(dw1))
		cf := c.in[2] * c.f
		for ky := range c.k[0] {
			for kx := range c.k[1] {
				copy(taps[(ky*c.k[1]+kx)*cf:][:cf], dwSpread[(ky*c.d[0]*ew+kx*c.d[1])*cf:][:cf])
			}
		}
		near("kernel gradient", dw1, taps)
	}
}

func TestConv2DDilatedErrors(t *testing.T) {
	for _, c := range []struct {
		l    *nn.Conv2D
		in   []int
		want string
	}{
		{&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, DilationRate: [2]int{2, 2}, Strides: [2]int{2, 2}}, []int{9, 9, 1},
			"strides 2x2 with dilation_rate 2x2: as in Keras, one of them must be 1x1"},
		{&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, DilationRate: [2]int{0, 2}}, []int{9, 9, 1}, "dilation_rate 0x2: must be positive"},
		{&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, DilationRate: [2]int{1, -1}}, []int{9, 9, 1}, "dilation_rate 1x-1: must be positive"},
		{&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, DilationRate: [2]int{5, 1}}, []int{9, 9, 1},
			`dilated kernel 11x3 is larger than the 9x9 input with padding "valid"`},
		{&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, DilationRate: [2]int{1 << 40, 1}, Padding: "same"}, []int{9, 9, 1},
			"kernel 3x3 with dilation_rate 1099511627776x1 is too large"},
		{&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, DilationRate: [2]int{2, 2}, Groups: 2}, []int{9, 9, 4},
			"groups = 2 with dilation_rate 2x2: convnet dilates only convolutions of one group or of one group per input channel"},
	} {
		_, err := c.l.Build(c.in, rand.New(rand.NewPCG(1, 2)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Build(%+v) = %v, want an error containing %q", c.l, err, c.want)
		}
	}
}

// The window of a dilated convolution: stride 1, the padding of its span,
// the taps' distance.
func TestConv2DDilatedWindowAndConfig(t *testing.T) {
	l := &nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 2}, DilationRate: [2]int{2, 3}, Padding: "same"}
	build(t, l, 6, 5, 1)
	want := nn.Window{Size: [2]int{3, 2}, Strides: [2]int{1, 1}, Pad: [2]int{2, 1}, Dilation: [2]int{2, 3}}
	if w, ok := nn.WindowOf(l); !ok || w != want {
		t.Errorf("WindowOf(dilated Conv2D) = %+v, %v; want %+v, true", w, ok, want)
	}
	cfg := l.Config()
	if got := cfg["dilation_rate"]; !slices.Equal(got.([]int), []int{2, 3}) {
		t.Errorf("config dilation_rate = %v, want [2 3]", got)
	}
	back, err := nn.FromConfig("Conv2D", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d := back.(*nn.Conv2D).DilationRate; d != [2]int{2, 3} {
		t.Errorf("DilationRate from config = %v, want [2 3]", d)
	}
	if _, set := (&nn.Conv2D{Filters: 1, KernelSize: [2]int{1, 1}}).Config()["dilation_rate"]; set {
		t.Errorf("an undilated Conv2D's config has a dilation_rate")
	}
}
