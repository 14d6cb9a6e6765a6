package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPReLU checks PReLU and PReLUGrad against their definitions, their
// shared-slope forms against them with the slope repeated, and that the
// Go, AVX2 and AVX-512 loops give the same bits, on values with ±0, ±Inf,
// NaN and the extremes, over lengths with and without a tail.
func TestPReLU(t *testing.T) {
	const n = 16*23 + 7
	rng := rand.New(rand.NewPCG(15, 16))
	x, dy, a, g0 := special(rng, n), randSlice(rng, n), randSlice(rng, n), randSlice(rng, n)
	x[n-1], x[n-2] = float32(math.NaN()), -3
	results := map[int][][]float32{}
	forEachLoops(t, func(t *testing.T) {
		var out [][]float32
		for _, m := range []int{n, 16, 8, 5, 1} {
			y, dx, g := make([]float32, m), make([]float32, m), slices.Clone(g0[:m])
			PReLU(y, x[:m], a[:m])
			PReLUGrad(dx, g, dy[:m], x[:m], a[:m])
			for i, v := range x[:m] {
				wantY, wantDx, wantG := v, dy[i], g0[i]
				if !(v > 0) {
					wantY, wantDx, wantG = a[i]*v, a[i]*dy[i], g0[i]+float32(v*dy[i])
				}
				if !sameBits(y[i], wantY) || !sameBits(dx[i], wantDx) || !sameBits(g[i], wantG) {
					t.Fatalf("length %d, x[%d] = %v (slope %v, dy %v): y %v, dx %v, g %v; want %v, %v, %v", m, i, v, a[i], dy[i], y[i], dx[i], g[i], wantY, wantDx, wantG)
				}
			}
			out = append(out, y, dx, g)
		}
		// One slope for all: the same as PReLU with it repeated; the
		// gradient within float32 rounding of the float64 sum.
		const s = float32(-0.3)
		rep := slices.Repeat([]float32{s}, n)
		y, dx, want, wantDx, g := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		PReLUShared(y, x, s)
		PReLU(want, x, rep)
		// Past the special values, and NaN: a finite sum.
		lo := 24
		sum := PReLUGradShared(dx[lo:n-1], dy[lo:n-1], x[lo:n-1], s)
		PReLUGrad(wantDx[lo:n-1], g, dy[lo:n-1], x[lo:n-1], rep)
		exact := 0.0
		for i, v := range x[lo : n-1] {
			if !(v > 0) {
				exact += float64(v) * float64(dy[lo+i])
			}
		}
		if !slices.EqualFunc(y, want, sameBits) || !slices.EqualFunc(dx, wantDx, sameBits) {
			t.Errorf("PReLUShared or PReLUGradShared differ from PReLU and PReLUGrad with the slope repeated")
		}
		if math.Abs(sum-exact) > 1e-6*math.Abs(exact) || exact == 0 {
			t.Errorf("PReLUGradShared's gradient %v, want %v", sum, exact)
		}
		results[vecLanes] = append(out, y, dx)
	})
	for lanes, isa := range map[int]string{16: "AVX-512", 8: "AVX2"} {
		vec, ok := results[lanes]
		if !ok {
			continue
		}
		for k := range vec {
			if !slices.EqualFunc(vec[k], results[0][k], sameBits) {
				t.Errorf("result %d: %s differs from Go", k, isa)
			}
		}
	}
}
