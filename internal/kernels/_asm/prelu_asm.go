package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// prelus emits the loops of prelu.go for s, over n values (a multiple of
// s.lanes) each with its own slope in a.
func (s simd) prelus() {
	step := func(n Register, ps ...Register) {
		for _, p := range ps {
			ADDQ(U32(4*s.lanes), p)
		}
		SUBQ(U32(s.lanes), n)
	}

	// y = x where x > 0, else a·x.
	name := "prelu" + s.name
	TEXT(name, NOSPLIT, "func(y, x, a *float32, n int)")
	y, x, a, n := Load(Param("y"), GP64()), Load(Param("x"), GP64()), Load(Param("a"), GP64()), Load(Param("n"), GP64())
	Label(name + "_loop")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	v, m := s.load(Mem{Base: x}), s.vec()
	VMULPS(Mem{Base: a}, v, m)
	s.choose(s.compare(cmpGT, v, kf(0)), v, m)
	VMOVUPS(m, Mem{Base: y})
	step(n, y, x, a)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()

	// dx = dy where x > 0, else a·dy; g += 0 where x > 0, else x·dy.
	name = "preluGrad" + s.name
	TEXT(name, NOSPLIT, "func(dx, da, dy, x, a *float32, n int)")
	dx, g, dy := Load(Param("dx"), GP64()), Load(Param("da"), GP64()), Load(Param("dy"), GP64())
	x, a, n = Load(Param("x"), GP64()), Load(Param("a"), GP64()), Load(Param("n"), GP64())
	z := s.zero()
	Label(name + "_loop")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	d, v, t, m := s.load(Mem{Base: dy}), s.load(Mem{Base: x}), s.vec(), s.vec()
	k := s.compare(cmpGT, v, kf(0))
	VMULPS(d, v, t)
	s.choose(k, z, t)
	VADDPS(Mem{Base: g}, t, t)
	VMOVUPS(t, Mem{Base: g})
	VMULPS(Mem{Base: a}, d, m)
	s.choose(k, d, m)
	VMOVUPS(m, Mem{Base: dx})
	step(n, dx, g, dy, x, a)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}
