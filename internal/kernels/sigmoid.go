package kernels

// The logistic sigmoid in float32, from an exponential computed as Cephes's
// expf does it (S. L. Moshier): e^x = 2^k · e^r with k = round(x·log2 e)
// and |r| ≤ ln 2 / 2, e^r a polynomial of degree 7, within 2 ulp of e^x.
// The Go loops and the AVX-512 loops run the same operations in the same
// order, without fused multiply-adds, so they give the same bits.
const (
	expClamp = 87 // |x| beyond it: e^-x is clamped (σ within 1e-37 of 0 or 1)
	log2e    = 1.44269504088896341
	expC1    = 0.693359375    // ln 2, its leading bits
	expC2    = -2.12194440e-4 // ln 2 - expC1
)

// expP is the polynomial of e^r: e^r = 1 + r + r²·P(r).
var expP = [...]float32{1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1}

// sigmoidParts returns t, v clamped to [-expClamp, expClamp], e = e^-t
// and s = 1 / (1 + e). NaN stays NaN.
func sigmoidParts(v float32) (t, e, s float32) {
	t = min(max(v, -expClamp), expClamp)
	e, _, _ = exp32(-t)
	return t, e, 1 / (1 + e)
}

// sigmoid32 is 1 / (1 + e^-v).
func sigmoid32(v float32) float32 {
	_, _, s := sigmoidParts(v)
	return s
}

// Sigmoid sets y = 1 / (1 + e^-z) within 3 ulp (0 or 1 within 1e-37 for
// |z| > 87); y may alias z.
//
//	for i: y[i] = σ(z[i])
func Sigmoid(y, z []float32) { mapSmooth(y, z, sigmoidAVX512, sigmoidAVX2, sigmoid32) }

// SiLU sets y = z·σ(z) (Keras's silu, PyTorch's SiLU), with z taken as -87
// below it (σ being clamped there, the product stays near 0); y may alias z.
//
//	for i: y[i] = max(z[i], -87)·σ(z[i])
func SiLU(y, z []float32) { mapSmooth(y, z, siluAVX512, siluAVX2, silu32) }

// SiLUGrad sets dz = dy·σ(z)·(1 + z·(1 - σ(z))), the derivative of SiLU at
// its input z, with 1 - σ(z) computed as e^-z·σ(z), which keeps its
// precision where σ(z) is near 1, and z clamped to [-87, 87] as σ's is.
// dz may alias dy.
//
//	for i: t, e, s := clamp(z[i]), e^-t, σ(t); dz[i] = dy[i]·s·(1 + t·(e·s))
func SiLUGrad(dz, dy, z []float32) {
	gradSmooth(dz, dy, z, siluGradAVX512, siluGradAVX2, func(d, v float32) float32 {
		t, e, s := sigmoidParts(v)
		return d * s * (1 + float32(t*float32(e*s)))
	})
}

// hardSigmoid32 is min(max(v+3, 0), 6)/6, as PyTorch and Keras 3 compute it.
func hardSigmoid32(v float32) float32 { return min(max(v+3, 0), 6) / 6 }

// HardSigmoid sets y = min(max(z+3, 0), 6)/6 (Keras 3's hard_sigmoid,
// PyTorch's Hardsigmoid); y may alias z. NaN stays NaN.
func HardSigmoid(y, z []float32) { mapSmooth(y, z, hardSigmoidAVX512, hardSigmoidAVX2, hardSigmoid32) }

// HardSiLU sets y = z·HardSigmoid(z) (Keras's hard_silu, PyTorch's
// Hardswish); y may alias z.
func HardSiLU(y, z []float32) { mapSmooth(y, z, hardSiLUAVX512, hardSiLUAVX2, hardSiLU32) }

func silu32(v float32) float32     { return max(v, -expClamp) * sigmoid32(v) }
func hardSiLU32(v float32) float32 { return v * hardSigmoid32(v) }
