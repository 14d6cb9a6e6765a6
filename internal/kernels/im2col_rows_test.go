package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Blocks of rows, im2col'ed or col2im'ed one after the other, give the
// whole matrix.
func TestIm2colRowsBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, g := range geoms() {
		rows, k := g.OH*g.OW, g.ColWidth()
		x := randSlice(rng, g.H*g.W*g.C)
		want := make([]float32, rows*k)
		Im2col(want, x, &g)
		c := randSlice(rng, rows*k)
		wantDx := make([]float32, len(x))
		Col2im(wantDx, c, &g)
		for _, block := range []int{1, 2, 5} {
			name := fmt.Sprintf("%+v block %d", g, block)
			got := make([]float32, (block+1)*k)
			dx := make([]float32, len(x))
			for lo := 0; lo < rows; lo += block {
				hi := min(lo+block, rows)
				for i := range got {
					got[i] = guard
				}
				Im2colRows(got[:(hi-lo)*k], x, &g, lo, hi)
				for i := range got[(hi-lo)*k:] {
					if got[(hi-lo)*k+i] != guard {
						t.Fatalf("Im2colRows(%s, %d, %d) wrote past its rows", name, lo, hi)
					}
				}
				for i, v := range got[:(hi-lo)*k] {
					if v != want[lo*k+i] {
						t.Fatalf("Im2colRows(%s, %d, %d)[%d] = %v, want %v", name, lo, hi, i, v, want[lo*k+i])
					}
				}
				Col2imRows(dx, c[lo*k:hi*k], &g, lo, hi)
			}
			for i := range dx {
				if math.Abs(float64(dx[i]-wantDx[i])) > 1e-5 {
					t.Fatalf("Col2imRows(%s) by blocks [%d] = %v, want %v", name, i, dx[i], wantDx[i])
				}
			}
		}
	}
}

func TestIm2colRowsRange(t *testing.T) {
	g := ConvGeom{H: 3, W: 3, C: 1, KH: 1, KW: 1, SH: 1, SW: 1, OH: 3, OW: 3}
	for _, r := range [][2]int{{-1, 2}, {0, 10}, {5, 4}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Im2colRows(rows %d..%d of 9) did not panic", r[0], r[1])
				}
			}()
			Im2colRows(make([]float32, 100), make([]float32, 9), &g, r[0], r[1])
		}()
	}
}

// The input gradient of a stride-1 convolution, computed as a convolution of
// dz with the flipped kernel over the transposed geometry, equals
// col2im(dz·kernelᵀ).
func TestTransposedConvolution(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, g := range geoms() {
		if g.SH != 1 {
			continue
		}
		for _, f := range []int{1, 3} {
			name := fmt.Sprintf("%+v F=%d", g, f)
			rows, k := g.OH*g.OW, g.ColWidth()
			dz := randSlice(rng, rows*f)
			w := randSlice(rng, k*f)
			cols := make([]float32, rows*k)
			Gemm(false, true, rows, k, f, 1, dz, f, w, f, 0, cols, k)
			want := make([]float32, g.H*g.W*g.C)
			Col2im(want, cols, &g)

			tg := g.Transposed(f)
			if tg.OH != g.H || tg.OW != g.W || tg.ColWidth() != g.KH*g.KW*f {
				t.Fatalf("%s: Transposed = %+v", name, tg)
			}
			flip := make([]float32, len(w))
			FlipKernel(flip, w, g.KH, g.KW, g.C, f)
			tcols := make([]float32, g.H*g.W*tg.ColWidth())
			Im2col(tcols, dz, &tg)
			got := make([]float32, len(want))
			Gemm(false, false, g.H*g.W, g.C, tg.ColWidth(), 1, tcols, tg.ColWidth(), flip, g.C, 0, got, g.C)
			for i := range want {
				if math.Abs(float64(got[i]-want[i])) > 1e-4*(1+math.Abs(float64(want[i]))) {
					t.Errorf("%s: transposed convolution [%d] = %v, want %v", name, i, got[i], want[i])
					break
				}
			}
		}
	}
}

func TestTransposedPanicsOnStrides(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("Transposed of a stride-2 geometry did not panic")
		}
	}()
	g := ConvGeom{H: 4, W: 4, C: 1, KH: 2, KW: 2, SH: 2, SW: 2, OH: 2, OW: 2}
	g.Transposed(1)
}
