package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// sigmoidConsts are the vectors the sigmoid loops keep in registers: the
// constants of sigmoid.go's expNeg, each in all 16 lanes.
type sigmoidConsts struct {
	lo, hi, sign, log2e, c1, c2, one Register
	p                                [6]Register
	bias                             Register // 127, as int32
}

// broadcast returns a vector of v's bits in every lane.
func broadcast(bits uint32) Register {
	r32, v := GP32(), ZMM()
	MOVL(U32(bits), r32)
	VPBROADCASTD(r32, v)
	return v
}

func f32(v float64) uint32 { return math.Float32bits(float32(v)) }

func loadSigmoidConsts() sigmoidConsts {
	var c sigmoidConsts
	c.lo, c.hi = broadcast(f32(-87)), broadcast(f32(87))
	c.sign = broadcast(0x80000000)
	c.log2e = broadcast(f32(1.44269504088896341))
	c.c1, c.c2 = broadcast(f32(0.693359375)), broadcast(f32(-2.12194440e-4))
	for i, v := range []float64{1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1} {
		c.p[i] = broadcast(f32(v))
	}
	c.one = broadcast(f32(1))
	c.bias = broadcast(127)
	return c
}

// sigmoidOf emits sigmoid.go's sigmoidParts of x, operation by operation
// (Go's operand order: the destination last, and VSUBPS a, b, d sets
// d = b - a): m = max(x, -87), t = min(m, 87), e = e^-t, s = 1 / (1 + e).
// x is not modified.
func (c sigmoidConsts) sigmoidOf(x Register) (m, t, e, s Register) {
	m, t, e, s = ZMM(), ZMM(), ZMM(), ZMM()
	k, r, z, sc := ZMM(), ZMM(), ZMM(), ZMM()
	VMAXPS(x, c.lo, m) // NaN kept
	VMINPS(m, c.hi, t) // NaN kept
	VPXORD(c.sign, t, e)
	VMULPS(c.log2e, e, k)
	VRNDSCALEPS(U8(0), k, k) // to the nearest integer, ties to even
	VMULPS(c.c1, k, r)
	VSUBPS(r, e, r)
	VMULPS(c.c2, k, z)
	VSUBPS(z, r, r)
	VMULPS(r, r, z)
	VMOVAPS(c.p[0], e)
	for _, p := range c.p[1:] {
		VMULPS(r, e, e)
		VADDPS(p, e, e)
	}
	VMULPS(z, e, e)
	VADDPS(r, e, e)
	VADDPS(c.one, e, e)
	VCVTPS2DQ(k, sc)
	VPADDD(c.bias, sc, sc)
	VPSLLD(U8(23), sc, sc)
	VMULPS(sc, e, e) // e^-t
	VADDPS(c.one, e, s)
	VDIVPS(s, c.one, s) // 1 / (1 + e)
	return m, t, e, s
}

// sigmoid emits Sigmoid (silu false) or SiLU over n values, a multiple of
// 16.
func sigmoid(name string, silu bool) {
	TEXT(name, NOSPLIT, "func(y, z *float32, n int)")
	y := Load(Param("y"), GP64())
	z := Load(Param("z"), GP64())
	n := Load(Param("n"), GP64())
	c := loadSigmoidConsts()
	x := ZMM()
	loop, done := name+"_loop", name+"_done"
	Label(loop)
	TESTQ(n, n)
	JZ(LabelRef(done))
	VMOVUPS(Mem{Base: z}, x)
	m, _, _, s := c.sigmoidOf(x)
	if silu {
		VMULPS(s, m, s) // max(x, -87)·σ
	}
	VMOVUPS(s, Mem{Base: y})
	ADDQ(U32(64), y)
	ADDQ(U32(64), z)
	SUBQ(U32(16), n)
	JMP(LabelRef(loop))
	Label(done)
	VZEROUPPER()
	RET()
}

// siluGrad emits SiLUGrad over n values, a multiple of 16:
// dz = (dy·s)·(1 + t·(e·s)).
func siluGrad() {
	name := "siluGradAVX512"
	TEXT(name, NOSPLIT, "func(dz, dy, z *float32, n int)")
	dz := Load(Param("dz"), GP64())
	dy := Load(Param("dy"), GP64())
	z := Load(Param("z"), GP64())
	n := Load(Param("n"), GP64())
	c := loadSigmoidConsts()
	x, u, d := ZMM(), ZMM(), ZMM()
	loop, done := name+"_loop", name+"_done"
	Label(loop)
	TESTQ(n, n)
	JZ(LabelRef(done))
	VMOVUPS(Mem{Base: z}, x)
	_, t, e, s := c.sigmoidOf(x)
	VMULPS(s, e, u) // e·s = 1 - s
	VMULPS(t, u, u) // t·(e·s)
	VADDPS(c.one, u, u)
	VMULPS(Mem{Base: dy}, s, d) // dy·s
	VMULPS(u, d, d)
	VMOVUPS(d, Mem{Base: dz})
	ADDQ(U32(64), dz)
	ADDQ(U32(64), dy)
	ADDQ(U32(64), z)
	SUBQ(U32(16), n)
	JMP(LabelRef(loop))
	Label(done)
	VZEROUPPER()
	RET()
}

// sigmoids emits the loops of sigmoid.go.
func sigmoids() {
	sigmoid("sigmoidAVX512", false)
	sigmoid("siluAVX512", true)
	siluGrad()
	hardSigmoid("hardSigmoidAVX512", false)
	hardSigmoid("hardSiLUAVX512", true)
}

// hardSigmoid emits HardSigmoid (silu false) or HardSiLU over n values, a
// multiple of 16, with sigmoid.go's operations in its order: x + 3, max 0
// (NaN kept), min 6 (NaN kept), / 6, then for HardSiLU · x.
func hardSigmoid(name string, silu bool) {
	TEXT(name, NOSPLIT, "func(y, z *float32, n int)")
	y := Load(Param("y"), GP64())
	z := Load(Param("z"), GP64())
	n := Load(Param("n"), GP64())
	three, six, zero := broadcast(f32(3)), broadcast(f32(6)), ZMM()
	VPXORD(zero, zero, zero)
	x, t := ZMM(), ZMM()
	loop, done := name+"_loop", name+"_done"
	Label(loop)
	TESTQ(n, n)
	JZ(LabelRef(done))
	VMOVUPS(Mem{Base: z}, x)
	VADDPS(three, x, t)
	VMAXPS(t, zero, t)
	VMINPS(t, six, t)
	VDIVPS(six, t, t)
	if silu {
		VMULPS(t, x, t)
	}
	VMOVUPS(t, Mem{Base: y})
	ADDQ(U32(64), y)
	ADDQ(U32(64), z)
	SUBQ(U32(16), n)
	JMP(LabelRef(loop))
	Label(done)
	VZEROUPPER()
	RET()
}
