package kernels

import "math"

// The smooth activation functions in float32, built on sigmoid.go's
// exponential (exp32), each operation rounded to float32 on its own:
//
//	tanh      Cephes's tanhf: x + x³·P(x²) below |x| = 0.625, else
//	          1 - 2/(e^2|x| + 1), with x's sign
//	elu       scale·x above 0, else scale·alpha·(e^x - 1), e^x - 1 from the
//	          exponential's own parts (no cancellation near 0)
//	softplus  max(x, 0) + log1p(e^-|x|), log1p(u) = log(1+u)·u/((1+u) - 1)
//	          (Goldberg), log Cephes's logf
//	gelu      x·Φ(x), Φ(x) = 1 - erfc(x/√2)/2 for x ≥ 0, erfc(|x|/√2)/2
//	          below, erfc(u) = τ·e^(P(τ) - u²), τ = 1/(1 + u/2), P of degree
//	          9 (Numerical Recipes' erfcc, relative error below 1.2e-7)
//	mish      x·tanh(softplus(x)) = x·n/(n + 2), n = e^x·(e^x + 2)
//
// and the derivatives of elu (from its output), softplus (σ(x)), gelu
// (Φ(x) + x·φ(x)) and mish (n/(n+2) + x·4e^x(e^x + 1)/(n + 2)²) at their
// input; and, in the same loops, leaky ReLU and its derivative. Every function is within a few float32 roundings of its value
// relative, gelu's below -√2 within x²/2 times that (the rounding of x² in
// e^-x²/2), or 1e-35 absolute where the exponentials are clamped at ±87;
// NaN gives NaN. The AVX-512 and AVX2 loops
// (internal/kernels/_asm/smooth_asm.go) run the same operations in the same
// order, without fused multiply-adds, and give the same bits.

// exp32 returns e^x for x in [-87, 87], as sigmoidParts computes it, and
// q = e^r - 1 of the reduction e^x = 2^k·e^r, whose k it reports too.
func exp32(x float32) (e, q, k float32) {
	k = float32(math.RoundToEven(float64(x * log2e)))
	// float32(a*b) keeps each product rounded on its own: no fused
	// multiply-add, as in the vector loops.
	r := x - float32(k*expC1)
	r -= float32(k * expC2)
	z := r * r
	q = float32(horner(r, expP[:])*z) + r
	return float32((q + 1) * math.Float32frombits(uint32(int32(k)+127)<<23)), q, k
}

// expClamped is e^x with x clamped to [-87, 87].
func expClamped(x float32) float32 {
	e, _, _ := exp32(min(max(x, -expClamp), expClamp))
	return e
}

// expm1Neg32 is e^x - 1 for x ≤ 0, x clamped at -87.
func expm1Neg32(x float32) float32 {
	e, q, k := exp32(max(x, -expClamp))
	if k == 0 {
		return q
	}
	return e - 1
}

// horner is ((cs[0]·t + cs[1])·t + …) + cs[n-1], each product rounded on
// its own.
func horner(t float32, cs []float32) float32 {
	p := cs[0]
	for _, c := range cs[1:] {
		p = float32(p*t) + c
	}
	return p
}

// The coefficients of Cephes's tanhf, for |x| < 0.625.
var tanhP = [...]float32{-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1}

func tanh32(x float32) float32 {
	a := math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
	if a >= 0.625 {
		s := expClamped(a + a)
		t := 1 - 2/(s+1)
		return math.Float32frombits(math.Float32bits(t) | math.Float32bits(x)&(1<<31))
	}
	s := x * x
	return float32(float32(horner(s, tanhP[:])*s)*x) + x
}

// Tanh sets y = tanh(z); y may alias z.
func Tanh(y, z []float32) { mapSmooth(y, z, tanhAVX512, tanhAVX2, tanh32) }

// ELU sets y = scale·z for z > 0, scale·alpha·(e^z - 1) else (Keras's elu
// for scale 1, selu for its constants); y may alias z.
func ELU(y, z []float32, alpha, scale float32) {
	sa := scale * alpha
	v512 := func(y, z *float32, n int) { eluAVX512(y, z, n, sa, scale) }
	v2 := func(y, z *float32, n int) { eluAVX2(y, z, n, sa, scale) }
	mapSmooth(y, z, v512, v2, func(v float32) float32 {
		if v > 0 {
			return scale * v
		}
		return sa * expm1Neg32(v)
	})
}

// ELUGrad sets dz = dy·scale where the output y of ELU is above 0,
// dy·(y + scale·alpha) elsewhere: the derivative of ELU from its output. dz
// may alias dy.
func ELUGrad(dz, dy, y []float32, alpha, scale float32) {
	sa := scale * alpha
	v512 := func(dz, dy, y *float32, n int) { eluGradAVX512(dz, dy, y, n, sa, scale) }
	v2 := func(dz, dy, y *float32, n int) { eluGradAVX2(dz, dy, y, n, sa, scale) }
	gradSmooth(dz, dy, y, v512, v2, func(d, v float32) float32 {
		if v > 0 {
			return d * scale
		}
		return d * (v + sa)
	})
}

// LeakyReLU sets y = z for z ≥ 0 (and NaN), alpha·z below; y may alias z.
func LeakyReLU(y, z []float32, alpha float32) {
	v512 := func(y, z *float32, n int) { leakyReLUAVX512(y, z, n, alpha) }
	v2 := func(y, z *float32, n int) { leakyReLUAVX2(y, z, n, alpha) }
	// -v > 0 exactly where v < 0 (not -0, not NaN).
	mapSmooth(y, z, v512, v2, func(v float32) float32 { return pick(-v, v*alpha, v) })
}

// LeakyReLUGrad sets dz = dy where LeakyReLU's output y is above 0,
// dy·alpha elsewhere; dz may alias dy.
func LeakyReLUGrad(dz, dy, y []float32, alpha float32) {
	v512 := func(dz, dy, y *float32, n int) { leakyReLUGradAVX512(dz, dy, y, n, alpha) }
	v2 := func(dz, dy, y *float32, n int) { leakyReLUGradAVX2(dz, dy, y, n, alpha) }
	gradSmooth(dz, dy, y, v512, v2, func(d, v float32) float32 { return pick(v, d, d*alpha) })
}

// The coefficients of Cephes's logf.
var logP = [...]float32{7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
	-1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1}

// log32 is log(w) for a finite w > 0, as Cephes's logf computes it: w =
// m·2^e with m in [√½, √2), log(m) = f - f²/2 + f³·P(f), f = m - 1.
func log32(w float32) float32 {
	b := math.Float32bits(w)
	e := float32(int32(b>>23) - 126)
	m := math.Float32frombits(b&0x807fffff | 0x3f000000) // [0.5, 1)
	if m < math.Sqrt2/2 {
		e--
		m += m
	}
	f := m - 1
	z := f * f
	y := float32(float32(horner(f, logP[:])*f) * z)
	y += float32(e * expC2)
	y -= float32(0.5 * z)
	f += y
	return f + float32(e*expC1)
}

func softplus32(x float32) float32 {
	a := math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
	u := expClamped(-a)
	w := 1 + u
	l := u
	if w != 1 {
		l = float32(log32(w) * float32(u/(w-1)))
	}
	return max(x, 0) + l
}

// Softplus sets y = log(1 + e^z); y may alias z.
func Softplus(y, z []float32) { mapSmooth(y, z, softplusAVX512, softplusAVX2, softplus32) }

// SoftplusGrad sets dz = dy·σ(z), the derivative of Softplus at z; dz may
// alias dy.
func SoftplusGrad(dz, dy, z []float32) {
	gradSmooth(dz, dy, z, softplusGradAVX512, softplusGradAVX2, func(d, v float32) float32 { return d * sigmoid32(v) })
}

// The constants of erfcc and of the normal density.
const (
	invSqrt2   = 0.70710678118654752
	invSqrt2Pi = 0.39894228040143268
)

var erfcP = [...]float32{0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223}

// normalCDF32 is Φ(x) = erfc(-x/√2)/2.
func normalCDF32(x float32) float32 {
	a := math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
	u := float32(a * invSqrt2)
	t := 1 / (1 + float32(0.5*u))
	h := float32(0.5 * float32(t*expClamped(horner(t, erfcP[:])-float32(u*u))))
	if x >= 0 {
		return 1 - h
	}
	return h
}

func gelu32(x float32) float32 { return x * normalCDF32(x) }

// GELU sets y = z·Φ(z), Φ the normal distribution function (Keras's gelu,
// PyTorch's GELU, both exact); y may alias z.
func GELU(y, z []float32) { mapSmooth(y, z, geluAVX512, geluAVX2, gelu32) }

// GELUGrad sets dz = dy·(Φ(z) + z·φ(z)), the derivative of GELU at z, φ
// the normal density; dz may alias dy.
func GELUGrad(dz, dy, z []float32) {
	gradSmooth(dz, dy, z, geluGradAVX512, geluGradAVX2, func(d, v float32) float32 {
		phi := float32(expClamped(float32(-0.5*float32(v*v))) * invSqrt2Pi)
		return d * (normalCDF32(v) + float32(v*phi))
	})
}

// mishParts returns g = tanh(softplus(x)) = n/(n + 2), n = e^w·(e^w + 2), w =
// x clamped to [-87, 20] (beyond 20, g is 1), and e = e^w, q = n + 2.
func mishParts(x float32) (g, e, q float32) {
	e = expClamped(min(x, 20))
	n := float32(e * (e + 2))
	q = n + 2
	return n / q, e, q
}

func mish32(x float32) float32 {
	g, _, _ := mishParts(x)
	return x * g
}

// Mish sets y = z·tanh(softplus(z)); y may alias z.
func Mish(y, z []float32) { mapSmooth(y, z, mishAVX512, mishAVX2, mish32) }

// MishGrad sets dz = dy·(g + z·4e^z(e^z + 1)/(n + 2)²), the derivative of
// Mish at z (g, n as in mishParts); dz may alias dy.
func MishGrad(dz, dy, z []float32) {
	gradSmooth(dz, dy, z, mishGradAVX512, mishGradAVX2, func(d, v float32) float32 {
		g, e, q := mishParts(v)
		return d * (g + float32(v*(float32(float32(4*e)*(e+1))/float32(q*q))))
	})
}

// mapSmooth sets y[i] = f(z[i]): the multiple of vecLanes values by the
// vector loop computing f (v512 or v2), the rest by f.
func mapSmooth(y, z []float32, v512, v2 func(y, z *float32, n int), f func(float32) float32) {
	y = y[:len(z)]
	n := 0
	if vecLanes > 0 {
		if n = len(z) / vecLanes * vecLanes; n > 0 {
			if vecLanes == 16 {
				v512(&y[0], &z[0], n)
			} else {
				v2(&y[0], &z[0], n)
			}
		}
	}
	for i, v := range z[n:] {
		y[n+i] = f(v)
	}
}

// gradSmooth sets dz[i] = f(dy[i], z[i]) as mapSmooth does; dz may alias
// dy.
func gradSmooth(dz, dy, z []float32, v512, v2 func(dz, dy, z *float32, n int), f func(d, v float32) float32) {
	dz, dy = dz[:len(z)], dy[:len(z)]
	n := 0
	if vecLanes > 0 {
		if n = len(z) / vecLanes * vecLanes; n > 0 {
			if vecLanes == 16 {
				v512(&dz[0], &dy[0], &z[0], n)
			} else {
				v2(&dz[0], &dy[0], &z[0], n)
			}
		}
	}
	for i, v := range z[n:] {
		dz[n+i] = f(dy[n+i], v)
	}
}

// pick returns p where x > 0, else q, without a branch: the signs of a
// layer's values are random to a branch predictor.
func pick(x, p, q float32) float32 {
	// Above 0 (+Inf too) are the bits 1 to 0x7f800000.
	var above uint32
	if math.Float32bits(x)-1 < 0x7f800000 {
		above = 1
	}
	m := -above
	return math.Float32frombits(math.Float32bits(p)&m | math.Float32bits(q)&^m)
}
