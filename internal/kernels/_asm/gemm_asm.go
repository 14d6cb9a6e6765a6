// Command gemm_asm generates the amd64 GEMM micro-kernels in
// ../gemm_amd64.s. Run it with go generate in the parent directory.
//
// Each micro-kernel computes one mr×nr tile of C from a k-long sliver of A
// and of B, keeping the whole tile in vector registers:
//
//	for i < mr, j < nr:
//		s := 0
//		for p < k: s += a[i*rsA+p*csA] * b[p*ldb+j]
//		if beta == 0 { c[i*ldc+j] = alpha*s } else { c[i*ldc+j] = alpha*s + beta*c[i*ldc+j] }
//
// A is read through two strides, so the same kernel reads a packed panel
// (rsA=1, csA=mr), a row-major A (rsA=lda, csA=1) or a transposed one
// (rsA=1, csA=lda) without copying it. B is a row-major sliver nr wide.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

const signature = "func(k int, a *float32, rsA, csA int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)"

func main() {
	ConstraintExpr("!purego")
	kernel("gemmKernel12x32AVX512", 12, 2, 16, ZMM)
	packedKernel("gemmKernel12x32PackedAVX512", 12, 2, 16, ZMM)
	kernel("gemmKernel1x128AVX512", 1, 8, 16, ZMM)
	kernel("gemmKernel6x16AVX2", 6, 2, 8, YMM)
	packedKernel("gemmKernel6x16PackedAVX2", 6, 2, 8, YMM)
	transpose4x8()
	scatterRows()
	kernel("gemmKernel1x64AVX2", 1, 8, 8, YMM)
	elementwise()
	avx512.sigmoids()
	avx512.smooths()
	avx2.smooths()
	avx2.sigmoids()
	avx512.prelus()
	avx2.prelus()
	depthwiseKernels()
	batchNorm()
	tile("convTile14x32AVX512", 14, 2, 16, ZMM, false)
	tile("convTile12x32AVX512", 12, 2, 16, ZMM, false)
	tile("convTile8x32AVX512", 8, 2, 16, ZMM, false)
	tile("convTile7x32AVX512", 7, 2, 16, ZMM, false)
	tile("convTile4x32AVX512", 4, 2, 16, ZMM, false)
	tile("convTile16x16AVX512", 16, 1, 16, ZMM, false)
	tile("convTile8x16AVX512", 8, 1, 16, ZMM, false)
	tile("convTile4x16AVX512", 4, 1, 16, ZMM, false)
	tile("convTile6x16AVX2", 6, 2, 8, YMM, false)
	tile("convTile4x16AVX2", 4, 2, 8, YMM, false)
	tile("convTile2x16AVX2", 2, 2, 8, YMM, false)
	tile("convTileBF16x14x32", 14, 2, 16, ZMM, true)
	tile("convTileBF16x12x32", 12, 2, 16, ZMM, true)
	tile("convTileBF16x8x32", 8, 2, 16, ZMM, true)
	tile("convTileBF16x7x32", 7, 2, 16, ZMM, true)
	tile("convTileBF16x4x32", 4, 2, 16, ZMM, true)
	tile("convTileBF16x16x16", 16, 1, 16, ZMM, true)
	tile("convTileBF16x8x16", 8, 1, 16, ZMM, true)
	tile("convTileBF16x4x16", 4, 1, 16, ZMM, true)
	optimizers()
	dots()
	bf16()
	winograd()
	Generate()
}

// rowBases sets rs3 = 3·rs and the bases of the rows of A four by four,
// rs bytes apart: base[0] is a, the others the registers more or new
// ones, each 4·rs after the one before. It returns the bases and the
// address of row i, base[i/4] + (i%4)·rs.
func rowBases(a, rs, rs3 Register, rows int, more ...Register) ([]Register, func(i int) Mem) {
	LEAQ(Mem{Base: rs, Index: rs, Scale: 2}, rs3)
	base := make([]Register, (rows+3)/4)
	base[0] = a
	for j := 1; j < len(base); j++ {
		if j <= len(more) {
			base[j] = more[j-1]
		} else {
			base[j] = GP64()
		}
		LEAQ(Mem{Base: base[j-1], Index: rs, Scale: 4}, base[j])
	}
	return base, func(i int) Mem {
		r := base[i/4]
		switch i % 4 {
		case 0:
			return Mem{Base: r}
		case 1:
			return Mem{Base: r, Index: rs, Scale: 1}
		case 2:
			return Mem{Base: r, Index: rs, Scale: 2}
		default:
			return Mem{Base: r, Index: rs3, Scale: 1}
		}
	}
}

// kernel emits an mr×(vecs·lanes) micro-kernel; newVec allocates one vector
// register of lanes float32s.
func kernel(name string, mr, vecs, lanes int, newVec func() VecVirtual) {
	TEXT(name, NOSPLIT, signature)

	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	rs := Load(Param("rsA"), GP64())
	cs := Load(Param("csA"), GP64())
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	Comment("Strides in bytes.")
	SHLQ(U8(2), rs)
	SHLQ(U8(2), cs)
	SHLQ(U8(2), ldb)

	// Row i of the A sliver starts at base[i/4] + (i%4)·rs; rs3 = 3·rs.
	Comment("Row bases: row i of A is at base[i/4] + (i%4)*rs.")
	base, rowAddr := rowBases(a, rs, GP64(), mr)

	Comment("Zero the accumulators.")
	acc := make([][]VecVirtual, mr)
	for i := range acc {
		acc[i] = make([]VecVirtual, vecs)
		for v := range acc[i] {
			acc[i][v] = newVec()
			VXORPS(acc[i][v], acc[i][v], acc[i][v])
		}
	}
	// A one-row kernel (a vector-matrix product) takes B straight from
	// memory in each FMA; taller ones load each B vector once per row of
	// the tile.
	bv := make([]VecVirtual, max(vecs, 2))
	if mr == 1 {
		bv = bv[:2]
	}
	for v := range bv {
		bv[v] = newVec()
	}
	t := newVec()

	loop, done := name+"_loop", name+"_done"
	TESTQ(k, k)
	JZ(LabelRef(done))
	Label(loop)
	Comment("One rank-1 update: acc[i][:] += a[i] * b[:].")
	if mr == 1 {
		VBROADCASTSS(rowAddr(0), t)
		for v := 0; v < vecs; v++ {
			VFMADD231PS(Mem{Base: b, Disp: 4 * lanes * v}, t, acc[0][v])
		}
	} else {
		for v := range bv {
			VMOVUPS(Mem{Base: b, Disp: 4 * lanes * v}, bv[v])
		}
		for i := 0; i < mr; i++ {
			VBROADCASTSS(rowAddr(i), t)
			for v := range bv {
				VFMADD231PS(bv[v], t, acc[i][v])
			}
		}
	}
	ADDQ(ldb, b)
	for j := range base {
		ADDQ(cs, base[j])
	}
	DECQ(k)
	JNZ(LabelRef(loop))
	Label(done)

	writeC(name, acc, bv)
	VZEROUPPER()
	RET()
}

// writeC stores the tile: C = alpha·acc, or alpha·acc + beta·C when beta is
// not zero. bv holds two free vector registers.
func writeC(name string, acc [][]VecVirtual, bv []VecVirtual) {
	mr, vecs := len(acc), len(acc[0])
	lanes := int(bv[0].Size()) / 4
	Comment("Write C: alpha*acc, plus beta*C unless beta is zero.")
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	alpha := bv[0]
	VBROADCASTSS(NewParamAddr("alpha", 64), alpha)
	betaBits := GP32()
	MOVL(NewParamAddr("beta", 68), betaBits)
	ANDL(U32(0x7fffffff), betaBits)
	store, end := name+"_store", name+"_end"
	JZ(LabelRef(store))

	beta := bv[1]
	VBROADCASTSS(NewParamAddr("beta", 68), beta)
	for i := 0; i < mr; i++ {
		for v := 0; v < vecs; v++ {
			m := Mem{Base: c, Disp: 4 * lanes * v}
			VMULPS(alpha, acc[i][v], acc[i][v])
			VFMADD231PS(m, beta, acc[i][v])
			VMOVUPS(acc[i][v], m)
		}
		if i+1 < mr {
			ADDQ(ldc, c)
		}
	}
	JMP(LabelRef(end))

	Label(store)
	c2 := Load(Param("c"), GP64())
	for i := 0; i < mr; i++ {
		for v := 0; v < vecs; v++ {
			m := Mem{Base: c2, Disp: 4 * lanes * v}
			VMULPS(alpha, acc[i][v], acc[i][v])
			VMOVUPS(acc[i][v], m)
		}
		if i+1 < mr {
			ADDQ(ldc, c2)
		}
	}
	Label(end)
}

// packedKernel emits an mr×(vecs·lanes) micro-kernel for A packed in slivers
// (rsA = 1, csA = mr, which it does not read): every row of A is then at a
// constant offset, and the loop over k is unrolled four times. It asks for
// the tile of C first, which then arrives while the loop runs.
func packedKernel(name string, mr, vecs, lanes int, newVec func() VecVirtual) {
	const unroll = 4
	TEXT(name, NOSPLIT, signature)
	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(2), ldb)

	Comment("Fetch the tile of C while the loop runs.")
	{
		c := Load(Param("c"), GP64())
		ldc := Load(Param("ldc"), GP64())
		SHLQ(U8(2), ldc)
		for i := 0; i < mr; i++ {
			for off := 0; off < 4*lanes*vecs; off += 64 {
				PREFETCHT0(Mem{Base: c, Disp: off})
			}
			if i+1 < mr {
				ADDQ(ldc, c)
			}
		}
	}

	Comment("Zero the accumulators.")
	acc := make([][]VecVirtual, mr)
	for i := range acc {
		acc[i] = make([]VecVirtual, vecs)
		for v := range acc[i] {
			acc[i][v] = newVec()
			VXORPS(acc[i][v], acc[i][v], acc[i][v])
		}
	}
	bv := make([]VecVirtual, vecs)
	for v := range bv {
		bv[v] = newVec()
	}
	t := newVec()
	step := func(u int) {
		for v := range bv {
			VMOVUPS(Mem{Base: b, Disp: 4 * lanes * v}, bv[v])
		}
		ADDQ(ldb, b)
		for i := 0; i < mr; i++ {
			VBROADCASTSS(Mem{Base: a, Disp: 4 * (u*mr + i)}, t)
			for v := range bv {
				VFMADD231PS(bv[v], t, acc[i][v])
			}
		}
	}
	n := GP64()
	MOVQ(k, n)
	SHRQ(U8(2), n)
	ANDQ(U32(unroll-1), k)
	unrolled, single, done := name+"_unrolled", name+"_single", name+"_done"
	TESTQ(n, n)
	JZ(LabelRef(single))
	Label(unrolled)
	Comment(fmt.Sprintf("%d rank-1 updates.", unroll))
	for u := 0; u < unroll; u++ {
		step(u)
	}
	ADDQ(U32(4*mr*unroll), a)
	DECQ(n)
	JNZ(LabelRef(unrolled))
	Label(single)
	TESTQ(k, k)
	JZ(LabelRef(done))
	step(0)
	ADDQ(U32(4*mr), a)
	DECQ(k)
	JMP(LabelRef(single))
	Label(done)
	writeC(name, acc, bv)
	VZEROUPPER()
	RET()
}

// transpose4x8 emits the packing of A's slivers: 4 rows of src (lds bytes
// apart) transposed into dst (ld bytes apart), 8 columns a step for n
// steps, in AVX:
//
//	for r < 4, p < 8n: dst[p*ld+r] = src[r*lds+p]
func transpose4x8() {
	TEXT("transpose4x8AVX", NOSPLIT, "func(dst *float32, ld int, src *float32, lds, n int)")
	dst := Load(Param("dst"), GP64())
	ld := Load(Param("ld"), GP64())
	src := Load(Param("src"), GP64())
	lds := Load(Param("lds"), GP64())
	n := Load(Param("n"), GP64())
	SHLQ(U8(2), ld)
	SHLQ(U8(2), lds)
	ld3, lds3, dst4 := GP64(), GP64(), GP64()
	LEAQ(Mem{Base: ld, Index: ld, Scale: 2}, ld3)
	LEAQ(Mem{Base: lds, Index: lds, Scale: 2}, lds3)
	row := make([]VecVirtual, 4)
	for i := range row {
		row[i] = YMM()
	}
	lo, hi := [2]VecVirtual{YMM(), YMM()}, [2]VecVirtual{YMM(), YMM()}
	loop, done := "transpose4x8AVX_loop", "transpose4x8AVX_done"
	TESTQ(n, n)
	JZ(LabelRef(done))
	Label(loop)
	VMOVUPS(Mem{Base: src}, row[0])
	VMOVUPS(Mem{Base: src, Index: lds, Scale: 1}, row[1])
	VMOVUPS(Mem{Base: src, Index: lds, Scale: 2}, row[2])
	VMOVUPS(Mem{Base: src, Index: lds3, Scale: 1}, row[3])
	Comment("a0 b0 a1 b1, a2 b2 a3 b3, c0 d0 c1 d1, c2 d2 c3 d3 (and columns 4-7 in the upper lanes)")
	VUNPCKLPS(row[1], row[0], lo[0])
	VUNPCKHPS(row[1], row[0], hi[0])
	VUNPCKLPS(row[3], row[2], lo[1])
	VUNPCKHPS(row[3], row[2], hi[1])
	Comment("Column p of the four rows in lane p%4 of row[p%4], lower half for p < 4")
	VSHUFPS(U8(0x44), lo[1], lo[0], row[0])
	VSHUFPS(U8(0xee), lo[1], lo[0], row[1])
	VSHUFPS(U8(0x44), hi[1], hi[0], row[2])
	VSHUFPS(U8(0xee), hi[1], hi[0], row[3])
	LEAQ(Mem{Base: dst, Index: ld, Scale: 4}, dst4)
	at := func(base Register, i int) Mem {
		switch i {
		case 0:
			return Mem{Base: base}
		case 1, 2:
			return Mem{Base: base, Index: ld, Scale: uint8(i)}
		}
		return Mem{Base: base, Index: ld3, Scale: 1}
	}
	for i := range row {
		VMOVUPS(row[i].AsX(), at(dst, i))
	}
	for i := range row {
		VEXTRACTF128(U8(1), row[i], at(dst4, i))
	}
	ADDQ(U8(32), src)
	LEAQ(Mem{Base: dst4, Index: ld, Scale: 4}, dst)
	DECQ(n)
	JNZ(LabelRef(loop))
	Label(done)
	VZEROUPPER()
	RET()
}

// scatterRows emits the packing of B's slivers: one row of B, n slivers
// of nr floats (a multiple of 8) read in order from src, each written to
// dst, stride bytes after the one before:
//
//	for q < n, j < nr: dst[q*stride/4+j] = src[q*nr+j]
func scatterRows() {
	TEXT("scatterRowAVX", NOSPLIT, "func(dst *float32, stride int, src *float32, n, nr int)")
	dst := Load(Param("dst"), GP64())
	stride := Load(Param("stride"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	nr := Load(Param("nr"), GP64())
	SHLQ(U8(2), stride)
	v := YMM()
	sliver, chunk, done := "scatterRowAVX_sliver", "scatterRowAVX_chunk", "scatterRowAVX_done"
	TESTQ(n, n)
	JZ(LabelRef(done))
	Label(sliver)
	j := GP64()
	XORQ(j, j)
	Label(chunk)
	VMOVUPS(Mem{Base: src, Index: j, Scale: 4}, v)
	VMOVUPS(v, Mem{Base: dst, Index: j, Scale: 4})
	ADDQ(U8(8), j)
	CMPQ(j, nr)
	JL(LabelRef(chunk))
	LEAQ(Mem{Base: src, Index: nr, Scale: 4}, src)
	ADDQ(stride, dst)
	DECQ(n)
	JNZ(LabelRef(sliver))
	Label(done)
	VZEROUPPER()
	RET()
}
