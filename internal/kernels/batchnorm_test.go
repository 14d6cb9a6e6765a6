package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestBatchNormLoops runs the batch normalisation loops (and the group
// normalisation's input gradient) with the Go loops
// and the AVX-512 ones on blocks of columns of several widths (with a tail
// of fewer than 16 columns, and inside wider rows) and wants the same bits.
func TestBatchNormLoops(t *testing.T) {
	type result struct {
		f64 [][]float64
		f32 [][]float32
	}
	run := func(w, ld, rows int) result {
		rng := rand.New(rand.NewPCG(uint64(w), uint64(ld*100+rows)))
		f32s := func(n int, scale, shift float64) []float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(scale*rng.NormFloat64() + shift)
			}
			return v
		}
		f64s := func(n int, lo, hi float64) []float64 {
			v := make([]float64, n)
			for i := range v {
				v[i] = lo + (hi-lo)*rng.Float64()
			}
			return v
		}
		n := max(0, (rows-1)*ld+w)
		x, dy := f32s(n, 3, 1), f32s(n, 1, 0)
		mean, invStd, scale := f64s(w, -1, 2), f64s(w, 0.2, 3), f64s(w, -0.01, 0.01)
		g, b := f32s(w, 1, 1), f32s(w, 1, 0)
		sum, sq, gs, gx := f64s(w, -1, 1), f64s(w, 0, 1), f64s(w, -1, 1), f64s(w, -1, 1)
		y, dx, gdx := f32s(n, 1, 0), f32s(n, 1, 0), f32s(n, 1, 0) // the gaps between blocks must stay as they are
		a, c := f64s(w, -2, 2), f64s(w, -0.1, 0.1)

		BatchNormSum(sum, x, rows, ld)
		BatchNormSqDev(sq, mean, x, rows, ld)
		BatchNormOutput(y, x, mean, invStd, g, b, rows, ld)
		BatchNormGradSums(gs, gx, mean, invStd, dy, x, rows, ld)
		BatchNormGradInput(dx, dy, x, mean, invStd, scale, gs, gx, float64(rows), rows, ld)
		GroupNormGradInput(gdx, dy, x, mean, invStd, a, scale, c, rows, ld)
		return result{[][]float64{sum, sq, gs, gx}, [][]float32{y, dx, gdx}}
	}
	if active.name != "avx512" {
		t.Skip("no AVX-512 loops on this CPU: the Go loops are the only ones")
	}
	defer func(n int) { vecLanes = n }(vecLanes)
	for _, w := range []int{1, 8, 16, 17, 32, 40, 64, 144} {
		for _, pad := range []int{0, 5} {
			for _, rows := range []int{0, 1, 3, 9} {
				vecLanes = 0
				want := run(w, w+pad, rows)
				vecLanes = 16
				got := run(w, w+pad, rows)
				for i := range want.f64 {
					if !slices.EqualFunc(got.f64[i], want.f64[i], func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }) {
						t.Errorf("width %d, ld %d, rows %d: float64 result %d differs: AVX-512 %v, Go %v", w, w+pad, rows, i, got.f64[i], want.f64[i])
					}
				}
				for i := range want.f32 {
					if !slices.EqualFunc(got.f32[i], want.f32[i], func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
						t.Errorf("width %d, ld %d, rows %d: float32 result %d differs between AVX-512 and Go", w, w+pad, rows, i)
					}
				}
			}
		}
	}
}
