package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// sigmoidInputs returns n values spread over [-100, 100], most of them
// within [-10, 10], with the special values of special and NaN among them.
func sigmoidInputs(n int) []float32 {
	rng := rand.New(rand.NewPCG(11, 12))
	z := special(rng, n)
	for i := range z {
		if i%3 != 0 || i >= 24 {
			z[i] = float32(rng.NormFloat64() * 4)
			if i%7 == 0 {
				z[i] = float32(rng.Float64()*200 - 100)
			}
		}
	}
	z[n-1] = float32(math.NaN())
	return z
}

// TestSigmoid checks Sigmoid, SiLU and SiLUGrad against their float64
// values: within 3e-7 of the value relative (the derivative: of it and dy
// together), or 1e-37 absolute beyond |z| = 87; NaN gives NaN. The Go and
// the AVX2 and AVX-512 loops give the same bits.
func TestSigmoid(t *testing.T) {
	const n = 16*37 + 5 // vector loops and a tail
	z := sigmoidInputs(n)
	dy := randSlice(rand.New(rand.NewPCG(13, 14)), n)
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	close := func(got float32, want float64) bool {
		if math.IsNaN(want) {
			return got != got
		}
		if math.IsInf(want, 0) || math.IsNaN(float64(got)) {
			return float64(got) == want
		}
		d := math.Abs(float64(got) - want)
		return d <= 3e-7*math.Abs(want) || d <= 1e-37
	}
	results := map[int][3][]float32{}
	forEachLoops(t, func(t *testing.T) {
		s, u, g := make([]float32, n), make([]float32, n), make([]float32, n)
		Sigmoid(s, z)
		SiLU(u, z)
		SiLUGrad(g, dy, z)
		for i, v := range z {
			x, d := float64(v), float64(dy[i])
			sx, wantU, wantG := sig(x), x*sig(x), d*sig(x)*(1+x*(1-sig(x)))
			switch {
			case math.IsInf(x, 1):
				sx, wantU, wantG = 1, x, d
			case math.IsInf(x, -1) || x < -700:
				sx, wantU, wantG = 0, 0, 0
			}
			// Beyond |z| = 87, σ is clamped: SiLU and its derivative are
			// within 87·σ(-87) = 1.4e-36 (times dy) of their limits.
			if !close(s[i], sx) {
				t.Errorf("Sigmoid(%v) = %v, want %v", v, s[i], sx)
			}
			if !close(u[i], wantU) && !(math.Abs(float64(u[i])-wantU) <= 2e-36) {
				t.Errorf("SiLU(%v) = %v, want %v", v, u[i], wantU)
			}
			// The derivative crosses 0 near z = -1.28, where 1 + z·(1 - σ)
			// cancels: within 3e-7 of dy there too.
			if !close(g[i], wantG) && !(math.Abs(float64(g[i])-wantG) <= 3e-7*(math.Abs(wantG)+math.Abs(d))) {
				t.Errorf("SiLUGrad(%v, %v) = %v, want %v", dy[i], v, g[i], wantG)
			}
		}
		results[vecLanes] = [3][]float32{s, u, g}
	})
	for lanes, isa := range map[int]string{16: "AVX-512", 8: "AVX2"} {
		vec, ok := results[lanes]
		if !ok {
			continue
		}
		for k, name := range []string{"Sigmoid", "SiLU", "SiLUGrad"} {
			for i, v := range vec[k] {
				if w := results[0][k][i]; !sameBits(v, w) {
					t.Errorf("%s(%v): %s %v, Go %v", name, z[i], isa, v, w)
				}
			}
		}
	}
}

// TestSigmoidInPlace checks that y may alias z and dz may alias dy.
func TestSigmoidInPlace(t *testing.T) {
	forEachLoops(t, func(t *testing.T) {
		z := sigmoidInputs(40)
		want := make([]float32, len(z))
		Sigmoid(want, z)
		got := append([]float32(nil), z...)
		Sigmoid(got, got)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
				t.Fatalf("in place: Sigmoid(%v) = %v, want %v", z[i], got[i], want[i])
			}
		}
		dy := randSlice(rand.New(rand.NewPCG(1, 1)), len(z))
		SiLUGrad(want, dy, z)
		SiLUGrad(dy, dy, z)
		for i := range dy {
			if math.Float32bits(dy[i]) != math.Float32bits(want[i]) && !(dy[i] != dy[i] && want[i] != want[i]) {
				t.Fatalf("in place: SiLUGrad at %v = %v, want %v", z[i], dy[i], want[i])
			}
		}
	})
}

func BenchmarkSigmoid(b *testing.B) {
	z := sigmoidInputs(1 << 16)
	y := make([]float32, len(z))
	b.SetBytes(int64(4 * len(z)))
	for b.Loop() {
		SiLU(y, z)
	}
}

// TestHardSigmoid checks HardSigmoid and HardSiLU against their definition
// in float64 (within one rounding of each operation), exactly 0 and 1 (or
// z) beyond ±3, NaN kept, and the Go, AVX2 and AVX-512 loops' bits equal.
func TestHardSigmoid(t *testing.T) {
	const n = 16*9 + 7
	z := sigmoidInputs(n)
	z[5], z[6], z[7] = -3, 3, float32(math.Copysign(0, -1))
	results := map[int][2][]float32{}
	forEachLoops(t, func(t *testing.T) {
		h, u := make([]float32, n), make([]float32, n)
		HardSigmoid(h, z)
		HardSiLU(u, z)
		for i, v := range z {
			x := float64(v)
			want := math.Min(math.Max(x+3, 0), 6) / 6
			if math.IsNaN(x) {
				if h[i] == h[i] || u[i] == u[i] {
					t.Errorf("HardSigmoid, HardSiLU(NaN) = %v, %v, want NaN", h[i], u[i])
				}
				continue
			}
			if math.Abs(float64(h[i])-want) > 1.2e-7*want || x <= -3 && h[i] != 0 || x >= 3 && h[i] != 1 {
				t.Errorf("HardSigmoid(%v) = %v, want %v", v, h[i], want)
			}
			if wantU := x * want; math.Abs(float64(u[i])-wantU) > 2.4e-7*math.Abs(wantU)+1e-45 || x >= 3 && u[i] != v {
				t.Errorf("HardSiLU(%v) = %v, want %v", v, u[i], wantU)
			}
		}
		results[vecLanes] = [2][]float32{h, u}
	})
	for lanes, isa := range map[int]string{16: "AVX-512", 8: "AVX2"} {
		vec, ok := results[lanes]
		if !ok {
			continue
		}
		for k, name := range []string{"HardSigmoid", "HardSiLU"} {
			for i, v := range vec[k] {
				if w := results[0][k][i]; !sameBits(v, w) {
					t.Errorf("%s(%v): %s %v, Go %v", name, z[i], isa, v, w)
				}
			}
		}
	}
}

func BenchmarkHardSiLU(b *testing.B) {
	z := sigmoidInputs(1 << 16)
	y := make([]float32, len(z))
	b.SetBytes(int64(4 * len(z)))
	for b.Loop() {
		HardSiLU(y, z)
	}
}
