package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// checkSameBits fails unless got and want hold the same float32s bit for bit.
func checkSameBits(t *testing.T, label string, got, want []float32) {
	t.Helper()
	for x := range want {
		if math.Float32bits(got[x]) != math.Float32bits(want[x]) {
			t.Fatalf("%s: C at %d = %g, want %g", label, x, got[x], want[x])
		}
	}
}

// TestGemmBF16Thin checks that the thin kernels (one row of C by one to
// four slivers of B) give what the 12-row kernel gives, bit for bit: the
// same pairs summed in the same order.
func TestGemmBF16Thin(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, impl := range bf16Impls() {
		for _, sh := range [][3]int{{1, 1, 1}, {1, 28, 256}, {2, 97, 33}, {3, 129, 1101}, {1, 256, 4096}, {2, 2100, 40}} {
			for tr := range 4 {
				tc := gemmCase{transA: tr&1 != 0, transB: tr&2 != 0, m: sh[0], n: sh[1], k: sh[2], alpha: 1, pad: tr, off: tr % 2}
				if tr == 3 {
					tc.alpha, tc.beta = 0.5, -1
				}
				if gemmRace && impl == genericBF16 && tc.m*tc.n*tc.k > 1<<16 {
					continue
				}
				a, lda, b, ldb, c, ldc := tc.operands(rng)
				got, want := clone(c), clone(c)
				for _, thin := range []bool{true, false} {
					dst := want
					if thin {
						dst = got
					}
					g := newBF16Plan(impl, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, dst, ldc)
					g.thin = thin
					g.compute()
				}
				checkSameBits(t, impl.name+": thin "+tc.String(), got, want)
			}
		}
	}
}

// TestGemmBF16Kept checks that a product by a B kept converted gives
// GemmBF16's result bit for bit, from the first call (which converts B)
// and the next ones (which do not: a change of B goes unseen until Drop).
func TestGemmBF16Kept(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	shapes := []gemmCase{
		{m: 1, n: 256, k: 4096, alpha: 1},
		{m: 1, n: 28, k: 256, alpha: 1},
		{m: 3, n: 130, k: 1025, alpha: 1, beta: 1, pad: 3, off: 1},
		{m: 100, n: 256, k: 513, alpha: 1},
		{m: 13, n: 2100, k: 37, alpha: -1, beta: 0.5, transA: true, pad: 2},
		{m: 40, n: 33, k: 1, alpha: 1, transA: true},
	}
	for _, impl := range bf16Impls() {
		for _, tc := range shapes {
			if gemmRace && impl == genericBF16 && tc.m*tc.n*tc.k > 1<<17 {
				continue
			}
			a, lda, b, ldb, c, ldc := tc.operands(rng)
			a, b = a[tc.off:], b[tc.off:]
			label := impl.name + ": " + tc.String()
			want := clone(c)
			gemmBF16With(impl, tc.transA, false, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want[tc.off:], ldc)
			var w BF16Weights
			for range 2 {
				got := clone(c)
				gemmBF16Kept(impl, &w, tc.transA, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, got[tc.off:], ldc)
				checkSameBits(t, label, got, want)
			}
			for i := range b {
				b[i] = -b[i]
			}
			got := clone(c)
			gemmBF16Kept(impl, &w, tc.transA, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, got[tc.off:], ldc)
			checkSameBits(t, label+": B changed, kept", got, want)
			w.Drop()
			want = clone(c)
			gemmBF16With(impl, tc.transA, false, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want[tc.off:], ldc)
			got = clone(c)
			gemmBF16Kept(impl, &w, tc.transA, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, got[tc.off:], ldc)
			checkSameBits(t, label+": after Drop", got, want)
			// Another matrix, or another shape of it, is converted anew.
			b2 := clone(b)
			got = clone(c)
			gemmBF16Kept(impl, &w, tc.transA, tc.m, tc.n, tc.k, tc.alpha, a, lda, b2, ldb, tc.beta, got[tc.off:], ldc)
			checkSameBits(t, label+": another B", got, want)
			if tc.n > 1 {
				n := tc.n - 1
				want, got = clone(c), clone(c)
				gemmBF16With(impl, tc.transA, false, tc.m, n, tc.k, tc.alpha, a, lda, b2, ldb, tc.beta, want[tc.off:], ldc)
				gemmBF16Kept(impl, &w, tc.transA, tc.m, n, tc.k, tc.alpha, a, lda, b2, ldb, tc.beta, got[tc.off:], ldc)
				checkSameBits(t, label+": one column fewer", got, want)
			}
		}
	}
}

// TestGemmBF16KeptShared runs products by one kept B from several
// goroutines while it is dropped and converted again (for the race
// detector), each result GemmBF16's.
func TestGemmBF16KeptShared(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	tc := gemmCase{m: 2, n: 96, k: 300, alpha: 1}
	a, lda, b, ldb, c, ldc := tc.operands(rng)
	want := clone(c)
	GemmBF16(false, false, tc.m, tc.n, tc.k, 1, a, lda, b, ldb, 0, want, ldc)
	var w BF16Weights
	w.Share()
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for range 4 {
		wg.Go(func() {
			for i := range 20 {
				got := clone(c)
				GemmBF16Kept(&w, false, tc.m, tc.n, tc.k, 1, a, lda, b, ldb, 0, got, ldc)
				for x := range want {
					if math.Float32bits(got[x]) != math.Float32bits(want[x]) {
						errs <- "a product differs from GemmBF16's"
						return
					}
				}
				if i%5 == 0 {
					w.Drop()
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

func TestGemmBF16KeptAllocs(t *testing.T) {
	if gemmRace {
		t.Skip("the race detector makes sync.Pool drop items, so GemmBF16 allocates")
	}
	for _, sh := range [][3]int{{1, 256, 4096}, {2, 100, 300}, {100, 256, 4096}} {
		m, n, k := sh[0], sh[1], sh[2]
		a := make([]float32, m*k)
		b := make([]float32, k*n)
		c := make([]float32, m*n)
		var w BF16Weights
		run := func() { GemmBF16Kept(&w, false, m, n, k, 1, a, k, b, n, 0, c, n) }
		run()
		if allocs := testing.AllocsPerRun(10, run); allocs != 0 {
			t.Errorf("%dx%dx%d: GemmBF16Kept allocates %g times a call, want 0", m, n, k, allocs)
		}
		// Without Share, a new conversion reuses the buffer.
		if allocs := testing.AllocsPerRun(10, func() { w.Drop(); run() }); allocs != 0 {
			t.Errorf("%dx%dx%d: GemmBF16Kept after Drop allocates %g times a call, want 0", m, n, k, allocs)
		}
	}
}

// BenchmarkGemmBF16Kept times the products of gemmBenchShapes by a B not
// transposed, converted once (the weights of a dense layer predicting).
func BenchmarkGemmBF16Kept(b *testing.B) {
	for _, sh := range gemmBenchShapes {
		if sh.transB {
			continue
		}
		b.Run("size="+sh.name, func(b *testing.B) {
			var w BF16Weights
			benchGemmShape(b, sh, func(a []float32, lda int, bm []float32, ldb int, c []float32) {
				GemmBF16Kept(&w, sh.transA, sh.m, sh.n, sh.k, 1, a, lda, bm, ldb, 0, c, sh.n)
			})
		})
	}
}

// BenchmarkGemmBF16Thin times products of a few rows by a kept B of 4096
// rows (256 columns, or 28: a last layer's), one row at a time on the thin
// kernels and on the 12-row kernel: where bf16ThinRows comes from.
func BenchmarkGemmBF16Thin(b *testing.B) {
	for _, m := range []int{1, 2, 3, 4, 5, 8} {
		for _, n := range []int{256, 28} {
			for _, thin := range []bool{true, false} {
				b.Run(fmt.Sprintf("rows=%d/n=%d/thin=%v", m, n, thin), func(b *testing.B) {
					sh := gemmBenchShape{"thin", false, false, m, n, 4096}
					var w BF16Weights
					benchGemmShape(b, sh, func(a []float32, lda int, bm []float32, ldb int, c []float32) {
						g := newBF16Plan(activeBF16, false, false, m, n, sh.k, 1, a, lda, bm, ldb, 0, c, n)
						g.packed = w.get(g)
						g.thin = thin
						g.compute()
					})
				})
			}
		}
	}
}
