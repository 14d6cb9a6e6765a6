package nn

import (
	"math/rand/v2"
	"slices"

	"github.com/convnet-go/convnet/tensor"
)

// Flatten reshapes [N, d1, d2, ...] to [N, d1·d2·...] keeping the row-major
// (HWC) order, like Keras Flatten with channels_last. Its output is a copy,
// not a view of x.
type Flatten struct {
	relayout
}

func (l *Flatten) Type() string { return "Flatten" }

func (l *Flatten) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) == 0 || !positive(in) {
		return nil, errorf(l, "input shape %v: want at least one positive axis", in)
	}
	l.set(in, []int{tensor.Size(in)})
	return l.OutputShape(), nil
}

func (l *Flatten) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	return l.forward(l, x)
}

func (l *Flatten) Backward(dy *tensor.Tensor) *tensor.Tensor { return l.backward(l, dy) }

func (l *Flatten) Config() map[string]any { return map[string]any{"name": l.Name()} }

// relayout is what Flatten and Reshape share: the same values of a sample,
// copied, in a shape of the same size, and the gradient laid out back.
type relayout struct {
	named
	buffers
	in, out []int
	y, dx   *tensor.Tensor
	dims    []int // scratch for shapes
}

func (r *relayout) set(in, out []int) {
	r.in, r.out = slices.Clone(in), slices.Clone(out)
	r.y, r.dx = nil, nil
}

func (r *relayout) OutputShape() []int { return slices.Clone(r.out) }
func (r *relayout) Params() []*Param   { return nil }

// Cost is zero: nothing is weighed.
func (r *relayout) Cost(in []int) Cost { return Cost{} }

func (r *relayout) forward(l Layer, x *tensor.Tensor) *tensor.Tensor {
	checkInput(l, "Forward", x, r.in)
	r.dims = batchShape(r.dims, x.Shape[0], r.out)
	r.y = resize(r.y, r.dims...)
	copy(r.y.Data, x.Data)
	return r.y
}

func (r *relayout) backward(l Layer, dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, r.y)
	r.dims = batchShape(r.dims, dy.Shape[0], r.in)
	r.dx = r.grad(r.dx, r.dims...)
	copy(r.dx.Data, dy.Data)
	return r.dx
}
