package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// optimizers emits the weight updates of RMSprop and Adam, and the
// decoupled weight decay.
func optimizers() {
	rmsprop("rmspropAVX512", false)
	rmsprop("rmspropInsideAVX512", true)
	adam()
	decay()
}

// scalars loads float32 parameters into vectors of 16.
func scalars(names ...string) []VecVirtual {
	out := make([]VecVirtual, len(names))
	for i, name := range names {
		x := Load(Param(name), XMM())
		out[i] = ZMM()
		VBROADCASTSS(x, out[i])
	}
	return out
}

// loop16 emits a loop over n values, a multiple of 16, 16 at a time: body
// gets the offset register (in bytes) of the 16 values.
func loop16(name string, n Register, body func(off Register)) {
	off := GP64()
	XORQ(off, off)
	SHLQ(U8(2), n)
	top, done := name+"_loop", name+"_done"
	Label(top)
	CMPQ(off, n)
	JGE(LabelRef(done))
	body(off)
	ADDQ(U8(64), off)
	JMP(LabelRef(top))
	Label(done)
	VZEROUPPER()
	RET()
}

// rmsprop emits RMSprop's update over n values, a multiple of 16, each
// operation rounded as Go's loop rounds it (no fused multiply-add):
//
//	a[i] = rho*a[i] + (c*g[i])*g[i]          (c = 1-rho)
//	w[i] -= (lr*g[i]) / (sqrt(a[i]) + eps)    (inside: / sqrt(a[i] + eps))
func rmsprop(name string, inside bool) {
	TEXT(name, NOSPLIT, "func(w, grad, a *float32, n int, rho, c, lr, eps float32)")
	w := Load(Param("w"), GP64())
	g := Load(Param("grad"), GP64())
	a := Load(Param("a"), GP64())
	n := Load(Param("n"), GP64())
	k := scalars("rho", "c", "lr", "eps")
	rho, c, lr, eps := k[0], k[1], k[2], k[3]
	gv, av, t, d := ZMM(), ZMM(), ZMM(), ZMM()
	loop16(name, n, func(off Register) {
		at := func(base Register) Mem { return Mem{Base: base, Index: off, Scale: 1} }
		VMOVUPS(at(g), gv)
		VMULPS(at(a), rho, av) // rho*a
		VMULPS(gv, c, t)       // c*g
		VMULPS(gv, t, t)       // (c*g)*g
		VADDPS(t, av, av)
		VMOVUPS(av, at(a))
		if inside {
			VADDPS(eps, av, d)
			VSQRTPS(d, d)
		} else {
			VSQRTPS(av, d)
			VADDPS(eps, d, d)
		}
		VMULPS(gv, lr, t) // lr*g
		VDIVPS(d, t, t)   // (lr*g) / d
		VMOVUPS(at(w), av)
		VSUBPS(t, av, av) // w - step
		VMOVUPS(av, at(w))
	})
}

// adam emits Adam's update over n values, a multiple of 16, each operation
// rounded as Go's loop rounds it:
//
//	m[i] += (g[i] - m[i]) * c1
//	v[i] += (g[i]*g[i] - v[i]) * c2
//	w[i] -= (alpha*m[i]) / (sqrt(v[i]) + eps)
func adam() {
	name := "adamAVX512"
	TEXT(name, NOSPLIT, "func(w, grad, m, v *float32, n int, alpha, c1, c2, eps float32)")
	w := Load(Param("w"), GP64())
	g := Load(Param("grad"), GP64())
	m := Load(Param("m"), GP64())
	v := Load(Param("v"), GP64())
	n := Load(Param("n"), GP64())
	k := scalars("alpha", "c1", "c2", "eps")
	alpha, c1, c2, eps := k[0], k[1], k[2], k[3]
	gv, mv, vv, t := ZMM(), ZMM(), ZMM(), ZMM()
	loop16(name, n, func(off Register) {
		at := func(base Register) Mem { return Mem{Base: base, Index: off, Scale: 1} }
		VMOVUPS(at(g), gv)
		VMOVUPS(at(m), mv)
		VSUBPS(mv, gv, t) // g - m
		VMULPS(c1, t, t)
		VADDPS(t, mv, mv)
		VMOVUPS(mv, at(m))
		VMOVUPS(at(v), vv)
		VMULPS(gv, gv, t) // g*g
		VSUBPS(vv, t, t)  // g*g - v
		VMULPS(c2, t, t)
		VADDPS(t, vv, vv)
		VMOVUPS(vv, at(v))
		VSQRTPS(vv, vv)
		VADDPS(eps, vv, vv)
		VMULPS(mv, alpha, t) // alpha*m
		VDIVPS(vv, t, t)     // (alpha*m) / (sqrt(v) + eps)
		VMOVUPS(at(w), mv)
		VSUBPS(t, mv, mv) // w - step
		VMOVUPS(mv, at(w))
	})
}

// decay emits the decoupled weight decay over n values, a multiple of 16,
// the product rounded before the subtraction:
//
//	w[i] -= w[i]*f
func decay() {
	name := "decayAVX512"
	TEXT(name, NOSPLIT, "func(w *float32, n int, f float32)")
	w := Load(Param("w"), GP64())
	n := Load(Param("n"), GP64())
	f := scalars("f")[0]
	wv, t := ZMM(), ZMM()
	loop16(name, n, func(off Register) {
		at := Mem{Base: w, Index: off, Scale: 1}
		VMOVUPS(at, wv)
		VMULPS(f, wv, t)
		VSUBPS(t, wv, wv)
		VMOVUPS(wv, at)
	})
}
