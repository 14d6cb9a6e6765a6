package nn

import (
	"math/rand/v2"

	"github.com/convnet-go/convnet/tensor"
)

// Add sums its inputs element by element (Keras Add), as a residual block
// adds its shortcut to its output: y = x1 + x2 + ... + xk, of one shape or
// broadcast along axes of size 1. Each input's gradient is dy (summed along
// the axes it was broadcast).
type Add struct{ merge }

func (l *Add) Type() string { return "Add" }

func (l *Add) Build(in []int, rng *rand.Rand) ([]int, error)         { return nil, needInputs(l) }
func (l *Add) BuildInputs(in [][]int, rng *rand.Rand) ([]int, error) { return l.buildSame(l, in) }
func (l *Add) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	panic(singleInput(l, "Forward"))
}
func (l *Add) Backward(dy *tensor.Tensor) *tensor.Tensor { panic(singleInput(l, "Backward")) }

func (l *Add) ForwardInputs(xs []*tensor.Tensor, training bool) *tensor.Tensor {
	l.forward(l, xs)
	l.sum()
	return l.y
}

func (l *Add) BackwardInputs(dy *tensor.Tensor) []*tensor.Tensor {
	l.backward(l, dy)
	for _, dx := range l.dxs {
		copy(dx.Data, dy.Data)
	}
	return l.gradients()
}

func (l *Add) Config() map[string]any { return map[string]any{"name": l.Name()} }
