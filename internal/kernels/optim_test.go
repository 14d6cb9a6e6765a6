package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSGD(t *testing.T) { forEachLoops(t, testSGD) }

// testSGD checks SGD bit for bit against its formula, one float32
// operation at a time, plain, with momentum and with Nesterov's momentum,
// on lengths around the vector loop's 16, with zeros of both signs,
// infinities and extremes among the gradients.
func testSGD(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	for _, n := range []int{1, 15, 16, 17, 33, 100} {
		for _, form := range []string{"plain", "momentum", "nesterov"} {
			w0, g, m0 := randSlice(rng, n), special(rng, n), randSlice(rng, n)
			const lr, mu = 0.01, 0.9
			w := append([]float32(nil), w0...)
			var m []float32
			if form != "plain" {
				m = append([]float32(nil), m0...)
			}
			SGD(w, g, m, lr, mu, form == "nesterov")
			for i := range w0 {
				var l, u float32 = lr, mu
				step := float32(l * g[i])
				wantW, wantM := w0[i]-step, float32(0)
				if form != "plain" {
					wantM = float32(u*m0[i]) - step
					wantW = w0[i] + wantM
					if form == "nesterov" {
						wantW = w0[i] + (float32(u*wantM) - step)
					}
				}
				var gotM float32
				if m != nil {
					gotM = m[i]
				}
				if !sameBits(w[i], wantW) || !sameBits(gotM, wantM) {
					t.Fatalf("n=%d %s [%d]: g=%v w=%v gives w=%v, want %v (m %v, want %v)",
						n, form, i, g[i], w0[i], w[i], wantW, gotM, wantM)
				}
			}
		}
	}
}

func TestRMSprop(t *testing.T) { forEachLoops(t, testRMSprop) }

// testRMSprop checks RMSprop bit for bit against its formula, one float32
// operation at a time, in each of its forms (epsilon inside the square root
// or not, momentum, centered), on lengths around the vector loop's 16, with
// zeros of both signs, infinities and extremes among the gradients and the
// averages.
func testRMSprop(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{1, 15, 16, 17, 33, 100} {
		for form := range 8 {
			inside, momentum, centered := form&1 != 0, form&2 != 0, form&4 != 0
			w0, g := randSlice(rng, n), special(rng, n)
			a0, m0, ag0 := randSlice(rng, n), randSlice(rng, n), randSlice(rng, n)
			for i := range a0 {
				a0[i] *= a0[i]
				ag0[i] *= 0.1 // |ag| below sqrt(a) mostly; NaN where not
			}
			a0[0] = 0
			const rho, lr, eps, mu = 0.9, 0.001, 1e-8, 0.5
			w, a := append([]float32(nil), w0...), append([]float32(nil), a0...)
			var m, ag []float32
			if momentum {
				m = append([]float32(nil), m0...)
			}
			if centered {
				ag = append([]float32(nil), ag0...)
			}
			RMSprop(w, g, a, m, ag, rho, lr, eps, mu, inside)
			for i := range w0 {
				var r, l, e, u float32 = rho, lr, eps, mu
				c := 1 - r // in float32, as optim computes it
				wantA := float32(r*a0[i]) + float32(c*g[i]*g[i])
				den := wantA
				var wantAG, wantM float32
				if centered {
					wantAG = float32(r*ag0[i]) + float32(c*g[i])
					den -= float32(wantAG * wantAG)
				}
				if inside {
					den = float32(math.Sqrt(float64(den + e)))
				} else {
					den = float32(math.Sqrt(float64(den))) + e
				}
				step := l * g[i] / den
				if momentum {
					wantM = float32(u*m0[i]) + step
					step = wantM
				}
				wantW := w0[i] - step
				bad := !sameBits(a[i], wantA) || !sameBits(w[i], wantW) ||
					centered && !sameBits(ag[i], wantAG) || momentum && !sameBits(m[i], wantM)
				if bad {
					t.Fatalf("n=%d inside=%v momentum=%v centered=%v [%d]: g=%v a=%v w=%v gives a=%v w=%v, want %v %v",
						n, inside, momentum, centered, i, g[i], a0[i], w0[i], a[i], w[i], wantA, wantW)
				}
			}
		}
	}
}

func TestAdam(t *testing.T) { forEachLoops(t, testAdam) }

// testAdam checks Adam the same way.
func testAdam(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, n := range []int{1, 15, 16, 17, 33, 100} {
		w0, g, m0 := randSlice(rng, n), special(rng, n), randSlice(rng, n)
		v0 := randSlice(rng, n)
		for i := range v0 {
			v0[i] *= v0[i]
		}
		const alpha, c1, c2, eps = 0.0003, 0.1, 0.001, 1e-7
		w, m, v := append([]float32(nil), w0...), append([]float32(nil), m0...), append([]float32(nil), v0...)
		Adam(w, g, m, v, alpha, c1, c2, eps)
		for i := range w0 {
			var a, k1, k2, e float32 = alpha, c1, c2, eps
			wantM := m0[i] + float32((g[i]-m0[i])*k1)
			wantV := v0[i] + float32((float32(g[i]*g[i])-v0[i])*k2)
			wantW := w0[i] - a*wantM/(float32(math.Sqrt(float64(wantV)))+e)
			if !sameBits(m[i], wantM) || !sameBits(v[i], wantV) || !sameBits(w[i], wantW) {
				t.Fatalf("n=%d [%d]: g=%v gives m=%v v=%v w=%v, want %v %v %v", n, i, g[i], m[i], v[i], w[i], wantM, wantV, wantW)
			}
		}
	}
}

func TestDecay(t *testing.T) { forEachLoops(t, testDecay) }

// testDecay checks the weight decay bit for bit against its formula, on
// lengths around the vector loop's 16, zeros of both signs, infinities and
// extremes among the weights.
func testDecay(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	for _, n := range []int{1, 15, 16, 17, 33, 100} {
		w0 := special(rng, n)
		for _, f := range []float32{0.004 * 0.001, 0.1, 1} {
			w := append([]float32(nil), w0...)
			Decay(w, f)
			for i, v := range w0 {
				if want := v - float32(v*f); !sameBits(w[i], want) {
					t.Fatalf("n=%d f=%v [%d]: %v gives %v, want %v", n, f, i, v, w[i], want)
				}
			}
		}
	}
}
