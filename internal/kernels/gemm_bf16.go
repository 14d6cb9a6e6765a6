package kernels

import (
	"math"
	"runtime"
	"sync"
)

// GemmBF16 is [Gemm] with the values of A and B rounded to bfloat16 (the
// top 16 bits of a float32: its 8 exponent bits and 7 of its 23 fraction
// bits) and their products summed in float32, as PyTorch's CPU autocast
// computes a matrix product:
//
//	for i < m, j < n:
//		s := float32(0)
//		for p < k: s += bf16(opA[i][p]) * bf16(opB[p][j])
//		C[i][j] = alpha*s + beta*C[i][j]
//
// bf16 rounds to nearest, ties to even, flushes subnormal numbers to zero
// and keeps NaNs NaN (see [ToBF16]). Each product is exact in float32; the
// sums are rounded, pair by pair, in an order fixed by k alone, so the
// result is bit-identical whatever GOMAXPROCS is. With AVX512-BF16
// ([HasBF16]) the pairs are multiplied and added by VDPBF16PS at twice the
// rate of float32 multiply-adds; elsewhere the same sums are computed in Go,
// far slower than [Gemm].
//
// When beta is 0, C is not read. C must not alias A or B.
func GemmBF16(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmBF16With(activeBF16, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// HasBF16 reports whether [GemmBF16] runs on the CPU's bfloat16
// instructions (AVX512-BF16) rather than in Go.
func HasBF16() bool { return activeBF16 != genericBF16 }

// ToBF16 rounds x to the nearest bfloat16, ties to even, as VCVTNE2PS2BF16
// does: a subnormal x becomes a zero of its sign, a NaN a quiet NaN, and a
// value beyond the largest bfloat16 an infinity. The result is the top 16
// bits of the float32 it stands for.
func ToBF16(x float32) uint16 {
	u := math.Float32bits(x)
	switch {
	case u&0x7fffffff > 0x7f800000: // NaN
		return uint16(u>>16) | 0x40
	case u&0x7f800000 == 0: // zero or subnormal
		return uint16(u>>16) & 0x8000
	}
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}

// FromBF16 returns the float32 that the bfloat16 h stands for.
func FromBF16(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// bf16Impl is one way to run [GemmBF16]. Its micro-kernel computes a 12×32
// tile of C from pairs of bfloat16 along k: a[i*rsA+q*csA] holds the pair
// of row i of A for the step q (of two in k), b[q*32+j] that of column j of
// B, a sliver of B packed 32 pairs a step (see bf16Kernel). A is a block
// of rows converted as they are (rsA the words of a row, csA 1), or of
// steps, the pairs of every row for one step after the other (rsA 1, csA
// the rows of the block): see packA. thin[s] computes one row of C by s+1
// slivers of B side by side, for products of a few rows.
//
// pairs sets dst[q] to the pair src[2q], src[2q+1] for all q <
// ⌈len(src)/2⌉, an odd last value paired with zero; across sets the pair
// lo[j], hi[j] (hi nil: zero) at dst[(j/32)*panel+j%32] for all j <
// len(lo), packing two rows of k into slivers 32 wide.
//
// tiles (and narrow, if set, for at most narrow.nr filters) are the
// convolution tiles on pairs: tileKernels whose a and b hold pairs of
// bfloat16 where the float32 tiles hold values (see convTileBF16x2x4).
type bf16Impl struct {
	name          string
	kernel        bf16Kernel
	thin          [4]bf16Kernel
	pairs         func(dst []uint32, src []float32)
	across        func(dst []uint32, lo, hi []float32, panel int)
	tiles, narrow *tileSet
}

// bf16Kernel is a micro-kernel of [GemmBF16] of mr rows of C by np slivers
// of B, 32 columns each, panel words apart:
//
//	for i < mr, j < 32·np:
//		s := float32(0)
//		for q < kp:
//			w := b[(j/32)*panel+q*32+j%32]
//			s += hi(a[i*rsA+q*csA]) * hi(w)
//			s += lo(a[i*rsA+q*csA]) * lo(w)
//		if beta == 0 { c[i*ldc+j] = alpha*s } else { c[i*ldc+j] = alpha*s + beta*c[i*ldc+j] }
//
// where lo(w) and hi(w) are the bfloat16 in the low and the high 16 bits of
// w: the value at the even p in the low half, the one after it in the high.
type bf16Kernel func(kp int, a []uint32, rsA, csA int, b []uint32, panel int, c []float32, ldc int, alpha, beta float32)

// The tile of the micro-kernel and the blocks of A, B and C: kc values of k
// (kc/2 pairs) make a B sliver of 32 KiB, mc rows of A a block of 120 KiB.
const (
	bf16MR = 12
	bf16NR = 32
	bf16MC = 120
	bf16KC = 512
	bf16NC = 2048
)

// bf16ThinRows is the most rows of C computed a row at a time by the thin
// kernels: they read B once a row, where the 12-row kernel reads it once
// but multiplies 12 rows. At 256×4096 by a kept B (AMD EPYC Zen 4, 3 runs
// of each, GFLOP/s): 1 row 76 against 18, 3 rows 93 against 52, 4 rows 93
// against 67, 5 rows 98 against 81, 8 rows 96 against 123; at 28 columns
// level at 4 rows, behind from 5 (57 against 69).
const bf16ThinRows = 4

var (
	genericBF16 = &bf16Impl{name: "generic", kernel: genericBF16Kernel(bf16MR, 1),
		thin:  [4]bf16Kernel{genericBF16Kernel(1, 1), genericBF16Kernel(1, 2), genericBF16Kernel(1, 3), genericBF16Kernel(1, 4)},
		pairs: pairsBF16, across: acrossBF16, tiles: genericBF16Tiles}
	activeBF16 = chooseBF16()
)

// genericBF16Kernel returns the micro-kernel of mr ≤ bf16MR rows by np ≤
// 4 slivers in Go.
func genericBF16Kernel(mr, np int) bf16Kernel {
	return func(kp int, a []uint32, rsA, csA int, b []uint32, panel int, c []float32, ldc int, alpha, beta float32) {
		var acc [bf16MR][4 * bf16NR]float32
		for q := range kp {
			for i := range mr {
				w := a[i*rsA+q*csA]
				hi, lo := FromBF16(uint16(w>>16)), FromBF16(uint16(w))
				for s := range np {
					row := acc[i][s*bf16NR : (s+1)*bf16NR]
					for j, v := range b[s*panel+q*bf16NR : s*panel+(q+1)*bf16NR] {
						t := row[j] + hi*FromBF16(uint16(v>>16))
						row[j] = t + lo*FromBF16(uint16(v))
					}
				}
			}
		}
		for i := range mr {
			row := c[i*ldc : i*ldc+np*bf16NR]
			for j, s := range acc[i][:np*bf16NR] {
				if beta == 0 {
					row[j] = alpha * s
				} else {
					row[j] = alpha*s + beta*row[j]
				}
			}
		}
	}
}

// pairsBF16 is bf16Impl.pairs in Go.
func pairsBF16(dst []uint32, src []float32) {
	n := len(src) / 2
	dst = dst[:(len(src)+1)/2]
	for q := range n {
		dst[q] = uint32(ToBF16(src[2*q])) | uint32(ToBF16(src[2*q+1]))<<16
	}
	if len(src)%2 != 0 {
		dst[n] = uint32(ToBF16(src[2*n]))
	}
}

// acrossBF16 is bf16Impl.across in Go.
func acrossBF16(dst []uint32, lo, hi []float32, panel int) {
	for j, x := range lo {
		w := uint32(ToBF16(x))
		if hi != nil {
			w |= uint32(ToBF16(hi[j])) << 16
		}
		dst[j/bf16NR*panel+j%bf16NR] = w
	}
}

// bf16Plan holds one call of [GemmBF16].
type bf16Plan struct {
	impl           *bf16Impl
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	kc             int      // depth of each block, even, from k alone
	thin           bool     // at most bf16ThinRows rows: impl.thin's kernels
	packed         []uint32 // op(B) packed whole (see BF16Weights); nil: packed block by block

	parts  [maxParts][4]int
	partFn func(worker, p int)
}

// bf16Buf holds one goroutine's packing buffers: the blocks of pairs of A
// and B, the pairs of a row, and a tile of C for the edges.
type bf16Buf struct {
	a, b, w []uint32
	tmp     []float32
}

var (
	bf16PlanPool = sync.Pool{New: func() any {
		g := new(bf16Plan)
		g.partFn = g.runPart
		return g
	}}
	bf16BufPool = sync.Pool{New: func() any { return new(bf16Buf) }}
)

func growWords(s []uint32, n int) []uint32 {
	if cap(s) < n {
		return make([]uint32, n)
	}
	return s[:n]
}

func gemmBF16With(impl *bf16Impl, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !gemmOperands("GemmBF16", transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc) {
		return
	}
	g := newBF16Plan(impl, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	g.compute()
}

// newBF16Plan returns a plan from the pool for one product.
func newBF16Plan(impl *bf16Impl, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) *bf16Plan {
	g := bf16PlanPool.Get().(*bf16Plan)
	*g = bf16Plan{impl: impl, transA: transA, transB: transB, m: m, n: n, k: k,
		alpha: alpha, beta: beta, a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc, kc: bf16Depth(k),
		thin: m <= bf16ThinRows, partFn: g.partFn}
	return g
}

// bf16Depth returns the depth of the blocks of k, even, at most bf16KC.
func bf16Depth(k int) int {
	nblocks := (k + bf16KC - 1) / bf16KC
	kc := (k + nblocks - 1) / nblocks
	return kc + kc&1
}

// compute runs the plan, on the cores when it is large enough, and puts it
// back in the pool.
func (g *bf16Plan) compute() {
	parts := 1
	if shared(g.m, g.n, g.k) {
		parts = min(runtime.GOMAXPROCS(0), maxParts)
	}
	if parts = splitC(&g.parts, parts, g.m, g.n, bf16MR, bf16NR); parts <= 1 {
		buf := bf16BufPool.Get().(*bf16Buf)
		g.run(0, g.m, 0, g.n, buf)
		bf16BufPool.Put(buf)
	} else {
		ParallelFor(parts, parts, g.partFn)
	}
	*g = bf16Plan{partFn: g.partFn}
	bf16PlanPool.Put(g)
}

// runPart computes block p of C.
func (g *bf16Plan) runPart(_, p int) {
	buf := bf16BufPool.Get().(*bf16Buf)
	r := g.parts[p]
	g.run(r[0], r[1], r[2], r[3], buf)
	bf16BufPool.Put(buf)
}

// run computes the rows [rowLo, rowHi) × columns [colLo, colHi) of C.
func (g *bf16Plan) run(rowLo, rowHi, colLo, colHi int, buf *bf16Buf) {
	if rowLo >= rowHi || colLo >= colHi {
		return
	}
	buf.tmp = grow(buf.tmp, bf16MR*bf16NR)
	for jc := colLo; jc < colHi; jc += bf16NC {
		nb := min(bf16NC, colHi-jc)
		for pc := 0; pc < g.k; pc += g.kc {
			kb := min(g.kc, g.k-pc)
			kp := (kb + 1) / 2
			beta := g.beta
			if pc > 0 {
				beta = 1
			}
			b := g.packed
			if b != nil {
				b = b[g.blockB(pc)+jc/bf16NR*kp*bf16NR:]
			} else {
				buf.b = growWords(buf.b, roundUp(nb, bf16NR)*kp)
				g.packB(buf.b, buf, jc, nb, pc, kb)
				b = buf.b
			}
			for ic := rowLo; ic < rowHi; ic += bf16MC {
				mb := min(bf16MC, rowHi-ic)
				g.packA(buf, ic, mb, pc, kb)
				g.macro(buf, b, ic, mb, jc, nb, kp, beta)
			}
		}
	}
}

// macro runs the micro-kernels over an mb×nb block of C, B's slivers
// packed in b.
func (g *bf16Plan) macro(buf *bf16Buf, b []uint32, ic, mb, jc, nb, kp int, beta float32) {
	kernel, mr, np := g.impl.kernel, bf16MR, 1
	if g.thin {
		mr, np = 1, len(g.impl.thin)
	}
	panel := kp * bf16NR
	for jr := 0; jr < nb; jr += np * bf16NR {
		nrr := min(np*bf16NR, nb-jr)
		if g.thin {
			kernel = g.impl.thin[(nrr+bf16NR-1)/bf16NR-1]
		}
		bs := b[(jr/bf16NR)*panel:]
		for ir := 0; ir < mb; ir += mr {
			mrr := min(mr, mb-ir)
			as, rs, cs := buf.a[ir:], 1, roundUp(mb, bf16MR)
			if !g.transA {
				as, rs, cs = buf.a[ir*kp:], kp, 1
			}
			ci := (ic+ir)*g.ldc + jc + jr
			if mrr == mr && nrr%bf16NR == 0 {
				kernel(kp, as, rs, cs, bs, panel, g.c[ci:], g.ldc, g.alpha, beta)
				continue
			}
			kernel(kp, as, rs, cs, bs, panel, buf.tmp, bf16NR, g.alpha, 0)
			storeEdge(g.c[ci:], g.ldc, buf.tmp, bf16NR, mrr, nrr, beta)
		}
	}
}

// packB packs op(B)[pc:pc+kb, jc:jc+nb] into dst as slivers of bf16NR
// columns, kp = ⌈kb/2⌉ steps of bf16NR pairs each, padded with zeros.
func (g *bf16Plan) packB(dst []uint32, buf *bf16Buf, jc, nb, pc, kb int) {
	kp := (kb + 1) / 2
	panels := (nb + bf16NR - 1) / bf16NR
	dst = dst[:panels*kp*bf16NR]
	if nb%bf16NR != 0 {
		clear(dst) // the columns past nb
	}
	if g.transB {
		// Column j of op(B) is row j of B: its pairs lie side by side.
		for j := range nb {
			src := g.b[(jc+j)*g.ldb+pc : (jc+j)*g.ldb+pc+kb]
			g.pairsAlong(buf, src, dst[(j/bf16NR)*kp*bf16NR+j%bf16NR:], bf16NR)
		}
		return
	}
	for q := range kp {
		p := pc + 2*q
		g.impl.across(dst[q*bf16NR:], g.b[p*g.ldb+jc:p*g.ldb+jc+nb], g.nextRow(g.b, g.ldb, p, pc+kb, jc, nb), kp*bf16NR)
	}
}

// packA converts op(A)[ic:ic+mb, pc:pc+kb] into buf.a as pairs: row by
// row, kp words a row, when A is not transposed (a row of A holds its pairs
// side by side); else step by step, a step of two in k holding the pairs of
// roundUp(mb, bf16MR) rows. Rows past mb are zeros.
func (g *bf16Plan) packA(buf *bf16Buf, ic, mb, pc, kb int) {
	kp := (kb + 1) / 2
	rows := roundUp(mb, bf16MR)
	buf.a = growWords(buf.a, rows*kp)
	if !g.transA {
		for i := range mb {
			g.impl.pairs(buf.a[i*kp:(i+1)*kp], g.a[(ic+i)*g.lda+pc:(ic+i)*g.lda+pc+kb])
		}
		clear(buf.a[mb*kp:])
		return
	}
	for q := range kp {
		p := pc + 2*q
		step := buf.a[q*rows : (q+1)*rows]
		g.impl.across(step, g.a[p*g.lda+ic:p*g.lda+ic+mb], g.nextRow(g.a, g.lda, p, pc+kb, ic, mb), bf16NR)
		clear(step[mb:])
	}
}

// roundUp returns n rounded up to a multiple of m.
func roundUp(n, m int) int { return (n + m - 1) / m * m }

// nextRow returns x[p+1][lo:lo+n] when p+1 < end, else nil.
func (g *bf16Plan) nextRow(x []float32, ld, p, end, lo, n int) []float32 {
	if p+1 >= end {
		return nil
	}
	return x[(p+1)*ld+lo : (p+1)*ld+lo+n]
}

// pairsAlong converts src, values that follow each other in k, to pairs
// of bfloat16 and stores them at dst[0], dst[stride], dst[2*stride], ...
func (g *bf16Plan) pairsAlong(buf *bf16Buf, src []float32, dst []uint32, stride int) {
	buf.w = growWords(buf.w, (len(src)+1)/2)
	g.impl.pairs(buf.w, src)
	for q, w := range buf.w {
		dst[q*stride] = w
	}
}
