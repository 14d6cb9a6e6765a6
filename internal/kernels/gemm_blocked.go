package kernels

import (
	"runtime"
	"sync"
)

// The blocked GEMM follows Goto and van de Geijn, "Anatomy of
// high-performance matrix multiplication" (ACM TOMS 34(3), 2008):
//
//	for jc in steps of nc (columns of C and B):
//		for pc in steps of kc (the reduction, always in this order):
//			pack B[pc:pc+kc, jc:jc+nc] into slivers nr wide
//			for ic in steps of mc (rows of C and A):
//				pack A[ic:ic+mc, pc:pc+kc] into slivers mr tall (or read A in place)
//				for each nr sliver of B, for each mr sliver of A:
//					micro-kernel: C tile (mr×nr) += alpha·A sliver·B sliver
//
// When C is narrow (n ≤ 4·nr) every sliver of A meets few slivers of B, so
// packing A would cost more than it saves: the micro-kernel reads A in place
// through its row and column strides, and only a last, partial sliver of
// rows is copied. When A has few rows, B is read in place too, and products
// of one to three rows use a one-row micro-kernel. kc depends on k and n
// alone, never on the number of goroutines, so each element of C is summed
// in the same order however the work is split.

// gemmPlan holds one call of [Gemm] and how it is blocked.
type gemmPlan struct {
	impl           *gemmImpl
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	rsA, csA       int // op(A)[i][p] is a[i*rsA+p*csA]
	kc             int // depth of each block, from k alone
	packA          bool
	directB        bool // full slivers of B are read in place, with stride ldb
	dots           bool // computed by impl.dots (see gemmDots)

	parts  [maxParts][4]int    // rowLo, rowHi, colLo, colHi of each block of C
	partFn func(worker, p int) // g.runPart, made once per plan
}

// gemmBuf holds one goroutine's packing buffers.
type gemmBuf struct {
	a, b, edge, tmp []float32
}

var (
	planPool = sync.Pool{New: func() any {
		g := new(gemmPlan)
		g.partFn = g.runPart
		return g
	}}
	bufPool = sync.Pool{New: func() any { return new(gemmBuf) }}
)

// grow returns s with length n, reusing its storage when it is big enough.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// parallelFlops is the work below which a product runs on the calling
// goroutine alone: handing work to another goroutine costs microseconds.
// Products that read a big B also run in parallel, to share the memory
// bandwidth.
const parallelFlops = 4 << 20

// shared reports whether a product of m×k by k×n is worth splitting
// between goroutines (see parallelFlops).
func shared(m, n, k int) bool { return 2*m*n*k >= parallelFlops || k*n >= parallelFlops/4 }

// skinnyKC is the largest depth of a block when C is narrow.
const skinnyKC = 1024

func gemmBlocked(impl *gemmImpl, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	g := planPool.Get().(*gemmPlan)
	*g = gemmPlan{impl: impl, transA: transA, transB: transB, m: m, n: n, k: k,
		alpha: alpha, beta: beta, a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc, partFn: g.partFn}
	g.rsA, g.csA = lda, 1
	if transA {
		g.rsA, g.csA = 1, lda
	}
	g.packA = n > 4*impl.nr
	kcMax := impl.kc
	if !g.packA {
		// A narrow C is written once per block of k: deeper blocks
		// write it less often, and B's few slivers still fit in L2.
		kcMax = skinnyKC
	}
	nblocks := (k + kcMax - 1) / kcMax
	g.kc = (k + nblocks - 1) / nblocks
	// B is read in place when it has the layout of a packed sliver, or
	// when A is so short that packing B would cost as much as using it.
	g.directB = !transB && (n == impl.nr && ldb == impl.nr || m <= 4*impl.mr)

	parts := 1
	if shared(m, n, k) {
		parts = min(runtime.GOMAXPROCS(0), maxParts)
	}
	if parts = splitC(&g.parts, parts, m, n, impl.mr, impl.nr); parts <= 1 {
		buf := bufPool.Get().(*gemmBuf)
		g.run(0, m, 0, n, buf)
		bufPool.Put(buf)
	} else {
		ParallelFor(parts, parts, g.partFn)
	}
	*g = gemmPlan{partFn: g.partFn}
	planPool.Put(g)
}

// maxParts bounds the number of blocks C is split into.
const maxParts = 64

// splitC splits an m×n C into at most parts blocks along the dimension
// that balances best, at the boundaries of mr×nr tiles, and returns how
// many it made: block p is rows [b[p][0], b[p][1]) × columns [b[p][2],
// b[p][3]). With one block, b is left as it is.
func splitC(b *[maxParts][4]int, parts, m, n, mr, nr int) int {
	tilesM := (m + mr - 1) / mr
	tilesN := (n + nr - 1) / nr
	parts = min(parts, max(tilesM, tilesN))
	if parts <= 1 {
		return parts
	}
	perM := (tilesM + parts - 1) / parts
	perN := (tilesN + parts - 1) / parts
	splitM := perM*mr*tilesN*nr <= tilesM*mr*perN*nr
	for p := range parts {
		if splitM {
			b[p] = [4]int{min(m, p*perM*mr), min(m, (p+1)*perM*mr), 0, n}
		} else {
			b[p] = [4]int{0, m, min(n, p*perN*nr), min(n, (p+1)*perN*nr)}
		}
	}
	return parts
}

// runPart computes block p of C (see gemmPlan.parts).
func (g *gemmPlan) runPart(_, p int) {
	buf := bufPool.Get().(*gemmBuf)
	r := g.parts[p]
	if g.dots {
		g.runDots(r[2], r[3], buf)
	} else {
		g.run(r[0], r[1], r[2], r[3], buf)
	}
	bufPool.Put(buf)
}

// run computes the block rows [rowLo, rowHi) × columns [colLo, colHi) of C.
// rowLo and colLo are multiples of mr and nr.
func (g *gemmPlan) run(rowLo, rowHi, colLo, colHi int, buf *gemmBuf) {
	im := g.impl
	mr, nr := im.mr, im.nr
	if rowLo >= rowHi || colLo >= colHi {
		return
	}
	mc := rowHi - rowLo
	if g.packA {
		mc = im.mc
	}
	buf.tmp = grow(buf.tmp, mr*nr)
	for jc := colLo; jc < colHi; jc += im.nc {
		nb := min(im.nc, colHi-jc)
		for pc := 0; pc < g.k; pc += g.kc {
			kb := min(g.kc, g.k-pc)
			beta := g.beta
			if pc > 0 {
				beta = 1
			}
			g.packB(buf, jc, nb, pc, kb)
			for ic := rowLo; ic < rowHi; ic += mc {
				mb := min(mc, rowHi-ic)
				if g.packA {
					g.packAPanels(buf, ic, mb, pc, kb)
				} else if mb%mr != 0 {
					g.packAEdge(buf, ic+mb-mb%mr, mb%mr, pc, kb)
				}
				g.macro(buf, ic, mb, jc, nb, pc, kb, beta)
			}
		}
	}
}

// macro runs the micro-kernel over an mb×nb block of C.
func (g *gemmPlan) macro(buf *gemmBuf, ic, mb, jc, nb, pc, kb int, beta float32) {
	im := g.impl
	mr, nr := im.mr, im.nr
	for jr := 0; jr < nb; jr += nr {
		nrr := min(nr, nb-jr)
		var bs []float32
		ldbp := nr
		if g.directB && nrr == nr {
			bs, ldbp = g.b[pc*g.ldb+jc+jr:], g.ldb
		} else {
			bs = buf.b[(jr/nr)*kb*nr:]
		}
		for ir := 0; ir < mb; ir += mr {
			mrr := min(mr, mb-ir)
			var as []float32
			rs, cs := g.rsA, g.csA
			kernel := im.kernel
			switch {
			case g.packA:
				as, rs, cs = buf.a[(ir/mr)*kb*mr:], 1, mr
			case mrr < mr:
				as, rs, cs = buf.edge, 1, mr
			default:
				as = g.a[(ic+ir)*g.rsA+pc*g.csA:]
			}
			if rs == 1 && cs == mr && im.packedKernel != nil {
				kernel = im.packedKernel
			}
			ci := (ic+ir)*g.ldc + jc + jr
			if mrr == mr && nrr == nr {
				kernel(kb, as, rs, cs, bs, ldbp, g.c[ci:], g.ldc, g.alpha, beta)
				continue
			}
			kernel(kb, as, rs, cs, bs, ldbp, buf.tmp, nr, g.alpha, 0)
			storeEdge(g.c[ci:], g.ldc, buf.tmp, nr, mrr, nrr, beta)
		}
	}
}

// storeEdge writes the rows×cols corner of a tile t (rows ldt apart) that
// falls inside C: C = t, or t + beta·C when beta is not 0.
func storeEdge(c []float32, ldc int, t []float32, ldt, rows, cols int, beta float32) {
	for i := range rows {
		row, ti := c[i*ldc:i*ldc+cols], t[i*ldt:i*ldt+cols]
		if beta == 0 {
			copy(row, ti)
			continue
		}
		for j := range row {
			row[j] = ti[j] + beta*row[j]
		}
	}
}

// packB copies op(B)[pc:pc+kb, jc:jc+nb] into buf.b as slivers nr wide, each
// kb×nr row-major, the last one padded with zeros. When B is read in place,
// only a last, partial sliver is copied.
func (g *gemmPlan) packB(buf *gemmBuf, jc, nb, pc, kb int) {
	nr := g.impl.nr
	panels := (nb + nr - 1) / nr
	first := 0
	if g.directB {
		first = nb / nr
		if first == panels {
			return
		}
	}
	buf.b = grow(buf.b, panels*kb*nr)
	if last := buf.b[(panels-1)*kb*nr : panels*kb*nr]; nb%nr != 0 {
		clear(last)
	}
	if !g.transB {
		// Row after row of B, each across the slivers: B is read in
		// order. Sliver by sliver, the rows ldb apart defeated the
		// prefetchers (packing took 7% of a 1024³ product, 3% so).
		for p := range kb {
			src := g.b[(pc+p)*g.ldb+jc : (pc+p)*g.ldb+jc+nb]
			q := first + scatterRowVec(buf.b[first*kb*nr+p*nr:], kb*nr, src[first*nr:], nb/nr-first, nr)
			for ; q < panels; q++ {
				copy(buf.b[q*kb*nr+p*nr:q*kb*nr+p*nr+nr], src[q*nr:min(q*nr+nr, nb)])
			}
		}
		return
	}
	for q := first; q < panels; q++ {
		j0 := jc + q*nr
		transposeInto(buf.b[q*kb*nr:(q+1)*kb*nr], nr, g.b[j0*g.ldb+pc:], g.ldb, min(nr, jc+nb-j0), kb)
	}
}

// packAPanels copies op(A)[ic:ic+mb, pc:pc+kb] into buf.a as slivers mr
// tall, each stored column by column (kb columns of mr), the last one padded
// with zeros.
func (g *gemmPlan) packAPanels(buf *gemmBuf, ic, mb, pc, kb int) {
	mr := g.impl.mr
	panels := (mb + mr - 1) / mr
	buf.a = grow(buf.a, panels*kb*mr)
	for q := 0; q < panels; q++ {
		h := min(mr, mb-q*mr)
		packSliver(buf.a[q*kb*mr:(q+1)*kb*mr], g, ic+q*mr, h, pc, kb, mr)
	}
}

// packAEdge copies the last h < mr rows of a block into buf.edge, padded
// with zeros, so that the micro-kernel never reads past A.
func (g *gemmPlan) packAEdge(buf *gemmBuf, i0, h, pc, kb int) {
	mr := g.impl.mr
	buf.edge = grow(buf.edge, kb*mr)
	packSliver(buf.edge, g, i0, h, pc, kb, mr)
}

// packSliver copies op(A)[i0:i0+h, pc:pc+kb] into dst column by column, mr
// values a column, padding rows h..mr with zeros.
func packSliver(dst []float32, g *gemmPlan, i0, h, pc, kb, mr int) {
	dst = dst[:kb*mr]
	if h < mr {
		clear(dst)
	}
	if g.transA {
		for p := 0; p < kb; p++ {
			src := g.a[(pc+p)*g.lda+i0:]
			copy(dst[p*mr:p*mr+h], src[:h])
		}
		return
	}
	transposeInto(dst, mr, g.a[i0*g.lda+pc:], g.lda, h, kb)
}

// transposeInto copies rows×cols values of src (row stride lds) into dst
// transposed (row stride ld):
//
//	for r < rows, p < cols: dst[p*ld+r] = src[r*lds+p]
func transposeInto(dst []float32, ld int, src []float32, lds, rows, cols int) {
	if rows < 4 {
		for r := range rows {
			for p, v := range src[r*lds : r*lds+cols] {
				dst[p*ld+r] = v
			}
		}
		return
	}
	// Four rows at a time; the rows past a multiple of 4 as the last four
	// (some written twice).
	for r := 0; r < rows; r += 4 {
		transpose4(dst, ld, src, lds, min(r, rows-4), cols)
	}
}

// transpose4 is transposeInto for the four rows from r: the first columns
// by 4×8 blocks in vector registers, the rest one by one.
func transpose4(dst []float32, ld int, src []float32, lds, r, cols int) {
	vec := transpose4Vec(dst[r:], ld, src[r*lds:], lds, cols)
	s0 := src[r*lds+vec : r*lds+cols]
	s1 := src[(r+1)*lds+vec : (r+1)*lds+cols]
	s2 := src[(r+2)*lds+vec : (r+2)*lds+cols]
	s3 := src[(r+3)*lds+vec : (r+3)*lds+cols]
	s1, s2, s3 = s1[:len(s0)], s2[:len(s0)], s3[:len(s0)]
	for i := range s0 {
		p := vec + i
		d := dst[p*ld+r : p*ld+r+4 : p*ld+r+4]
		d[0], d[1], d[2], d[3] = s0[i], s1[i], s2[i], s3[i]
	}
}
