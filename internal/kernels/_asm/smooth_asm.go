package main

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The loops of smooth.go: each operation of its Go functions in the same
// order, so that both give the same bits. Their constants, beyond the
// exponential's (kept in registers), are read from a table of 16 copies
// of each.

// smoothValues are the table's constants, as float32 values or (bits)
// masks.
var smoothValues = []uint32{
	0x7fffffff, 0x80000000, 0x807fffff, 0x3f000000, 126,
	f32(0), f32(0.5), f32(-0.5), f32(2), f32(4), f32(20), f32(0.625), f32(math.Sqrt2 / 2),
	f32(0.70710678118654752), f32(0.39894228040143268),
	// erfc
	f32(0.17087277), f32(-0.82215223), f32(1.48851587), f32(-1.13520398), f32(0.27886807),
	f32(-0.18628806), f32(0.09678418), f32(0.37409196), f32(1.00002368), f32(-1.26551223),
	// tanh
	f32(-5.70498872745e-3), f32(2.06390887954e-2), f32(-5.37397155531e-2), f32(1.33314422036e-1), f32(-3.33332819422e-1),
	// log
	f32(7.0376836292e-2), f32(-1.1514610310e-1), f32(1.1676998740e-1), f32(-1.2420140846e-1), f32(1.4249322787e-1),
	f32(-1.6668057665e-1), f32(2.0000714765e-1), f32(-2.4999993993e-1), f32(3.3333331174e-1),
}

var smoothTable *Mem

// kc returns the table's 16 copies of the constant whose bits are b.
func kc(b uint32) Mem {
	if smoothTable == nil {
		m := GLOBL("smoothConsts", RODATA|NOPTR)
		for i, v := range smoothValues {
			for j := range 16 {
				DATA(64*i+4*j, U32(v))
			}
		}
		smoothTable = &m
	}
	for i, v := range smoothValues {
		if v == b {
			return smoothTable.Offset(64 * i)
		}
	}
	panic(fmt.Sprintf("smooth_asm: no constant %v (%#x)", math.Float32frombits(b), b))
}

// kf is kc of a float32 value.
func kf(v float64) Mem { return kc(f32(v)) }

// expParts emits smooth.go's exp32 of x, in [-87, 87]: e = e^x, q = e^r - 1
// and k.
func (c sigmoidConsts) expParts(x Register) (e, q, k Register) {
	e, q, k = ZMM(), ZMM(), ZMM()
	r, z, sc := ZMM(), ZMM(), ZMM()
	VMULPS(c.log2e, x, k)
	VRNDSCALEPS(U8(0), k, k) // to the nearest integer, ties to even
	VMULPS(c.c1, k, r)
	VSUBPS(r, x, r)
	VMULPS(c.c2, k, z)
	VSUBPS(z, r, r)
	VMULPS(r, r, z)
	VMOVAPS(c.p[0], q)
	for _, p := range c.p[1:] {
		VMULPS(r, q, q)
		VADDPS(p, q, q)
	}
	VMULPS(z, q, q)
	VADDPS(r, q, q)
	VADDPS(c.one, q, e)
	VCVTPS2DQ(k, sc)
	VPADDD(c.bias, sc, sc)
	VPSLLD(U8(23), sc, sc)
	VMULPS(sc, e, e)
	return e, q, k
}

// expClamped emits e^x with x clamped to [-87, 87] (NaN kept).
func (c sigmoidConsts) expClamped(x Register) Register {
	t := ZMM()
	VMAXPS(x, c.lo, t)
	VMINPS(t, c.hi, t)
	e, _, _ := c.expParts(t)
	return e
}

// abs emits |x|.
func abs(x Register) Register {
	a := ZMM()
	VPANDD(kc(0x7fffffff), x, a)
	return a
}

// poly emits Horner's p = ((c0·t + c1)·t + …) + cn.
func poly(t Register, cs ...float64) Register {
	p := ZMM()
	VMOVUPS(kf(cs[0]), p)
	for _, v := range cs[1:] {
		VMULPS(t, p, p)
		VADDPS(kf(v), p, p)
	}
	return p
}

// mapLoop emits a loop over n values (a multiple of 16) of z, with dy for
// a derivative (grad): out = f(x, at) stored to y (or dz), at addressing the
// row of dy. params are further float32 parameters, loaded into vectors
// for f.
func mapLoop(name string, grad bool, params []string, f func(c sigmoidConsts, x Register, dy Mem, ps []Register) Register) {
	sig := "func(y, z *float32, n int"
	if grad {
		sig = "func(y, dy, z *float32, n int"
	}
	for _, p := range params {
		sig += ", " + p + " float32"
	}
	TEXT(name, NOSPLIT, sig+")")
	y := Load(Param("y"), GP64())
	var dy Register
	if grad {
		dy = Load(Param("dy"), GP64())
	}
	z := Load(Param("z"), GP64())
	n := Load(Param("n"), GP64())
	var ps []Register
	for _, p := range params {
		v := ZMM()
		VBROADCASTSS(Load(Param(p), XMM()), v)
		ps = append(ps, v)
	}
	c := loadSigmoidConsts()
	x := ZMM()
	loop, done := name+"_loop", name+"_done"
	Label(loop)
	TESTQ(n, n)
	JZ(LabelRef(done))
	VMOVUPS(Mem{Base: z}, x)
	var at Mem
	if grad {
		at = Mem{Base: dy}
	}
	VMOVUPS(f(c, x, at, ps), Mem{Base: y})
	ADDQ(U32(64), y)
	if grad {
		ADDQ(U32(64), dy)
	}
	ADDQ(U32(64), z)
	SUBQ(U32(16), n)
	JMP(LabelRef(loop))
	Label(done)
	VZEROUPPER()
	RET()
}

// The comparison predicates of VCMPPS.
const (
	cmpEQ  = 0x00 // ordered
	cmpLT  = 0x11 // ordered
	cmpNEQ = 0x04 // unordered: NaN is not equal
	cmpGE  = 0x1d // ordered
	cmpGT  = 0x1e // ordered
)

// compare emits the mask of a op b (Go's operand order reversed: VCMPPS
// imm, b, a, k sets k = a op b).
func compare(op uint8, a Register, b Op) Register {
	k := K()
	VCMPPS(U8(op), b, a, k)
	return k
}

// normalCDF emits smooth.go's normalCDF32 of x.
func (c sigmoidConsts) normalCDF(x Register) Register {
	u, t, uu, h, om := ZMM(), ZMM(), ZMM(), ZMM(), ZMM()
	VMULPS(kf(0.70710678118654752), abs(x), u)
	VMULPS(kf(0.5), u, t)
	VADDPS(c.one, t, t)
	VDIVPS(t, c.one, t) // 1 / t
	p := poly(t, 0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223)
	VMULPS(u, u, uu)
	VSUBPS(uu, p, p) // p - u·u
	e := c.expClamped(p)
	VMULPS(e, t, h)
	VMULPS(kf(0.5), h, h)
	VSUBPS(h, c.one, om) // 1 - h
	VMOVAPS(om, compare(cmpGE, x, kf(0)), h)
	return h
}

func smooths() {
	mapLoop("geluAVX512", false, nil, func(c sigmoidConsts, x Register, _ Mem, _ []Register) Register {
		y := c.normalCDF(x)
		VMULPS(y, x, y)
		return y
	})
	mapLoop("geluGradAVX512", true, nil, func(c sigmoidConsts, x Register, dy Mem, _ []Register) Register {
		w := ZMM()
		VMULPS(x, x, w)
		VMULPS(kf(-0.5), w, w)
		phi := c.expClamped(w)
		VMULPS(kf(0.39894228040143268), phi, phi)
		VMULPS(phi, x, phi) // v·φ
		s := c.normalCDF(x)
		VADDPS(phi, s, s)
		VMULPS(dy, s, s)
		return s
	})
	mish := func(c sigmoidConsts, x Register) (g, e, q Register) {
		w, n := ZMM(), ZMM()
		g, q = ZMM(), ZMM()
		VMOVUPS(kf(20), w)
		VMINPS(x, w, w) // NaN kept
		e = c.expClamped(w)
		VADDPS(kf(2), e, n)
		VMULPS(n, e, n)
		VADDPS(kf(2), n, q)
		VDIVPS(q, n, g)
		return g, e, q
	}
	mapLoop("mishAVX512", false, nil, func(c sigmoidConsts, x Register, _ Mem, _ []Register) Register {
		g, _, _ := mish(c, x)
		VMULPS(g, x, g)
		return g
	})
	mapLoop("mishGradAVX512", true, nil, func(c sigmoidConsts, x Register, dy Mem, _ []Register) Register {
		g, e, q := mish(c, x)
		a, b := ZMM(), ZMM()
		VMULPS(kf(4), e, a)
		VADDPS(c.one, e, b)
		VMULPS(b, a, a)
		VMULPS(q, q, b)
		VDIVPS(b, a, a) // 4e(e+1) / q²
		VMULPS(a, x, a)
		VADDPS(a, g, a)
		VMULPS(dy, a, a)
		return a
	})
	mapLoop("tanhAVX512", false, nil, func(c sigmoidConsts, x Register, _ Mem, _ []Register) Register {
		a := abs(x)
		s, r, sg := ZMM(), ZMM(), ZMM()
		VADDPS(a, a, s)
		e := c.expClamped(s)
		VADDPS(c.one, e, e)
		VMOVUPS(kf(2), r)
		VDIVPS(e, r, r)    // 2 / (s + 1)
		VSUBPS(r, c.one, r) // 1 - that
		VPANDD(kc(0x80000000), x, sg)
		VPORD(sg, r, r)
		// Below 0.625: x + (P(x²)·x²)·x.
		VMULPS(x, x, s)
		p := poly(s, -5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1)
		VMULPS(s, p, p)
		VMULPS(x, p, p)
		VADDPS(x, p, p)
		VMOVAPS(r, compare(cmpGE, a, kf(0.625)), p)
		return p
	})
	mapLoop("eluAVX512", false, []string{"sa", "scale"}, func(c sigmoidConsts, x Register, _ Mem, ps []Register) Register {
		m, y := ZMM(), ZMM()
		VMAXPS(x, c.lo, m)
		e, q, k := c.expParts(m)
		VSUBPS(c.one, e, e) // e^x - 1
		VMOVAPS(q, compare(cmpEQ, k, kf(0)), e)
		VMULPS(ps[0], e, e)
		VMULPS(ps[1], x, y)
		VMOVAPS(y, compare(cmpGT, x, kf(0)), e)
		return e
	})
	mapLoop("eluGradAVX512", true, []string{"sa", "scale"}, func(c sigmoidConsts, y Register, dy Mem, ps []Register) Register {
		d, g := ZMM(), ZMM()
		VADDPS(ps[0], y, d)
		VMOVAPS(ps[1], compare(cmpGT, y, kf(0)), d)
		VMULPS(dy, d, g)
		return g
	})
	mapLoop("softplusAVX512", false, nil, func(c sigmoidConsts, x Register, _ Mem, _ []Register) Register {
		na, w, d, l := ZMM(), ZMM(), ZMM(), ZMM()
		VPORD(kc(0x80000000), x, na) // -|x|
		u := c.expClamped(na)
		VADDPS(c.one, u, w)
		lg := c.log(w)
		VSUBPS(c.one, w, d)
		VDIVPS(d, u, d) // u / (w - 1)
		VMULPS(d, lg, lg)
		VMOVAPS(u, l)
		VMOVAPS(lg, compare(cmpNEQ, w, c.one), l)
		VPXORD(d, d, d)
		VMAXPS(x, d, d) // NaN kept
		VADDPS(l, d, l)
		return l
	})
	mapLoop("softplusGradAVX512", true, nil, func(c sigmoidConsts, x Register, dy Mem, _ []Register) Register {
		_, _, _, s := c.sigmoidOf(x)
		VMULPS(dy, s, s)
		return s
	})
}

// log emits smooth.go's log32 of w, finite and above 0.
func (c sigmoidConsts) log(w Register) Register {
	e, m, f, z := ZMM(), ZMM(), ZMM(), ZMM()
	VPSRLD(U8(23), w, e)
	VPSUBD(kc(126), e, e)
	VCVTDQ2PS(e, e)
	VPANDD(kc(0x807fffff), w, m)
	VPORD(kc(0x3f000000), m, m)
	k := compare(cmpLT, m, kf(math.Sqrt2/2))
	VSUBPS(c.one, e, k, e)
	VADDPS(m, m, k, m)
	VSUBPS(c.one, m, f)
	VMULPS(f, f, z)
	p := poly(f, 7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1)
	t := ZMM()
	VMULPS(f, p, p)
	VMULPS(z, p, p)
	VMULPS(c.c2, e, t)
	VADDPS(t, p, p)
	VMULPS(kf(0.5), z, t)
	VSUBPS(t, p, p)
	VADDPS(p, f, f)
	VMULPS(c.c1, e, t)
	VADDPS(t, f, f)
	return f
}
