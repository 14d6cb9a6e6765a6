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

// TestPReLUTorch checks a PReLU with a slope per channel against PyTorch's
// F.prelu on one image of 2 channels (x at 0 takes the slope's branch, as
// in PyTorch), the values printed by torch 1.13 in NHWC order.
func TestPReLUTorch(t *testing.T) {
	l := &nn.PReLU{SharedAxes: []int{1, 2}}
	if _, err := l.Build([]int{2, 3, 2}, nil); err != nil {
		t.Fatal(err)
	}
	if s := l.Params()[0].Value.Shape; !slices.Equal(s, []int{1, 1, 2}) {
		t.Fatalf("alpha's shape %v, want [1 1 2]", s)
	}
	copy(l.Params()[0].Value.Data, []float32{0.25, -0.5})
	x := &tensor.Tensor{Shape: []int{1, 2, 3, 2}, Data: []float32{-2, 1.5, 0.5, -0.75, -0.25, -3, 3, -0.5, -1, 2, 0, -1.25}}
	dy := &tensor.Tensor{Shape: []int{1, 2, 3, 2}, Data: []float32{1, 2, -2, 1, 0.5, -0.5, 0.25, 1.5, 3, -1, -1, 4}}
	y := l.Forward(x, true)
	dx := l.Backward(dy)
	wantY := []float32{-0.5, 1.5, 0.5, 0.375, -0.0625, 1.5, 3, 0.25, -0.25, 2, 0, 0.625}
	wantDx := []float32{0.25, 2, -2, -0.5, 0.125, 0.25, 0.25, -0.75, 0.75, -1, -0.25, -2}
	if !slices.Equal(y.Data, wantY) || !slices.Equal(dx.Data, wantDx) {
		t.Errorf("y %v, dx %v;\nPyTorch's %v, %v", y.Data, dx.Data, wantY, wantDx)
	}
	if g := l.Params()[0].Grad.Data; !slices.Equal(g, []float32{-5.125, -5}) {
		t.Errorf("alpha's gradient %v, PyTorch's [-5.125 -5]", g)
	}
}

// TestPReLUSharedAxes checks every choice of shared axes of an image
// against the definition, computed here in float64 with each value's slope
// found from its coordinates: the output, dx and dalpha (within float32
// rounding of the sums); and that GOMAXPROCS 1 and all give the same bits.
func TestPReLUSharedAxes(t *testing.T) {
	in := []int{6, 7, 5}
	const n = 50 // samples: more than one piece of the sums
	rng := rand.New(rand.NewPCG(3, 4))
	x, dy := tensor.New(append([]int{n}, in...)...), tensor.New(append([]int{n}, in...)...)
	for i := range x.Data {
		x.Data[i], dy.Data[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	for _, shared := range [][]int{nil, {1}, {2}, {3}, {1, 2}, {1, 3}, {2, 3}, {3, 1, 2}} {
		var runs [][]float32
		for _, procs := range []int{1, runtime.GOMAXPROCS(0)} {
			prev := runtime.GOMAXPROCS(procs)
			l := &nn.PReLU{SharedAxes: shared, AlphaInit: 0.25}
			if _, err := l.Build(in, nil); err != nil {
				t.Fatal(err)
			}
			alpha := l.Params()[0]
			ar := rand.New(rand.NewPCG(5, uint64(len(alpha.Value.Data))))
			for i := range alpha.Value.Data {
				alpha.Value.Data[i] = float32(ar.Float64() - 0.5)
			}
			as := alpha.Value.Shape
			slope := func(h, w, c int) int { // alpha's index of a value
				k := []int{h, w, c}
				for a := range k {
					if as[a] == 1 {
						k[a] = 0
					}
				}
				return (k[0]*as[1]+k[1])*as[2] + k[2]
			}
			y := l.Forward(x, true).Clone()
			dx := l.Backward(dy)
			runtime.GOMAXPROCS(prev)
			da := make([]float64, alpha.Value.Len())
			for s := range n {
				for h := range in[0] {
					for w := range in[1] {
						for c := range in[2] {
							i := ((s*in[0]+h)*in[1]+w)*in[2] + c
							j := slope(h, w, c)
							a, v, d := alpha.Value.Data[j], x.Data[i], dy.Data[i]
							wantY, wantDx := v, d
							if v <= 0 {
								wantY, wantDx = a*v, a*d
								da[j] += float64(v) * float64(d)
							}
							if y.Data[i] != wantY || dx.Data[i] != wantDx {
								t.Fatalf("shared %v, sample %d (%d, %d, %d): y %v, dx %v; want %v, %v", shared, s, h, w, c, y.Data[i], dx.Data[i], wantY, wantDx)
							}
						}
					}
				}
			}
			for j, want := range da {
				if g := alpha.Grad.Data[j]; math.Abs(float64(g)-want) > 1e-5*math.Max(1, math.Abs(want)) {
					t.Fatalf("shared %v: dalpha[%d] = %v, want %v", shared, j, g, want)
				}
			}
			runs = append(runs, slices.Concat(y.Data, dx.Data, alpha.Grad.Data))
		}
		if !slices.Equal(runs[0], runs[1]) {
			t.Errorf("shared %v: GOMAXPROCS %d gives other bits than 1", shared, runtime.GOMAXPROCS(0))
		}
	}
}

// TestPReLUErrors checks the messages of what a PReLU cannot be.
func TestPReLUErrors(t *testing.T) {
	for _, tt := range []struct {
		l    *nn.PReLU
		in   []int
		want string
	}{
		{&nn.PReLU{SharedAxes: []int{0}}, []int{4, 4, 3}, "PReLU: shared_axes [0]: axis 0 is not an axis of the input [4 4 3] (1 to 3, the batch axis is 0)"},
		{&nn.PReLU{SharedAxes: []int{1, 4}}, []int{4, 4, 3}, "axis 4 is not an axis"},
		{&nn.PReLU{SharedAxes: []int{2}}, []int{10}, "axis 2 is not an axis of the input [10]"},
		{&nn.PReLU{SharedAxes: []int{2, 2}}, []int{4, 4, 3}, "shared_axes [2 2]: axis 2 is listed twice"},
		{&nn.PReLU{AlphaInit: math.NaN()}, []int{3}, "alpha initializer NaN: must be a finite number"},
		{&nn.PReLU{AlphaInit: 1e39}, []int{3}, "alpha initializer 1e+39"},
		{&nn.PReLU{}, []int{0, 3}, "input shape [0 3]"},
	} {
		if _, err := tt.l.Build(tt.in, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v.Build(%v): %v, want %q", tt.l, tt.in, err, tt.want)
		}
	}
}

// TestPReLUConfig reads the initializer in each form Keras writes and
// writes it back as Keras does.
func TestPReLUConfig(t *testing.T) {
	for _, tt := range []struct {
		init any
		want float64
	}{
		{"zeros", 0},
		{"ones", 1},
		{map[string]any{"class_name": "Zeros", "config": map[string]any{}}, 0},
		{map[string]any{"module": "keras.initializers", "class_name": "Constant", "config": map[string]any{"value": 0.25}, "registered_name": nil}, 0.25},
	} {
		l, err := nn.FromConfig("PReLU", map[string]any{"alpha_initializer": tt.init, "shared_axes": []any{1.0, 2.0}})
		if err != nil {
			t.Fatalf("%v: %v", tt.init, err)
		}
		p := l.(*nn.PReLU)
		if p.AlphaInit != tt.want || !slices.Equal(p.SharedAxes, []int{1, 2}) {
			t.Errorf("%v: %+v, want alpha %v, shared axes [1 2]", tt.init, p, tt.want)
		}
		back, err := nn.FromConfig("PReLU", l.Config())
		if err != nil || back.(*nn.PReLU).AlphaInit != tt.want {
			t.Errorf("%v: config %v read back as %v, %v", tt.init, l.Config(), back, err)
		}
	}
	for _, bad := range []any{
		"glorot_uniform",
		map[string]any{"class_name": "RandomNormal", "config": map[string]any{"stddev": 0.05}},
		map[string]any{"class_name": "Constant", "config": map[string]any{"value": "a"}},
		map[string]any{"class_name": "Zeros", "config": map[string]any{}, "module": "mylib"},
	} {
		if _, err := nn.FromConfig("PReLU", map[string]any{"alpha_initializer": bad}); err == nil || !strings.Contains(err.Error(), `field "alpha_initializer": want "zeros", "ones" or a Zeros, Ones or Constant initializer`) {
			t.Errorf("%v: %v", bad, err)
		}
	}
	if _, err := nn.FromConfig("PReLU", map[string]any{"shared_axes": []any{1.5}}); err == nil || !strings.Contains(err.Error(), `field "shared_axes": want a list of integers`) {
		t.Errorf("shared_axes [1.5]: %v", err)
	}
}
