package nn

import (
	"math/rand/v2"

	"github.com/convnet-go/convnet/tensor"
)

// Average is the element-wise mean of its inputs (Keras Average):
// y = (x1 + x2 + ... + xk) / k, of one shape or broadcast along axes of
// size 1, summed in input order and
// divided as Keras does. Each input's gradient is dy / k.
type Average struct{ merge }

func (l *Average) Type() string { return "Average" }

func (l *Average) Build(in []int, rng *rand.Rand) ([]int, error)         { return nil, needInputs(l) }
func (l *Average) BuildInputs(in [][]int, rng *rand.Rand) ([]int, error) { return l.buildSame(l, in) }
func (l *Average) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	panic(singleInput(l, "Forward"))
}
func (l *Average) Backward(dy *tensor.Tensor) *tensor.Tensor { panic(singleInput(l, "Backward")) }

func (l *Average) ForwardInputs(xs []*tensor.Tensor, training bool) *tensor.Tensor {
	l.forward(l, xs)
	y := l.sum()
	k := float32(len(xs))
	for i := range y {
		y[i] /= k
	}
	return l.y
}

func (l *Average) BackwardInputs(dy *tensor.Tensor) []*tensor.Tensor {
	l.backward(l, dy)
	k := float32(len(l.dxs))
	for i, d := range dy.Data {
		g := d / k
		for _, dx := range l.dxs {
			dx.Data[i] = g
		}
	}
	return l.gradients()
}

func (l *Average) Config() map[string]any { return map[string]any{"name": l.Name()} }
