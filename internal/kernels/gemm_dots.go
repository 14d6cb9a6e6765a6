package kernels

import "runtime"

// dotRows is the fewest columns of C a part of gemmDots computes.
const dotRows = 64

// gemmDots computes [Gemm] for at most thinRows rows and B transposed with
// impl.dots: every value of C is the dot product of a row of op(A) with a
// row of B as stored, read in place. B is read once per row of C, where
// the blocked product would first copy all of it into panels. Columns of
// C are split between goroutines, each summed whole, so the result does
// not depend on the split.
func gemmDots(impl *gemmImpl, transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	g := planPool.Get().(*gemmPlan)
	*g = gemmPlan{impl: impl, transA: transA, transB: true, m: m, n: n, k: k,
		alpha: alpha, beta: beta, a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc, dots: true, partFn: g.partFn}
	parts := 1
	if shared(m, n, k) {
		parts = min(runtime.GOMAXPROCS(0), maxParts, (n+dotRows-1)/dotRows)
	}
	if parts <= 1 {
		buf := bufPool.Get().(*gemmBuf)
		g.runDots(0, n, buf)
		bufPool.Put(buf)
	} else {
		per := (n + parts - 1) / parts
		per = (per + 3) &^ 3 // whole groups of the kernel's four rows
		for p := range parts {
			g.parts[p] = [4]int{0, m, min(n, p*per), min(n, (p+1)*per)}
		}
		ParallelFor(parts, parts, g.partFn)
	}
	*g = gemmPlan{partFn: g.partFn}
	planPool.Put(g)
}

// runDots computes the columns [lo, hi) of every row of C.
func (g *gemmPlan) runDots(lo, hi int, buf *gemmBuf) {
	if lo >= hi {
		return
	}
	k := g.k
	for i := range g.m {
		var row []float32
		if g.transA {
			buf.tmp = grow(buf.tmp, k)
			for p := range buf.tmp {
				buf.tmp[p] = g.a[p*g.lda+i]
			}
			row = buf.tmp
		} else {
			row = g.a[i*g.lda : i*g.lda+k]
		}
		c := g.c[i*g.ldc+lo : i*g.ldc+hi]
		b := g.b[lo*g.ldb:]
		if g.alpha == 1 && g.beta == 0 {
			g.impl.dots(c, row, b, hi-lo, k, g.ldb)
			continue
		}
		buf.edge = grow(buf.edge, hi-lo)
		g.impl.dots(buf.edge, row, b, hi-lo, k, g.ldb)
		for j, s := range buf.edge {
			if g.beta == 0 {
				c[j] = g.alpha * s
			} else {
				c[j] = g.alpha*s + g.beta*c[j]
			}
		}
	}
}
