package nn

import (
	"math/rand/v2"

	"github.com/convnet-go/convnet/tensor"
)

// Flatten reshapes [N, d1, d2, ...] to [N, d1·d2·...] keeping the row-major
// (HWC) order, like Keras Flatten with channels_last. Its output is a copy,
// not a view of x.
type Flatten struct {
	named
	buffers
	in    []int
	size  int
	y, dx *tensor.Tensor
	dims  []int // the shape of dx
}

func (l *Flatten) Type() string { return "Flatten" }

func (l *Flatten) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) == 0 || !positive(in) {
		return nil, errorf(l, "input shape %v: want at least one positive axis", in)
	}
	l.in, l.size = append([]int(nil), in...), tensor.Size(in)
	l.y, l.dx = nil, nil
	return []int{l.size}, nil
}

func (l *Flatten) OutputShape() []int { return []int{l.size} }
func (l *Flatten) Params() []*Param   { return nil }

// Cost is zero: Flatten has no weights.
func (l *Flatten) Cost(in []int) Cost { return Cost{} }

func (l *Flatten) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	l.y = resize(l.y, x.Shape[0], l.size)
	copy(l.y.Data, x.Data)
	return l.y
}

func (l *Flatten) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	l.dims = batchShape(l.dims, dy.Shape[0], l.in)
	l.dx = l.grad(l.dx, l.dims...)
	copy(l.dx.Data, dy.Data)
	return l.dx
}

func (l *Flatten) Config() map[string]any { return map[string]any{"name": l.Name()} }
