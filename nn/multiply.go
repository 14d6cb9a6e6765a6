package nn

import (
	"math/rand/v2"

	"github.com/convnet-go/convnet/tensor"
)

// Multiply is the element-wise product of its inputs (Keras Multiply), as a
// gate scales features: y = x1 · x2 · ... · xk, of one shape or broadcast
// along axes of size 1 (a squeeze-and-excitation block's [1,1,C] channel
// weights times its [H,W,C] map). The gradient of input j is dy times the
// product of the other inputs, multiplied in input order (no division, so
// zeros are exact), summed along the axes input j was broadcast.
type Multiply struct{ merge }

func (l *Multiply) Type() string { return "Multiply" }

func (l *Multiply) Build(in []int, rng *rand.Rand) ([]int, error)         { return nil, needInputs(l) }
func (l *Multiply) BuildInputs(in [][]int, rng *rand.Rand) ([]int, error) { return l.buildSame(l, in) }
func (l *Multiply) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	panic(singleInput(l, "Forward"))
}
func (l *Multiply) Backward(dy *tensor.Tensor) *tensor.Tensor { panic(singleInput(l, "Backward")) }

func (l *Multiply) ForwardInputs(xs []*tensor.Tensor, training bool) *tensor.Tensor {
	l.forward(l, xs)
	l.combine(true)
	return l.y
}

func (l *Multiply) BackwardInputs(dy *tensor.Tensor) []*tensor.Tensor {
	l.backward(l, dy)
	for j, dx := range l.dxs {
		copy(dx.Data, dy.Data)
		for k := range l.xs {
			if k == j {
				continue
			}
			for i, v := range l.wideInput(k)[:len(dx.Data)] {
				dx.Data[i] *= v
			}
		}
	}
	return l.gradients()
}

func (l *Multiply) Config() map[string]any { return map[string]any{"name": l.Name()} }
