package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestDepthwiseCells compares DepthwiseCells (16 channels and four cells at
// a time where the CPU has AVX-512, the last channels under a mask; and
// the Go loops) with the sum computed in float64
// on windows of several sizes, strides, dilations and channel counts, and on the part
// of a larger kernel a window cut by the image's edges reads (kernel rows
// of kwk > kw taps).
func TestDepthwiseCells(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	loops := []int{0, vecLanes}
	defer func(n int) { vecLanes = n }(vecLanes)
	for _, tc := range []struct{ cells, c, s, kh, kw, width, kwk, d int }{
		{5, 16, 1, 3, 3, 9, 3, 1}, {4, 32, 2, 3, 3, 11, 3, 1}, {3, 48, 1, 3, 3, 7, 3, 1}, {6, 64, 1, 5, 5, 12, 5, 1},
		{2, 80, 2, 3, 3, 8, 3, 1}, {7, 96, 1, 3, 3, 9, 3, 1}, {3, 144, 2, 3, 3, 9, 3, 1}, {4, 17, 1, 3, 2, 6, 2, 1},
		{5, 3, 1, 3, 3, 7, 3, 1}, {1, 1, 1, 1, 1, 1, 1, 1}, {3, 40, 1, 1, 3, 5, 3, 1},
		{1, 96, 1, 2, 3, 7, 5, 1}, {4, 64, 2, 3, 2, 9, 3, 1}, {1, 24, 1, 1, 1, 3, 3, 1}, {2, 200, 1, 2, 2, 4, 5, 1},
		{6, 48, 1, 2, 3, 10, 5, 1}, {9, 20, 2, 3, 2, 19, 3, 1}, {8, 72, 1, 3, 3, 10, 3, 1},
		{4, 32, 1, 3, 3, 13, 3, 2}, {5, 17, 1, 3, 2, 12, 2, 3}, {2, 64, 1, 2, 3, 9, 5, 2}, {4, 48, 1, 3, 3, 11, 3, 2},
	} {
		ld, sx, tx, ldw := tc.width*tc.c, tc.s*tc.c, tc.d*tc.c, tc.kwk*tc.c
		x := make([]float32, (tc.kh-1)*ld+(tc.cells-1)*sx+(tc.kw-1)*tx+tc.c)
		w := make([]float32, (tc.kh-1)*ldw+tc.kw*tc.c)
		b := make([]float32, tc.c)
		for _, s := range [][]float32{x, w, b} {
			for i := range s {
				s[i] = float32(rng.NormFloat64())
			}
		}
		want := make([]float64, tc.cells*tc.c)
		for n := range tc.cells {
			for j := range tc.c {
				sum := float64(b[j])
				for ky := range tc.kh {
					for kx := range tc.kw {
						sum += float64(x[n*sx+ky*ld+kx*tx+j]) * float64(w[ky*ldw+kx*tc.c+j])
					}
				}
				want[n*tc.c+j] = sum
			}
		}
		// y's stale values are not read, and the values past it (the
		// lanes past the last channel of a vector) not written; the Go
		// loops too where AVX-512 runs.
		for _, n := range loops {
			vecLanes = n
			y := make([]float32, len(want)+16)
			for i := range y {
				y[i] = 1e6
			}
			DepthwiseCells(y[:len(want)], b, x, w, tc.cells, tc.c, sx, tx, tc.kh, tc.kw, ld, ldw)
			checkGuarded(t, fmt.Sprintf("%+v lanes %d: y", tc, n), y, want, 1e6)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("DepthwiseCells on a short x did not panic")
		}
	}()
	DepthwiseCells(make([]float32, 32), make([]float32, 16), make([]float32, 40), make([]float32, 9*16), 2, 16, 16, 16, 3, 3, 48, 48)
}

// TestDepthwiseFilterCells compares DepthwiseFilterCells with the sums
// computed in float64, on taps next to each other or d apart, on parts of the channels (width of c, from an
// offset) as the layer's channel blocks call it, and on the part of a
// larger kernel (rows of kwk > kw taps) that windows cut by the image's
// edges read.
func TestDepthwiseFilterCells(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	loops := []int{0, vecLanes}
	defer func(n int) { vecLanes = n }(vecLanes)
	for _, tc := range []struct{ cells, c, off, width, s, kh, kw, imgW, kwk, d int }{
		{5, 16, 0, 16, 1, 3, 3, 9, 3, 1}, {4, 80, 16, 64, 2, 3, 3, 11, 3, 1}, {7, 96, 0, 96, 1, 3, 3, 9, 3, 1}, {3, 40, 32, 8, 1, 3, 2, 6, 2, 1},
		{6, 64, 0, 48, 1, 5, 5, 12, 5, 1}, {2, 20, 0, 20, 2, 3, 3, 8, 3, 1}, {1, 1, 0, 1, 1, 1, 1, 1, 1, 1}, {3, 128, 64, 64, 1, 1, 3, 5, 3, 1},
		{1, 96, 0, 96, 1, 2, 3, 7, 5, 1}, {4, 80, 16, 64, 1, 2, 3, 9, 3, 1}, {1, 40, 0, 40, 1, 3, 1, 4, 3, 1},
		{5, 72, 0, 72, 2, 3, 3, 11, 3, 1}, {4, 58, 16, 42, 1, 2, 3, 9, 5, 1},
		{5, 16, 0, 16, 1, 3, 3, 13, 3, 2}, {4, 80, 16, 64, 1, 3, 2, 11, 3, 3}, {3, 40, 32, 8, 1, 2, 3, 9, 5, 2},
	} {
		ld, sx, tx, ldw := tc.imgW*tc.c, tc.s*tc.c, tc.d*tc.c, tc.kwk*tc.c
		x := make([]float32, tc.off+(tc.kh-1)*ld+(tc.cells-1)*sx+(tc.kw-1)*tx+tc.width)
		dz := make([]float32, tc.off+(tc.cells-1)*tc.c+tc.width)
		dw := make([]float32, tc.off+(tc.kh-1)*ldw+(tc.kw-1)*tc.c+tc.width)
		for _, s := range [][]float32{x, dz, dw} {
			for i := range s {
				s[i] = float32(rng.NormFloat64())
			}
		}
		want := make([]float64, len(dw))
		for i, v := range dw {
			want[i] = float64(v)
		}
		for tap := range tc.kh * tc.kw {
			ky, kx := tap/tc.kw, tap%tc.kw
			for j := range tc.width {
				for n := range tc.cells {
					want[tc.off+ky*ldw+kx*tc.c+j] += float64(x[tc.off+n*sx+ky*ld+kx*tx+j]) * float64(dz[tc.off+n*tc.c+j])
				}
			}
		}
		// The values past dw are not written; the Go loops too where
		// AVX-512 runs.
		for _, n := range loops {
			vecLanes = n
			got := append(slices.Clone(dw), make([]float32, 16)...)
			DepthwiseFilterCells(got[tc.off:len(dw)], x[tc.off:], dz[tc.off:], tc.cells, tc.c, tc.width, sx, tx, tc.kh, tc.kw, ld, ldw)
			checkGuarded(t, fmt.Sprintf("%+v lanes %d: dw", tc, n), got, want, 0)
		}
	}
}

// checkGuarded fails t unless got holds want (to 1e-5, relative) and, past
// it, the guard value alone.
func checkGuarded(t *testing.T, name string, got []float32, want []float64, guard float32) {
	t.Helper()
	for i, v := range got {
		if i >= len(want) {
			if v != guard {
				t.Fatalf("%s[%d] past the output written: %v", name, i, v)
			}
			continue
		}
		if math.Abs(float64(v)-want[i]) > 1e-5*max(1, math.Abs(want[i])) {
			t.Fatalf("%s[%d] = %v, want %v", name, i, v, want[i])
		}
	}
}

// A row of MobileNet's depthwise convolutions: 56 cells of 144 channels
// (3x3, stride 1) and 28 cells of 240 (5x5, stride 2), inside the image.
func BenchmarkDepthwiseCells(b *testing.B) {
	for _, bc := range []struct{ cells, c, s, k int }{{56, 144, 1, 3}, {28, 240, 2, 5}} {
		rng := rand.New(rand.NewPCG(1, 2))
		width := (bc.cells-1)*bc.s + bc.k
		ld, sx := width*bc.c, bc.s*bc.c
		x := randSlice(rng, bc.k*ld)
		w, bias := randSlice(rng, bc.k*bc.k*bc.c), randSlice(rng, bc.c)
		y := make([]float32, bc.cells*bc.c)
		b.Run(fmt.Sprintf("%dx%d-%dx%d-s%d", bc.cells, bc.c, bc.k, bc.k, bc.s), func(b *testing.B) {
			start := cpuTime()
			for b.Loop() {
				DepthwiseCells(y, bias, x, w, bc.cells, bc.c, sx, bc.c, bc.k, bc.k, ld, bc.k*bc.c)
			}
			reportFlops(b, start, float64(2*bc.cells*bc.c*bc.k*bc.k))
		})
	}
}
