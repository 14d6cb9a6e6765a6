package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// smoothInputs returns sigmoidInputs(n) followed by a grid over [-30, 30]
// every 1/256, the points where the functions change formula (tanh at
// ±0.625, mish at 20, the exponential's clamp at ±87, 0) and their
// neighbours, and tiny values.
func smoothInputs(n int) []float32 {
	z := sigmoidInputs(n)
	for v := -30.0; v <= 30; v += 1.0 / 256 {
		z = append(z, float32(v))
	}
	for _, c := range []float32{0.625, 20, 87, 0, 1e-3, 1e-6, 1e-20, 1e-40} {
		for _, v := range []float32{c, math.Nextafter32(c, 0), math.Nextafter32(c, 100)} {
			z = append(z, v, -v)
		}
	}
	return z
}

// smoothCase is a function of smooth.go with its float64 definition: the
// value, and the sum of the magnitudes of the terms it adds, which bounds
// the rounding of a result that cancels.
type smoothCase struct {
	name string
	run  func(y, dy, z []float32)
	want func(x, d float64) (v, mag float64)
}

func smoothCases() []smoothCase {
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	sp := func(x float64) float64 { return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }
	cdf := func(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }
	pdf := func(x float64) float64 { return math.Exp(-x*x/2) / math.Sqrt(2*math.Pi) }
	one := func(f func(x float64) float64) func(x, d float64) (float64, float64) {
		return func(x, _ float64) (float64, float64) { v := f(x); return v, math.Abs(v) }
	}
	return []smoothCase{
		{"Tanh", func(y, _, z []float32) { Tanh(y, z) }, one(math.Tanh)},
		{"ELU", func(y, _, z []float32) { ELU(y, z, 1.5, 1) }, one(func(x float64) float64 {
			if x > 0 {
				return x
			}
			return float64(float32(1.5)) * math.Expm1(x)
		})},
		{"SELU", func(y, _, z []float32) { ELU(y, z, 1.6732632, 1.050701) }, one(func(x float64) float64 {
			if x > 0 {
				return float64(float32(1.050701)) * x
			}
			return float64(float32(1.050701)*float32(1.6732632)) * math.Expm1(x)
		})},
		{"ELUGrad", func(y, dy, z []float32) { ELUGrad(y, dy, z, 1.5, 1) }, func(x, d float64) (float64, float64) {
			if x > 0 {
				return d, math.Abs(d)
			}
			return d * (x + float64(float32(1.5))), math.Abs(d) * (math.Abs(x) + 1.5)
		}},
		{"SELUGrad", func(y, dy, z []float32) { ELUGrad(y, dy, z, 1.6732632, 1.050701) }, func(x, d float64) (float64, float64) {
			if x > 0 {
				return d * float64(float32(1.050701)), math.Abs(d)
			}
			sa := float64(float32(1.050701) * float32(1.6732632))
			return d * (x + sa), math.Abs(d) * (math.Abs(x) + sa)
		}},
		{"LeakyReLU", func(y, _, z []float32) { LeakyReLU(y, z, 0.2) }, one(func(x float64) float64 {
			if x < 0 {
				return float64(float32(x) * 0.2)
			}
			return x
		})},
		{"LeakyReLUGrad", func(y, dy, z []float32) { LeakyReLUGrad(y, dy, z, 0.2) }, func(x, d float64) (float64, float64) {
			if x > 0 {
				return d, math.Abs(d)
			}
			return float64(float32(d) * 0.2), math.Abs(d)
		}},
		{"Softplus", func(y, _, z []float32) { Softplus(y, z) }, one(sp)},
		{"SoftplusGrad", SoftplusGrad, func(x, d float64) (float64, float64) { return d * sig(x), math.Abs(d * sig(x)) }},
		{"GELU", func(y, _, z []float32) { GELU(y, z) }, one(func(x float64) float64 { return x * cdf(x) })},
		{"GELUGrad", GELUGrad, func(x, d float64) (float64, float64) {
			return d * (cdf(x) + x*pdf(x)), math.Abs(d) * (cdf(x) + math.Abs(x*pdf(x)))
		}},
		{"Mish", func(y, _, z []float32) { Mish(y, z) }, one(func(x float64) float64 { return x * math.Tanh(sp(x)) })},
		{"MishGrad", MishGrad, func(x, d float64) (float64, float64) {
			t := math.Tanh(sp(x))
			u := x * (1 - t*t) * sig(x)
			return d * (t + u), math.Abs(d) * (math.Abs(t) + math.Abs(u))
		}},
	}
}

// TestSmooth checks the functions of smooth.go against their float64
// definitions: within 8 float32 roundings (5e-7) of the value relative, or
// of the sum of the magnitudes of the terms where those cancel (the
// derivatives of gelu and mish where they cross 0), that times z²/2 beyond
// |z| = √2 (gelu's tail, where the rounding of z² in e^-z²/2 shows), or
// 1e-35 absolute (times |z|) where the exponentials are clamped; NaN gives
// NaN, ±Inf the limits. The Go, AVX2 and AVX-512 loops give the same bits.
func TestSmooth(t *testing.T) {
	z := smoothInputs(16*37 + 5)
	dy := randSlice(rand.New(rand.NewPCG(15, 16)), len(z))
	results := map[int]map[string][]float32{}
	forEachLoops(t, func(t *testing.T) {
		results[vecLanes] = map[string][]float32{}
		for _, c := range smoothCases() {
			y := make([]float32, len(z))
			c.run(y, dy, z)
			results[vecLanes][c.name] = y
		}
	})
	for _, c := range smoothCases() {
		t.Run(c.name, func(t *testing.T) {
			y := results[0][c.name]
			for lanes, isa := range map[int]string{16: "AVX-512", 8: "AVX2"} {
				vec, ok := results[lanes][c.name]
				for i := range vec {
					if ok && !sameBits(vec[i], y[i]) {
						t.Errorf("%s(%v): %s %v, Go %v", c.name, z[i], isa, vec[i], y[i])
					}
				}
			}
			worst, at := 0.0, float32(0)
			for i, v := range z {
				want, mag := c.want(float64(v), float64(dy[i]))
				got := float64(y[i])
				if math.Abs(want) > math.MaxFloat32 {
					want = math.Copysign(math.Inf(1), want) // float32 rounds it so
				}
				switch {
				case math.IsNaN(want) || math.IsInf(float64(v), 0) && math.IsNaN(got):
					// Inf·0 in a derivative's limit: NaN, as the definition gives
					if got == got && !math.IsNaN(want) {
						t.Errorf("%s(%v) = %v, want NaN", c.name, v, got)
					}
					continue
				case math.IsInf(want, 0):
					if got != want {
						t.Errorf("%s(%v) = %v, want %v", c.name, v, got, want)
					}
					continue
				}
				d := math.Abs(got - want)
				if d <= 1e-35*math.Max(1, math.Abs(float64(v))) {
					continue
				}
				// exp(P - u²) in gelu rounds u² = x²/2: its error grows
				// with x², in the tail below -3.
				tol := 5e-7 * mag * math.Max(1, float64(v)*float64(v)/2)
				if r := d / tol; r > worst {
					worst, at = r, v
				}
				if d > tol {
					t.Errorf("%s(%v) = %v, want %v (relative error %.3g)", c.name, v, got, want, d/mag)
				}
			}
			t.Logf("largest error %.3g of the tolerance, at %v", worst, at)
		})
	}
}
