package nn

import (
	"math/rand/v2"

	"github.com/convnet-go/convnet/tensor"
)

// ScaledAdd adds its second input, scaled, to its first, element by element:
// y = x1 + x2·Scale, of one shape or broadcast along axes of size 1 as [Add].
// It is the CustomScaleLayer of Keras's InceptionResNetV2 (Szegedy et al.
// 2016, https://arxiv.org/abs/1602.07261), which adds each residual branch
// to its shortcut scaled by 0.17, 0.1 or 0.2 to keep the sum stable in
// training; Keras's configs call it CustomScaleLayer and its field scale.
//
// The product is rounded before the sum, as a multiplication followed by an
// addition (ONNX's Mul and Add, PyTorch's x + up * scale). The gradients are
// dy and dy·Scale (summed along the axes an input was broadcast).
type ScaledAdd struct {
	Scale float64

	merge
}

func (l *ScaledAdd) Type() string { return "ScaledAdd" }

func (l *ScaledAdd) Build(in []int, rng *rand.Rand) ([]int, error) { return nil, needInputs(l) }

// BuildInputs takes exactly two inputs, the shortcut and the branch, and a
// finite Scale.
func (l *ScaledAdd) BuildInputs(in [][]int, rng *rand.Rand) ([]int, error) {
	if len(in) != 2 {
		return nil, errorf(l, "ScaledAdd takes exactly 2 inputs (the shortcut and the branch), got %d", len(in))
	}
	if !finite32(l.Scale) {
		return nil, errorf(l, "scale = %v: must be a finite number", l.Scale)
	}
	return l.buildSame(l, in)
}

func (l *ScaledAdd) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	panic(singleInput(l, "Forward"))
}
func (l *ScaledAdd) Backward(dy *tensor.Tensor) *tensor.Tensor { panic(singleInput(l, "Backward")) }

func (l *ScaledAdd) ForwardInputs(xs []*tensor.Tensor, training bool) *tensor.Tensor {
	l.forward(l, xs)
	y, s := l.y.Data, float32(l.Scale)
	a, b := l.wideInput(0)[:len(y)], l.wideInput(1)[:len(y)]
	for i := range y {
		y[i] = a[i] + float32(b[i]*s) // the conversion rounds the product: no fused multiply-add
	}
	return l.y
}

func (l *ScaledAdd) BackwardInputs(dy *tensor.Tensor) []*tensor.Tensor {
	l.backward(l, dy)
	copy(l.dxs[0].Data, dy.Data)
	d, s := l.dxs[1].Data[:len(dy.Data)], float32(l.Scale)
	for i, v := range dy.Data {
		d[i] = v * s
	}
	return l.gradients()
}

func (l *ScaledAdd) Config() map[string]any {
	return map[string]any{"name": l.Name(), "scale": l.Scale}
}

// scaledAddFromConfig reads scale, which the layer must have: Keras's
// CustomScaleLayer takes it without a default.
func scaledAddFromConfig(f *fields) Layer {
	if v, ok := f.get("scale"); !ok {
		f.fail("scale", "a number (the scale of the second input)", v)
	}
	return &ScaledAdd{Scale: f.float("scale")}
}
