package nn

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/convnet-go/convnet/tensor"
)

// Reshape lays a sample's values out in TargetShape, in the same row-major
// order (Keras Reshape, channels last: Reshape((1, 1, C)) makes a vector of
// C values an image of one cell, as a squeeze-and-excitation block does).
// One size may be -1: the one that makes the sizes multiply to the
// input's. Its output is a copy; the gradient is dy laid out as the input.
type Reshape struct {
	TargetShape []int

	relayout
}

func (l *Reshape) Type() string { return "Reshape" }

func (l *Reshape) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) == 0 || !positive(in) {
		return nil, errorf(l, "input shape %v: want at least one positive axis", in)
	}
	out, err := reshaped(in, l.TargetShape)
	if err != nil {
		return nil, errorf(l, "%v", err)
	}
	l.set(in, out)
	return l.OutputShape(), nil
}

// reshaped returns target with its -1 resolved for an input of shape in,
// or an error saying why the values do not fit.
func reshaped(in, target []int) ([]int, error) {
	if len(target) == 0 {
		return nil, fmt.Errorf("target_shape []: want at least one axis")
	}
	size, known, free := tensor.Size(in), 1, -1
	out := slices.Clone(target)
	for a, d := range target {
		switch {
		case d == -1 && free < 0:
			free = a
		case d == -1:
			return nil, fmt.Errorf("target_shape %v: -1 more than once", target)
		case d < 1:
			return nil, fmt.Errorf("target_shape %v: size %d of axis %d is not positive (or -1)", target, d, a+1)
		case known > size/d:
			return nil, fmt.Errorf("target_shape %v holds more than the %d values of the input %v", target, size, in)
		default:
			known *= d
		}
	}
	if free >= 0 && size%known == 0 {
		out[free] = size / known
		known = size
	}
	if known != size {
		return nil, fmt.Errorf("target_shape %v does not hold the %d values of the input %v", target, size, in)
	}
	return out, nil
}

func (l *Reshape) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	return l.forward(l, x)
}

func (l *Reshape) Backward(dy *tensor.Tensor) *tensor.Tensor { return l.backward(l, dy) }

func (l *Reshape) Config() map[string]any {
	return map[string]any{"name": l.Name(), "target_shape": slices.Clone(l.TargetShape)}
}
