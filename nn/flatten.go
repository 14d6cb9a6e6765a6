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
	in    []int
	size  int
	y, dx *tensor.Tensor
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
	n := dy.Shape[0]
	if l.dx == nil || len(l.dx.Shape) != len(l.in)+1 {
		l.dx = &tensor.Tensor{Shape: make([]int, len(l.in)+1)}
	}
	if cap(l.dx.Data) < len(dy.Data) {
		l.dx.Data = make([]float32, len(dy.Data))
	}
	l.dx.Shape[0] = n
	copy(l.dx.Shape[1:], l.in)
	l.dx.Data = l.dx.Data[:len(dy.Data)]
	copy(l.dx.Data, dy.Data)
	return l.dx
}

func (l *Flatten) Config() map[string]any { return map[string]any{"name": l.Name()} }
