package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// prelus emits the loops of prelu.go for s, over n values (a multiple of
// s.lanes) each with its own slope in a.
func (s simd) prelus() {
	// y = x where x > 0, else a·x.
	s.loop("prelu", []string{"y", "x", "a"}, nil, func(at []Mem, _ []Register) {
		v, m := s.load(at[1]), s.vec()
		VMULPS(at[2], v, m)
		s.choose(s.compare(cmpGT, v, kf(0)), v, m)
		VMOVUPS(m, at[0])
	})
	// dx = dy where x > 0, else a·dy; da += 0 where x > 0, else x·dy.
	s.loop("preluGrad", []string{"dx", "da", "dy", "x", "a"}, nil, func(at []Mem, _ []Register) {
		d, v, t, m := s.load(at[2]), s.load(at[3]), s.vec(), s.vec()
		k := s.compare(cmpGT, v, kf(0))
		VMULPS(d, v, t)
		s.choose(k, s.zero(), t)
		VADDPS(at[1], t, t)
		VMOVUPS(t, at[1])
		VMULPS(at[4], d, m)
		s.choose(k, d, m)
		VMOVUPS(m, at[0])
	})
}
