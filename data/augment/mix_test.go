package augment

import (
	"math"
	"math/rand/v2"
	"testing"
)

// batch returns n h x w x ch images of distinct values and their one-hot
// targets over classes (image i is of class i mod classes).
func batch(n, h, w, ch, classes int) (x, y []float32) {
	x = make([]float32, 0, n*h*w*ch)
	for i := range n {
		for _, v := range pattern(h, w, ch) {
			x = append(x, v+float32(1000*i))
		}
	}
	y = make([]float32, n*classes)
	for i := range n {
		y[i*classes+i%classes] = 1
	}
	return x, y
}

func TestMixUpByHand(t *testing.T) {
	const n, h, w, ch, k = 3, 2, 3, 2, 4
	x, y := batch(n, h, w, ch, k)
	orig := append([]float32(nil), x...)
	per := h * w * ch
	Mixing{Lambda: 0.75}.Apply(x, y, n, h, w, ch, k, nil)
	for i := range n {
		prev := (i + n - 1) % n // the batch rolled by one: image 0 meets image 2
		for j := range per {
			want := orig[prev*per+j]*0.25 + orig[i*per+j]*0.75
			if got := x[i*per+j]; got != want {
				t.Fatalf("image %d value %d: %v, want %v", i, j, got, want)
			}
		}
		for c := range k {
			var want float32
			if c == i%k {
				want += 0.75
			}
			if c == prev%k {
				want += 0.25
			}
			if got := y[i*k+c]; got != want {
				t.Errorf("target %d class %d: %v, want %v", i, c, got, want)
			}
		}
	}
}

func TestCutMixByHand(t *testing.T) {
	const n, h, w, ch, k = 2, 4, 5, 3, 2
	x, y := batch(n, h, w, ch, k)
	orig := append([]float32(nil), x...)
	per := h * w * ch
	p := Mixing{CutMix: true, Lambda: 1 - 6.0/20, X1: 1, X2: 4, Y1: 2, Y2: 4} // 3 columns x 2 rows of 4 x 5
	p.Apply(x, y, n, h, w, ch, k, make([]float32, per+k))
	for i := range n {
		prev := 1 - i
		for r := range h {
			for c := range w {
				for d := range ch {
					o := (r*w+c)*ch + d
					src := i
					if r >= 2 && c >= 1 && c < 4 {
						src = prev
					}
					if got, want := x[i*per+o], orig[src*per+o]; got != want {
						t.Fatalf("image %d row %d column %d channel %d: %v, want image %d's %v", i, r, c, d, got, src, want)
					}
				}
			}
		}
		if got, want := y[i*k+i], float32(0.7); got != want {
			t.Errorf("target %d, own class: %v, want %v", i, got, want)
		}
		if got, want := y[i*k+prev], float32(1-0.7); got != want {
			t.Errorf("target %d, the other's class: %v, want %v", i, got, want)
		}
	}
}

func TestMixOfOneImage(t *testing.T) {
	x, y := batch(1, 3, 3, 1, 2)
	orig := append([]float32(nil), x...)
	Mixing{Lambda: 0.3}.Apply(x, y, 1, 3, 3, 1, 2, nil)
	for i := range x {
		if x[i] != orig[i] {
			t.Fatalf("a batch of one changed at %d: %v, want %v", i, x[i], orig[i])
		}
	}
	if y[0] != 1 || y[1] != 0 {
		t.Errorf("targets %v, want [1 0]", y)
	}
}

// TestMixRandom checks the draws: λ from Beta(α, α) (mean 1/2, variance
// 1/(4(2α+1))), CutMix's λ the share of the image outside its box, and
// one of the two per batch with equal chances when both are on.
func TestMixRandom(t *testing.T) {
	const draws, h, w = 20000, 32, 28
	rng := rand.New(rand.NewPCG(3, 4))
	for _, alpha := range []float64{0.2, 1, 4} {
		var sum, sq float64
		for range draws {
			lam := Mix{MixUp: alpha}.Random(h, w, rng).Lambda
			if lam < 0 || lam > 1 {
				t.Fatalf("α %v: λ %v outside [0, 1]", alpha, lam)
			}
			sum += lam
			sq += (lam - 0.5) * (lam - 0.5)
		}
		mean, variance, want := sum/draws, sq/draws, 1/(4*(2*alpha+1))
		if math.Abs(mean-0.5) > 0.01 || math.Abs(variance-want) > 0.05*want {
			t.Errorf("MixUp α %v: λ's mean %.4f and variance %.4f, want 0.5 and %.4f", alpha, mean, variance, want)
		}
	}
	cuts := 0
	for range draws {
		p := Mix{MixUp: 0.2, CutMix: 1}.Random(h, w, rng)
		if !p.CutMix {
			if p.X1|p.X2|p.Y1|p.Y2 != 0 {
				t.Fatalf("a MixUp with a box: %+v", p)
			}
			continue
		}
		cuts++
		if p.X1 < 0 || p.X1 > p.X2 || p.X2 > w || p.Y1 < 0 || p.Y1 > p.Y2 || p.Y2 > h {
			t.Fatalf("box %+v outside the %dx%d image", p, h, w)
		}
		if want := 1 - float64((p.X2-p.X1)*(p.Y2-p.Y1))/(h*w); p.Lambda != want {
			t.Fatalf("CutMix λ %v, want the share outside the box %v", p.Lambda, want)
		}
	}
	if math.Abs(float64(cuts)/draws-0.5) > 0.02 {
		t.Errorf("MixUp and CutMix: %d CutMix of %d, want about half", cuts, draws)
	}
}

// TestMixSmallAlpha: for a small α, MixUp's λ is 0 or 1 about half the
// time each (Beta(α, α) tends to a coin), never NaN, and a CutMix box stays
// in the image.
func TestMixSmallAlpha(t *testing.T) {
	const draws, h, w = 2000, 8, 8
	rng := rand.New(rand.NewPCG(5, 6))
	for _, alpha := range []float64{0.001, 1e-300} {
		for _, m := range []Mix{{MixUp: alpha}, {CutMix: alpha}} {
			ones := 0
			for range draws {
				p := m.Random(h, w, rng)
				if !(p.Lambda >= 0 && p.Lambda <= 1) {
					t.Fatalf("%+v: λ %v outside [0, 1]", m, p.Lambda)
				}
				if p.X1 < 0 || p.X1 > p.X2 || p.X2 > w || p.Y1 < 0 || p.Y1 > p.Y2 || p.Y2 > h {
					t.Fatalf("%+v: box %+v outside the %dx%d image", m, p, h, w)
				}
				if p.Lambda > 0.5 {
					ones++
				}
			}
			if m.MixUp > 0 && math.Abs(float64(ones)/draws-0.5) > 0.05 { // CutMix's λ is its box's
				t.Errorf("%+v: λ above 1/2 in %d draws of %d, want about half", m, ones, draws)
			}
		}
	}
}

func TestMixValidate(t *testing.T) {
	for _, m := range []Mix{{MixUp: -1}, {CutMix: math.NaN()}, {MixUp: math.Inf(1)}} {
		if m.Validate() == nil {
			t.Errorf("%+v: no error", m)
		}
	}
	if err := (Mix{MixUp: 0.2, CutMix: 1}).Validate(); err != nil {
		t.Errorf("MixUp 0.2, CutMix 1: %v", err)
	}
	if (Mix{}).Enabled() || !(Mix{CutMix: 1}).Enabled() {
		t.Errorf("Enabled: wrong for the zero value or CutMix alone")
	}
}

func TestMixNoAllocation(t *testing.T) {
	const n, h, w, ch, k = 8, 32, 32, 1, 28
	x, y := batch(n, h, w, ch, k)
	last := make([]float32, h*w*ch+k)
	rng := rand.New(rand.NewPCG(1, 1))
	m := Mix{MixUp: 0.2, CutMix: 1}
	if a := testing.AllocsPerRun(20, func() { m.Random(h, w, rng).Apply(x, y, n, h, w, ch, k, last) }); a != 0 {
		t.Errorf("%v allocations per batch, want 0", a)
	}
}
