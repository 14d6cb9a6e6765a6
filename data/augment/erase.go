package augment

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Random erasing (Zhong et al., "Random Erasing Data Augmentation", 2017),
// as torchvision's RandomErasing draws it: with probability Erasing, up to
// 10 tries of an area a ~ U(lo, hi) of the image's (ErasingScale) and a
// ratio r = exp(U(log lo, log hi)) (ErasingRatio), the rectangle of
// round(sqrt(a·r)) rows and round(sqrt(a/r)) columns (half to even, as
// Python's round), kept if smaller than the image, then its top row and
// left column uniformly where it fits; no rectangle after 10 failures.
// convnet fills it with a pixel value on the raw image, where torchvision
// fills the normalized tensor (its value 0 is the mean there).

// erasingScale and erasingRatio return the ranges, torchvision's defaults
// for zero.
func (c *Config) erasingScale() [2]float64 {
	if c.ErasingScale == [2]float64{} {
		return [2]float64{0.02, 0.33}
	}
	return c.ErasingScale
}

func (c *Config) erasingRatio() [2]float64 {
	if c.ErasingRatio == [2]float64{} {
		return [2]float64{0.3, 3.3}
	}
	return c.ErasingRatio
}

func (c *Config) validateErasing() error {
	s, r := c.erasingScale(), c.erasingRatio()
	switch {
	case !(c.Erasing >= 0 && c.Erasing <= 1):
		return fmt.Errorf("erasing probability %v, want 0..1", c.Erasing)
	case !(s[0] > 0 && s[0] <= s[1] && s[1] <= 1):
		return fmt.Errorf("erasing scale %v, want 0 < lo <= hi <= 1", s)
	case !(r[0] > 0 && r[0] <= r[1] && !math.IsInf(r[1], 0)):
		return fmt.Errorf("erasing ratio %v, want 0 < lo <= hi", r)
	case math.IsNaN(c.ErasingValue) || math.IsInf(c.ErasingValue, 0):
		return fmt.Errorf("erasing value %v, want a finite number", c.ErasingValue)
	}
	return nil
}

// eraseBox draws the rectangle of an h x w image into p, if one fits.
func (c *Config) eraseBox(p *Params, h, w int, rng *rand.Rand) {
	s, r := c.erasingScale(), c.erasingRatio()
	area := float64(h * w)
	lo, hi := math.Log(r[0]), math.Log(r[1])
	for range 10 {
		a := area * uniform(rng, s[0], s[1])
		ratio := math.Exp(uniform(rng, lo, hi))
		// Compared as floats: a ratio far from 1 makes a side too large
		// for an int.
		eh := math.RoundToEven(math.Sqrt(a * ratio))
		ew := math.RoundToEven(math.Sqrt(a / ratio))
		if !(eh < float64(h) && ew < float64(w)) {
			continue
		}
		p.Erase, p.EraseH, p.EraseW = true, int(eh), int(ew)
		p.EraseY, p.EraseX = rng.IntN(h-p.EraseH+1), rng.IntN(w-p.EraseW+1)
		return
	}
}

// erase fills p's rectangle of img, every channel, with ErasingValue.
func (c *Config) erase(img []float32, h, w, ch int, p Params) {
	if p.EraseY < 0 || p.EraseX < 0 || p.EraseH < 0 || p.EraseW < 0 || p.EraseY+p.EraseH > h || p.EraseX+p.EraseW > w {
		panic(fmt.Sprintf("augment: erasing rows %d+%d and columns %d+%d of a %dx%d image", p.EraseY, p.EraseH, p.EraseX, p.EraseW, h, w))
	}
	v := float32(c.ErasingValue)
	for y := p.EraseY; y < p.EraseY+p.EraseH; y++ {
		row := img[(y*w+p.EraseX)*ch : (y*w+p.EraseX+p.EraseW)*ch]
		for i := range row {
			row[i] = v
		}
	}
}
