package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// depthwise emits the depthwise convolution of cells output cells whose
// windows lie inside the image, for nv vectors of 16 channels:
//
//	for n < cells, j < 16·nv:
//		acc := b[j]
//		for ky < kh, kx < kw: acc += x[n*sx + ky*ld + kx*tx + j] · w[ky*ldw + kx*c + j]
//		y[n*c+j] = acc
//
// Strides c, sx, tx, ld and ldw count floats (tx, the step between a
// window's taps along a row, is c, or d·c for taps d apart); b is the bias. The nv sums of a
// cell are kept in registers over its kh·kw taps. A window cut by the
// image's edges reads the part of the kernel inside: w starts at its first
// tap and ldw is the kernel's row, longer than kw·c.
//
// With masked, for the last channels (fewer than 16·nv): a last parameter
// mask says which lanes of the vectors count (bit j for channel j; nv 1),
// the others neither read nor written.
func depthwise(name string, nv int, masked bool) {
	signature := "func(y, b, x, w *float32, cells, c, sx, tx, kh, kw, ld, ldw int)"
	if masked {
		signature = "func(y, b, x, w *float32, cells, c, sx, tx, kh, kw, ld, ldw, mask int)"
	}
	TEXT(name, NOSPLIT, signature)
	y := Load(Param("y"), GP64())
	b := Load(Param("b"), GP64())
	x := Load(Param("x"), GP64())
	w := Load(Param("w"), GP64())
	cells := Load(Param("cells"), GP64())
	c, sx, tx, ld := windowSteps()
	lw := kernelStep(c)
	acc, t := vectors(nv), vectors(nv)
	ln := newLanes(masked)
	xr, wp, ry, rx := GP64(), GP64(), GP64(), GP64()
	cell, row, tap, done := name+"_cell", name+"_row", name+"_tap", name+"_done"
	if !masked {
		depthwiseQuads(name, nv, y, b, x, w, cells, c, sx, tx, ld, lw, xr, wp, ry, rx)
	}
	TESTQ(cells, cells)
	JZ(LabelRef(done))
	Label(cell)
	for v := range nv {
		ln.load(Mem{Base: b, Disp: 64 * v}, acc[v])
	}
	MOVQ(x, xr)
	MOVQ(w, wp)
	Load(Param("kh"), ry)
	Label(row)
	Load(Param("kw"), rx)
	Label(tap)
	for v := range nv {
		ln.fma(Mem{Base: xr, Disp: 64 * v}, Mem{Base: wp, Disp: 64 * v}, t[v], acc[v])
	}
	ADDQ(tx, xr)
	ADDQ(c, wp)
	DECQ(rx)
	JNZ(LabelRef(tap))
	ADDQ(ld, xr)
	ADDQ(lw, wp)
	DECQ(ry)
	JNZ(LabelRef(row))
	for v := range nv {
		ln.store(acc[v], Mem{Base: y, Disp: 64 * v})
	}
	ADDQ(c, y)
	ADDQ(sx, x)
	DECQ(cells)
	JNZ(LabelRef(cell))
	Label(done)
	VZEROUPPER()
	RET()
}

// depthwiseQuads emits the loop of depthwise over four cells at a time,
// while there are four: each tap's kernel vectors loaded once for the four
// windows (one load per multiply-add instead of two), each cell's sums in
// the same order as one at a time. It leaves cells, x and y at the cells
// left.
func depthwiseQuads(name string, nv int, y, b, x, w, cells, c, sx, tx, ld, lw, xr, wp, ry, rx Register) {
	acc := make([][]VecVirtual, 4)
	for m := range acc {
		acc[m] = vectors(nv)
	}
	wv := vectors(nv)
	sx3 := GP64()
	LEAQ(Mem{Base: sx, Index: sx, Scale: 2}, sx3)
	at := func(base, step, step3 Register, m, v int) Mem {
		switch m {
		case 0:
			return Mem{Base: base, Disp: 64 * v}
		case 1:
			return Mem{Base: base, Index: step, Scale: 1, Disp: 64 * v}
		case 2:
			return Mem{Base: base, Index: step, Scale: 2, Disp: 64 * v}
		default:
			return Mem{Base: base, Index: step3, Scale: 1, Disp: 64 * v}
		}
	}
	quad, row, tap, left := name+"_quad", name+"_qrow", name+"_qtap", name+"_left"
	Label(quad)
	CMPQ(cells, U8(4))
	JL(LabelRef(left))
	for m := range acc {
		for v := range nv {
			VMOVUPS(Mem{Base: b, Disp: 64 * v}, acc[m][v])
		}
	}
	MOVQ(x, xr)
	MOVQ(w, wp)
	Load(Param("kh"), ry)
	Label(row)
	Load(Param("kw"), rx)
	Label(tap)
	for v := range nv {
		VMOVUPS(Mem{Base: wp, Disp: 64 * v}, wv[v])
	}
	for m := range acc {
		for v := range nv {
			VFMADD231PS(at(xr, sx, sx3, m, v), wv[v], acc[m][v])
		}
	}
	ADDQ(tx, xr)
	ADDQ(c, wp)
	DECQ(rx)
	JNZ(LabelRef(tap))
	ADDQ(ld, xr)
	ADDQ(lw, wp)
	DECQ(ry)
	JNZ(LabelRef(row))
	Comment("rx: 3·c, for the fourth cell's output.")
	LEAQ(Mem{Base: c, Index: c, Scale: 2}, rx)
	for m := range acc {
		for v := range nv {
			VMOVUPS(acc[m][v], at(y, c, rx, m, v))
		}
	}
	LEAQ(Mem{Base: y, Index: c, Scale: 4}, y)
	LEAQ(Mem{Base: x, Index: sx, Scale: 4}, x)
	SUBQ(U8(4), cells)
	JMP(LabelRef(quad))
	Label(left)
}

// windowSteps loads the strides c, sx, tx and ld (in floats) of a
// depthwise kernel's parameters as bytes, ld as the step from the end of a
// window row (kw taps tx apart) to the next row's start.
func windowSteps() (c, sx, tx, ld Register) {
	c = Load(Param("c"), GP64())
	sx = Load(Param("sx"), GP64())
	tx = Load(Param("tx"), GP64())
	ld = Load(Param("ld"), GP64())
	Comment("Strides in bytes; ld becomes the step from the end of a window row to the next row's start.")
	SHLQ(U8(2), c)
	SHLQ(U8(2), sx)
	SHLQ(U8(2), tx)
	SHLQ(U8(2), ld)
	kwb := GP64()
	Load(Param("kw"), kwb)
	IMULQ(tx, kwb)
	SUBQ(kwb, ld)
	return c, sx, tx, ld
}

// kernelStep loads ldw and returns the step from the end of a kernel row's
// kw taps of c bytes to the next row's, in bytes.
func kernelStep(c Register) Register {
	Comment("lw: the step from the end of a kernel row's taps to the next row's, in bytes.")
	lw := Load(Param("ldw"), GP64())
	SHLQ(U8(2), lw)
	kwc := GP64()
	Load(Param("kw"), kwc)
	IMULQ(c, kwc)
	SUBQ(kwc, lw)
	return lw
}

// lanes loads, multiplies and stores the vectors of a depthwise kernel:
// all 16 lanes, or (masked) those of the mask parameter, the others
// neither read nor written.
type lanes struct {
	k Register   // the mask, or nil
	u VecVirtual // a spare vector for a masked operand
}

// newLanes loads the mask parameter into a mask register when masked.
func newLanes(masked bool) *lanes {
	if !masked {
		return &lanes{}
	}
	l := &lanes{k: K(), u: ZMM()}
	m := GP64()
	Load(Param("mask"), m)
	KMOVW(m.As32(), l.k)
	return l
}

func (l *lanes) load(m Mem, dst VecVirtual) {
	if l.k == nil {
		VMOVUPS(m, dst)
		return
	}
	VMOVUPS_Z(m, l.k, dst)
}

func (l *lanes) store(src VecVirtual, m Mem) {
	if l.k == nil {
		VMOVUPS(src, m)
		return
	}
	VMOVUPS(src, l.k, m)
}

// fma adds a·b to acc, a and b in memory, t a free vector.
func (l *lanes) fma(a, b Mem, t, acc VecVirtual) {
	l.load(a, t)
	if l.k == nil {
		VFMADD231PS(b, t, acc)
		return
	}
	l.load(b, l.u)
	VFMADD231PS(l.u, t, acc)
}

// vectors allocates n vector registers.
func vectors(n int) []VecVirtual {
	v := make([]VecVirtual, n)
	for i := range v {
		v[i] = ZMM()
	}
	return v
}

func depthwiseKernels() {
	for nv := 1; nv <= 4; nv++ {
		depthwise(fmt.Sprintf("depthwise%dAVX512", nv), nv, false)
	}
	depthwise("depthwiseTailAVX512", 1, true)
	for nv := 1; nv <= 4; nv++ {
		depthwiseFilter(fmt.Sprintf("depthwiseFilter%dAVX512", nv), nv, false)
	}
	depthwiseFilter("depthwiseFilterTailAVX512", 1, true)
}

// depthwiseFilter emits the kernel gradient of a depthwise convolution over
// cells output cells whose windows lie inside the image, for nv vectors of
// 16 channels:
//
//	for ky < kh, kx < kw, j < 16·nv:
//		dw[ky*ldw + kx*c + j] += Σ_{n < cells} x[n*sx + ky*ld + kx*tx + j] · dz[n*c + j]
//
// Strides c, sx, tx, ld and ldw count floats, as for depthwise; each weight's sum is kept in a
// register over the cells, which it takes in order. Windows cut by the
// image's edges add to the part of a larger kernel inside: dw starts at
// its first tap and ldw is that kernel's row. With masked, as for
// depthwise: the lanes of a last parameter mask alone (nv 1).
func depthwiseFilter(name string, nv int, masked bool) {
	signature := "func(dw, x, dz *float32, cells, c, sx, tx, kh, kw, ld, ldw int)"
	if masked {
		signature = "func(dw, x, dz *float32, cells, c, sx, tx, kh, kw, ld, ldw, mask int)"
	}
	TEXT(name, NOSPLIT, signature)
	dw := Load(Param("dw"), GP64())
	x := Load(Param("x"), GP64())
	dz := Load(Param("dz"), GP64())
	c, sx, tx, ld := windowSteps()
	lw := kernelStep(c)
	acc, t := vectors(nv), vectors(nv)
	ln := newLanes(masked)
	xt, xp, dp, n, ry, rx := GP64(), GP64(), GP64(), GP64(), GP64(), GP64()
	row, tap, cell, next, done := name+"_row", name+"_tap", name+"_cell", name+"_next", name+"_done"
	MOVQ(x, xt)
	Load(Param("kh"), ry)
	Label(row)
	Load(Param("kw"), rx)
	Label(tap)
	for v := range nv {
		ln.load(Mem{Base: dw, Disp: 64 * v}, acc[v])
	}
	MOVQ(xt, xp)
	MOVQ(dz, dp)
	Load(Param("cells"), n)
	TESTQ(n, n)
	JZ(LabelRef(next))
	Label(cell)
	for v := range nv {
		ln.fma(Mem{Base: xp, Disp: 64 * v}, Mem{Base: dp, Disp: 64 * v}, t[v], acc[v])
	}
	ADDQ(sx, xp)
	ADDQ(c, dp)
	DECQ(n)
	JNZ(LabelRef(cell))
	Label(next)
	for v := range nv {
		ln.store(acc[v], Mem{Base: dw, Disp: 64 * v})
	}
	ADDQ(c, dw)
	ADDQ(tx, xt)
	DECQ(rx)
	JNZ(LabelRef(tap))
	ADDQ(ld, xt)
	ADDQ(lw, dw)
	DECQ(ry)
	JNZ(LabelRef(row))
	Label(done)
	VZEROUPPER()
	RET()
}
