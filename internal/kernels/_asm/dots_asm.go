package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// dots emits dotsAVX512, the dot products of a vector a with n rows of B
// (stride ldb floats), over chunks vectors of 16 and the lanes of mask
// after them:
//
//	for j < n: c[j] = Σ_p a[p] * b[j*ldb+p]
//
// Each row's sum takes the chunks in two interleaved chains, even and odd,
// then the masked lanes into the odd chain, adds the chains and its 16
// lanes by halves: an order fixed by the number of values alone. Rows go
// four at a time, then one at a time.
func dots() {
	name := "dotsAVX512"
	TEXT(name, NOSPLIT, "func(c, a, b *float32, n, chunks, ldb, mask int)")
	c := Load(Param("c"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	n := Load(Param("n"), GP64())
	chunks := Load(Param("chunks"), GP64())
	ldb := Load(Param("ldb"), GP64())
	mask := K()
	m := GP64()
	Load(Param("mask"), m)
	KMOVW(m.As32(), mask)
	SHLQ(U8(2), ldb)
	for _, rows := range []int{4, 1} {
		dotRows(name, rows, c, a, b, n, chunks, ldb, mask)
	}
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// dotRows emits the loop of dotsAVX512 over groups of rows rows, which
// leaves fewer than rows rows to the next loop.
func dotRows(name string, rows int, c, a, b, n, chunks, ldb Register, mask Op) {
	loop := fmt.Sprintf("%s_rows%d", name, rows)
	end := loop + "_end"
	Label(loop)
	CMPQ(n, U32(rows))
	JL(LabelRef(end))
	row := make([]Register, rows) // the rows' addresses
	row[0] = b
	for r := 1; r < rows; r++ {
		row[r] = GP64()
		MOVQ(row[r-1], row[r])
		ADDQ(ldb, row[r])
	}
	even, odd := make([]VecVirtual, rows), make([]VecVirtual, rows)
	for r := range rows {
		even[r], odd[r] = ZMM(), ZMM()
		VXORPS(even[r], even[r], even[r])
		VXORPS(odd[r], odd[r], odd[r])
	}
	off, left := GP64(), GP64()
	XORQ(off, off)
	MOVQ(chunks, left)
	at := func(base Register, disp int) Mem { return Mem{Base: base, Index: off, Scale: 1, Disp: disp} }
	x0, x1, t := ZMM(), ZMM(), ZMM()

	Comment("Two chunks a step, one to each chain.")
	pairs, single := loop+"_pairs", loop+"_single"
	Label(pairs)
	CMPQ(left, U8(2))
	JL(LabelRef(single))
	VMOVUPS(at(a, 0), x0)
	VMOVUPS(at(a, 64), x1)
	for r := range rows {
		VFMADD231PS(at(row[r], 0), x0, even[r])
		VFMADD231PS(at(row[r], 64), x1, odd[r])
	}
	ADDQ(U8(128), off)
	SUBQ(U8(2), left)
	JMP(LabelRef(pairs))

	Label(single)
	tail := loop + "_tail"
	TESTQ(left, left)
	JZ(LabelRef(tail))
	VMOVUPS(at(a, 0), x0)
	for r := range rows {
		VFMADD231PS(at(row[r], 0), x0, even[r])
	}
	ADDQ(U8(64), off)

	Comment("The masked lanes, read as zeros elsewhere: B may end there.")
	Label(tail)
	VMOVUPS_Z(at(a, 0), mask, x0)
	for r := range rows {
		VMOVUPS_Z(at(row[r], 0), mask, t)
		VFMADD231PS(t, x0, odd[r])
	}

	for r := range rows {
		VADDPS(odd[r], even[r], even[r])
		sum16(even[r], Mem{Base: c, Disp: 4 * r})
	}
	ADDQ(ldb, row[rows-1]) // the next group's first row
	if rows > 1 {
		MOVQ(row[rows-1], b)
	}
	ADDQ(U8(4*rows), c)
	SUBQ(U8(rows), n)
	JMP(LabelRef(loop))
	Label(end)
}

// sum16 stores the sum of v's 16 lanes at dst, adding halves: lanes 0-7
// to 8-15, then 0-3 to 4-7, 0-1 to 2-3, 0 to 1.
func sum16(v VecVirtual, dst Mem) {
	y, x, h := YMM(), XMM(), XMM()
	VEXTRACTF64X4(U8(1), v, y)
	VADDPS(v.AsY(), y, y)
	VEXTRACTF128(U8(1), y, x)
	VADDPS(y.AsX(), x, x)
	VMOVHLPS(x, x, h)
	VADDPS(h, x, x)
	VMOVSHDUP(x, h)
	VADDSS(h, x, x)
	VMOVSS(x, dst)
}
