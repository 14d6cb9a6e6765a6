package main

import (
	"math/bits"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// poolRegs are the registers of the 2×2 max-pool kernels: the index of
// each of the four cells of a window relative to the first, as vectors of
// int32 and as byte offsets, and step, s.lanes in each int32.
type poolRegs struct {
	idx, step, cv, rv, rcv Register
	cb, rb, rcb            GPVirtual
}

// poolSetup loads c, rowLen and p0 and builds poolRegs: idx holds p0 +
// 0..s.lanes-1, the indices of the window's first cell's first channels.
func (s simd) poolSetup() (r poolRegs) {
	c, rowLen, p0 := GP64(), GP64(), GP64()
	Load(Param("c"), c)
	Load(Param("rowLen"), rowLen)
	Load(Param("p0"), p0)
	r.cv, r.rv, r.rcv = s.broadcast(c), s.broadcast(rowLen), s.vec()
	VPADDD(r.cv, r.rv, r.rcv)
	r.cb, r.rb, r.rcb = GP64(), GP64(), GP64()
	MOVQ(c, r.cb)
	SHLQ(U8(2), r.cb)
	MOVQ(rowLen, r.rb)
	SHLQ(U8(2), r.rb)
	LEAQ(Mem{Base: r.rb, Index: c, Scale: 4}, r.rcb)
	l := GP64()
	MOVQ(U32(s.lanes), l)
	r.step = s.broadcast(l)
	Comment("idx = p0 + (0, 1, 2, ...)")
	r.idx = s.broadcast(p0)
	VPADDD(iotaData(), r.idx, r.idx)
	return r
}

var iotaSym *Mem

// iotaData returns the global holding the int32s 0..15.
func iotaData() Mem {
	if iotaSym == nil {
		m := GLOBL("poolIota", RODATA|NOPTR)
		for i := range 16 {
			DATA(4*i, U32(i))
		}
		iotaSym = &m
	}
	return *iotaSym
}

// poolRow emits name, a loop over one output row of a 2×2 pool with
// strides 2: ow cells of c channels (a multiple of s.lanes) a vector at a
// time. body emits one vector's step, with p the pointers named by ptrs at
// it (the last one into the two input rows, which skips each window's
// second cell) and r.idx the step's indices of the window's first cell.
func (s simd) poolRow(name, sig string, ptrs []string, body func(p []GPVirtual, r poolRegs)) {
	TEXT(name, NOSPLIT, sig)
	p := make([]GPVirtual, len(ptrs))
	for i, ptr := range ptrs {
		p[i] = GP64()
		Load(Param(ptr), p[i])
	}
	ow := Load(Param("ow"), GP64())
	r := s.poolSetup()
	chunks := Load(Param("c"), GP64())
	SHRQ(U8(bits.TrailingZeros(uint(s.lanes))), chunks)
	cell, chunk, done := name+"_cell", name+"_chunk", name+"_done"
	TESTQ(ow, ow)
	JZ(LabelRef(done))
	Label(cell)
	j := GP64()
	MOVQ(chunks, j)
	Label(chunk)
	body(p, r)
	for _, q := range p {
		ADDQ(U8(s.bytes()), q)
	}
	VPADDD(r.step, r.idx, r.idx)
	DECQ(j)
	JNZ(LabelRef(chunk))
	Comment("Skip the window's second cell.")
	ADDQ(r.cb, p[len(p)-1])
	VPADDD(r.cv, r.idx, r.idx)
	DECQ(ow)
	JNZ(LabelRef(cell))
	Label(done)
	VZEROUPPER()
	RET()
}

// maxPool2x2 emits one output row of a 2×2 max-pool with strides 2 over c
// channels (a multiple of s.lanes): x is the first of its two input rows,
// of rowLen floats, p0 the index of x[0] in the image.
//
//	for ox < ow, j < c:
//		p := p0 + 2*ox*c + j; cells p, p+c, p+rowLen, p+rowLen+c
//		y[ox*c+j] = the largest, the first in that order on ties
//		arg[ox*c+j] = its index
func (s simd) maxPool2x2() {
	s.poolRow("maxPool2x2"+s.name, "func(y *float32, arg *int32, x *float32, ow, c, rowLen, p0 int)",
		[]string{"y", "arg", "x"}, func(p []GPVirtual, r poolRegs) {
			y, arg, x := p[0], p[1], p[2]
			best, t, bi, ti := s.vec(), s.vec(), s.vec(), s.vec()
			VMOVUPS(Mem{Base: x}, best)
			VMOVUPS(r.idx, bi)
			for _, o := range r.others() {
				VMOVUPS(Mem{Base: x, Index: o.off, Scale: 1}, t)
				Comment("t > best (ordered: a NaN never wins)")
				k := s.compare(cmpGT, t, best)
				s.choose(k, t, best)
				VPADDD(o.add, r.idx, ti)
				s.choose(k, ti, bi)
			}
			VMOVUPS(best, Mem{Base: y})
			VMOVUPS(bi, Mem{Base: arg})
		})
}

// maxPool2x2Grad emits the gradient of one output row of maxPool2x2: it
// sets the two input rows of dx (from x, rowLen floats each) under the row.
//
//	for ox < ow, j < c, each cell q of the window: dx[q-p0] = dy[ox*c+j] if arg[ox*c+j] == q else 0
func (s simd) maxPool2x2Grad() {
	s.poolRow("maxPool2x2Grad"+s.name, "func(dx, dy *float32, arg *int32, ow, c, rowLen, p0 int)",
		[]string{"dy", "arg", "dx"}, func(p []GPVirtual, r poolRegs) {
			dy, arg, dx := p[0], p[1], p[2]
			g, av, t, ti := s.vec(), s.vec(), s.vec(), s.vec()
			VMOVUPS(Mem{Base: dy}, g)
			VMOVUPS(Mem{Base: arg}, av)
			s.keepEqual(r.idx, av, g, t)
			VMOVUPS(t, Mem{Base: dx})
			for _, o := range r.others() {
				VPADDD(o.add, r.idx, ti)
				s.keepEqual(ti, av, g, t)
				VMOVUPS(t, Mem{Base: dx, Index: o.off, Scale: 1})
			}
		})
}

// poolCell is a window's cell after the first: its offset in bytes and its
// index's distance from the first's.
type poolCell struct {
	off GPVirtual
	add Register
}

// others returns the window's second, third and fourth cells.
func (r poolRegs) others() []poolCell {
	return []poolCell{{r.cb, r.cv}, {r.rb, r.rv}, {r.rcb, r.rcv}}
}

// keepEqual sets d = v in the lanes where the int32s a and b are equal, 0
// in the others.
func (s simd) keepEqual(a, b, v, d Register) {
	if s.lanes == 16 {
		k := K()
		VPCMPEQD(a, b, k)
		VMOVUPS_Z(v, k, d)
		return
	}
	VPCMPEQD(a, b, d)
	VANDPS(v, d, d)
}

// maxPoolCell emits one output cell of a max pool over c channels, in
// chunks of s.lanes, from the n ≥ 1 cells of its window at the indices
// off[0], ..., off[n-1] of x:
//
//	for j < c, i < n: q := off[i]+j
//		if i == 0 || x[q] > y[j] (ordered: a NaN never wins) { y[j], arg[j] = x[q], q }
//
// In AVX-512 the last chunk is under the mask tail; in AVX2 c is a
// multiple of 8 (tail unread).
func (s simd) maxPoolCell() {
	name := "maxPoolCell" + s.name
	TEXT(name, NOSPLIT, "func(y *float32, arg *int32, x *float32, off *int32, n, chunks, tail int)")
	y := Load(Param("y"), GP64())
	arg := Load(Param("arg"), GP64())
	x := Load(Param("x"), GP64())
	off := Load(Param("off"), GP64())
	n := Load(Param("n"), GP64())
	chunks := Load(Param("chunks"), GP64())
	masked := s.lanes == 16
	var cm chunkMask
	if masked {
		cm = loadChunkMask()
	}
	iota := s.load(iotaData())
	j, i, q := GP64(), GP64(), GP64()
	XORQ(j, j)
	best, t, bi := s.vec(), s.vec(), s.vec()
	// load reads the chunk of x at q (the lanes of k alone in AVX-512).
	load := func(d Register) {
		at := Mem{Base: x, Index: q, Scale: 4}
		if masked {
			VMOVUPS_Z(at, cm.k, d)
		} else {
			VMOVUPS(at, d)
		}
	}
	// indices returns q + (0, 1, 2, ...).
	indices := func() Register {
		v := s.broadcast(q)
		VPADDD(iota, v, v)
		return v
	}
	chunk, cell, stored := name+"_chunk", name+"_cell", name+"_stored"
	Label(chunk)
	if masked {
		cm.set(name, chunks)
	}
	Comment("The window's first cell.")
	MOVLQSX(Mem{Base: off}, q)
	ADDQ(j, q)
	load(best)
	VMOVUPS(indices(), bi)
	MOVQ(U64(1), i)
	CMPQ(i, n)
	JGE(LabelRef(stored))
	Label(cell)
	MOVLQSX(Mem{Base: off, Index: i, Scale: 4}, q)
	ADDQ(j, q)
	load(t)
	Comment("t > best (ordered: a NaN never wins), in the chunk's lanes")
	var m Register
	if masked {
		m = K()
		VCMPPS(U8(cmpGT), best, t, cm.k, m)
	} else {
		m = s.compare(cmpGT, t, best)
	}
	s.choose(m, t, best)
	s.choose(m, indices(), bi)
	INCQ(i)
	CMPQ(i, n)
	JL(LabelRef(cell))
	Label(stored)
	if masked {
		VMOVUPS(best, cm.k, Mem{Base: y, Index: j, Scale: 4})
		VMOVDQU32(bi, cm.k, Mem{Base: arg, Index: j, Scale: 4})
	} else {
		VMOVUPS(best, Mem{Base: y, Index: j, Scale: 4})
		VMOVUPS(bi, Mem{Base: arg, Index: j, Scale: 4})
	}
	ADDQ(U8(s.lanes), j)
	DECQ(chunks)
	JNZ(LabelRef(chunk))
	VZEROUPPER()
	RET()
}
