package main

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The transforms of Winograd's convolution on 6×6 tiles (see winograd.go):
// F(4×4, 3×3) and F(2×2, 5×5), both on the points 0, 1, −1, 2, −2 and ∞,
// so that they share the input transform Bᵀ·d·B and differ in the output
// transform Aᵀ·M·A. Each runs on 16 channels at a time, nvec times: in one
// vector with AVX-512, in two with AVX2, the same operations in the same
// order, so both give the same bits. With AVX2's 16 registers the
// constants are read from memory rather than kept in registers.

// winoBT is Bᵀ, the input transform.
var winoBT = [][]float64{
	{4, 0, -5, 0, 1, 0},
	{0, -4, -4, 1, 1, 0},
	{0, 4, -4, -1, 1, 0},
	{0, -2, -1, 2, 1, 0},
	{0, 2, -1, -2, 1, 0},
	{0, 4, 0, -5, 0, 1},
}

// winoAT is Aᵀ, the output transform of m×m outputs: 4 and 2 for the
// forward pass, 3 and 5 for the kernel gradients of 3×3 and 5×5 kernels
// (F(3×3, 4×4) and F(5×5, 2×2), the outputs' gradient as the filter).
var winoAT = map[int][][]float64{
	5: {
		{1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 0},
		{0, 1, 1, 4, 4, 0},
		{0, 1, -1, 8, -8, 0},
		{0, 1, 1, 16, 16, 1},
	},
	4: {
		{1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 0},
		{0, 1, 1, 4, 4, 0},
		{0, 1, -1, 8, -8, 1},
	},
	3: {
		{1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 0},
		{0, 1, 1, 4, 4, 1},
	},
	2: {
		{1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 1},
	},
}

var (
	winoValues []float64
	winoTable  *Mem
)

func init() {
	seen := map[float64]bool{1: true, -1: true, 0: true}
	for _, m := range [][][]float64{winoBT, winoAT[4], winoAT[2], winoG(3), winoG(5), winoAT[3], winoAT[5], winoG(4), winoG(2)} {
		for _, row := range m {
			for _, v := range row {
				if !seen[v] {
					seen[v] = true
					winoValues = append(winoValues, v)
				}
			}
		}
	}
}

// winoConst returns the table's 16 copies of v (an AVX2 load reads the
// first 8).
func winoConst(v float64) Mem {
	if winoTable == nil {
		m := GLOBL("winoConsts", RODATA|NOPTR)
		for i, v := range winoValues {
			for j := range 16 {
				DATA(64*i+4*j, U32(math.Float32bits(float32(v))))
			}
		}
		winoTable = &m
	}
	for i, u := range winoValues {
		if u == v {
			return winoTable.Offset(64 * i)
		}
	}
	panic(fmt.Sprintf("winograd_asm: no constant %v", v))
}

// winoApply sets out[i] = Σ_j coef[i][j]·in[j] for every row i of coef,
// in the order of j: the first term (a term of coefficient 1 when there
// is one) and then the others added, subtracted or multiplied and added.
func winoApply(coef [][]float64, in []VecVirtual, out []VecVirtual) {
	for i, row := range coef {
		var terms []int
		for j, c := range row {
			if c != 0 {
				terms = append(terms, j)
			}
		}
		for k, j := range terms {
			if row[j] == 1 {
				terms[0], terms[k] = terms[k], terms[0]
				break
			}
		}
		first, rest := terms[0], terms[1:]
		switch {
		case row[first] == 1 && len(rest) > 0 && (row[rest[0]] == 1 || row[rest[0]] == -1):
			if row[rest[0]] == 1 {
				VADDPS(in[rest[0]], in[first], out[i])
			} else {
				VSUBPS(in[rest[0]], in[first], out[i])
			}
			rest = rest[1:]
		case row[first] == 1:
			VMOVAPS(in[first], out[i])
		default:
			VMULPS(winoConst(row[first]), in[first], out[i])
		}
		for _, j := range rest {
			switch row[j] {
			case 1:
				VADDPS(in[j], out[i], out[i])
			case -1:
				VSUBPS(in[j], out[i], out[i])
			default:
				VFMADD231PS(winoConst(row[j]), in[j], out[i])
			}
		}
	}
}

// winoApplyBT sets out = Bᵀ·in as winoApply(winoBT, ...) does, sharing
// the terms rows have in common (12 arithmetic operations where the rows
// alone take 16): with a = v4 − 4·v2, b = 4·v1 − v3, c = v4 − v2, d = v1 − v3,
//
//	out = [4·v0 − 5·v2 + v4, a − b, a + b, c − 2·d, c + 2·d, 4·v1 − 5·v3 + v5]
//
// k holds the constants 4, −4, −5 and 2, in registers or memory.
func winoApplyBT(v simd, k map[float64]Op, in, out []VecVirtual) {
	a, b, c, d := v.vec(), v.vec(), v.vec(), v.vec()
	VMOVAPS(in[4], a)
	VFMADD231PS(k[-4], in[2], a)
	VMOVAPS(in[3], b)
	VFMSUB231PS(k[4], in[1], b)
	VSUBPS(b, a, out[1])
	VADDPS(b, a, out[2])
	VSUBPS(in[2], in[4], c)
	VSUBPS(in[3], in[1], d)
	VMOVAPS(c, out[3])
	VFNMADD231PS(k[2], d, out[3])
	VFMADD231PS(k[2], d, c)
	VMOVAPS(c, out[4])
	VMOVAPS(in[4], out[0])
	VFMADD231PS(k[4], in[0], out[0])
	VFMADD231PS(k[-5], in[2], out[0])
	VMOVAPS(in[5], out[5])
	VFMADD231PS(k[4], in[1], out[5])
	VFMADD231PS(k[-5], in[3], out[5])
}

// winoApplyAT sets out = Aᵀ·in for m = 4 or 2 outputs as winoApply does,
// sharing terms: with s = v1 + v2, d = v1 − v2, t = v3 + v4, e = v3 − v4,
//
//	out = [v0 + s + t, d + 2·e, s + 4·t, d + 8·e + v5]   (m = 4)
//	out = [v0 + s + t, d + 2·e + v5]                     (m = 2)
//
// k holds the constants 2, 4 and 8, in registers or memory.
func winoApplyAT(v simd, m int, k map[float64]Op, in, out []VecVirtual) {
	s, d, t, e := v.vec(), v.vec(), v.vec(), v.vec()
	VADDPS(in[2], in[1], s)
	VSUBPS(in[2], in[1], d)
	VADDPS(in[4], in[3], t)
	VSUBPS(in[4], in[3], e)
	VADDPS(s, in[0], out[0])
	VADDPS(t, out[0], out[0])
	if m == 2 {
		VADDPS(in[5], d, out[1])
		VFMADD231PS(k[2], e, out[1])
		return
	}
	VMOVAPS(d, out[1])
	VFMADD231PS(k[2], e, out[1])
	VMOVAPS(s, out[2])
	VFMADD231PS(k[4], t, out[2])
	VADDPS(in[5], d, out[3])
	VFMADD231PS(k[8], e, out[3])
}

// winoRegs returns the constants vs: loaded into registers with AVX-512,
// in the table with AVX2, which has too few registers to keep them.
func winoRegs(v simd, vs ...float64) map[float64]Op {
	k := map[float64]Op{}
	for _, c := range vs {
		k[c] = winoConst(c)
		if v.lanes == 16 {
			r := v.vec()
			VMOVUPS(winoConst(c), r)
			k[c] = r
		}
	}
	return k
}

// vecs returns n vector registers of v.
func (v simd) vecs(n int) []VecVirtual {
	r := make([]VecVirtual, n)
	for i := range r {
		r[i] = v.vec()
	}
	return r
}

// winoLoop starts the loop over the vectors of 16 values: nvec times with
// AVX-512, 2·nvec with AVX2. It returns the bytes of one vector.
func (v simd) winoLoop(name string, nvec Register) int {
	if v.lanes == 8 {
		SHLQ(U8(1), nvec)
	}
	Label(name + "_vec")
	return 4 * v.lanes
}

// winoTwoSided emits a transform of one k×k window into 36 cells, V =
// T·d·Tᵀ with T 6×k, for nvec vectors of 16 values:
//
//	for c < 16·nvec, l < 6, q < 6:
//		v[(l*6+q)*ps + c] = Σ_{i,j < k} T[l][i] · x[i*ldx + j*cx + c] · T[q][j]
//
// the columns of d first (T·d into s, 6·k vectors of scratch), then its
// rows. Strides count floats. The input transform is T = Bᵀ (k = 6), the
// kernel's T = G (k = 3 or 5), that of a tile of the outputs' gradient
// for the kernel gradient T = G (k = 4 or 2).
func winoTwoSided(v simd, name string, t [][]float64, bt bool) {
	name += v.name
	k := len(t[0])
	TEXT(name, NOSPLIT, "func(v, x, s *float32, ldx, cx, ps, nvec int)")
	vp := Load(Param("v"), GP64())
	x := Load(Param("x"), GP64())
	s := Load(Param("s"), GP64())
	ldx := Load(Param("ldx"), GP64())
	cx := Load(Param("cx"), GP64())
	ps := Load(Param("ps"), GP64())
	nvec := Load(Param("nvec"), GP64())
	SHLQ(U8(2), ldx)
	SHLQ(U8(2), cx)
	SHLQ(U8(2), ps)
	ld3 := GP64()
	LEAQ(Mem{Base: ldx, Index: ldx, Scale: 2}, ld3)
	col, col3, out := GP64(), GP64(), GP64()
	in, res := v.vecs(k), v.vecs(6)
	apply := func() { winoApply(t, in, res) }
	if bt {
		regs := winoRegs(v, 4, -4, -5, 2)
		apply = func() { winoApplyBT(v, regs, in, res) }
	}
	size := v.winoLoop(name, nvec)
	MOVQ(x, col)
	for j := range k {
		LEAQ(Mem{Base: col, Index: ld3, Scale: 1}, col3)
		rows := []Mem{
			{Base: col}, {Base: col, Index: ldx, Scale: 1}, {Base: col, Index: ldx, Scale: 2},
			{Base: col3}, {Base: col, Index: ldx, Scale: 4}, {Base: col3, Index: ldx, Scale: 2},
		}
		for i := range k {
			VMOVUPS(rows[i], in[i])
		}
		apply()
		for l := range 6 {
			VMOVUPS(res[l], Mem{Base: s, Disp: size * (l*k + j)})
		}
		ADDQ(cx, col)
	}
	MOVQ(vp, out)
	for l := range 6 {
		for j := range k {
			VMOVUPS(Mem{Base: s, Disp: size * (l*k + j)}, in[j])
		}
		apply()
		for q := range 6 {
			VMOVUPS(res[q], Mem{Base: out})
			ADDQ(ps, out)
		}
	}
	ADDQ(U32(size), x)
	ADDQ(U32(size), vp)
	DECQ(nvec)
	JNZ(LabelRef(name + "_vec"))
	VZEROUPPER()
	RET()
}

// winoG returns G for kernels of r taps (6×r): row j < 5 holds p_j^k /
// Π_{l≠j} (p_j − p_l) for the point p_j, the last row picks the last tap
// (as in winograd.go).
func winoG(r int) [][]float64 {
	points := []float64{0, 1, -1, 2, -2}
	g := make([][]float64, 6)
	for j := range g {
		g[j] = make([]float64, r)
	}
	for j, p := range points {
		d := 1.0
		for l, q := range points {
			if l != j {
				d *= p - q
			}
		}
		for k := range r {
			g[j][k] = float64(float32(math.Pow(p, float64(k)) / d))
		}
	}
	g[5][r-1] = 1
	return g
}

// winoOutput emits the output transform of one tile of m×m outputs,
// Y = Aᵀ·M·A, plus the bias, then max(·, floor), for nvec vectors of 16
// filters:
//
//	for f < 16·nvec, a < m, b < m:
//		z[a*ldz + b*cz + f] = max(bias[f] + Σ_{l,k} Aᵀ[a][l] · mm[(l*6+k)*ps + f] · Aᵀ[b][k], floor)
//
// the rows of M first (M·A into s, 6·m vectors of scratch), then its
// columns. floor is 0 for a ReLU, −∞ for none (a NaN stays a NaN).
// Strides count floats. m = 3 and 5 transform the kernel gradient's sums
// into 3×3 and 5×5 kernels (their rows alone, with winoApply).
func winoOutput(v simd, m int) {
	name := fmt.Sprintf("winoOutput%d%s", m, v.name)
	TEXT(name, NOSPLIT, "func(z, mm, bias, s *float32, ps, ldz, cz, nvec int, floor float32)")
	z := Load(Param("z"), GP64())
	mm := Load(Param("mm"), GP64())
	bias := Load(Param("bias"), GP64())
	s := Load(Param("s"), GP64())
	ps := Load(Param("ps"), GP64())
	ldz := Load(Param("ldz"), GP64())
	cz := Load(Param("cz"), GP64())
	nvec := Load(Param("nvec"), GP64())
	floor := v.vec()
	VBROADCASTSS(Load(Param("floor"), XMM()), floor)
	SHLQ(U8(2), ps)
	SHLQ(U8(2), ldz)
	SHLQ(U8(2), cz)
	ld3 := GP64()
	LEAQ(Mem{Base: ldz, Index: ldz, Scale: 2}, ld3)
	p, col := GP64(), GP64()
	in, res, b := v.vecs(6), v.vecs(m), v.vec()
	apply := func() { winoApply(winoAT[m], in, res) }
	if m == 4 || m == 2 {
		regs := winoRegs(v, 2, 4, 8)
		apply = func() { winoApplyAT(v, m, regs, in, res) }
	}
	// Aᵀ applied to the rows of M: the rows of M·A are Aᵀ·(rows of M).
	size := v.winoLoop(name, nvec)
	MOVQ(mm, p)
	for l := range 6 {
		for k := range 6 {
			VMOVUPS(Mem{Base: p}, in[k])
			ADDQ(ps, p)
		}
		apply()
		for c := range m {
			VMOVUPS(res[c], Mem{Base: s, Disp: size * (l*m + c)})
		}
	}
	VMOVUPS(Mem{Base: bias}, b)
	MOVQ(z, col)
	for c := range m {
		for l := range 6 {
			VMOVUPS(Mem{Base: s, Disp: size * (l*m + c)}, in[l])
		}
		apply()
		rows := []Mem{{Base: col}, {Base: col, Index: ldz, Scale: 1}, {Base: col, Index: ldz, Scale: 2}, {Base: col, Index: ld3, Scale: 1}, {Base: col, Index: ldz, Scale: 4}}
		for a := range m {
			VADDPS(b, res[a], res[a])
			VMAXPS(res[a], floor, res[a])
			VMOVUPS(res[a], rows[a])
		}
		ADDQ(cz, col)
	}
	ADDQ(U32(size), mm)
	ADDQ(U32(size), z)
	ADDQ(U32(size), bias)
	DECQ(nvec)
	JNZ(LabelRef(name + "_vec"))
	VZEROUPPER()
	RET()
}

func winograd() {
	for _, v := range []simd{avx512, avx2} {
		winoTwoSided(v, "winoInput", winoBT, true)
		winoTwoSided(v, "winoFilter3", winoG(3), false)
		winoTwoSided(v, "winoFilter5", winoG(5), false)
		winoOutput(v, 4)
		winoOutput(v, 2)
		winoTwoSided(v, "winoFilter4", winoG(4), false)
		winoTwoSided(v, "winoFilter2", winoG(2), false)
		winoOutput(v, 3)
		winoOutput(v, 5)
	}
}
