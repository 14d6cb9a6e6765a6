package nn

import (
	"math/rand/v2"
	"slices"

	"github.com/convnet-go/convnet/tensor"
)

// Concatenate joins its inputs along one axis (Keras Concatenate), as an
// Inception block stacks the channels of its branches: inputs [N,H,W,C1] and
// [N,H,W,C2] give [N,H,W,C1+C2] on the default last axis. The other axes
// must agree. Each input's gradient is its slice of dy.
type Concatenate struct {
	// Axis counts the batch axis as 0, as in Keras: -1 (the default, also
	// meant by 0 here, the batch axis being out of the question) is the
	// last axis, 3 the channels of an image batch [N,H,W,C].
	Axis int

	merge
	outer, inner int   // the product of the axes before and after the joined one
	sizes        []int // each input's length along the joined axis
	dy           *tensor.Tensor
	split        split
}

func (l *Concatenate) Type() string { return "Concatenate" }

func (l *Concatenate) Build(in []int, rng *rand.Rand) ([]int, error) { return nil, needInputs(l) }
func (l *Concatenate) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	panic(singleInput(l, "Forward"))
}
func (l *Concatenate) Backward(dy *tensor.Tensor) *tensor.Tensor { panic(singleInput(l, "Backward")) }

// axis returns the joined axis as an index into a sample's shape of rank r,
// or -1 if Axis does not name one.
func (l *Concatenate) axis(r int) int {
	switch a := l.Axis; {
	case a == 0:
		return r - 1
	case a < 0 && a >= -r:
		return r + a
	case a > 0 && a <= r:
		return a - 1
	}
	return -1
}

func (l *Concatenate) BuildInputs(in [][]int, rng *rand.Rand) ([]int, error) {
	if err := l.setInputs(l, in); err != nil {
		return nil, err
	}
	r := len(in[0])
	a := l.axis(r)
	if a < 0 {
		return nil, errorf(l, "axis %d: the inputs of shape %v have axes 1 to %d (or -1 to -%d)", l.Axis, in[0], r, r)
	}
	l.sizes = make([]int, len(in))
	out := slices.Clone(in[0])
	out[a] = 0
	for k, s := range in {
		match := len(s) == r
		for i := 0; match && i < r; i++ {
			match = i == a || s[i] == in[0][i]
		}
		if !match {
			return nil, errorf(l, "input %d has shape %v but input 1 has %v: all axes but axis %d must agree", k+1, s, in[0], a+1)
		}
		l.sizes[k] = s[a]
		out[a] += s[a]
	}
	if err := checkSize(l, "output", out...); err != nil {
		return nil, err
	}
	l.outer, l.inner = tensor.Size(out[:a]), tensor.Size(out[a+1:])
	l.out = out
	return out, nil
}

// The phases of a concatenation, cut into the outer blocks of its output.
const (
	concatForward = iota
	concatBackward
)

func (l *Concatenate) ForwardInputs(xs []*tensor.Tensor, training bool) *tensor.Tensor {
	n := l.forward(l, xs)
	row := l.out[l.axis(len(l.out))] * l.inner // one outer block of the output
	l.split.rows(l, concatForward, n*l.outer, row)
	return l.y
}

func (l *Concatenate) BackwardInputs(dy *tensor.Tensor) []*tensor.Tensor {
	l.backward(l, dy)
	row := l.out[l.axis(len(l.out))] * l.inner
	l.dy = dy
	l.split.rows(l, concatBackward, dy.Shape[0]*l.outer, row)
	l.dy = nil
	return l.dxs
}

// do copies the outer blocks lo to hi-1 of the inputs into the output, or
// of the output's gradient back to the inputs'.
func (l *Concatenate) do(phase, lo, hi int) {
	row := l.out[l.axis(len(l.out))] * l.inner
	for o := lo; o < hi; o++ {
		off := o * row
		for k := range l.xs {
			w := l.sizes[k] * l.inner
			if phase == concatForward {
				copy(l.y.Data[off:off+w], l.xs[k].Data[o*w:(o+1)*w])
			} else {
				copy(l.dxs[k].Data[o*w:(o+1)*w], l.dy.Data[off:off+w])
			}
			off += w
		}
	}
}

func (l *Concatenate) Config() map[string]any {
	axis := l.Axis
	if axis == 0 {
		axis = -1
	}
	return map[string]any{"name": l.Name(), "axis": axis}
}
