package nn_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// TestScaledAdd checks ScaledAdd by hand: a + b·0.5, of one shape and with
// a one value per channel repeated over the rows, the gradients dy and
// dy·0.5 (the first summed over the rows); the product is rounded before
// the sum, as PyTorch's a + b * s and ONNX's Mul then Add compute it.
func TestScaledAdd(t *testing.T) {
	a := tensor.FromData([]float32{1, 2, 3, 4, 5, 6}, 1, 3, 2)
	b := tensor.FromData([]float32{0.5, -1, 2, 2, 0, 8}, 1, 3, 2)
	dy := tensor.FromData([]float32{1, 2, 3, 4, 5, 6}, 1, 3, 2)
	l := buildInputs(t, &nn.ScaledAdd{Scale: 0.5}, []int{3, 2}, []int{3, 2})
	if y := l.ForwardInputs([]*tensor.Tensor{a, b}, true); !slices.Equal(y.Data, []float32{1.25, 1.5, 4, 5, 5, 10}) {
		t.Errorf("a + b·0.5 = %v", y.Data)
	}
	if dxs := l.BackwardInputs(dy); !slices.Equal(dxs[0].Data, dy.Data) || !slices.Equal(dxs[1].Data, []float32{0.5, 1, 1.5, 2, 2.5, 3}) {
		t.Errorf("gradients %v %v, want dy and dy·0.5", dxs[0].Data, dxs[1].Data)
	}
	c := tensor.FromData([]float32{10, 20}, 1, 1, 2)
	l = buildInputs(t, &nn.ScaledAdd{Scale: 0.5}, []int{1, 2}, []int{3, 2})
	if y := l.ForwardInputs([]*tensor.Tensor{c, a}, true); !slices.Equal(y.Data, []float32{10.5, 21, 11.5, 22, 12.5, 23}) {
		t.Errorf("c + a·0.5, c repeated over the rows = %v", y.Data)
	}
	if dxs := l.BackwardInputs(dy); !slices.Equal(dxs[0].Data, []float32{9, 12}) || !slices.Equal(dxs[1].Data, []float32{0.5, 1, 1.5, 2, 2.5, 3}) {
		t.Errorf("gradients %v %v, want [9 12] (dy summed over the rows) and dy·0.5", dxs[0].Data, dxs[1].Data)
	}

	// y·s rounds to 1 (y = 1+2⁻²³, s = 1-2⁻²⁴: y·s = 1+2⁻²⁴-2⁻⁴⁷, below
	// the midpoint), so -1 + y·s is 0; fused, it would be 2⁻²⁴-2⁻⁴⁷.
	x, y := float32(1), float32(0x1.000002p+0)
	s := float32(0x1.fffffep-1)
	l = buildInputs(t, &nn.ScaledAdd{Scale: float64(s)}, []int{1}, []int{1})
	got := l.ForwardInputs([]*tensor.Tensor{tensor.FromData([]float32{-x}, 1, 1), tensor.FromData([]float32{y}, 1, 1)}, false).Data[0]
	if want := -x + float32(y*s); got != want || got != 0 {
		t.Errorf("-1 + y·s with y·s rounding to 1 = %g, want %g (0: the product rounded first)", got, want)
	}
}

// TestScaledAddRefusals checks that ScaledAdd takes two inputs and a finite
// scale, and that its config must hold a numeric scale.
func TestScaledAddRefusals(t *testing.T) {
	for _, n := range []int{1, 3} {
		l := &nn.ScaledAdd{Scale: 0.2}
		l.SetName("block8_1")
		_, err := l.BuildInputs(slices.Repeat([][]int{{2}}, n), nil)
		if err == nil || !strings.HasPrefix(err.Error(), "block8_1 (ScaledAdd)") || !strings.Contains(err.Error(), "exactly 2 inputs") && !strings.Contains(err.Error(), "at least 2") {
			t.Errorf("%d inputs: error = %v, want a refusal naming the layer", n, err)
		}
	}
	for _, s := range []float64{math.NaN(), math.Inf(1), 1e39} {
		if _, err := (&nn.ScaledAdd{Scale: s}).BuildInputs([][]int{{2}, {2}}, nil); err == nil || !strings.Contains(err.Error(), "scale") {
			t.Errorf("scale %v: error = %v, want a refusal of the scale", s, err)
		}
	}
	for _, tt := range []struct {
		cfg  map[string]any
		want string
	}{
		{map[string]any{"name": "c"}, `field "scale": want a number (the scale of the second input), got null`},
		{map[string]any{"name": "c", "scale": nil}, `field "scale": want a number (the scale of the second input), got null`},
		{map[string]any{"name": "c", "scale": "0.17"}, `field "scale": want a number, got "0.17"`},
		{map[string]any{"name": "c", "scale": []any{0.17}}, `field "scale": want a number, got [0.17]`},
		{map[string]any{"name": "c", "scale": 0.17, "scales": 1.0}, `unknown field "scales"`},
	} {
		_, err := nn.FromConfig("CustomScaleLayer", tt.cfg)
		if err == nil || !strings.Contains(err.Error(), "CustomScaleLayer config: "+tt.want) {
			t.Errorf("FromConfig(CustomScaleLayer, %v) error = %v, want %q", tt.cfg, err, tt.want)
		}
	}
	l, err := nn.FromConfig("CustomScaleLayer", map[string]any{"name": "custom_scale_layer_3", "scale": 0.17})
	if s, ok := l.(*nn.ScaledAdd); err != nil || !ok || s.Scale != 0.17 || s.Name() != "custom_scale_layer_3" || l.Type() != "ScaledAdd" {
		t.Errorf("FromConfig(CustomScaleLayer, scale 0.17) = %#v, %v; want a ScaledAdd of scale 0.17", l, err)
	}
}
