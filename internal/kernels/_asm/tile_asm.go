package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

const tileSignature = "func(nseg, seg int, a *float32, rsA, csA, segA int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags, count, nextA, nextC int)"

// tile emits an mr×(vecs·lanes) convolution micro-kernel: a GEMM tile whose
// reduction runs over nseg segments of seg steps, A jumping by segA between
// segments, so that it reads the windows of a convolution straight from
// the image (rows of A overlap, the kernel rows of a window are segments);
// count (at least 1) such tiles, A and C moving on by nextA and nextC
// values from one to the next (a row of tiles in one call):
//
//	for k < count, i < mr, j < nr:
//		a, c := a[k*nextA:], c[k*nextC:]
//		s := 0
//		for q < nseg, p < seg: s += a[q*segA+i*rsA+p*csA] * b[(q*seg+p)*ldb+j]
//		if flags&1 != 0 { s += c[i*ldc+j] }
//		if bias != nil { s += bias[j] }
//		if flags&2 != 0 { s = max(s, 0) }
//		c[i*ldc+j] = s
//
// The loop over the tiles keeps its state (count, a, c) in the arguments'
// slots: every register is the tile's.
//
// With bf16 (AVX512-BF16, lanes 16), a and b hold pairs of bfloat16 where
// the float32 tile holds values, and each step multiplies and adds a pair:
//
//	for q < nseg, p < seg: s += hi(a[...])*hi(b[...]) + lo(a[...])*lo(b[...])
//
// (see gemmBF16Kernel12x32); its vector registers are physical, as dpbf16
// needs them, the accumulators from Z0 on.
func tile(name string, mr, vecs, lanes int, newVec func() VecVirtual, bf16 bool) {
	TEXT(name, NOSPLIT, tileSignature)
	Label(name + "_tile")
	nseg := Load(Param("nseg"), GP64())
	seg := Load(Param("seg"), GP64())
	a := Load(Param("a"), GP64())
	rs := Load(Param("rsA"), GP64())
	cs := Load(Param("csA"), GP64())
	jump := Load(Param("segA"), GP64())
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	Comment("Strides in bytes; jump takes A from the end of a segment to the start of the next.")
	SHLQ(U8(2), rs)
	SHLQ(U8(2), cs)
	SHLQ(U8(2), jump)
	SHLQ(U8(2), ldb)
	cnt := GP64()
	MOVQ(seg, cnt)
	IMULQ(cs, cnt)
	SUBQ(cnt, jump)

	Comment("Row bases: row i of A is at base[i/4] + (i%4)*rs.")
	base, rowAddr := rowBases(a, rs, GP64(), mr)

	vec := func() Register { return newVec() }
	if bf16 {
		next := 0
		vec = func() Register {
			next++
			return zmm(next - 1)
		}
	}
	Comment("Zero the accumulators.")
	acc := make([][]Register, mr)
	for i := range acc {
		acc[i] = make([]Register, vecs)
		for v := range acc[i] {
			acc[i][v] = vec()
			VXORPS(acc[i][v], acc[i][v], acc[i][v])
		}
	}
	bv := make([]Register, vecs)
	for v := range bv {
		bv[v] = vec()
	}
	// The broadcast values of A: one register, or with bf16 those left,
	// in turn.
	ts := []Register{vec()}
	for bf16 && len(ts) < 4 && mr*vecs+vecs+len(ts) < 32 {
		ts = append(ts, vec())
	}
	t := ts[0]

	outer, inner, done := name+"_segment", name+"_step", name+"_done"
	TESTQ(nseg, nseg)
	JZ(LabelRef(done))
	TESTQ(seg, seg)
	JZ(LabelRef(done))
	Label(outer)
	MOVQ(seg, cnt)
	Label(inner)
	Comment("One rank-1 update: acc[i][:] += a[i] * b[:].")
	for v := range bv {
		VMOVUPS(Mem{Base: b, Disp: 4 * lanes * v}, bv[v])
	}
	for i := 0; i < mr; i++ {
		if bf16 {
			t := ts[i%len(ts)]
			VPBROADCASTD(rowAddr(i), t)
			for v := range bv {
				dpbf16(acc[i][v].(VecPhysical), t.(VecPhysical), bv[v].(VecPhysical))
			}
			continue
		}
		VBROADCASTSS(rowAddr(i), t)
		for v := range bv {
			VFMADD231PS(bv[v], t, acc[i][v])
		}
	}
	ADDQ(ldb, b)
	for _, r := range base {
		ADDQ(cs, r)
	}
	DECQ(cnt)
	JNZ(LabelRef(inner))
	for _, r := range base {
		ADDQ(jump, r)
	}
	DECQ(nseg)
	JNZ(LabelRef(outer))
	Label(done)

	tileEpilogue(name, acc, bv, t, lanes == 16)
	Comment("The next tile, if any: A and C move on by nextA and nextC values.")
	for _, m := range [][2]string{{"a", "nextA"}, {"c", "nextC"}} {
		next := Load(Param(m[1]), GP64())
		SHLQ(U8(2), next)
		ADDQ(next, slot(m[0]))
	}
	DECQ(slot("count"))
	JNZ(LabelRef(name + "_tile"))
	VZEROUPPER()
	RET()
}

// slot returns the stack slot of the argument name.
func slot(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// tileEpilogue writes the tile: adds C when flags bit 0 is set, then the
// bias when it is not nil, takes max(s, 0) when flags bit 1 is set, and
// stores. bv and t are free vector registers. With masked (AVX-512), the
// bits 32 to 63 of flags, when not all zero, say which columns of C are
// read and written (bit j, column j): the others are left alone. Whole
// tiles keep their plain loads and stores.
func tileEpilogue(name string, acc [][]Register, bv []Register, t Register, masked bool) {
	vecs := len(acc[0])
	lanes := int(bv[0].Size()) / 4
	Comment("Write C: acc (+ C) (+ bias), then max(., 0) if asked.")
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	flags := Load(Param("flags"), GP64())
	if !masked {
		tileWrite(name, acc, bv, t, c, ldc, flags, nil)
		return
	}
	Comment("The columns' masks, one per vector, when flags has them.")
	cols := GP64()
	MOVQ(flags, cols)
	SHRQ(U8(32), cols)
	whole, done := name+"_whole", name+"_written"
	JZ(LabelRef(whole))
	var ks []Register
	for range vecs {
		k := K()
		KMOVW(cols.As32(), k)
		SHRQ(U8(lanes), cols)
		ks = append(ks, k)
	}
	tileWrite(name+"_masked", acc, bv, t, c, ldc, flags, ks)
	JMP(LabelRef(done))
	Label(whole)
	tileWrite(name, acc, bv, t, c, ldc, flags, nil)
	Label(done)
}

// tileWrite is tileEpilogue's writing of C (at c, rows ldc bytes apart),
// under the masks ks (one per vector) unless nil.
func tileWrite(name string, acc [][]Register, bv []Register, t Register, c, ldc, flags Register, ks []Register) {
	mr, vecs := len(acc), len(acc[0])
	lanes := int(bv[0].Size()) / 4
	row := GP64()
	noAcc, biasDone, noReLU := name+"_noacc", name+"_bias", name+"_norelu"
	TESTQ(U32(1), flags)
	JZ(LabelRef(noAcc))
	MOVQ(c, row)
	for i := 0; i < mr; i++ {
		for v := 0; v < vecs; v++ {
			if ks != nil {
				VMOVUPS_Z(Mem{Base: row, Disp: 4 * lanes * v}, ks[v], bv[v])
				VADDPS(bv[v], acc[i][v], acc[i][v])
			} else {
				VADDPS(Mem{Base: row, Disp: 4 * lanes * v}, acc[i][v], acc[i][v])
			}
		}
		if i+1 < mr {
			ADDQ(ldc, row)
		}
	}
	Label(noAcc)

	bias := Load(Param("bias"), GP64())
	TESTQ(bias, bias)
	JZ(LabelRef(biasDone))
	for v := 0; v < vecs; v++ {
		VMOVUPS(Mem{Base: bias, Disp: 4 * lanes * v}, bv[v])
	}
	for i := 0; i < mr; i++ {
		for v := 0; v < vecs; v++ {
			VADDPS(bv[v], acc[i][v], acc[i][v])
		}
	}
	Label(biasDone)

	TESTQ(U32(2), flags)
	JZ(LabelRef(noReLU))
	Comment("max(0, s) as the second operand: a NaN in s is kept.")
	VXORPS(t, t, t)
	for i := 0; i < mr; i++ {
		for v := 0; v < vecs; v++ {
			VMAXPS(acc[i][v], t, acc[i][v])
		}
	}
	Label(noReLU)

	for i := 0; i < mr; i++ {
		for v := 0; v < vecs; v++ {
			if ks != nil {
				VMOVUPS(acc[i][v], ks[v], Mem{Base: c, Disp: 4 * lanes * v})
			} else {
				VMOVUPS(acc[i][v], Mem{Base: c, Disp: 4 * lanes * v})
			}
		}
		if i+1 < mr {
			ADDQ(ldc, c)
		}
	}
}
