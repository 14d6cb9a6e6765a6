package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// optimizers emits the weight updates of SGD, RMSprop and Adam, and the
// decoupled weight decay, in AVX-512 and AVX2.
func optimizers() {
	for _, s := range []simd{avx512, avx2} {
		s.sgd()
		s.rmsprop()
		s.adam()
		s.decay()
	}
}

// scalars loads float32 parameters into vectors.
func (s simd) scalars(names ...string) []Register {
	out := make([]Register, len(names))
	for i, name := range names {
		x := Load(Param(name), XMM())
		out[i] = s.vec()
		VBROADCASTSS(x, out[i])
	}
	return out
}

// step emits a loop over n values, a multiple of s.lanes, a vector at a
// time: body gets at, which addresses the vector of the step in the array
// at base.
func (s simd) step(name string, n Register, body func(at func(base Register) Mem)) {
	off := GP64()
	XORQ(off, off)
	SHLQ(U8(2), n)
	top, done := name+"_loop", name+"_done"
	Label(top)
	CMPQ(off, n)
	JGE(LabelRef(done))
	body(func(base Register) Mem { return Mem{Base: base, Index: off, Scale: 1} })
	ADDQ(U8(s.bytes()), off)
	JMP(LabelRef(top))
	Label(done)
	VZEROUPPER()
	RET()
}

// SGD's forms, the bits of sgdAVX512's flags.
const (
	sgdMomentum = 1 // m accumulates the steps
	sgdNesterov = 2 // with momentum, w takes the step looked ahead
)

// sgd emits SGD's update over n values, a multiple of s.lanes, each product
// rounded before it is added, as Go's loop rounds it, the form chosen by
// flags (a branch per vector, always taken the same way):
//
//	plain:    w[i] -= lr*g[i]
//	momentum: m[i] = mu*m[i] - lr*g[i]; w[i] += m[i]
//	nesterov: m[i] as above; w[i] += mu*m[i] - lr*g[i]
func (s simd) sgd() {
	name := "sgd" + s.name
	TEXT(name, NOSPLIT, "func(w, grad, m *float32, n int, lr, mu float32, flags int)")
	w := Load(Param("w"), GP64())
	g := Load(Param("grad"), GP64())
	m := Load(Param("m"), GP64())
	n := Load(Param("n"), GP64())
	flags := Load(Param("flags"), GP64())
	k := s.scalars("lr", "mu")
	lr, mu := k[0], k[1]
	t, u, wv := s.vec(), s.vec(), s.vec()
	s.step(name, n, func(at func(Register) Mem) {
		VMULPS(at(g), lr, t) // lr*g
		TESTQ(U32(sgdMomentum), flags)
		JNZ(LabelRef(name + "_momentum"))
		subtractFrom(at(w), t, wv)
		JMP(LabelRef(name + "_next"))
		Label(name + "_momentum")
		VMULPS(at(m), mu, u) // mu*m
		VSUBPS(t, u, u)      // mu*m - lr*g
		VMOVUPS(u, at(m))
		TESTQ(U32(sgdNesterov), flags)
		JZ(LabelRef(name + "_add"))
		VMULPS(u, mu, u) // mu*m, the new m
		VSUBPS(t, u, u)  // mu*m - lr*g
		Label(name + "_add")
		VMOVUPS(at(w), wv)
		VADDPS(u, wv, wv)
		VMOVUPS(wv, at(w))
		Label(name + "_next")
	})
}

// RMSprop's forms, the bits of rmspropAVX512's flags.
const (
	rmspropInside   = 1 // epsilon inside the square root (Keras 3)
	rmspropMomentum = 2 // m accumulates the step
	rmspropCentered = 4 // ag averages the gradients
)

// rmsprop emits RMSprop's update over n values, a multiple of s.lanes, each
// operation rounded as Go's loop rounds it (no fused multiply-add), the
// form chosen by flags (a branch per vector, always taken the same way):
//
//	a[i] = rho*a[i] + (c*g[i])*g[i]          (c = 1-rho)
//	d := a[i]; centered: ag[i] = rho*ag[i] + c*g[i]; d -= ag[i]*ag[i]
//	step := (lr*g[i]) / (sqrt(d) + eps)      (inside: / sqrt(d + eps))
//	momentum: m[i] = mu*m[i] + step; step = m[i]
//	w[i] -= step
func (s simd) rmsprop() {
	name := "rmsprop" + s.name
	TEXT(name, NOSPLIT, "func(w, grad, a, m, ag *float32, n int, rho, c, lr, eps, mu float32, flags int)")
	w := Load(Param("w"), GP64())
	g := Load(Param("grad"), GP64())
	a := Load(Param("a"), GP64())
	m := Load(Param("m"), GP64())
	ag := Load(Param("ag"), GP64())
	n := Load(Param("n"), GP64())
	flags := Load(Param("flags"), GP64())
	k := s.scalars("rho", "c", "lr", "eps", "mu")
	rho, c, lr, eps, mu := k[0], k[1], k[2], k[3], k[4]
	gv, av, t, d, u := s.vec(), s.vec(), s.vec(), s.vec(), s.vec()
	// unless emits body, run when flags has bit, and a jump past it.
	unless := func(bit int, label string, body func()) {
		TESTQ(U32(bit), flags)
		JZ(LabelRef(name + label))
		body()
		Label(name + label)
	}
	s.step(name, n, func(at func(Register) Mem) {
		VMOVUPS(at(g), gv)
		VMULPS(at(a), rho, av) // rho*a
		VMULPS(gv, c, t)       // c*g
		VMULPS(gv, t, t)       // (c*g)*g
		VADDPS(t, av, av)
		VMOVUPS(av, at(a))
		VMOVAPS(av, d)
		unless(rmspropCentered, "_plain", func() {
			VMULPS(at(ag), rho, u) // rho*ag
			VMULPS(gv, c, t)       // c*g
			VADDPS(t, u, u)
			VMOVUPS(u, at(ag))
			VMULPS(u, u, u) // ag*ag
			VSUBPS(u, d, d)
		})
		TESTQ(U32(rmspropInside), flags)
		JZ(LabelRef(name + "_outside"))
		VADDPS(eps, d, d)
		VSQRTPS(d, d)
		JMP(LabelRef(name + "_step"))
		Label(name + "_outside")
		VSQRTPS(d, d)
		VADDPS(eps, d, d)
		Label(name + "_step")
		VMULPS(gv, lr, t) // lr*g
		VDIVPS(d, t, t)   // (lr*g) / d
		unless(rmspropMomentum, "_update", func() {
			VMULPS(at(m), mu, u) // mu*m
			VADDPS(t, u, t)      // mu*m + step
			VMOVUPS(t, at(m))
		})
		subtractFrom(at(w), t, av)
	})
}

// adam emits Adam's update over n values, a multiple of s.lanes, each operation
// rounded as Go's loop rounds it:
//
//	m[i] += (g[i] - m[i]) * c1
//	v[i] += (g[i]*g[i] - v[i]) * c2
//	w[i] -= (alpha*m[i]) / (sqrt(v[i]) + eps)
func (s simd) adam() {
	name := "adam" + s.name
	TEXT(name, NOSPLIT, "func(w, grad, m, v *float32, n int, alpha, c1, c2, eps float32)")
	w := Load(Param("w"), GP64())
	g := Load(Param("grad"), GP64())
	m := Load(Param("m"), GP64())
	v := Load(Param("v"), GP64())
	n := Load(Param("n"), GP64())
	k := s.scalars("alpha", "c1", "c2", "eps")
	alpha, c1, c2, eps := k[0], k[1], k[2], k[3]
	gv, mv, vv, t := s.vec(), s.vec(), s.vec(), s.vec()
	s.step(name, n, func(at func(Register) Mem) {
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
		subtractFrom(at(w), t, mv)
	})
}

// decay emits the decoupled weight decay over n values, a multiple of s.lanes,
// the product rounded before the subtraction:
//
//	w[i] -= w[i]*f
func (s simd) decay() {
	name := "decay" + s.name
	TEXT(name, NOSPLIT, "func(w *float32, n int, f float32)")
	w := Load(Param("w"), GP64())
	n := Load(Param("n"), GP64())
	f := s.scalars("f")[0]
	wv, t := s.vec(), s.vec()
	s.step(name, n, func(at func(Register) Mem) {
		VMULPS(at(w), f, t) // w*f
		subtractFrom(at(w), t, wv)
	})
}

// subtractFrom emits w -= step for the vector at w, through scratch.
func subtractFrom(w Mem, step, scratch Register) {
	VMOVUPS(w, scratch)
	VSUBPS(step, scratch, scratch)
	VMOVUPS(scratch, w)
}
