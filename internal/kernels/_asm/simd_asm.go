package main

import (
	"fmt"
	"math"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The vector instruction sets the element-wise loops of sigmoid.go and
// smooth.go are emitted for, AVX-512 and AVX2, from one description each:
// the same operations in the same order as their Go functions, so that all
// give the same bits. Their constants are read from a table of 16 copies
// of each (an AVX2 load reads the first 8).

// smoothValues are the table's constants, as float32 values or (bits)
// masks.
var smoothValues = []uint32{
	0x7fffffff, 0x80000000, 0x807fffff, 0x3f000000, 126,
	f32(0), f32(0.5), f32(-0.5), f32(2), f32(3), f32(4), f32(6), f32(20), f32(0.625), f32(math.Sqrt2 / 2),
	f32(0.70710678118654752), f32(0.39894228040143268),
	// the exponential's, as in sigmoid_asm.go
	f32(-87), f32(87), f32(1.44269504088896341), f32(0.693359375), f32(-2.12194440e-4),
	f32(1.9875691500e-4), f32(1.3981999507e-3), f32(8.3334519073e-3), f32(4.1665795894e-2),
	f32(1.6666665459e-1), f32(5.0000001201e-1), f32(1), 127,
	// erfc
	f32(0.17087277), f32(-0.82215223), f32(1.48851587), f32(-1.13520398), f32(0.27886807),
	f32(-0.18628806), f32(0.09678418), f32(0.37409196), f32(1.00002368), f32(-1.26551223),
	// tanh
	f32(-5.70498872745e-3), f32(2.06390887954e-2), f32(-5.37397155531e-2), f32(1.33314422036e-1), f32(-3.33332819422e-1),
	// log
	f32(7.0376836292e-2), f32(-1.1514610310e-1), f32(1.1676998740e-1), f32(-1.2420140846e-1), f32(1.4249322787e-1),
	f32(-1.6668057665e-1), f32(2.0000714765e-1), f32(-2.4999993993e-1), f32(3.3333331174e-1),
	// the int32 1 (the ReLU's derivative)
	1,
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

// simd is a vector instruction set the loops are emitted for: AVX-512 (16
// lanes, opmask registers) or AVX2 (8 lanes, masks in vectors).
type simd struct {
	name  string // the functions' suffix
	lanes int
}

var (
	avx512 = simd{"AVX512", 16}
	avx2   = simd{"AVX2", 8}
)

// bytes is the size of a vector.
func (s simd) bytes() int { return 4 * s.lanes }

func (s simd) vec() VecVirtual {
	if s.lanes == 16 {
		return ZMM()
	}
	return YMM()
}

// load returns a register holding m.
func (s simd) load(m Op) Register {
	v := s.vec()
	VMOVUPS(m, v)
	return v
}

func (s simd) and(a Op, b, d Register) {
	if s.lanes == 16 {
		VPANDD(a, b, d)
	} else {
		VPAND(a, b, d)
	}
}

// andNot sets d = a &^ b.
func (s simd) andNot(a Op, b, d Register) {
	if s.lanes == 16 {
		VPANDND(a, b, d)
	} else {
		VPANDN(a, b, d)
	}
}

func (s simd) or(a Op, b, d Register) {
	if s.lanes == 16 {
		VPORD(a, b, d)
	} else {
		VPOR(a, b, d)
	}
}

func (s simd) xor(a Op, b, d Register) {
	if s.lanes == 16 {
		VPXORD(a, b, d)
	} else {
		VPXOR(a, b, d)
	}
}

func (s simd) zero() Register {
	z := s.vec()
	if s.lanes == 16 {
		VPXORD(z, z, z)
	} else {
		VPXOR(z, z, z)
	}
	return z
}

// compare returns the mask of a op b (an opmask, or a vector of all-ones
// lanes).
func (s simd) compare(op uint8, a Register, b Op) Register {
	if s.lanes == 16 {
		k := K()
		VCMPPS(U8(op), b, a, k)
		return k
	}
	m := YMM()
	VCMPPS(U8(op), b, a, m)
	return m
}

// choose sets d = v where mask is set.
func (s simd) choose(mask, v, d Register) {
	if s.lanes == 16 {
		VMOVAPS(v, mask, d)
	} else {
		VBLENDVPS(mask, v, d, d)
	}
}

// The comparison predicates of VCMPPS.
const (
	cmpEQ  = 0x00 // ordered
	cmpLT  = 0x11 // ordered
	cmpNEQ = 0x04 // unordered: NaN is not equal
	cmpGE  = 0x1d // ordered
	cmpGT  = 0x1e // ordered
)

// expParts emits smooth.go's exp32 of x, in [-87, 87]: e = e^x, q = e^r - 1
// and k.
func (s simd) expParts(x Register) (e, q, k Register) {
	e, q, k = s.vec(), s.vec(), s.vec()
	r, z := s.vec(), s.vec()
	VMULPS(kf(1.44269504088896341), x, k)
	if s.lanes == 16 {
		VRNDSCALEPS(U8(0), k, k) // to the nearest integer, ties to even
	} else {
		VROUNDPS(U8(0), k, k)
	}
	VMULPS(kf(0.693359375), k, r)
	VSUBPS(r, x, r)
	VMULPS(kf(-2.12194440e-4), k, z)
	VSUBPS(z, r, r)
	VMULPS(r, r, z)
	VMOVUPS(kf(1.9875691500e-4), q)
	for _, p := range []float64{1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1} {
		VMULPS(r, q, q)
		VADDPS(kf(p), q, q)
	}
	VMULPS(z, q, q)
	VADDPS(r, q, q)
	VADDPS(kf(1), q, e)
	VCVTPS2DQ(k, z)
	VPADDD(kc(127), z, z)
	VPSLLD(U8(23), z, z)
	VMULPS(z, e, e)
	return e, q, k
}

// clamp emits x clamped to [-87, 87], NaN kept: x is the second source
// of VMAXPS, whose result that is when either is NaN.
func (s simd) clamp(x Register) Register {
	lo, hi := s.load(kf(-87)), s.load(kf(87))
	VMAXPS(x, lo, lo)
	VMINPS(lo, hi, hi)
	return hi
}

// expClamped emits e^x with x clamped to [-87, 87].
func (s simd) expClamped(x Register) Register {
	e, _, _ := s.expParts(s.clamp(x))
	return e
}

// abs emits |x|.
func (s simd) abs(x Register) Register {
	a := s.vec()
	s.and(kc(0x7fffffff), x, a)
	return a
}

// poly emits Horner's p = ((c0·t + c1)·t + …) + cn.
func (s simd) poly(t Register, cs ...float64) Register {
	p := s.load(kf(cs[0]))
	for _, v := range cs[1:] {
		VMULPS(t, p, p)
		VADDPS(kf(v), p, p)
	}
	return p
}

// mapLoop emits name+s.name, a loop over n values (a multiple of s.lanes)
// of z, with dy for a derivative (grad): out = f(x, at) stored to y (or
// dz), at addressing the row of dy. params are further float32
// parameters, broadcast to vectors for f.
func (s simd) mapLoop(name string, grad bool, params []string, f func(x Register, dy Mem, ps []Register) Register) {
	ptrs := []string{"y", "z"}
	if grad {
		ptrs = []string{"y", "dy", "z"}
	}
	s.loop(name, ptrs, params, func(at []Mem, ps []Register) {
		var dy Mem
		if grad {
			dy = at[1]
		}
		VMOVUPS(f(s.load(at[len(at)-1]), dy, ps), at[0])
	})
}

// loop emits name+s.name(ptrs *float32, n int, params float32), a loop
// over n values (a multiple of s.lanes) of each of the arrays ptrs: body
// emits one step, at addressing the arrays' current vectors and ps the
// params, broadcast to vectors.
func (s simd) loop(name string, ptrs, params []string, body func(at []Mem, ps []Register)) {
	name += s.name
	sig := "func(" + strings.Join(ptrs, ", ") + " *float32, n int"
	for _, p := range params {
		sig += ", " + p + " float32"
	}
	TEXT(name, NOSPLIT, sig+")")
	regs := make([]Register, len(ptrs))
	at := make([]Mem, len(ptrs))
	for i, p := range ptrs {
		regs[i] = Load(Param(p), GP64())
		at[i] = Mem{Base: regs[i]}
	}
	n := Load(Param("n"), GP64())
	var ps []Register
	for _, p := range params {
		v := s.vec()
		VBROADCASTSS(Load(Param(p), XMM()), v)
		ps = append(ps, v)
	}
	Label(name + "_loop")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	body(at, ps)
	for _, r := range regs {
		ADDQ(U32(4*s.lanes), r)
	}
	SUBQ(U32(s.lanes), n)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// broadcast returns a vector holding the low 32 bits of g in each lane.
func (s simd) broadcast(g GPVirtual) Register {
	v := s.vec()
	if s.lanes == 16 {
		VPBROADCASTD(g.As32(), v)
		return v
	}
	x := XMM()
	VMOVD(g.As32(), x)
	VPBROADCASTD(x, v)
	return v
}
