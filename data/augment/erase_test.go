package augment

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestEraseByHand(t *testing.T) {
	const h, w, ch = 4, 5, 2
	src := pattern(h, w, ch)
	dst := make([]float32, len(src))
	c := Config{Erasing: 1, ErasingValue: 7}
	c.Transform(dst, src, h, w, ch, Params{Erase: true, EraseY: 1, EraseX: 2, EraseH: 2, EraseW: 3})
	for y := range h {
		for x := range w {
			for k := range ch {
				i := (y*w+x)*ch + k
				want := src[i]
				if y >= 1 && y < 3 && x >= 2 {
					want = 7
				}
				if dst[i] != want {
					t.Fatalf("row %d column %d channel %d: %v, want %v", y, x, k, dst[i], want)
				}
			}
		}
	}
}

// TestEraseRandom checks the draws: the share of images erased, the
// rectangle inside the image, its area within the scale (give or take the
// rounding of its sides) and its aspect ratio drawn on a log scale.
func TestEraseRandom(t *testing.T) {
	const h, w, draws = 32, 28, 20000
	rng := rand.New(rand.NewPCG(8, 9))
	for _, prob := range []float64{0.3, 1} {
		c := Config{Erasing: prob}
		erased := 0
		var logRatio float64
		for range draws {
			p := c.Random(h, w, rng)
			if !p.Erase {
				continue
			}
			erased++
			if p.EraseY < 0 || p.EraseX < 0 || p.EraseY+p.EraseH > h || p.EraseX+p.EraseW > w || p.EraseH >= h || p.EraseW >= w {
				t.Fatalf("rectangle %+v outside the %dx%d image", p, h, w)
			}
			hh, ww := float64(p.EraseH)+0.5, float64(p.EraseW)+0.5
			if a := hh * ww / (h * w); a < 0.02*0.5 || (float64(p.EraseH)-0.5)*(float64(p.EraseW)-0.5)/(h*w) > 0.33 {
				t.Fatalf("rectangle %dx%d: area %.3f of the image's, want 0.02..0.33 give or take the rounding", p.EraseH, p.EraseW, a)
			}
			if p.EraseH > 0 && p.EraseW > 0 {
				logRatio += math.Log(float64(p.EraseH) / float64(p.EraseW))
			}
		}
		// A rectangle that does not fit is tried again, up to 10 times:
		// one almost always fits.
		if got := float64(erased) / draws; math.Abs(got-prob) > 0.015 {
			t.Errorf("probability %v: %.3f of the images erased", prob, got)
		}
		// log(h/w) is symmetric about log(sqrt(0.3·3.3)) ≈ 0, less what
		// the image's shape cuts off.
		if m := logRatio / float64(erased); math.Abs(m) > 0.1 {
			t.Errorf("probability %v: mean log(height/width) %.3f, want about 0", prob, m)
		}
	}
	if (&Config{}).Random(h, w, rng).Erase {
		t.Errorf("the zero config erased")
	}
	// Ratios so far from 1 that one side passes the largest int: no
	// rectangle fits, none is erased.
	for _, r := range [][2]float64{{1e300, 1e300}, {1e-300, 1e-300}, {1e-300, 1e300}} {
		c := Config{Erasing: 1, ErasingRatio: r}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		src := pattern(h, w, 1)
		dst := make([]float32, len(src))
		for range 100 {
			if p := c.Random(h, w, rng); p.Erase && (p.EraseH < 0 || p.EraseW < 0 || p.EraseH >= h || p.EraseW >= w) {
				t.Fatalf("ratio %v: rectangle %+v outside the %dx%d image", r, p, h, w)
			}
			c.Apply(dst, src, h, w, 1, rng)
		}
	}
}

func TestEraseValidate(t *testing.T) {
	for _, c := range []Config{
		{Erasing: 1.5}, {Erasing: -0.1}, {Erasing: 0.5, ErasingScale: [2]float64{0.5, 0.2}},
		{Erasing: 0.5, ErasingScale: [2]float64{0.1, 1.2}}, {Erasing: 0.5, ErasingRatio: [2]float64{0, 2}},
		{Erasing: 0.5, ErasingValue: math.NaN()},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if c := (Config{Erasing: 0.25, ErasingValue: 255}); c.Validate() != nil || !c.Enabled() {
		t.Errorf("erasing 0.25: Validate %v, Enabled %v", c.Validate(), c.Enabled())
	}
}
