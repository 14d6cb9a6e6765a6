package nn

import (
	"iter"
	"math"
	"slices"

	"github.com/convnet-go/convnet/tensor"
)

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
	per := tensor.Size(l.in) / k // values of a sample per statistic
	n, step, rows := l.rowLen, l.step, tensor.Size(l.in[:l.prefix])
	mean, m2 := make([]float64, k), make([]float64, k)
	bm, bm2 := make([]float64, k), make([]float64, k)
	var count float64
	batch := 0
	for x := range batches {
		if len(x.Shape) != len(l.in)+1 || x.Shape[0] < 1 || !slices.Equal(x.Shape[1:], l.in) {
			return errorf(l, "adapt: batch %d has shape %v, want [N %v]", batch, x.Shape, l.in)
		}
		if i := firstNonFinite(x.Data); i >= 0 {
			s := tensor.Size(l.in)
			return errorf(l, "adapt: batch %d, sample %d: value %d is %v", batch, i/s, i%s, x.Data[i])
		}
		clear(bm)
		clear(bm2)
		// each calls f(value, its statistic) over the batch, row by row.
		each := func(f func(v float32, j int)) {
			for r := range len(x.Data) / n {
				j := l.statAt(r % rows)
				for i, v := range x.Data[r*n : (r+1)*n] {
					f(v, j+i*step)
				}
			}
		}
		each(func(v float32, j int) { bm[j] += float64(v) })
		b := float64(x.Shape[0] * per)
		for j := range bm {
			bm[j] /= b
		}
		each(func(v float32, j int) {
			d := float64(v) - bm[j]
			bm2[j] += d * d
		})
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

// firstNonFinite returns the index of the first NaN or infinity of v, or -1.
func firstNonFinite(v []float32) int {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return i
		}
	}
	return -1
}
