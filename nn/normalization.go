package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/tensor"
)

// Normalization is (x - mean) / max(√variance, 1e-7), a mean and a variance
// for each index along the Axis and shared along the other axes (Keras's
// Normalization); Invert makes it mean + x·max(√variance, 1e-7), which
// undoes it. Axis counts as Keras does, 1 to the input's rank (the batch
// axis is 0) or from the end when negative; nil is Keras's default, the
// last axis: one mean and variance per channel of an image. An empty Axis
// that is not nil is Keras's axis=None: one mean and variance for all.
//
// Mean and Variance, when given, are the statistics (Keras's mean and
// variance arguments): one value for all, or one for each index of the
// kept axes in order (the last varying fastest), or of the last few of them
// (the same along the others). The layer then has no parameters. Otherwise
// its parameters "mean" and "variance" (the input's shape with 1 along the
// other axes) and "count", none trainable, start as 0, 1 and 0, the
// identity, and [Normalization.Adapt] measures them on data, as Keras's
// adapt: `convnet train` adapts them on the training set before the first
// step, and model.Model.Adapt does it for a model's layers.
//
// Nothing is learned: dx = dy / max(√variance, 1e-7) (Invert: times it).
type Normalization struct {
	Axis           []int
	Mean, Variance []float64
	Invert         bool

	named
	buffers
	in     []int
	keep   []bool // the input's axes with their own statistics
	shape  []int  // the statistics' shape: in, with 1 along the shared axes
	stats  []*Param
	gm, gv []float32 // given statistics, as given (repeating)
	// strides holds the offset in the statistics of one step along each
	// axis of the input: 0 along the shared axes. The passes run over rows
	// (see rows): the last axes, from prefix on, rowLen values, along which
	// the offset grows by step.
	strides              []int
	prefix, rowLen, step int
	mu                   []float32 // the means and the divisors max(√variance, 1e-7) of the pass
	sd                   []float32

	x, dy, y, dx *tensor.Tensor // dy: during Backward
	split        split
}

// normEpsilon is Keras's backend epsilon, the least divisor.
const normEpsilon = 1e-7

func (l *Normalization) Type() string { return "Normalization" }

// axes returns the input's axes that keep their own statistics.
func (l *Normalization) axes(in []int) ([]bool, error) {
	axis := l.Axis
	if axis == nil {
		axis = []int{-1}
	}
	return markAxes(axis, in, "kept")
}

// markAxes returns which of the input's axes Keras's axis list names:
// counted from 1 (the batch axis is 0) or, negative, from the end. An axis
// that does not fit is an error naming it; what says what the layer does
// with the axes ("kept", "normalised").
func markAxes(axis, in []int, what string) ([]bool, error) {
	marked := make([]bool, len(in))
	for _, a := range axis {
		k := a - 1
		if a < 0 {
			k = len(in) + a
		}
		if a == 0 || k < 0 || k >= len(in) {
			return nil, fmt.Errorf("axis %v: %d is not an axis of the input %v (1 to %d, or -1 to -%d from the end; the batch axis 0 cannot be %s)", axis, a, in, len(in), len(in), what)
		}
		if marked[k] {
			return nil, fmt.Errorf("axis %v: axis %d is listed twice", axis, a)
		}
		marked[k] = true
	}
	return marked, nil
}

func (l *Normalization) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) == 0 || !positive(in) {
		return nil, errorf(l, "input shape %v: want at least one positive axis", in)
	}
	keep, err := l.axes(in)
	if err != nil {
		return nil, errorf(l, "%v", err)
	}
	l.in, l.keep = slices.Clone(in), keep
	l.shape = slices.Clone(in)
	var kept []int
	for a, k := range keep {
		if k {
			kept = append(kept, in[a])
		} else {
			l.shape[a] = 1
		}
	}
	l.stats, l.gm, l.gv = nil, nil, nil
	if l.Mean != nil || l.Variance != nil {
		if l.Mean == nil || l.Variance == nil {
			return nil, errorf(l, "mean %v, variance %v: give both or neither", l.Mean, l.Variance)
		}
		err := given("mean", l.Mean, kept)
		if err == nil {
			err = given("variance", l.Variance, kept)
		}
		if err == nil && len(l.Mean) != len(l.Variance) {
			err = fmt.Errorf("mean has %d values, variance %d: want as many", len(l.Mean), len(l.Variance))
		}
		if err != nil {
			return nil, errorf(l, "%v", err)
		}
		l.gm, l.gv = make([]float32, len(l.Mean)), make([]float32, len(l.Mean))
		for i := range l.gm {
			l.gm[i], l.gv[i] = float32(l.Mean[i]), float32(l.Variance[i])
		}
		l.mu, l.sd = make([]float32, len(l.gm)), make([]float32, len(l.gm))
	} else {
		mean, variance, count := newParam("mean", false, l.shape...), newParam("variance", false, l.shape...), newParam("count", false, 1)
		for i := range variance.Value.Data {
			variance.Value.Data[i] = 1
		}
		l.stats = []*Param{mean, variance, count}
		l.mu, l.sd = make([]float32, mean.Value.Len()), make([]float32, mean.Value.Len())
	}
	l.strides = make([]int, len(in))
	for a, st := len(in)-1, 1; a >= 0; a-- {
		if keep[a] {
			l.strides[a], st = st, st*in[a]
		}
	}
	l.rows()
	l.x, l.y, l.dx = nil, nil, nil
	return slices.Clone(in), nil
}

// given checks Mean or Variance against the kept axes' sizes: a single
// value, or one for each index of the last few kept axes (the same along
// the others); the layer indexes them modulo their number.
func given(name string, v []float64, kept []int) error {
	for i, x := range v {
		if !finite32(x) || name == "variance" && x < 0 {
			return fmt.Errorf("%s[%d] = %v: want a finite number%s", name, i, x, map[bool]string{true: " ≥ 0"}[name == "variance"])
		}
	}
	tail, sizes := 1, []string{"1"}
	for k := len(kept) - 1; k >= 0 && tail != len(v); k-- {
		tail *= kept[k]
		sizes = append(sizes, fmt.Sprint(tail))
	}
	if len(v) != tail || len(v) == 0 {
		return fmt.Errorf("%s has %d values, the kept axes of sizes %v take %s (one for all, or one per index of the last kept axes)", name, len(v), kept, joinOr(sizes))
	}
	return nil
}

// joinOr writes s as "a, b or c", repeats left out.
func joinOr(s []string) string {
	s = slices.Compact(s)
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// rows cuts a sample into rows: the last run of axes along which the
// statistics are all kept or all shared (axes of size 1 go either way). A
// row then reads consecutive statistics (step 1) or one (step 0).
// Given statistics repeat: a row reads no more than there are.
func (l *Normalization) rows() {
	in, k, kind, size := l.in, len(l.in), 0, 1 // kind: 1 shared, 2 kept
	for ; k > 0; k-- {
		c := 1
		if l.keep[k-1] {
			c = 2
		}
		if in[k-1] > 1 && kind != 0 && c != kind {
			break
		}
		// A row of kept axes reads at most the given statistics, which
		// repeat.
		if c == 2 && l.gm != nil && size*in[k-1] > len(l.gm) {
			break
		}
		if in[k-1] > 1 {
			kind = c
		}
		size *= in[k-1]
	}
	l.prefix, l.rowLen, l.step = k, tensor.Size(in[k:]), 0
	if kind == 2 {
		l.step = 1
	}
}

// statAt returns the offset in the statistics of the first value of row r
// of a sample.
func (l *Normalization) statAt(r int) int {
	off := 0
	for a := l.prefix - 1; a >= 0; a-- {
		off += r % l.in[a] * l.strides[a]
		r /= l.in[a]
	}
	return off
}

func (l *Normalization) OutputShape() []int { return slices.Clone(l.in) }

// KeptShape returns the sizes of the input's axes that keep their own
// statistics, in order: the shape Keras gives the mean and the variance,
// whose parameters here have the input's shape with 1 along the other
// axes. The layer must be built.
func (l *Normalization) KeptShape() []int {
	var s []int
	for a, k := range l.keep {
		if k {
			s = append(s, l.in[a])
		}
	}
	return s
}

// Params returns "mean", "variance" and "count" when the statistics are
// adapted, none when they were given.
func (l *Normalization) Params() []*Param { return slices.Clone(l.stats) }

// Cost counts the parameters; nothing is weighed or summed.
func (l *Normalization) Cost(in []int) Cost {
	if l.Mean != nil || l.Variance != nil || len(in) == 0 {
		return Cost{}
	}
	n := int64(1)
	if l.Axis == nil {
		n = int64(in[len(in)-1])
	}
	for _, a := range l.Axis {
		if a < 0 {
			a += len(in) + 1
		}
		if a >= 1 && a <= len(in) {
			n = mulSat(n, int64(in[a-1]))
		}
	}
	return Cost{Params: addSat(mulSat(n, 2), 1)}
}

// StatsShape returns the shape of the mean and of the variance: the input's,
// with 1 along the axes that share them.
func (l *Normalization) StatsShape() []int { return slices.Clone(l.shape) }

// Stats returns the mean and the variance in use, of StatsShape, in
// float32 as the layer applies them.
func (l *Normalization) Stats() (mean, variance []float32) {
	if l.stats != nil {
		return slices.Clone(l.stats[0].Value.Data), slices.Clone(l.stats[1].Value.Data)
	}
	n := tensor.Size(l.shape)
	mean, variance = make([]float32, n), make([]float32, n)
	for i := range mean {
		mean[i], variance[i] = l.gm[i%len(l.gm)], l.gv[i%len(l.gv)]
	}
	return mean, variance
}

// Divisors returns what the layer divides by (Invert: multiplies by), of
// StatsShape: max(√variance, 1e-7), the square root rounded once to
// float32.
func (l *Normalization) Divisors() []float32 {
	_, variance := l.Stats()
	for i, v := range variance {
		variance[i] = divisor(v)
	}
	return variance
}

func divisor(variance float32) float32 {
	return max(float32(math.Sqrt(float64(variance))), normEpsilon)
}

// Adapted reports whether the statistics were given or measured by Adapt
// (or read with the rest of a model's weights): a count above 0.
func (l *Normalization) Adapted() bool {
	return l.stats == nil || l.stats[2].Value.Data[0] > 0
}

// divisors computes the pass's means and divisors from the statistics as
// float32: max(√variance, 1e-7), the square root rounded once.
func (l *Normalization) divisors() {
	mean, variance := l.gm, l.gv
	if l.stats != nil {
		mean, variance = l.stats[0].Value.Data, l.stats[1].Value.Data
	}
	copy(l.mu, mean)
	for i, v := range variance {
		l.sd[i] = divisor(v)
	}
}

func (l *Normalization) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	l.divisors()
	l.x = x
	l.y = resize(l.y, x.Shape...)
	l.split.rows(l, actForward, len(x.Data)/l.rowLen, l.rowLen)
	l.x = nil
	return l.y
}

// Backward is dy divided by the divisors (Invert: times).
func (l *Normalization) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	l.dx = l.grad(l.dx, dy.Shape...)
	l.dy = dy
	l.split.rows(l, actBackward, len(dy.Data)/l.rowLen, l.rowLen)
	l.dy = nil
	return l.dx
}

func (l *Normalization) do(phase, lo, hi int) {
	n, step, rows := l.rowLen, l.step, tensor.Size(l.in[:l.prefix])
	for r := lo; r < hi; r++ {
		k := l.statAt(r%rows) % len(l.mu) // given statistics repeat
		m, s := l.mu[k:k+1+step*(n-1)], l.sd[k:k+1+step*(n-1)]
		switch {
		case phase == actBackward && l.Invert:
			dx, dy := l.dx.Data[r*n:(r+1)*n], l.dy.Data[r*n:(r+1)*n]
			for i, v := range dy {
				dx[i] = v * s[i*step]
			}
		case phase == actBackward:
			dx, dy := l.dx.Data[r*n:(r+1)*n], l.dy.Data[r*n:(r+1)*n]
			for i, v := range dy {
				dx[i] = v / s[i*step]
			}
		case l.Invert:
			y, x := l.y.Data[r*n:(r+1)*n], l.x.Data[r*n:(r+1)*n]
			for i, v := range x {
				y[i] = m[i*step] + float32(v*s[i*step]) // a Mul then an Add, not fused
			}
		default:
			y, x := l.y.Data[r*n:(r+1)*n], l.x.Data[r*n:(r+1)*n]
			for i, v := range x {
				y[i] = (v - m[i*step]) / s[i*step]
			}
		}
	}
}

func (l *Normalization) Config() map[string]any {
	axis := l.Axis
	if axis == nil {
		axis = []int{-1}
	}
	cfg := map[string]any{"name": l.Name(), "axis": slices.Clone(axis), "invert": l.Invert, "mean": nil, "variance": nil}
	if l.Mean != nil || l.Variance != nil {
		cfg["mean"], cfg["variance"] = l.nested(l.Mean), l.nested(l.Variance)
	}
	return cfg
}

// nested writes given statistics as Keras reads them: one value as a
// number, others as nested lists of the shape of the last kept axes they
// cover (once built).
func (l *Normalization) nested(v []float64) any {
	if len(v) == 1 {
		return v[0]
	}
	var dims []int
	for a, n := len(l.keep)-1, 1; a >= 0 && n < len(v); a-- {
		if l.keep[a] {
			n *= l.in[a]
			dims = append([]int{l.in[a]}, dims...)
		}
	}
	var nest func(v []float64, dims []int) any
	nest = func(v []float64, dims []int) any {
		if len(dims) <= 1 {
			return slices.Clone(v)
		}
		out, step := make([]any, dims[0]), len(v)/dims[0]
		for i := range out {
			out[i] = nest(v[i*step:(i+1)*step], dims[1:])
		}
		return out
	}
	if tensor.Size(dims) != len(v) {
		return slices.Clone(v)
	}
	return nest(v, dims)
}

func normalizationFromConfig(f *fields) *Normalization {
	l := &Normalization{Invert: f.bool("invert", false), Mean: f.floats("mean"), Variance: f.floats("variance")}
	if v, present := f.m["axis"]; present {
		f.get("axis") // read, though null means something here
		switch a := v.(type) {
		case nil: // Keras's axis=None
			l.Axis = []int{}
		case float64, int:
			n, ok := integer(a)
			if !ok {
				f.fail("axis", "an integer, a list of integers or null", v)
			}
			l.Axis = []int{n}
		default:
			if l.Axis = f.ints("axis"); l.Axis == nil {
				l.Axis = []int{}
			}
		}
	}
	return l
}
