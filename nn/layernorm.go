package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/convnet-go/convnet/tensor"
)

// LayerNormalization normalises each sample over the axes of Axis (Keras
// LayerNormalization; Ba et al. 2016, https://arxiv.org/abs/1607.06450):
//
//	y = (x - mean) / sqrt(var + Epsilon) · gamma + beta
//
// with mean and var (the biased variance) over the values of one sample
// that share their indices along the other axes, in training and at
// inference alike. Axis counts as Keras does, 1 to the input's rank (the
// batch axis is 0) or from the end when negative; nil is Keras's default
// -1, one mean and variance per pixel of an image over its channels;
// [1, 2, 3] normalises a whole image at once. Epsilon 0 means Keras's
// 1e-3.
//
// Its parameters are "gamma" (ones) and "beta" (zeros), each of the input's
// sizes along Axis in the input's order ([C] for -1, [H, W, C] for
// [1, 2, 3]); NoScale leaves out gamma, NoCenter beta (Keras's scale and
// center false).
//
// The means and variances sum in float64, the variance from the
// deviations (two passes); Backward is the usual
//
//	dx = inv · (dxhat - mean(dxhat) - xhat · mean(dxhat·xhat)),  dxhat = dy·gamma
//
// over each normalised group, with inv = 1/sqrt(var + Epsilon), and adds
// Σ dy·xhat and Σ dy into gamma's and beta's gradients.
type LayerNormalization struct {
	Axis     []int
	Epsilon  float64
	NoCenter bool
	NoScale  bool

	named
	buffers
	in   []int
	norm []bool // the input's axes normalised
	scaleShift
	g, b []float32 // gamma and beta of the pass in progress (see scaleShift.values)
	// A group is the values of one sample normalised together: offN holds
	// their offsets from the group's first value, in the order of gamma;
	// offK the offset of each group's first value in a sample.
	offN, offK []int32
	size       int       // values per sample
	mean, inv  []float32 // per group of the batch, from the last Forward
	sums       paramSums // Backward's sums of gamma's and beta's gradients, per chunk of groups
	skipDw     bool      // see SkipParamGradients

	x, y, dx *tensor.Tensor
	dy       *tensor.Tensor // during Backward
	split    split
}

func (l *LayerNormalization) Type() string { return "LayerNormalization" }

func (l *LayerNormalization) epsilon() float64 {
	if l.Epsilon == 0 {
		return 1e-3
	}
	return l.Epsilon
}

func (l *LayerNormalization) axis() []int {
	if l.Axis == nil {
		return []int{-1}
	}
	return l.Axis
}

// normalized returns which of the input's axes are normalised, or an error
// naming the axis that does not fit.
func (l *LayerNormalization) normalized(in []int) ([]bool, error) {
	axis := l.axis()
	if len(axis) == 0 {
		return nil, fmt.Errorf("axis []: want at least one axis")
	}
	return markAxes(axis, in, "normalised")
}

func (l *LayerNormalization) Build(in []int, rng *rand.Rand) ([]int, error) {
	if e := l.epsilon(); !(e > 0) || math.IsInf(e, 1) {
		return nil, errorf(l, "epsilon = %v: must be a positive number", e)
	}
	if len(in) == 0 || !positive(in) {
		return nil, errorf(l, "input shape %v: want at least one positive axis", in)
	}
	norm, err := l.normalized(in)
	if err != nil {
		return nil, errorf(l, "%v", err)
	}
	l.in, l.norm, l.size = slices.Clone(in), norm, tensor.Size(in)
	var shape []int
	for a, n := range norm {
		if n {
			shape = append(shape, in[a])
		}
	}
	l.offN, l.offK = offsets(in, norm, true), offsets(in, norm, false)
	l.scaleShift.build(l.NoScale, l.NoCenter, shape...)
	l.mean, l.inv, l.x, l.y, l.dx = nil, nil, nil, nil, nil
	return slices.Clone(in), nil
}

// offsets returns the offsets in a sample of shape in of the indices along
// the axes where norm is want (the others at 0), in row-major order.
func offsets(in []int, norm []bool, want bool) []int32 {
	off := []int32{0}
	stride := 1
	for a := len(in) - 1; a >= 0; a-- {
		if norm[a] == want {
			next := make([]int32, 0, len(off)*in[a])
			for i := range in[a] {
				for _, o := range off {
					next = append(next, o+int32(i*stride))
				}
			}
			off = next
		}
		stride *= in[a]
	}
	return off
}

func (l *LayerNormalization) OutputShape() []int { return l.in }

// Axes returns the axes the built layer normalises, counted from 1 as
// Keras does (the batch axis is 0), in increasing order.
func (l *LayerNormalization) Axes() []int {
	var axes []int
	for a, n := range l.norm {
		if n {
			axes = append(axes, a+1)
		}
	}
	return axes
}

// Params returns gamma then beta, Keras's order, each unless left out.
func (l *LayerNormalization) Params() []*Param { return l.params() }

// Cost counts gamma and beta; normalising is elementwise work.
func (l *LayerNormalization) Cost(in []int) Cost {
	n := int64(1)
	for _, a := range l.axis() {
		if a < 0 {
			a += len(in) + 1
		}
		if a >= 1 && a <= len(in) {
			n = mulSat(n, int64(in[a-1]))
		}
	}
	return scaleShiftCost(n, l.NoScale, l.NoCenter)
}

// SkipParamGradients makes Backward leave gamma's and beta's gradients as
// they are; see [ParamGradientSkipper].
func (l *LayerNormalization) SkipParamGradients(skip bool) { l.skipDw = skip }

// Config writes Keras's fields: axis as a list, epsilon, center and scale.
func (l *LayerNormalization) Config() map[string]any {
	return map[string]any{"name": l.Name(), "axis": slices.Clone(l.axis()), "epsilon": l.epsilon(),
		"center": !l.NoCenter, "scale": !l.NoScale}
}

func layerNormFromConfig(f *fields) *LayerNormalization {
	l := &LayerNormalization{NoCenter: !f.bool("center", true), NoScale: !f.bool("scale", true), Epsilon: positiveEpsilon(f)}
	if v, ok := f.m["axis"]; ok {
		if n, isInt := integer(v); isInt {
			f.get("axis")
			l.Axis = []int{n}
		} else if l.Axis = f.ints("axis"); l.Axis == nil && v != nil {
			l.Axis = []int{}
		}
	}
	return l
}
