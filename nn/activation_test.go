package nn_test

import (
	"math"
	"slices"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// TestActivationValues checks relu6, silu, hard_sigmoid and hard_silu and their
// derivatives at points computed by hand, around the kinks at ±3 included,
// where the derivatives take PyTorch's one-sided values (Hardsigmoid's is 0
// at ±3; Hardswish's is 0 below -3, (2x+3)/6 up to 3 inclusive, 1 beyond);
// softsign by hand too; gelu, selu, softplus and mish against PyTorch's
// GELU, SELU, Softplus and Mish in float64 (values and autograd's
// derivatives, to 9 digits), selu's derivative at 0 included (scale·alpha,
// PyTorch's).
func TestActivationValues(t *testing.T) {
	x := []float32{-4, -3, -1.5, -1, 0, 1, 2.5, 3, 4}
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	cases := []struct {
		name   string
		y, dy  []float64
		alias  string
		derive func(v float64) float64
	}{
		{name: "silu", alias: "swish",
			y:  []float64{-4 * sig(-4), -3 * sig(-3), -1.5 * sig(-1.5), -sig(-1), 0, sig(1), 2.5 * sig(2.5), 3 * sig(3), 4 * sig(4)},
			dy: []float64{sig(-4) * (1 - 4*(1-sig(-4))), sig(-3) * (1 - 3*(1-sig(-3))), sig(-1.5) * (1 - 1.5*(1-sig(-1.5))), sig(-1) * (1 - (1 - sig(-1))), 0.5, sig(1) * (2 - sig(1)), sig(2.5) * (1 + 2.5*(1-sig(2.5))), sig(3) * (1 + 3*(1-sig(3))), sig(4) * (1 + 4*(1-sig(4)))}},
		{name: "relu6", // PyTorch's ReLU6: the slope 0 at 0 and at 6
			y:  []float64{0, 0, 0, 0, 0, 1, 2.5, 3, 4},
			dy: []float64{0, 0, 0, 0, 0, 1, 1, 1, 1}},
		{name: "hard_sigmoid",
			y:  []float64{0, 0, 0.25, 2.0 / 6, 0.5, 4.0 / 6, 5.5 / 6, 1, 1},
			dy: []float64{0, 0, 1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6, 0, 0}},
		{name: "hard_silu", alias: "hard_swish",
			y:  []float64{0, 0, -0.375, -2.0 / 6, 0, 4.0 / 6, 2.5 * 5.5 / 6, 3, 4},
			dy: []float64{0, -0.5, 0, 1.0 / 6, 0.5, 5.0 / 6, 8.0 / 6, 1.5, 1}},
		{name: "softsign", // x / (1 + |x|), 1 / (1 + |x|)²
			y:  []float64{-0.8, -0.75, -0.6, -0.5, 0, 0.5, 2.5 / 3.5, 0.75, 0.8},
			dy: []float64{1.0 / 25, 1.0 / 16, 1 / 6.25, 0.25, 1, 0.25, 1 / 12.25, 1.0 / 16, 1.0 / 25}},
		{name: "gelu",
			y:  []float64{-0.000126684967, -0.00404969409, -0.100210802, -0.158655254, 0, 0.841344746, 2.48447584, 2.99595031, 3.99987332},
			dy: []float64{-0.000503649661, -0.0119456472, -0.127469192, -0.0833154706, 0.5, 1.08331547, 1.03761109, 1.01194565, 1.00050365}},
		{name: "selu",
			y:  []float64{-1.72589863, -1.67056873, -1.36581435, -1.11133074, 0, 1.05070099, 2.62675247, 3.15210296, 4.20280395},
			dy: []float64{0.0322007127, 0.0875306121, 0.392284987, 0.646768603, 1.75809934, 1.05070099, 1.05070099, 1.05070099, 1.05070099}},
		{name: "softplus",
			y:  []float64{0.0181499279, 0.0485873516, 0.201413278, 0.313261688, 0.693147181, 1.31326169, 2.57888973, 3.04858735, 4.01814993},
			dy: []float64{0.01798621, 0.0474258732, 0.182425524, 0.268941421, 0.5, 0.731058579, 0.92414182, 0.952574127, 0.98201379}},
		{name: "mish",
			y:  []float64{-0.0725917408, -0.145647461, -0.298099742, -0.303401461, 0, 0.865098388, 2.4713923, 2.986535, 3.99741281},
			dy: []float64{-0.0537732098, -0.0933931145, -0.0640978159, 0.0592167559, 0.6, 1.04903622, 1.04112953, 1.02110691, 1.00443288}},
	}
	for _, c := range cases {
		for _, name := range []string{c.name, c.alias} {
			if name == "" {
				continue
			}
			l := &nn.Activation{Func: name}
			if _, err := l.Build([]int{len(x)}, nil); err != nil {
				t.Fatal(err)
			}
			y := l.Forward(&tensor.Tensor{Shape: []int{1, len(x)}, Data: x}, true)
			ones := make([]float32, len(x))
			for i := range ones {
				ones[i] = 1
			}
			dx := l.Backward(&tensor.Tensor{Shape: []int{1, len(x)}, Data: ones})
			for i, v := range x {
				if d := math.Abs(float64(y.Data[i]) - c.y[i]); d > 1e-6 {
					t.Errorf("%s(%g) = %g, want %g", name, v, y.Data[i], c.y[i])
				}
				if d := math.Abs(float64(dx.Data[i]) - c.dy[i]); d > 1e-6 {
					t.Errorf("%s'(%g) = %g, want %g", name, v, dx.Data[i], c.dy[i])
				}
			}
		}
	}
	// relu6 at and above its top.
	l := &nn.Activation{Func: "relu6"}
	if _, err := l.Build([]int{3}, nil); err != nil {
		t.Fatal(err)
	}
	y := l.Forward(&tensor.Tensor{Shape: []int{1, 3}, Data: []float32{5.5, 6, 7}}, true)
	dx := l.Backward(&tensor.Tensor{Shape: []int{1, 3}, Data: []float32{1, 1, 1}})
	if want, wantD := []float32{5.5, 6, 6}, []float32{1, 0, 0}; !slices.Equal(y.Data, want) || !slices.Equal(dx.Data, wantD) {
		t.Errorf("relu6(5.5, 6, 7) = %v, derivatives %v; want %v, %v", y.Data, dx.Data, want, wantD)
	}
}
