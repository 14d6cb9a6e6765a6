package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// bf16 emits the bfloat16 GEMM's micro-kernels and conversion with
// AVX512-BF16 (see gemm_bf16.go). Neither avo nor Go's assembler knows
// VDPBF16PS or VCVTNE2PS2BF16, so they are written out as their EVEX bytes
// (evex), on fixed registers.
func bf16() {
	bf16Kernel("gemmBF16Kernel12x32", 12, 1)
	for np := 1; np <= 4; np++ {
		bf16Kernel(fmt.Sprintf("gemmBF16Kernel1x%d", 32*np), 1, np)
	}
	bf16Convert()
	bf16Across()
}

// bf16Signature is that of every bfloat16 micro-kernel; the arguments
// alpha and beta are at bytes 64 and 68 of the frame.
const bf16Signature = "func(kp int, a *uint32, rsA, csA int, b *uint32, panel int, c *float32, ldc int, alpha, beta float32)"

// bf16Kernel emits the micro-kernel of mr rows of C by np slivers of B,
// 32 columns each, panel words apart (the blocks of B packed by
// bf16Plan.packB): the accumulators of row i and sliver s in Z(2(i·np+s))
// and the next register, the vectors of B pairs of a step in the 2·np
// registers after the last, and the pair of A of each row broadcast into
// up to four more in turn. Row i of A is at base[i/4] + (i%4)·rsA, as in
// the float32 kernels; sliver s of B at b + s·panel words, in the same
// way.
//
//	for i < mr, j < 32·np:
//		s := float32(0)
//		for q < kp:
//			w := b[(j/32)*panel+q*32+j%32]
//			s += hi(a[i*rsA+q*csA]) * hi(w)
//			s += lo(a[i*rsA+q*csA]) * lo(w)
//		if beta == 0 { c[i*ldc+j] = alpha*s } else { c[i*ldc+j] = alpha*s + beta*c[i*ldc+j] }
func bf16Kernel(name string, mr, np int) {
	TEXT(name, NOSPLIT, bf16Signature)
	k, rs, cs, b, a := RCX, R8, R9, RBX, RAX
	Load(Param("kp"), k)
	Load(Param("a"), a)
	Load(Param("rsA"), rs)
	Load(Param("csA"), cs)
	Load(Param("b"), b)
	Comment("Strides in bytes; row i of A is at base[i/4] + (i%4)*rs.")
	SHLQ(U8(2), rs)
	SHLQ(U8(2), cs)
	base, rowAddr := rowBases(a, rs, R10, mr, R11, R12)
	sliver := func(int) Mem { return Mem{Base: b} }
	if np > 1 {
		Comment("Sliver s of B is at b + s*panel, panel in bytes.")
		panel := RSI
		Load(Param("panel"), panel)
		SHLQ(U8(2), panel)
		_, sliver = rowBases(b, panel, RDI, np)
	}
	vecs := 2 * np
	acc := func(i, v int) VecPhysical { return zmm(vecs*i + v) }
	bv := func(v int) VecPhysical { return zmm(vecs*mr + v) }
	bcasts := min(4, 32-vecs*(mr+1))
	Comment("Zero the accumulators.")
	for i := range mr {
		for v := range vecs {
			VXORPS(acc(i, v), acc(i, v), acc(i, v))
		}
	}
	loop, done := name+"_loop", name+"_done"
	TESTQ(k, k)
	JZ(LabelRef(done))
	Label(loop)
	Comment("One step of two in k: acc[i][:] += a pair of row i · the pairs of b[:].")
	for v := range vecs {
		m := sliver(v / 2)
		m.Disp += 64 * (v % 2)
		VMOVUPS(m, bv(v))
	}
	for i := range mr {
		t := zmm(vecs*(mr+1) + i%bcasts)
		VPBROADCASTD(rowAddr(i), t)
		for v := range vecs {
			dpbf16(acc(i, v), t, bv(v))
		}
	}
	for _, r := range base {
		ADDQ(cs, r)
	}
	ADDQ(U32(4*32), b)
	DECQ(k)
	JNZ(LabelRef(loop))
	Label(done)

	Comment("Write C: alpha*acc, plus beta*C unless beta is zero.")
	c, ldc := RDX, RSI
	Load(Param("c"), c)
	Load(Param("ldc"), ldc)
	SHLQ(U8(2), ldc)
	alpha, beta := bv(0), bv(1)
	VBROADCASTSS(NewParamAddr("alpha", 64), alpha)
	MOVL(NewParamAddr("beta", 68), EDI)
	ANDL(U32(0x7fffffff), EDI)
	store, end := name+"_store", name+"_end"
	JZ(LabelRef(store))
	VBROADCASTSS(NewParamAddr("beta", 68), beta)
	for i := range mr {
		for v := range vecs {
			m := Mem{Base: c, Disp: 64 * v}
			VMULPS(alpha, acc(i, v), acc(i, v))
			VFMADD231PS(m, beta, acc(i, v))
			VMOVUPS(acc(i, v), m)
		}
		ADDQ(ldc, c)
	}
	JMP(LabelRef(end))
	Label(store)
	for i := range mr {
		for v := range vecs {
			VMULPS(alpha, acc(i, v), acc(i, v))
			VMOVUPS(acc(i, v), Mem{Base: c, Disp: 64 * v})
		}
		ADDQ(ldc, c)
	}
	Label(end)
	VZEROUPPER()
	RET()
}

// bf16Convert emits convertBF16AVX512, which rounds n float32s (n a
// multiple of 32) to bfloat16 as ToBF16 does:
//
//	for i < n: dst[i] = ToBF16(src[i])
func bf16Convert() {
	const name = "convertBF16AVX512"
	TEXT(name, NOSPLIT, "func(dst *uint16, src *float32, n int)")
	dst, src, n := RDI, RSI, RCX
	Load(Param("dst"), dst)
	Load(Param("src"), src)
	Load(Param("n"), n)
	loop, done := name+"_loop", name+"_done"
	SHRQ(U8(5), n)
	JZ(LabelRef(done))
	Label(loop)
	VMOVUPS(Mem{Base: src}, Z0)
	VMOVUPS(Mem{Base: src, Disp: 64}, Z1)
	cvtne2ps2bf16(Z2, Z1, Z0)
	VMOVDQU16(Z2, Mem{Base: dst})
	ADDQ(U32(128), src)
	ADDQ(U8(64), dst)
	DECQ(n)
	JNZ(LabelRef(loop))
	Label(done)
	VZEROUPPER()
	RET()
}

// bf16Across emits acrossBF16AVX512, which pairs two rows of n float32s (n
// a multiple of 32) in bfloat16, 32 pairs at a time panel words apart:
//
//	for j < n: dst[(j/32)*panel+j%32] = ToBF16(lo[j]) | ToBF16(hi[j])<<16
func bf16Across() {
	const name = "acrossBF16AVX512"
	TEXT(name, NOSPLIT, "func(dst *uint32, lo, hi *float32, n, panel int)")
	dst, lo, hi, n, panel := RDI, RSI, RDX, RCX, R8
	Load(Param("dst"), dst)
	Load(Param("lo"), lo)
	Load(Param("hi"), hi)
	Load(Param("n"), n)
	Load(Param("panel"), panel)
	SHLQ(U8(2), panel)
	loop, done := name+"_loop", name+"_done"
	SHRQ(U8(5), n)
	JZ(LabelRef(done))
	Label(loop)
	for h := range 2 {
		Comment("16 pairs: lo's bfloat16 in the low halves, hi's in the high ones.")
		VMOVUPS(Mem{Base: lo, Disp: 64 * h}, Z0)
		VMOVUPS(Mem{Base: hi, Disp: 64 * h}, Z1)
		cvtne2ps2bf16(Z2, Z1, Z0)
		VPMOVZXWD(Y2, Z3)
		VEXTRACTI64X4(U8(1), Z2, Y4)
		VPMOVZXWD(Y4, Z4)
		VPSLLD(U8(16), Z4, Z4)
		VPORD(Z4, Z3, Z3)
		VMOVDQU32(Z3, Mem{Base: dst, Disp: 64 * h})
	}
	ADDQ(U32(128), lo)
	ADDQ(U32(128), hi)
	ADDQ(panel, dst)
	DECQ(n)
	JNZ(LabelRef(loop))
	Label(done)
	VZEROUPPER()
	RET()
}

// zmm returns the physical register Zn.
func zmm(n int) VecPhysical {
	return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}[n]
}

// dpbf16 emits VDPBF16PS m, v, d (Intel's VDPBF16PS d, v, m): for each
// lane l of 16, d[l] += v.bf16[2l+1]·m.bf16[2l+1] + v.bf16[2l]·m.bf16[2l].
func dpbf16(d, v, m VecPhysical) {
	evex(fmt.Sprintf("VDPBF16PS %s, %s, %s", m.Asm(), v.Asm(), d.Asm()), 0x2, 0x52, d, v, m, []Op{d, v, m}, []Op{d})
}

// cvtne2ps2bf16 emits VCVTNE2PS2BF16 m, v, d (Intel's VCVTNE2PS2BF16 d, v,
// m): the 16 float32s of m rounded to bfloat16 in the low half of d, those
// of v in the high half.
func cvtne2ps2bf16(d, v, m VecPhysical) {
	evex(fmt.Sprintf("VCVTNE2PS2BF16 %s, %s, %s", m.Asm(), v.Asm(), d.Asm()), 0x3, 0x72, d, v, m, []Op{v, m}, []Op{d})
}

// evex emits a 512-bit EVEX instruction of map 0F38, W0, with the prefix
// pp (2 for F3, 3 for F2), on registers only: ModRM.reg is d, EVEX.vvvv is
// v, ModRM.rm is m. The bytes carry the instruction's registers for avo's
// liveness analysis.
func evex(comment string, pp, opcode byte, d, v, m VecPhysical, inputs, outputs []Op) {
	r, vv, rm := byte(d.PhysicalIndex()), byte(v.PhysicalIndex()), byte(m.PhysicalIndex())
	inv := func(x, bit byte) byte { return (x>>bit)&1 ^ 1 }
	bytes := []byte{
		0x62,
		inv(r, 3)<<7 | inv(rm, 4)<<6 | inv(rm, 3)<<5 | inv(r, 4)<<4 | 0x2,
		(^vv&15)<<3 | 0x4 | pp,
		0x40 | inv(vv, 4)<<3,
		opcode,
		0xc0 | (r&7)<<3 | rm&7,
	}
	Comment(comment)
	for n, x := range bytes {
		in := &ir.Instruction{Opcode: "BYTE", Operands: []Op{U8(x)}}
		if n == 0 {
			in.Inputs, in.Outputs, in.ISA = inputs, outputs, []string{"AVX512_BF16"}
		}
		Instruction(in)
	}
}
