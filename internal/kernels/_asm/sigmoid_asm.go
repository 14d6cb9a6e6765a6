package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The loops of sigmoid.go (see simd_asm.go).

func f32(v float64) uint32 { return math.Float32bits(float32(v)) }

// sigmoid emits sigmoid.go's sigmoidParts of x: t = x clamped to [-87,
// 87], e = e^-t, σ = 1 / (1 + e).
func (s simd) sigmoid(x Register) (t, e, sg Register) {
	t = s.clamp(x)
	n := s.vec()
	s.xor(kc(0x80000000), t, n) // -t
	e, _, _ = s.expParts(n)
	sg = s.load(kf(1))
	VADDPS(sg, e, n)
	VDIVPS(n, sg, sg)
	return t, e, sg
}

// sigmoids emits the loops of sigmoid.go for s.
func (s simd) sigmoids() {
	hard := func(silu bool) func(x Register, _ Mem, _ []Register) Register {
		return func(x Register, _ Mem, _ []Register) Register {
			// x + 3, max 0, min 6 (NaN kept), / 6, as hardSigmoid32.
			t, z, six := s.vec(), s.zero(), s.load(kf(6))
			VADDPS(kf(3), x, t)
			VMAXPS(t, z, t)
			VMINPS(t, six, t)
			VDIVPS(kf(6), t, t)
			if silu {
				VMULPS(t, x, t)
			}
			return t
		}
	}
	s.mapLoop("hardSigmoid", false, nil, hard(false))
	s.mapLoop("hardSiLU", false, nil, hard(true))
	s.mapLoop("sigmoid", false, nil, func(x Register, _ Mem, _ []Register) Register {
		_, _, sg := s.sigmoid(x)
		return sg
	})
	s.mapLoop("silu", false, nil, func(x Register, _ Mem, _ []Register) Register {
		_, _, sg := s.sigmoid(x)
		m := s.load(kf(-87))
		VMAXPS(x, m, m) // NaN kept
		VMULPS(sg, m, sg)
		return sg
	})
	s.mapLoop("siluGrad", true, nil, func(x Register, dy Mem, _ []Register) Register {
		t, e, sg := s.sigmoid(x)
		u, d := s.vec(), s.vec()
		VMULPS(sg, e, u) // e·s = 1 - s
		VMULPS(t, u, u)
		VADDPS(kf(1), u, u)
		VMULPS(dy, sg, d) // dy·s
		VMULPS(u, d, d)
		return d
	})
}
