package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The loops of smooth.go (see simd_asm.go).

// normalCDF emits smooth.go's normalCDF32 of x.
func (s simd) normalCDF(x Register) Register {
	u, t, uu, h := s.vec(), s.vec(), s.vec(), s.vec()
	VMULPS(kf(0.70710678118654752), s.abs(x), u)
	VMULPS(kf(0.5), u, t)
	VADDPS(kf(1), t, t)
	one := s.load(kf(1))
	VDIVPS(t, one, t) // 1 / t
	p := s.poly(t, 0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223)
	VMULPS(u, u, uu)
	VSUBPS(uu, p, p) // p - u·u
	e := s.expClamped(p)
	VMULPS(e, t, h)
	VMULPS(kf(0.5), h, h)
	VSUBPS(h, one, one) // 1 - h
	s.choose(s.compare(cmpGE, x, kf(0)), one, h)
	return h
}

// mish emits smooth.go's mishParts of x.
func (s simd) mish(x Register) (g, e, q Register) {
	w := s.load(kf(20))
	VMINPS(x, w, w) // NaN kept
	e = s.expClamped(w)
	n := s.vec()
	g, q = s.vec(), s.vec()
	VADDPS(kf(2), e, n)
	VMULPS(n, e, n)
	VADDPS(kf(2), n, q)
	VDIVPS(q, n, g)
	return g, e, q
}

// log emits smooth.go's log32 of w, finite and above 0.
func (s simd) log(w Register) Register {
	e, m, f, z, t := s.vec(), s.vec(), s.vec(), s.vec(), s.vec()
	VPSRLD(U8(23), w, e)
	VPSUBD(kc(126), e, e)
	VCVTDQ2PS(e, e)
	s.and(kc(0x807fffff), w, m)
	s.or(kc(0x3f000000), m, m)
	k := s.compare(cmpLT, m, kf(math.Sqrt2/2))
	VSUBPS(kf(1), e, t)
	s.choose(k, t, e) // e - 1
	VADDPS(m, m, t)
	s.choose(k, t, m) // m + m
	VSUBPS(kf(1), m, f)
	VMULPS(f, f, z)
	p := s.poly(f, 7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1)
	VMULPS(f, p, p)
	VMULPS(z, p, p)
	VMULPS(kf(-2.12194440e-4), e, t)
	VADDPS(t, p, p)
	VMULPS(kf(0.5), z, t)
	VSUBPS(t, p, p)
	VADDPS(p, f, f)
	VMULPS(kf(0.693359375), e, t)
	VADDPS(t, f, f)
	return f
}

// smooths emits the loops of smooth.go for s.
func (s simd) smooths() {
	s.mapLoop("gelu", false, nil, func(x Register, _ Mem, _ []Register) Register {
		y := s.normalCDF(x)
		VMULPS(y, x, y)
		return y
	})
	s.mapLoop("geluGrad", true, nil, func(x Register, dy Mem, _ []Register) Register {
		w := s.vec()
		VMULPS(x, x, w)
		VMULPS(kf(-0.5), w, w)
		phi := s.expClamped(w)
		VMULPS(kf(0.39894228040143268), phi, phi)
		VMULPS(phi, x, phi) // v·φ
		c := s.normalCDF(x)
		VADDPS(phi, c, c)
		VMULPS(dy, c, c)
		return c
	})
	s.mapLoop("mish", false, nil, func(x Register, _ Mem, _ []Register) Register {
		g, _, _ := s.mish(x)
		VMULPS(g, x, g)
		return g
	})
	s.mapLoop("mishGrad", true, nil, func(x Register, dy Mem, _ []Register) Register {
		g, e, q := s.mish(x)
		a, b := s.vec(), s.vec()
		VMULPS(kf(4), e, a)
		VADDPS(kf(1), e, b)
		VMULPS(b, a, a)
		VMULPS(q, q, b)
		VDIVPS(b, a, a) // 4e(e+1) / q²
		VMULPS(a, x, a)
		VADDPS(a, g, a)
		VMULPS(dy, a, a)
		return a
	})
	s.mapLoop("tanh", false, nil, func(x Register, _ Mem, _ []Register) Register {
		a := s.abs(x)
		t, sg := s.vec(), s.vec()
		VADDPS(a, a, t)
		e := s.expClamped(t)
		VADDPS(kf(1), e, e)
		r := s.load(kf(2))
		VDIVPS(e, r, r) // 2 / (s + 1)
		one := s.load(kf(1))
		VSUBPS(r, one, r) // 1 - that
		s.and(kc(0x80000000), x, sg)
		s.or(sg, r, r)
		// Below 0.625: x + (P(x²)·x²)·x.
		VMULPS(x, x, t)
		p := s.poly(t, -5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1)
		VMULPS(t, p, p)
		VMULPS(x, p, p)
		VADDPS(x, p, p)
		s.choose(s.compare(cmpGE, a, kf(0.625)), r, p)
		return p
	})
	s.mapLoop("elu", false, []string{"sa", "scale"}, func(x Register, _ Mem, ps []Register) Register {
		m := s.load(kf(-87))
		VMAXPS(x, m, m) // NaN kept
		e, q, k := s.expParts(m)
		VSUBPS(kf(1), e, e) // e^x - 1
		s.choose(s.compare(cmpEQ, k, kf(0)), q, e)
		VMULPS(ps[0], e, e)
		y := s.vec()
		VMULPS(ps[1], x, y)
		s.choose(s.compare(cmpGT, x, kf(0)), y, e)
		return e
	})
	s.mapLoop("eluGrad", true, []string{"sa", "scale"}, func(y Register, dy Mem, ps []Register) Register {
		d := s.vec()
		VADDPS(ps[0], y, d)
		s.choose(s.compare(cmpGT, y, kf(0)), ps[1], d)
		VMULPS(dy, d, d)
		return d
	})
	s.mapLoop("leakyReLU", false, []string{"alpha"}, func(x Register, _ Mem, ps []Register) Register {
		m := s.vec()
		VMULPS(ps[0], x, m)
		s.choose(s.compare(cmpLT, x, kf(0)), m, x)
		return x
	})
	s.mapLoop("leakyReLUGrad", true, []string{"alpha"}, func(y Register, dy Mem, ps []Register) Register {
		d, g := s.vec(), s.vec()
		VMOVUPS(dy, g)
		VMULPS(ps[0], g, d)
		s.choose(s.compare(cmpGT, y, kf(0)), g, d)
		return d
	})
	s.mapLoop("softplus", false, nil, func(x Register, _ Mem, _ []Register) Register {
		na, w, d := s.vec(), s.vec(), s.vec()
		s.or(kc(0x80000000), x, na) // -|x|
		u := s.expClamped(na)
		VADDPS(kf(1), u, w)
		lg := s.log(w)
		VSUBPS(kf(1), w, d)
		VDIVPS(d, u, d) // u / (w - 1)
		VMULPS(d, lg, lg)
		s.choose(s.compare(cmpNEQ, w, kf(1)), lg, u)
		z := s.zero()
		VMAXPS(x, z, z) // NaN kept
		VADDPS(u, z, z)
		return z
	})
	s.mapLoop("softplusGrad", true, nil, func(x Register, dy Mem, _ []Register) Register {
		_, _, sg := s.sigmoid(x)
		VMULPS(dy, sg, sg)
		return sg
	})
}
