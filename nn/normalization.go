package nn

import (
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"slices"

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
	gm, gv []float32 // given statistics, one per statistic
	idx    []int32   // the statistic of each value of a sample
	mu     []float32 // the means and the divisors max(√variance, 1e-7) of the pass
	sd     []float32

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
	keep := make([]bool, len(in))
	for _, a := range axis {
		k := a - 1
		if a < 0 {
			k = len(in) + a
		}
		if a == 0 || k < 0 || k >= len(in) {
			return nil, fmt.Errorf("axis %v: %d is not an axis of the input %v (1 to %d, or -1 to -%d from the end; the batch axis 0 cannot be kept)", axis, a, in, len(in), len(in))
		}
		if keep[k] {
			return nil, fmt.Errorf("axis %v: axis %d is listed twice", axis, a)
		}
		keep[k] = true
	}
	return keep, nil
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
	n := tensor.Size(l.shape)
	l.mu, l.sd = make([]float32, n), make([]float32, n)
	l.stats, l.gm, l.gv = nil, nil, nil
	if l.Mean != nil || l.Variance != nil {
		if l.Mean == nil || l.Variance == nil {
			return nil, errorf(l, "mean %v, variance %v: give both or neither", l.Mean, l.Variance)
		}
		mean, err := given("mean", l.Mean, kept)
		var variance []float64
		if err == nil {
			variance, err = given("variance", l.Variance, kept)
		}
		if err != nil {
			return nil, errorf(l, "%v", err)
		}
		l.gm, l.gv = make([]float32, n), make([]float32, n)
		for i := range l.gm {
			l.gm[i], l.gv[i] = float32(mean[i]), float32(variance[i])
		}
	} else {
		mean, variance, count := newParam("mean", false, l.shape...), newParam("variance", false, l.shape...), newParam("count", false, 1)
		for i := range variance.Value.Data {
			variance.Value.Data[i] = 1
		}
		l.stats = []*Param{mean, variance, count}
	}
	l.indices()
	l.x, l.y, l.dx = nil, nil, nil
	return slices.Clone(in), nil
}

// given checks Mean or Variance against the kept axes' sizes and returns
// one value per statistic: a single value, or one for each index of the
// last k kept axes (repeated along the others).
func given(name string, v []float64, kept []int) ([]float64, error) {
	n := 1
	for _, d := range kept {
		n *= d
	}
	for i, x := range v {
		if !finite32(x) || name == "variance" && x < 0 {
			return nil, fmt.Errorf("%s[%d] = %v: want a finite number%s", name, i, x, map[bool]string{true: " ≥ 0"}[name == "variance"])
		}
	}
	tail, sizes := 1, []string{"1"}
	for k := len(kept) - 1; k >= 0 && tail != len(v); k-- {
		tail *= kept[k]
		sizes = append(sizes, fmt.Sprint(tail))
	}
	if len(v) != tail || len(v) == 0 {
		return nil, fmt.Errorf("%s has %d values, the kept axes of sizes %v take %s (one for all, or one per index of the last kept axes)", name, len(v), kept, joinOr(sizes))
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = v[i%tail]
	}
	return out, nil
}

func joinOr(s []string) string {
	s = slices.Compact(s)
	if len(s) == 1 {
		return s[0]
	}
	return fmt.Sprintf("%s or %s", joinList(s[:len(s)-1]), s[len(s)-1])
}

func joinList(s []string) string {
	out := s[0]
	for _, x := range s[1:] {
		out += ", " + x
	}
	return out
}

// indices records the statistic of each value of a sample.
func (l *Normalization) indices() {
	in, shape := l.in, l.shape
	l.idx = make([]int32, tensor.Size(in))
	coord := make([]int, len(in))
	for i := range l.idx {
		off := 0
		for a := range in {
			off = off*shape[a] + coord[a]%shape[a]
		}
		l.idx[i] = int32(off)
		for a := len(in) - 1; a >= 0; a-- {
			if coord[a]++; coord[a] < in[a] {
				break
			}
			coord[a] = 0
		}
	}
}

func (l *Normalization) OutputShape() []int { return slices.Clone(l.in) }

// Params returns "mean", "variance" and "count" when the statistics are
// adapted, none when they were given.
func (l *Normalization) Params() []*Param { return slices.Clone(l.stats) }

// Cost counts the parameters; nothing is weighed or summed.
func (l *Normalization) Cost(in []int) Cost {
	if l.Mean != nil || l.Variance != nil || len(in) == 0 {
		return Cost{}
	}
	n := 1
	if l.Axis == nil {
		n = in[len(in)-1]
	}
	for _, a := range l.Axis {
		if a < 0 {
			a += len(in) + 1
		}
		if a >= 1 && a <= len(in) {
			n *= in[a-1]
		}
	}
	return Cost{Params: int64(2*n + 1)}
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
	return slices.Clone(l.gm), slices.Clone(l.gv)
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
	l.split.rows(l, actForward, x.Shape[0], len(l.idx))
	l.x = nil
	return l.y
}

// Backward is dy divided by the divisors (Invert: times).
func (l *Normalization) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	l.dx = l.grad(l.dx, dy.Shape...)
	l.dy = dy
	l.split.rows(l, actBackward, dy.Shape[0], len(l.idx))
	l.dy = nil
	return l.dx
}

func (l *Normalization) do(phase, lo, hi int) {
	s := len(l.idx)
	mu, sd := l.mu, l.sd
	for n := lo; n < hi; n++ {
		if phase == actBackward {
			dx, dy := l.dx.Data[n*s:(n+1)*s], l.dy.Data[n*s:(n+1)*s]
			if l.Invert {
				for i, k := range l.idx {
					dx[i] = dy[i] * sd[k]
				}
			} else {
				for i, k := range l.idx {
					dx[i] = dy[i] / sd[k]
				}
			}
			continue
		}
		y, x := l.y.Data[n*s:(n+1)*s], l.x.Data[n*s:(n+1)*s]
		if l.Invert {
			for i, k := range l.idx {
				y[i] = mu[k] + float32(x[i]*sd[k]) // a Mul then an Add, not fused
			}
		} else {
			for i, k := range l.idx {
				y[i] = (x[i] - mu[k]) / sd[k]
			}
		}
	}
}

// Adapt sets the mean and variance to those of the values of the batches
// ([N, input...] each), per statistic, as Keras's adapt: the mean and the
// population variance (divided by the count), summed in float64 batch by
// batch and merged in order, the same whatever the batches' sizes to
// within rounding. It refuses a layer given its statistics, a batch of
// another shape, a value that is not finite, and no data.
func (l *Normalization) Adapt(batches iter.Seq[*tensor.Tensor]) error {
	if l.in == nil {
		return errorf(l, "Adapt before Build")
	}
	if l.stats == nil {
		return errorf(l, "its mean and variance were given: there is nothing to adapt")
	}
	k := len(l.mu)
	per := len(l.idx) / k // values of a sample per statistic
	mean, m2 := make([]float64, k), make([]float64, k)
	bm, bm2 := make([]float64, k), make([]float64, k)
	var count float64
	batch := 0
	for x := range batches {
		if len(x.Shape) != len(l.in)+1 || x.Shape[0] < 1 || !slices.Equal(x.Shape[1:], l.in) {
			return errorf(l, "adapt: batch %d has shape %v, want [N %v]", batch, x.Shape, l.in)
		}
		s := len(l.idx)
		clear(bm)
		clear(bm2)
		for i, v := range x.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return errorf(l, "adapt: batch %d, sample %d: value %d is %v", batch, i/s, i%s, v)
			}
			bm[l.idx[i%s]] += float64(v)
		}
		b := float64(x.Shape[0] * per)
		for j := range bm {
			bm[j] /= b
		}
		for i, v := range x.Data {
			j := l.idx[i%s]
			d := float64(v) - bm[j]
			bm2[j] += d * d
		}
		// Chan et al.'s merge of two sets' means and sums of squares.
		total := count + b
		for j := range mean {
			d := bm[j] - mean[j]
			mean[j] += d * b / total
			m2[j] += bm2[j] + d*d*count*b/total
		}
		count = total
		batch++
	}
	if count == 0 {
		return errorf(l, "adapt: no data")
	}
	for j := range mean {
		l.stats[0].Value.Data[j] = float32(mean[j])
		l.stats[1].Value.Data[j] = float32(m2[j] / count)
	}
	l.stats[2].Value.Data[0] = float32(count)
	return nil
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
		f.used["axis"] = true
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
