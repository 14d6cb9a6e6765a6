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
	in          []int
	norm        []bool // the input's axes normalised
	gamma, beta *Param
	g, b        []float32 // gamma and beta in use: the parameters, or ones and zeros
	// A group is the values of one sample normalised together: offN holds
	// their offsets from the group's first value, in the order of gamma;
	// offK the offset of each group's first value in a sample.
	offN, offK []int32
	size       int       // values per sample
	mean, inv  []float32 // per group of the batch, from the last Forward
	dg, db     []float64 // Backward's sums of gamma's and beta's gradients
	skipDw     bool      // see SkipParamGradients

	x, y, dx *tensor.Tensor
	dy       *tensor.Tensor // during Backward
	split    split
}

// The phases of LayerNormalization's passes, over groups.
const (
	lnForward  = iota // the statistics and y
	lnBackward        // dx
)

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
	gs := len(l.offN)
	l.gamma, l.beta = nil, nil
	l.g, l.b = make([]float32, gs), make([]float32, gs)
	for i := range l.g {
		l.g[i] = 1
	}
	if !l.NoScale {
		l.gamma = newParam("gamma", true, shape...)
		l.gamma.Value.Fill(1)
		l.g = l.gamma.Value.Data
	}
	if !l.NoCenter {
		l.beta = newParam("beta", true, shape...)
		l.b = l.beta.Value.Data
	}
	l.dg, l.db = make([]float64, gs), make([]float64, gs)
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
func (l *LayerNormalization) Params() []*Param {
	var ps []*Param
	if l.gamma != nil {
		ps = append(ps, l.gamma)
	}
	if l.beta != nil {
		ps = append(ps, l.beta)
	}
	return ps
}

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
	var c Cost
	if !l.NoScale {
		c.Params = n
	}
	if !l.NoCenter {
		c.Params = addSat(c.Params, n)
	}
	return c
}

func (l *LayerNormalization) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	groups := x.Shape[0] * len(l.offK)
	if cap(l.mean) < groups {
		l.mean, l.inv = make([]float32, groups), make([]float32, groups)
	}
	l.mean, l.inv = l.mean[:groups], l.inv[:groups]
	l.x = x
	l.y = resize(l.y, x.Shape...)
	l.split.rows(l, lnForward, groups, len(l.offN))
	return l.y
}

// Backward adds gamma's and beta's gradients, summed in float64 over the
// groups in order.
func (l *LayerNormalization) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	l.dx = l.grad(l.dx, dy.Shape...)
	l.dy = dy
	groups := len(l.mean)
	l.split.rows(l, lnBackward, groups, len(l.offN))
	if !l.skipDw && (l.gamma != nil || l.beta != nil) {
		l.paramGrads()
	}
	l.dy = nil
	return l.dx
}

// base returns the offset in the batch of group k's first value.
func (l *LayerNormalization) base(k int) int {
	return k/len(l.offK)*l.size + int(l.offK[k%len(l.offK)])
}

func (l *LayerNormalization) do(phase, lo, hi int) {
	n, eps := float64(len(l.offN)), l.epsilon()
	for k := lo; k < hi; k++ {
		at := l.base(k)
		x := l.x.Data[at:]
		if phase == lnForward {
			s := 0.0
			for _, o := range l.offN {
				s += float64(x[o])
			}
			mean, v := s/n, 0.0
			for _, o := range l.offN {
				d := float64(x[o]) - mean
				v += d * d
			}
			m, inv := float32(mean), float32(1/math.Sqrt(v/n+eps))
			l.mean[k], l.inv[k] = m, inv
			y := l.y.Data[at:]
			for j, o := range l.offN {
				y[o] = (x[o]-m)*inv*l.g[j] + l.b[j]
			}
			continue
		}
		m, inv := l.mean[k], l.inv[k]
		dy, dx := l.dy.Data[at:], l.dx.Data[at:]
		sd, sdx := 0.0, 0.0
		for j, o := range l.offN {
			d := float64(dy[o] * l.g[j])
			sd += d
			sdx += d * float64((x[o]-m)*inv)
		}
		sd, sdx = sd/n, sdx/n
		for j, o := range l.offN {
			xh := float64((x[o] - m) * inv)
			dx[o] = float32(float64(inv) * (float64(dy[o]*l.g[j]) - sd - xh*sdx))
		}
	}
}

// paramGrads adds Σ dy·xhat into gamma's gradient and Σ dy into beta's,
// over the groups in order.
func (l *LayerNormalization) paramGrads() {
	clear(l.dg)
	clear(l.db)
	for k := range l.mean {
		at, m, inv := l.base(k), l.mean[k], l.inv[k]
		x, dy := l.x.Data[at:], l.dy.Data[at:]
		for j, o := range l.offN {
			d := float64(dy[o])
			l.dg[j] += d * float64((x[o]-m)*inv)
			l.db[j] += d
		}
	}
	if l.gamma != nil {
		for j, v := range l.dg {
			l.gamma.Grad.Data[j] += float32(v)
		}
	}
	if l.beta != nil {
		for j, v := range l.db {
			l.beta.Grad.Data[j] += float32(v)
		}
	}
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
	l := &LayerNormalization{NoCenter: !f.bool("center", true), NoScale: !f.bool("scale", true)}
	if v, ok := f.m["epsilon"]; ok {
		if l.Epsilon = f.float("epsilon"); l.Epsilon == 0 {
			f.fail("epsilon", "a positive number", v)
		}
	}
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
