package nn

import (
	"math/rand/v2"

	"github.com/convnet-go/convnet/tensor"
)

// Maximum is the element-wise largest of its inputs (Keras Maximum,
// PyTorch's torch.maximum), Minimum the smallest (Keras Minimum): of one
// shape or broadcast along axes of size 1, taken in input order as
// max(max(x1, x2), x3)... A NaN wins, as in PyTorch. The gradient goes to
// the input that gave the value; where two tie, each of the pair gets half,
// and where one is NaN both get all of it (PyTorch's rule for
// torch.maximum, applied along the chain).
type Maximum struct{ extremum }

// Minimum is Maximum with the smallest value; see [Maximum].
type Minimum struct{ extremum }

func (l *Maximum) Type() string { return "Maximum" }
func (l *Minimum) Type() string { return "Minimum" }

func (l *Maximum) Build(in []int, rng *rand.Rand) ([]int, error)         { return nil, needInputs(l) }
func (l *Minimum) Build(in []int, rng *rand.Rand) ([]int, error)         { return nil, needInputs(l) }
func (l *Maximum) BuildInputs(in [][]int, rng *rand.Rand) ([]int, error) { return l.buildSame(l, in) }
func (l *Minimum) BuildInputs(in [][]int, rng *rand.Rand) ([]int, error) { return l.buildSame(l, in) }

func (l *Maximum) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	panic(singleInput(l, "Forward"))
}
func (l *Minimum) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	panic(singleInput(l, "Forward"))
}
func (l *Maximum) Backward(dy *tensor.Tensor) *tensor.Tensor { panic(singleInput(l, "Backward")) }
func (l *Minimum) Backward(dy *tensor.Tensor) *tensor.Tensor { panic(singleInput(l, "Backward")) }

func (l *Maximum) ForwardInputs(xs []*tensor.Tensor, training bool) *tensor.Tensor {
	return l.forwardExtremum(l, xs, false)
}
func (l *Minimum) ForwardInputs(xs []*tensor.Tensor, training bool) *tensor.Tensor {
	return l.forwardExtremum(l, xs, true)
}
func (l *Maximum) BackwardInputs(dy *tensor.Tensor) []*tensor.Tensor {
	return l.backwardExtremum(l, dy, false)
}
func (l *Minimum) BackwardInputs(dy *tensor.Tensor) []*tensor.Tensor {
	return l.backwardExtremum(l, dy, true)
}

func (l *Maximum) Config() map[string]any { return map[string]any{"name": l.Name()} }
func (l *Minimum) Config() map[string]any { return map[string]any{"name": l.Name()} }

// extremum is what Maximum and Minimum share.
type extremum struct {
	merge
	chain []*tensor.Tensor // the running extremum before each input after the first
}

// beats reports whether v replaces the running extremum e: larger (or,
// for the minimum, smaller), or NaN.
func beats(v, e float32, min bool) bool {
	if min {
		return v < e || v != v
	}
	return v > e || v != v
}

func (e *extremum) forwardExtremum(l Layer, xs []*tensor.Tensor, min bool) *tensor.Tensor {
	e.forward(l, xs)
	y := e.y.Data
	copy(y, e.wideInput(0)[:len(y)])
	for len(e.chain) < len(xs)-1 {
		e.chain = append(e.chain, nil)
	}
	for k := 1; k < len(xs); k++ {
		// Keep the running extremum for the gradient of the pair.
		e.chain[k-1] = resize(e.chain[k-1], e.y.Shape...)
		copy(e.chain[k-1].Data, y)
		for i, v := range e.wideInput(k)[:len(y)] {
			if beats(v, y[i], min) {
				y[i] = v
			}
		}
	}
	return e.y
}

// backwardExtremum passes dy down the chain max(max(x1, x2), x3)...,
// PyTorch's rule at each pair (the running extremum r, input k): the one
// that gave the result takes the gradient, each half of it where they tie,
// both all of it where one is NaN.
func (e *extremum) backwardExtremum(l Layer, dy *tensor.Tensor, min bool) []*tensor.Tensor {
	e.backward(l, dy)
	n := len(dy.Data)
	g := e.dxs[0].Data[:n] // the running gradient of r, ending as x1's
	copy(g, dy.Data)
	for k := len(e.xs) - 1; k >= 1; k-- {
		r, x, dx := e.chain[k-1].Data, e.wideInput(k)[:n], e.dxs[k].Data[:n]
		for i := range g {
			switch {
			case x[i] == r[i]:
				g[i] *= 0.5
				dx[i] = g[i]
			case better(x[i], r[i], min):
				dx[i], g[i] = g[i], 0
			case better(r[i], x[i], min):
				dx[i] = 0
			default: // a NaN
				dx[i] = g[i]
			}
		}
	}
	return e.gradients()
}

// better reports whether a is strictly larger than b (smaller, for the
// minimum); false where either is NaN.
func better(a, b float32, min bool) bool {
	if min {
		return a < b
	}
	return a > b
}
