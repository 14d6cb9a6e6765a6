package nn

import (
	"math/rand/v2"

	"github.com/convnet-go/convnet/tensor"
)

// Subtract is its first input less its second, element by element (Keras
// Subtract, PyTorch's a - b): y = x1 - x2, of one shape or broadcast along
// axes of size 1. The gradients are dy and -dy (summed along the axes an
// input was broadcast).
type Subtract struct{ merge }

func (l *Subtract) Type() string { return "Subtract" }

func (l *Subtract) Build(in []int, rng *rand.Rand) ([]int, error) { return nil, needInputs(l) }

// BuildInputs takes exactly two inputs, as Keras's Subtract.
func (l *Subtract) BuildInputs(in [][]int, rng *rand.Rand) ([]int, error) {
	if len(in) != 2 {
		return nil, errorf(l, "Subtract takes exactly 2 inputs, got %d", len(in))
	}
	return l.buildSame(l, in)
}

func (l *Subtract) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	panic(singleInput(l, "Forward"))
}
func (l *Subtract) Backward(dy *tensor.Tensor) *tensor.Tensor { panic(singleInput(l, "Backward")) }

func (l *Subtract) ForwardInputs(xs []*tensor.Tensor, training bool) *tensor.Tensor {
	l.forward(l, xs)
	y := l.y.Data
	a, b := l.wideInput(0)[:len(y)], l.wideInput(1)[:len(y)]
	for i := range y {
		y[i] = a[i] - b[i]
	}
	return l.y
}

func (l *Subtract) BackwardInputs(dy *tensor.Tensor) []*tensor.Tensor {
	l.backward(l, dy)
	copy(l.dxs[0].Data, dy.Data)
	d := l.dxs[1].Data[:len(dy.Data)]
	for i, v := range dy.Data {
		d[i] = -v
	}
	return l.gradients()
}

func (l *Subtract) Config() map[string]any { return map[string]any{"name": l.Name()} }
