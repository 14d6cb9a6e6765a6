package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// reluGradSum emits the ReLU derivative with the bias gradient for columns
// of nv vectors of s.lanes, over rows rows of stride ld floats:
//
//	for r < rows, j < s.lanes·nv:
//		d := dy[r*ld+j] if y[r*ld+j] > 0 (its bits minus 1 are not negative) else 0
//		dz[r*ld+j] = d
//		sum[j] += d
func (s simd) reluGradSum(nv int) {
	name := fmt.Sprintf("reluGradSum%d%s", nv, s.name)
	TEXT(name, NOSPLIT, "func(dz, dy, y, sum *float32, rows, ld int)")
	dz := Load(Param("dz"), GP64())
	dy := Load(Param("dy"), GP64())
	y := Load(Param("y"), GP64())
	sum := Load(Param("sum"), GP64())
	rows := Load(Param("rows"), GP64())
	ld := Load(Param("ld"), GP64())
	SHLQ(U8(2), ld)
	one := s.load(kc(1))
	acc := make([]Register, nv)
	for v := range acc {
		acc[v] = s.load(Mem{Base: sum, Disp: s.bytes() * v})
	}
	t := make([]Register, nv)
	for v := range t {
		t[v] = s.vec()
	}
	loop, done := name+"_row", name+"_done"
	TESTQ(rows, rows)
	JZ(LabelRef(done))
	Label(loop)
	for v := range nv {
		Comment("The bits of y minus 1, shifted: all ones where y is +0 or negative.")
		VMOVUPS(Mem{Base: y, Disp: s.bytes() * v}, t[v])
		VPSUBD(one, t[v], t[v])
		VPSRAD(U8(31), t[v], t[v])
		s.andNot(Mem{Base: dy, Disp: s.bytes() * v}, t[v], t[v])
		VMOVUPS(t[v], Mem{Base: dz, Disp: s.bytes() * v})
		VADDPS(t[v], acc[v], acc[v])
	}
	ADDQ(ld, dz)
	ADDQ(ld, dy)
	ADDQ(ld, y)
	DECQ(rows)
	JNZ(LabelRef(loop))
	Label(done)
	for v := range acc {
		VMOVUPS(acc[v], Mem{Base: sum, Disp: s.bytes() * v})
	}
	VZEROUPPER()
	RET()
}

// reluGrad emits the ReLU derivative over n values, a multiple of s.lanes:
//
//	for i < n: dz[i] = dy[i] if y[i] > 0 (its bits minus 1 are not negative) else 0
func (s simd) reluGrad() {
	s.loop("reluGrad", []string{"dz", "dy", "y"}, nil, func(at []Mem, _ []Register) {
		t := s.load(at[2])
		VPSUBD(kc(1), t, t)
		VPSRAD(U8(31), t, t)
		s.andNot(at[1], t, t)
		VMOVUPS(t, at[0])
	})
}

// elementwise emits the vector loops of elementwise.go and pool.go.
func elementwise() {
	for _, s := range []simd{avx512, avx2} {
		for nv := 1; nv <= 4; nv++ {
			s.reluGradSum(nv)
		}
		s.reluGrad()
		s.maxPool2x2()
		s.maxPool2x2Grad()
	}
	avx512.maxPoolCell()
	avx2.maxPoolCell()
	avx512.clampLoop()
	avx2.clampLoop()
	for _, s := range []simd{avx512, avx2} {
		s.biasRows("addBias", "add")
		s.biasRows("biasReLU", "relu")
		s.biasRows("mulRows", "mul")
	}
}

// clampLoop emits y = min(max(z, 0), hi) over n values, a multiple of s.lanes,
// four vectors at a time while it can. NaN stays NaN and -0 becomes +0, as
// Go's max(z, 0) gives: max(0, z) keeps z when either is NaN and takes z =
// -0 as it is, adding +0 turns -0 into +0; min(hi, z) keeps z when either
// is NaN.
func (s simd) clampLoop() {
	name := "clamp" + s.name
	TEXT(name, NOSPLIT, "func(y, z *float32, n int, hi float32)")
	y := Load(Param("y"), GP64())
	z := Load(Param("z"), GP64())
	n := Load(Param("n"), GP64())
	h := Load(Param("hi"), XMM())
	hv, zero := s.vec(), s.zero()
	VBROADCASTSS(h, hv)
	t := make([]VecVirtual, 4)
	for v := range t {
		t[v] = s.vec()
	}
	body := func(nv int) {
		for v := range nv {
			VMAXPS(Mem{Base: z, Disp: s.bytes() * v}, zero, t[v])
			VADDPS(zero, t[v], t[v])
			VMINPS(t[v], hv, t[v])
			VMOVUPS(t[v], Mem{Base: y, Disp: s.bytes() * v})
		}
		ADDQ(U32(s.bytes()*nv), y)
		ADDQ(U32(s.bytes()*nv), z)
	}
	wide, one, done := name+"_wide", name+"_one", name+"_done"
	Label(wide)
	CMPQ(n, U32(4*s.lanes))
	JL(LabelRef(one))
	body(4)
	SUBQ(U32(4*s.lanes), n)
	JMP(LabelRef(wide))
	Label(one)
	TESTQ(n, n)
	JZ(LabelRef(done))
	body(1)
	SUBQ(U32(s.lanes), n)
	JMP(LabelRef(one))
	Label(done)
	VZEROUPPER()
	RET()
}

// biasRows emits name+s.name: y = z + b (op "add"), then max(y, 0) (op
// "relu", as clampLoop takes it), or y = z·b (op "mul"), over rows rows of
// f values, in chunks of s.lanes: in AVX-512 the last one under the mask
// tail (f = 16·(chunks-1) + the bits of tail), in AVX2 f a multiple of 8
// (tail unread):
//
//	for r < rows, j < f: y[r*f+j] = z[r*f+j] + b[j], then max(·, 0); or z[r*f+j]·b[j]
func (s simd) biasRows(name, op string) {
	name += s.name
	TEXT(name, NOSPLIT, "func(y, z, b *float32, rows, f, chunks, tail int)")
	y := Load(Param("y"), GP64())
	z := Load(Param("z"), GP64())
	b := Load(Param("b"), GP64())
	rows := Load(Param("rows"), GP64())
	f := Load(Param("f"), GP64())
	chunks := Load(Param("chunks"), GP64())
	masked := s.lanes == 16
	var cm chunkMask
	if masked {
		cm = loadChunkMask()
	}
	SHLQ(U8(2), f)
	zero, t := s.zero(), s.vec()
	c, j := GP64(), GP64()
	row, chunk := name+"_row", name+"_chunk"
	Label(row)
	MOVQ(chunks, c)
	XORQ(j, j)
	Label(chunk)
	zAt, bAt, yAt := Mem{Base: z, Index: j, Scale: 4}, Mem{Base: b, Index: j, Scale: 4}, Mem{Base: y, Index: j, Scale: 4}
	if masked {
		cm.set(name, c)
		VMOVUPS_Z(zAt, cm.k, t)
		if op == "mul" {
			VMULPS_Z(bAt, t, cm.k, t)
		} else {
			VADDPS_Z(bAt, t, cm.k, t)
		}
	} else {
		VMOVUPS(zAt, t)
		if op == "mul" {
			VMULPS(bAt, t, t)
		} else {
			VADDPS(bAt, t, t)
		}
	}
	if op == "relu" {
		VMAXPS(t, zero, t)
		VADDPS(zero, t, t)
	}
	if masked {
		VMOVUPS(t, cm.k, yAt)
	} else {
		VMOVUPS(t, yAt)
	}
	ADDQ(U8(s.lanes), j)
	DECQ(c)
	JNZ(LabelRef(chunk))
	ADDQ(f, y)
	ADDQ(f, z)
	DECQ(rows)
	JNZ(LabelRef(row))
	VZEROUPPER()
	RET()
}

// chunkMask is the AVX-512 mask of a loop over chunks of 16 values whose
// last one is under the mask tail.
type chunkMask struct {
	tail, full GPVirtual
	k          Register
}

// loadChunkMask loads the parameter tail.
func loadChunkMask() chunkMask {
	m := chunkMask{tail: GP64(), full: GP64(), k: K()}
	Load(Param("tail"), m.tail)
	MOVL(U32(0xffff), m.full.As32())
	return m
}

// set emits k = every lane, or tail's when c, the chunks left, is 1.
func (m chunkMask) set(name string, c Register) {
	KMOVW(m.full.As32(), m.k)
	CMPQ(c, U8(1))
	JNE(LabelRef(name + "_masked"))
	KMOVW(m.tail.As32(), m.k)
	Label(name + "_masked")
}
