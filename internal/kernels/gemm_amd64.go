//go:build !purego

package kernels

import (
	"math/bits"
	"unsafe"
)

//go:generate sh -c "cd _asm && go run . -out ../gemm_amd64.s"

// gemmKernel12x32AVX512 computes a 12×32 tile of C with AVX-512F:
//
//	for i < 12, j < 32:
//		s := 0
//		for p < k: s += a[i*rsA+p*csA] * b[p*ldb+j]
//		if beta == 0 { c[i*ldc+j] = alpha*s } else { c[i*ldc+j] = alpha*s + beta*c[i*ldc+j] }
//
//go:noescape
func gemmKernel12x32AVX512(k int, a *float32, rsA, csA int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// gemmKernel6x16AVX2 computes a 6×16 tile of C with AVX2 and FMA:
//
//	for i < 6, j < 16:
//		s := 0
//		for p < k: s += a[i*rsA+p*csA] * b[p*ldb+j]
//		if beta == 0 { c[i*ldc+j] = alpha*s } else { c[i*ldc+j] = alpha*s + beta*c[i*ldc+j] }
//
//go:noescape
func gemmKernel6x16AVX2(k int, a *float32, rsA, csA int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// transpose4x8AVX copies 4 rows of src (lds floats apart) into dst
// transposed (ld floats apart), 8 columns at a time for n steps:
//
//	for r < 4, p < 8n: dst[p*ld+r] = src[r*lds+p]
//
//go:noescape
func transpose4x8AVX(dst *float32, ld int, src *float32, lds, n int)

// transpose4Vec runs transposeInto's loop for 4 rows in AVX over the
// first columns, a multiple of 8, and returns how many it did: 0 on the
// generic path.
func transpose4Vec(dst []float32, ld int, src []float32, lds, cols int) int {
	n := cols / 8
	if vecLanes == 0 || n == 0 {
		return 0
	}
	_, _ = src[3*lds+8*n-1], dst[(8*n-1)*ld+3]
	transpose4x8AVX(&dst[0], ld, &src[0], lds, n)
	return 8 * n
}

// scatterRowAVX copies n slivers of nr floats (a multiple of 8), read in
// order from src, to dst, each stride floats after the one before:
//
//	for q < n, j < nr: dst[q*stride+j] = src[q*nr+j]
//
//go:noescape
func scatterRowAVX(dst *float32, stride int, src *float32, n, nr int)

// scatterRowVec runs scatterRowAVX and returns n, or returns 0 on the
// generic path.
func scatterRowVec(dst []float32, stride int, src []float32, n, nr int) int {
	if vecLanes == 0 || n <= 0 || nr%8 != 0 {
		return 0
	}
	_, _ = src[n*nr-1], dst[(n-1)*stride+nr-1]
	scatterRowAVX(&dst[0], stride, &src[0], n, nr)
	return n
}

// gemmKernel6x16PackedAVX2 is gemmKernel6x16AVX2 for A packed in slivers:
// it assumes rsA = 1 and csA = 6.
//
//go:noescape
func gemmKernel6x16PackedAVX2(k int, a *float32, rsA, csA int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// gemmKernel12x32PackedAVX512 is gemmKernel12x32AVX512 for A packed in
// slivers: it assumes rsA = 1 and csA = 12.
//
//go:noescape
func gemmKernel12x32PackedAVX512(k int, a *float32, rsA, csA int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// gemmKernel1x128AVX512 computes a 1×128 tile of C (a vector-matrix
// product) with AVX-512F:
//
//	for j < 128:
//		s := 0
//		for p < k: s += a[p*csA] * b[p*ldb+j]
//		if beta == 0 { c[j] = alpha*s } else { c[j] = alpha*s + beta*c[j] }
//
//go:noescape
func gemmKernel1x128AVX512(k int, a *float32, rsA, csA int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// gemmKernel1x64AVX2 computes a 1×64 tile of C (a vector-matrix product)
// with AVX2 and FMA:
//
//	for j < 64:
//		s := 0
//		for p < k: s += a[p*csA] * b[p*ldb+j]
//		if beta == 0 { c[j] = alpha*s } else { c[j] = alpha*s + beta*c[j] }
//
//go:noescape
func gemmKernel1x64AVX2(k int, a *float32, rsA, csA int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// convTile14x32AVX512, convTile12x32AVX512, convTile8x32AVX512,
// convTile7x32AVX512 and convTile4x32AVX512 compute a 14×32, 12×32, 8×32,
// 7×32 or 4×32 convolution tile with AVX-512F (14 and 7 rows: one tile per
// output row of ResNet's 14×14 and 7×7 maps, where 12, 8 and 4 rows left
// the short tiles most of the work):
//
//	for k < count, i < mr, j < 32:
//		a, c := a[k*nextA:], c[k*nextC:]
//		s := 0
//		for q < nseg, p < seg: s += a[q*segA+i*rsA+p*csA] * b[(q*seg+p)*ldb+j]
//		if flags&1 != 0 { s += c[i*ldc+j] }
//		if bias != nil { s += bias[j] }
//		if flags&2 != 0 { s = max(s, 0) }
//		c[i*ldc+j] = s
//
//go:noescape
func convTile14x32AVX512(nseg, seg int, a *float32, rsA, csA, segA int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags, count, nextA, nextC int)

//go:noescape
func convTile12x32AVX512(nseg, seg int, a *float32, rsA, csA, segA int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags, count, nextA, nextC int)

//go:noescape
func convTile8x32AVX512(nseg, seg int, a *float32, rsA, csA, segA int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags, count, nextA, nextC int)

//go:noescape
func convTile7x32AVX512(nseg, seg int, a *float32, rsA, csA, segA int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags, count, nextA, nextC int)

//go:noescape
func convTile4x32AVX512(nseg, seg int, a *float32, rsA, csA, segA int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags, count, nextA, nextC int)

// convTile16x16AVX512, convTile8x16AVX512 and convTile4x16AVX512 are the
// tiles of 16 filters (one vector) for convolutions of at most 16.
//
//go:noescape
func convTile16x16AVX512(nseg, seg int, a *float32, rsA, csA, segA int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags, count, nextA, nextC int)

//go:noescape
func convTile8x16AVX512(nseg, seg int, a *float32, rsA, csA, segA int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags, count, nextA, nextC int)

//go:noescape
func convTile4x16AVX512(nseg, seg int, a *float32, rsA, csA, segA int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags, count, nextA, nextC int)

// convTile6x16AVX2, convTile4x16AVX2 and convTile2x16AVX2 compute a 6×16,
// 4×16 or 2×16 convolution tile with AVX2 and FMA:
//
//	for k < count, i < mr, j < 16:
//		a, c := a[k*nextA:], c[k*nextC:]
//		s := 0
//		for q < nseg, p < seg: s += a[q*segA+i*rsA+p*csA] * b[(q*seg+p)*ldb+j]
//		if flags&1 != 0 { s += c[i*ldc+j] }
//		if bias != nil { s += bias[j] }
//		if flags&2 != 0 { s = max(s, 0) }
//		c[i*ldc+j] = s
//
//go:noescape
func convTile6x16AVX2(nseg, seg int, a *float32, rsA, csA, segA int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags, count, nextA, nextC int)

//go:noescape
func convTile4x16AVX2(nseg, seg int, a *float32, rsA, csA, segA int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags, count, nextA, nextC int)

//go:noescape
func convTile2x16AVX2(nseg, seg int, a *float32, rsA, csA, segA int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags, count, nextA, nextC int)

// asmTileFunc is the signature of the assembly convolution tiles.
// dotsAVX512 sets c[j] to the dot product of a with row j of B (stride ldb)
// for j < n, over chunks vectors of 16 values and then the lanes of mask
// (bit l for value 16·chunks+l), with AVX-512F:
//
//	for j < n: c[j] = Σ_p a[p] * b[j*ldb+p]
//
// Each sum runs in an order fixed by chunks and mask alone.
//
//go:noescape
func dotsAVX512(c, a, b *float32, n, chunks, ldb, mask int)

// dots512 is gemmImpl.dots with dotsAVX512.
func dots512(c, a, b []float32, n, k, ldb int) {
	if n <= 0 {
		return
	}
	if k <= 0 || ldb < k || len(c) < n || len(a) < k || len(b) < (n-1)*ldb+k {
		panic("kernels: dots: slice too short for n, k, ldb")
	}
	dotsAVX512(&c[0], &a[0], &b[0], n, k/16, ldb, 1<<(k%16)-1)
}

type asmTileFunc func(nseg, seg int, a *float32, rsA, csA, segA int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags, count, nextA, nextC int)

// asmTiles wraps assembly tiles of the heights mrs and width nr, checking
// the bounds of every call; masked tells whether they take tileColumns.
func asmTiles(nr int, masked bool, mrs []int, cost []float64, fns []asmTileFunc) *tileSet {
	ts := &tileSet{nr: nr, mrs: mrs, cost: cost, masked: masked}
	// The tiles of a row move on by whole strides from the first: within
	// bounds when the last is. A single tile is a row of one.
	for i, fn := range fns {
		mr := mrs[i]
		run := func(count, nextA, nextC int, nseg, seg int, a []float32, rsA, csA, segA int, b []float32, ldb int, c []float32, ldc int, bias []float32, flags int) {
			checkRun(count, nextA, nextC)
			last := count - 1
			checkTile(mr, nr, nseg, seg, a[last*nextA:], rsA, csA, segA, b, ldb, c[last*nextC:], ldc, bias, flags)
			fn(nseg, seg, unsafe.SliceData(a), rsA, csA, segA, unsafe.SliceData(b), ldb, unsafe.SliceData(c), ldc, unsafe.SliceData(bias), flags, count, nextA, nextC)
		}
		ts.runs = append(ts.runs, run)
		ts.kernels = append(ts.kernels, func(nseg, seg int, a []float32, rsA, csA, segA int, b []float32, ldb int, c []float32, ldc int, bias []float32, flags int) {
			run(1, 0, 0, nseg, seg, a, rsA, csA, segA, b, ldb, c, ldc, bias, flags)
		})
	}
	return ts
}

// checkTile panics unless a tile of mr×nr reading a, b and bias and writing
// c stays within them.
func checkTile(mr, nr, nseg, seg int, a []float32, rsA, csA, segA int, b []float32, ldb int, c []float32, ldc int, bias []float32, flags int) {
	w := tileWidth(nr, flags)
	if nseg < 0 || seg < 0 || rsA < 0 || csA < 0 || segA < 0 || ldb < nr || ldc < w || w > nr {
		panic("kernels: convolution tile: negative size or stride")
	}
	if len(c) < (mr-1)*ldc+w || bias != nil && len(bias) < nr {
		panic("kernels: convolution tile: C or bias too short")
	}
	if nseg == 0 || seg == 0 {
		return
	}
	if len(a) <= (nseg-1)*segA+(mr-1)*rsA+(seg-1)*csA || len(b) < (nseg*seg-1)*ldb+nr {
		panic("kernels: convolution tile: A or B too short")
	}
}

// tileWidth returns the columns of C a tile nr wide with these flags
// reads and writes.
func tileWidth(nr, flags int) int {
	if m := uint64(flags) >> 32; m != 0 {
		return bits.Len64(m)
	}
	return nr
}

// asmImpls returns the assembly paths the CPU supports, slowest first.
func asmImpls(avx2, avx512 bool) []*gemmImpl {
	var out []*gemmImpl
	if avx2 {
		out = append(out, &gemmImpl{name: "avx2", mr: 6, nr: 16, mc: 120, kc: 256, nc: 2048,
			tiles: asmTiles(16, false, []int{6, 4, 2}, []float64{1, 1.1, 1.6}, []asmTileFunc{convTile6x16AVX2, convTile4x16AVX2, convTile2x16AVX2}),
			kernel: func(k int, a []float32, rsA, csA int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
				gemmKernel6x16AVX2(k, &a[0], rsA, csA, &b[0], ldb, &c[0], ldc, alpha, beta)
			},
			packedKernel: func(k int, a []float32, rsA, csA int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
				gemmKernel6x16PackedAVX2(k, &a[0], rsA, csA, &b[0], ldb, &c[0], ldc, alpha, beta)
			},
			wino: winoAVX2,
			thin: &gemmImpl{name: "avx2", mr: 1, nr: 64, mc: 1, kc: 256, nc: 2048,
				kernel: func(k int, a []float32, rsA, csA int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
					gemmKernel1x64AVX2(k, &a[0], rsA, csA, &b[0], ldb, &c[0], ldc, alpha, beta)
				}},
		})
	}
	if avx512 {
		// kc 512 rather than 256: the B sliver (64 KiB) no longer fits L1
		// but L2 feeds the 12×32 micro-kernel fast enough (176 bytes for
		// 24 FMAs), and C is read and written half as often, which counts
		// when other programs share the memory bandwidth. mc 120 keeps the
		// A block at 240 KiB. Measured on AMD EPYC Zen 5, 2 cores, against
		// mc 240 and kc 256 in alternating runs: 1024³ +5.4% median (16 of
		// 20 pairs faster), 100×256×4096 +11% (8 of 8), the others level.
		out = append(out, &gemmImpl{name: "avx512", mr: 12, nr: 32, mc: 120, kc: 512, nc: 2048,
			tiles:  asmTiles(32, true, []int{14, 12, 8, 7, 4}, []float64{1, 1, 1.05, 1.1, 1.5}, []asmTileFunc{convTile14x32AVX512, convTile12x32AVX512, convTile8x32AVX512, convTile7x32AVX512, convTile4x32AVX512}),
			narrow: asmTiles(16, true, []int{16, 8, 4}, []float64{1, 1.1, 1.5}, []asmTileFunc{convTile16x16AVX512, convTile8x16AVX512, convTile4x16AVX512}),
			kernel: func(k int, a []float32, rsA, csA int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
				gemmKernel12x32AVX512(k, &a[0], rsA, csA, &b[0], ldb, &c[0], ldc, alpha, beta)
			},
			packedKernel: func(k int, a []float32, rsA, csA int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
				gemmKernel12x32PackedAVX512(k, &a[0], rsA, csA, &b[0], ldb, &c[0], ldc, alpha, beta)
			},
			thin: &gemmImpl{name: "avx512", mr: 1, nr: 128, mc: 1, kc: 256, nc: 2048,
				kernel: func(k int, a []float32, rsA, csA int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
					gemmKernel1x128AVX512(k, &a[0], rsA, csA, &b[0], ldb, &c[0], ldc, alpha, beta)
				}},
			dots: dots512,
			wino: winoAVX512,
		})
	}
	return out
}

// gemmBF16Kernel12x32 is bf16Impl.kernel with AVX512-BF16: a bf16Kernel
// of 12 rows by one sliver (panel unused); gemmBF16Kernel1x32 … 1x128 are
// its thin kernels, one row by one to four slivers.
//
//go:noescape
func gemmBF16Kernel12x32(kp int, a *uint32, rsA, csA int, b *uint32, panel int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func gemmBF16Kernel1x32(kp int, a *uint32, rsA, csA int, b *uint32, panel int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func gemmBF16Kernel1x64(kp int, a *uint32, rsA, csA int, b *uint32, panel int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func gemmBF16Kernel1x96(kp int, a *uint32, rsA, csA int, b *uint32, panel int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func gemmBF16Kernel1x128(kp int, a *uint32, rsA, csA int, b *uint32, panel int, c *float32, ldc int, alpha, beta float32)

// asmBF16Kernel wraps fn, a micro-kernel of mr rows by np slivers, checking
// the bounds of every call.
func asmBF16Kernel(mr, np int, fn func(kp int, a *uint32, rsA, csA int, b *uint32, panel int, c *float32, ldc int, alpha, beta float32)) bf16Kernel {
	return func(kp int, a []uint32, rsA, csA int, b []uint32, panel int, c []float32, ldc int, alpha, beta float32) {
		if kp <= 0 || rsA < 0 || csA < 0 || np > 1 && panel < kp*bf16NR || mr > 1 && ldc < bf16NR {
			panic("kernels: bfloat16 micro-kernel: bad size or stride")
		}
		_, _, _ = a[(mr-1)*rsA+(kp-1)*csA], b[(np-1)*panel+kp*bf16NR-1], c[(mr-1)*ldc+np*bf16NR-1]
		fn(kp, &a[0], rsA, csA, &b[0], panel, &c[0], ldc, alpha, beta)
	}
}

// convertBF16AVX512 rounds n float32s, n a multiple of 32, to bfloat16 with
// AVX512-BF16:
//
//	for i < n: dst[i] = ToBF16(src[i])
//
//go:noescape
func convertBF16AVX512(dst *uint16, src *float32, n int)

// convTileBF16x14x32, convTileBF16x12x32, convTileBF16x8x32,
// convTileBF16x7x32, convTileBF16x4x32, convTileBF16x16x16,
// convTileBF16x8x16 and convTileBF16x4x16 are the convolution tiles of
// the AVX512-BF16 path, of the heights and widths of the AVX-512 ones: a
// and b hold pairs of bfloat16 (see bf16Impl), and each step adds the
// products of a pair:
//
//	for k < count, i < mr, j < nr:
//		a, c := a[k*nextA:], c[k*nextC:]
//		s := float32(0)
//		for q < nseg, p < seg:
//			x, y := a[q*segA+i*rsA+p*csA], b[(q*seg+p)*ldb+j]
//			s += hi(x)*hi(y)
//			s += lo(x)*lo(y)
//		if flags&1 != 0 { s += c[i*ldc+j] }
//		if bias != nil { s += bias[j] }
//		if flags&2 != 0 { s = max(s, 0) }
//		c[i*ldc+j] = s
//
//go:noescape
func convTileBF16x14x32(nseg, seg int, a *float32, rsA, csA, segA int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags, count, nextA, nextC int)

//go:noescape
func convTileBF16x12x32(nseg, seg int, a *float32, rsA, csA, segA int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags, count, nextA, nextC int)

//go:noescape
func convTileBF16x8x32(nseg, seg int, a *float32, rsA, csA, segA int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags, count, nextA, nextC int)

//go:noescape
func convTileBF16x7x32(nseg, seg int, a *float32, rsA, csA, segA int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags, count, nextA, nextC int)

//go:noescape
func convTileBF16x4x32(nseg, seg int, a *float32, rsA, csA, segA int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags, count, nextA, nextC int)

//go:noescape
func convTileBF16x16x16(nseg, seg int, a *float32, rsA, csA, segA int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags, count, nextA, nextC int)

//go:noescape
func convTileBF16x8x16(nseg, seg int, a *float32, rsA, csA, segA int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags, count, nextA, nextC int)

//go:noescape
func convTileBF16x4x16(nseg, seg int, a *float32, rsA, csA, segA int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags, count, nextA, nextC int)

// acrossBF16AVX512 pairs two rows of n float32s, n a multiple of 32, in
// bfloat16 with AVX512-BF16, 32 pairs at a time panel words apart:
//
//	for j < n: dst[(j/32)*panel+j%32] = ToBF16(lo[j]) | ToBF16(hi[j])<<16
//
//go:noescape
func acrossBF16AVX512(dst *uint32, lo, hi *float32, n, panel int)

// asmBF16 returns the AVX512-BF16 path of GemmBF16 when ok, else nil.
func asmBF16(ok bool) *bf16Impl {
	if !ok {
		return nil
	}
	return &bf16Impl{name: "avx512bf16",
		tiles:  asmTiles(32, true, []int{14, 12, 8, 7, 4}, []float64{1, 1, 1.05, 1.1, 1.5}, []asmTileFunc{convTileBF16x14x32, convTileBF16x12x32, convTileBF16x8x32, convTileBF16x7x32, convTileBF16x4x32}),
		narrow: asmTiles(16, true, []int{16, 8, 4}, []float64{1, 1.1, 1.5}, []asmTileFunc{convTileBF16x16x16, convTileBF16x8x16, convTileBF16x4x16}),
		kernel: asmBF16Kernel(bf16MR, 1, gemmBF16Kernel12x32),
		thin: [4]bf16Kernel{asmBF16Kernel(1, 1, gemmBF16Kernel1x32), asmBF16Kernel(1, 2, gemmBF16Kernel1x64),
			asmBF16Kernel(1, 3, gemmBF16Kernel1x96), asmBF16Kernel(1, 4, gemmBF16Kernel1x128)},
		// On a little-endian CPU the pairs of a row are its values in
		// bfloat16 side by side.
		pairs: func(dst []uint32, src []float32) {
			n := len(src) &^ 31
			if n > 0 {
				_ = dst[n/2-1]
				convertBF16AVX512((*uint16)(unsafe.Pointer(&dst[0])), &src[0], n)
			}
			pairsBF16(dst[n/2:], src[n:])
		},
		across: func(dst []uint32, lo, hi []float32, panel int) {
			n := len(lo) &^ 31
			if n > 0 && hi != nil {
				_, _ = hi[len(lo)-1], dst[(n/bf16NR-1)*panel+bf16NR-1]
				acrossBF16AVX512(&dst[0], &lo[0], &hi[0], n, panel)
			} else {
				n = 0
			}
			if n < len(lo) {
				acrossBF16(dst[n/bf16NR*panel:], lo[n:], tail(hi, n), panel)
			}
		},
	}
}

// tail returns s[n:], or nil for a nil s.
func tail(s []float32, n int) []float32 {
	if s == nil {
		return nil
	}
	return s[n:]
}
