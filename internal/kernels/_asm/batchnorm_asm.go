package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The batch normalisation loops of batchnorm.go for one block of 16
// columns: each column's float64 values in two ZMM registers of 8 lanes
// (h = 0 for columns 0..7, 1 for 8..15), its float32 values in YMM halves.
// Every operation is the IEEE operation of the Go loop, in its order (no
// fused multiply-add), so the results are the same bits.

// bnRows is the loop over the rows: body emits one row, whose first value
// of the block is at the pointers, which advance by ld floats after it.
func bnRows(name string, rows, ld GPVirtual, ptrs []GPVirtual, body func()) {
	SHLQ(U8(2), ld)
	loop, done := name+"_row", name+"_done"
	TESTQ(rows, rows)
	JZ(LabelRef(done))
	Label(loop)
	body()
	for _, p := range ptrs {
		ADDQ(ld, p)
	}
	DECQ(rows)
	JNZ(LabelRef(loop))
	Label(done)
}

// gp loads the pointer or integer argument name into a register.
func gp(name string) GPVirtual {
	r := GP64()
	Load(Param(name), r)
	return r
}

// pair loads the 16 float64s at p into two ZMM registers.
func pair(p GPVirtual) [2]VecVirtual {
	v := [2]VecVirtual{ZMM(), ZMM()}
	for h := range v {
		VMOVUPD(Mem{Base: p, Disp: 64 * h}, v[h])
	}
	return v
}

// halves loads the 16 float32s at p into two YMM registers.
func halves(p GPVirtual) [2]VecVirtual {
	v := [2]VecVirtual{YMM(), YMM()}
	for h := range v {
		VMOVUPS(Mem{Base: p, Disp: 32 * h}, v[h])
	}
	return v
}

func storePair(v [2]VecVirtual, p GPVirtual) {
	for h := range v {
		VMOVUPD(v[h], Mem{Base: p, Disp: 64 * h})
	}
}

// xhat emits t = float64(x[h half]) - mean, times invStd: the normalised
// value in float64, before its rounding to float32.
func xhat(x GPVirtual, h int, mean, invStd [2]VecVirtual) VecVirtual {
	t := ZMM()
	VCVTPS2PD(Mem{Base: x, Disp: 32 * h}, t)
	VSUBPD(mean[h], t, t)
	VMULPD(invStd[h], t, t)
	return t
}

// bnColumnSums emits bnSum16AVX512 (squared false):
//
//	for r, j: sum[j] += float64(x[r*ld+j])
//
// or bnSqDev16AVX512 (squared true):
//
//	for r, j: d := float64(x[r*ld+j]) - mean[j]; sum[j] += d * d
func bnColumnSums(squared bool) {
	name, sig := "bnSum16AVX512", "func(sum *float64, x *float32, rows, ld int)"
	if squared {
		name, sig = "bnSqDev16AVX512", "func(sum, mean *float64, x *float32, rows, ld int)"
	}
	TEXT(name, NOSPLIT, sig)
	sum := gp("sum")
	var m [2]VecVirtual
	if squared {
		m = pair(gp("mean"))
	}
	x := gp("x")
	rows, ld := gp("rows"), gp("ld")
	acc := pair(sum)
	bnRows(name, rows, ld, []GPVirtual{x}, func() {
		for h := range 2 {
			t := ZMM()
			VCVTPS2PD(Mem{Base: x, Disp: 32 * h}, t)
			if squared {
				VSUBPD(m[h], t, t)
				VMULPD(t, t, t)
			}
			VADDPD(t, acc[h], acc[h])
		}
	})
	storePair(acc, sum)
	VZEROUPPER()
	RET()
}

// bnOutput: for r, j: y[r*ld+j] = g[j]*float32((float64(x[r*ld+j])-mean[j])*invStd[j]) + b[j]
func bnOutput() {
	name := "bnOutput16AVX512"
	TEXT(name, NOSPLIT, "func(y, x *float32, mean, invStd *float64, gamma, beta *float32, rows, ld int)")
	y, x := gp("y"), gp("x")
	m, s := pair(gp("mean")), pair(gp("invStd"))
	g, b := halves(gp("gamma")), halves(gp("beta"))
	rows, ld := gp("rows"), gp("ld")
	bnRows(name, rows, ld, []GPVirtual{x, y}, func() {
		for h := range 2 {
			t := xhat(x, h, m, s)
			f := YMM()
			VCVTPD2PS(t, f)
			VMULPS(f, g[h], f)
			VADDPS(b[h], f, f)
			VMOVUPS(f, Mem{Base: y, Disp: 32 * h})
		}
	})
	VZEROUPPER()
	RET()
}

// bnGradSums: for r, j: h := float32((float64(x[r*ld+j])-mean[j])*invStd[j])
//
//	sum[j] += float64(dy[r*ld+j]); sumXhat[j] += float64(dy[r*ld+j]) * float64(h)
func bnGradSums() {
	name := "bnGradSums16AVX512"
	TEXT(name, NOSPLIT, "func(sum, sumXhat, mean, invStd *float64, dy, x *float32, rows, ld int)")
	sum, sumXhat := gp("sum"), gp("sumXhat")
	m, s := pair(gp("mean")), pair(gp("invStd"))
	dy, x := gp("dy"), gp("x")
	rows, ld := gp("rows"), gp("ld")
	acc, accX := pair(sum), pair(sumXhat)
	bnRows(name, rows, ld, []GPVirtual{x, dy}, func() {
		for h := range 2 {
			t := xhat(x, h, m, s)
			f := YMM()
			VCVTPD2PS(t, f)
			VCVTPS2PD(f, t)
			d := ZMM()
			VCVTPS2PD(Mem{Base: dy, Disp: 32 * h}, d)
			VADDPD(d, acc[h], acc[h])
			VMULPD(t, d, t)
			VADDPD(t, accX[h], accX[h])
		}
	})
	storePair(acc, sum)
	storePair(accX, sumXhat)
	VZEROUPPER()
	RET()
}

// gradInput emits the frame of the input gradients' loops: for each row
// and half, u = float64(dy) and t = float64(h), h the normalised input
// rounded to float32 as the output used it; formula leaves dx's value in
// u, stored rounded to float32.
func gradInput(name, signature string, params func(), formula func(h int, u, t VecVirtual)) {
	TEXT(name, NOSPLIT, signature)
	dx, dy, x := gp("dx"), gp("dy"), gp("x")
	m, s := pair(gp("mean")), pair(gp("invStd"))
	params()
	rows, ld := gp("rows"), gp("ld")
	bnRows(name, rows, ld, []GPVirtual{x, dy, dx}, func() {
		for h := range 2 {
			t := xhat(x, h, m, s)
			f := YMM()
			VCVTPD2PS(t, f)
			VCVTPS2PD(f, t)
			u := ZMM()
			VCVTPS2PD(Mem{Base: dy, Disp: 32 * h}, u)
			formula(h, u, t)
			VCVTPD2PS(u, f)
			VMOVUPS(f, Mem{Base: dx, Disp: 32 * h})
		}
	})
	VZEROUPPER()
	RET()
}

// bnGradInput: for r, j: h := float32((float64(x[r*ld+j])-mean[j])*invStd[j])
//
//	dx[r*ld+j] = float32(scale[j] * (n*float64(dy[r*ld+j]) - sum[j] - float64(h)*sumXhat[j]))
func bnGradInput() {
	var scale, sum, sumXhat [2]VecVirtual
	var n VecVirtual
	gradInput("bnGradInput16AVX512", "func(dx, dy, x *float32, mean, invStd, scale, sum, sumXhat *float64, n float64, rows, ld int)", func() {
		scale = pair(gp("scale"))
		sum, sumXhat = pair(gp("sum")), pair(gp("sumXhat"))
		n = ZMM()
		VBROADCASTSD(Load(Param("n"), XMM()), n)
	}, func(h int, u, t VecVirtual) {
		VMULPD(u, n, u)
		VSUBPD(sum[h], u, u)
		VMULPD(sumXhat[h], t, t)
		VSUBPD(t, u, u)
		VMULPD(u, scale[h], u)
	})
}

// gnGradInput: for r, j: h := float32((float64(x[r*ld+j])-mean[j])*invStd[j])
//
//	dx[r*ld+j] = float32(a[j]*float64(dy[r*ld+j]) - b[j] - float64(h)*c[j])
func gnGradInput() {
	var a, b, c [2]VecVirtual
	gradInput("gnGradInput16AVX512", "func(dx, dy, x *float32, mean, invStd, a, b, c *float64, rows, ld int)", func() {
		a, b, c = pair(gp("a")), pair(gp("b")), pair(gp("c"))
	}, func(h int, u, t VecVirtual) {
		VMULPD(a[h], u, u)
		VSUBPD(b[h], u, u)
		VMULPD(c[h], t, t)
		VSUBPD(t, u, u)
	})
}

// batchNorm emits the loops of batchnorm.go.
func batchNorm() {
	bnColumnSums(false)
	bnColumnSums(true)
	bnOutput()
	bnGradSums()
	bnGradInput()
	gnGradInput()
}
