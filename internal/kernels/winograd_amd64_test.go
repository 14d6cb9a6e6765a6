//go:build !purego

package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The AVX2 transforms give the AVX-512 ones' bits, on three vectors of 16
// values with strides that are not multiples of a vector.
func TestWinogradTransformsAgree(t *testing.T) {
	if len(winoImpls()) < 2 { // the CPU runs the avx2 path and the avx512 one
		t.Skip("needs AVX-512 to compare")
	}
	rng := rand.New(rand.NewPCG(15, 16))
	const nvec, cx, ps = 3, 48 + 5, 48 + 7 // floats between a window's columns and between cells
	ldx := 6*cx + 3
	x := randSlice(rng, 6*ldx)
	bias := randSlice(rng, 16*nvec)
	twoSided := []struct {
		name string
		a, b func(v, x, s *float32, ldx, cx, ps, nvec int)
	}{
		{"input", winoAVX512.input, winoAVX2.input},
		{"filter3", winoAVX512.filter3, winoAVX2.filter3},
		{"filter5", winoAVX512.filter5, winoAVX2.filter5},
		{"grad4", winoAVX512.grad4, winoAVX2.grad4},
		{"grad2", winoAVX512.grad2, winoAVX2.grad2},
	}
	for _, tc := range twoSided {
		var got [2][]float32
		for i, fn := range []func(v, x, s *float32, ldx, cx, ps, nvec int){tc.a, tc.b} {
			got[i] = make([]float32, winoCells*ps)
			s := make([]float32, winoCells*16)
			fn(&got[i][0], &x[0], &s[0], ldx, cx, ps, nvec)
		}
		if !slices.Equal(got[0], got[1]) {
			t.Errorf("%s: AVX2 gives other bits than AVX-512", tc.name)
		}
		if written := slices.IndexFunc(got[0], func(v float32) bool { return v != 0 }); written < 0 {
			t.Errorf("%s: wrote nothing", tc.name)
		}
	}
	outputs := []struct {
		name string
		a, b func(z, mm, bias, s *float32, ps, ldz, cz, nvec int, floor float32)
		m    int
	}{
		{"output4", winoAVX512.output4, winoAVX2.output4, 4},
		{"output2", winoAVX512.output2, winoAVX2.output2, 2},
		{"output3", winoAVX512.output3, winoAVX2.output3, 3},
		{"output5", winoAVX512.output5, winoAVX2.output5, 5},
	}
	mm := randSlice(rng, 36*ps)
	for _, tc := range outputs {
		for _, floor := range []float32{0, float32(math.Inf(-1))} {
			var got [2][]float32
			for i, fn := range []func(z, mm, bias, s *float32, ps, ldz, cz, nvec int, floor float32){tc.a, tc.b} {
				got[i] = make([]float32, tc.m*ldx)
				s := make([]float32, winoCells*16)
				fn(&got[i][0], &mm[0], &bias[0], &s[0], ps, ldx, cx, nvec, floor)
			}
			if !slices.Equal(got[0], got[1]) {
				t.Errorf("%s, floor %v: AVX2 gives other bits than AVX-512", tc.name, floor)
			}
		}
	}
}
