package data

import "math"

// Stroke width: a pen draws lines of about the same width whatever the size
// of the letter, so a small drawing scaled up to the framing's size has
// strokes far thicker than the training images' (and a large one drawn with
// a fine pen far thinner). Framing.Frame measures the width of the strokes
// in the source as the framing's Stroke was measured in the training
// images, and when, scaled, it is off by more than the training images'
// usual spread, it erodes or dilates the ink (a disc, with an exact
// distance transform) at the source's resolution before framing it.

// strokeLevel is the level at or above which a pixel counts as stroke.
const strokeLevel = 128

// strokeSpread is how far a framed stroke's width may be from the
// framing's before it is changed: a factor of 1.5 either way, about two
// standard deviations of the widths in AHCD's and MNIST's training images.
const strokeSpread = 1.5

// strokeWidth estimates the width of the strokes of the grey image g (h*w
// values read as (v-bg)*gain): twice the area of the stroke pixels over
// their perimeter, which for a line of length L and width w is w*L/(L+w).
// The perimeter is the count of edges between a stroke pixel and another
// (or the image's border) times pi/4, the mean ratio of a curve's length
// to the length of its staircase over all directions (Cauchy-Crofton). It
// is 0 without stroke pixels.
func strokeWidth(g []float32, h, w int, bg, gain float64) float64 {
	t := float32(bg + strokeLevel/gain)
	area, edges := 0, 0
	for y := range h {
		row := g[y*w : (y+1)*w]
		var above []float32
		if y > 0 {
			above = g[(y-1)*w : y*w]
		}
		prev := false
		for x, v := range row {
			in := v >= t
			if in {
				area++
			}
			if in != prev {
				edges++
			}
			if up := above != nil && above[x] >= t; in != up {
				edges++
			}
			if y == h-1 && in {
				edges++
			}
			prev = in
		}
		if prev {
			edges++
		}
	}
	if area == 0 {
		return 0
	}
	return 2 * float64(area) / (float64(edges) * math.Pi / 4)
}

// morph returns the ink of an image (its grey g, h*w values, background bg
// and gain as inkOf found them) eroded (r > 0) or dilated (r < 0) by a disc
// of radius |r| pixels, as h*w*c values of 0 or 255: a pixel is ink when
// its level reaches strokeLevel.
func morph(g []float32, h, w, c int, bg, gain, r float64) []float32 {
	t := float32(bg + strokeLevel/gain)
	ink := make([]bool, h*w)
	for i, v := range g {
		ink[i] = v >= t
	}
	// Eroding keeps the ink farther than r from the background; dilating
	// adds what lies within -r of the ink.
	d := distances(ink, h, w, r < 0)
	out := make([]float32, h*w*c)
	for i, keep := range ink {
		if r > 0 {
			keep = d[i] > r*r
		} else {
			keep = d[i] <= r*r
		}
		if keep {
			for ch := range c {
				out[i*c+ch] = 255
			}
		}
	}
	return out
}

// distances returns, for every pixel, its squared Euclidean distance to
// the nearest pixel whose ink value is to (Felzenszwalb and Huttenlocher,
// "Distance Transforms of Sampled Functions", 2012: a lower envelope of
// parabolas along rows, then along columns). Without such pixels every
// distance is infinite.
func distances(ink []bool, h, w int, to bool) []float64 {
	d := make([]float64, h*w)
	for i, v := range ink {
		if v != to {
			d[i] = math.Inf(1)
		}
	}
	n := max(h, w)
	f, out := make([]float64, n), make([]float64, n)
	v, z := make([]int, n), make([]float64, n+1)
	for x := range w {
		for y := range h {
			f[y] = d[y*w+x]
		}
		envelope(out[:h], f[:h], v, z)
		for y := range h {
			d[y*w+x] = out[y]
		}
	}
	for y := range h {
		copy(f, d[y*w:(y+1)*w])
		envelope(out[:w], f[:w], v, z)
		copy(d[y*w:(y+1)*w], out[:w])
	}
	return d
}

// envelope sets out[q] to the minimum over p of (q-p)^2 + f[p], using v
// and z (len(f) and len(f)+1) as scratch.
func envelope(out, f []float64, v []int, z []float64) {
	n := len(f)
	k := -1
	for q := range n {
		if math.IsInf(f[q], 1) {
			continue
		}
		var s float64
		for k >= 0 {
			p := v[k]
			s = ((f[q] + float64(q*q)) - (f[p] + float64(p*p))) / float64(2*q-2*p)
			if s > z[k] {
				break
			}
			k--
		}
		k++
		v[k] = q
		if k == 0 {
			z[k] = math.Inf(-1)
		} else {
			z[k] = s
		}
		z[k+1] = math.Inf(1)
	}
	if k < 0 {
		for q := range out {
			out[q] = math.Inf(1)
		}
		return
	}
	j := 0
	for q := range n {
		for z[j+1] < float64(q) {
			j++
		}
		p := v[j]
		out[q] = float64((q-p)*(q-p)) + f[p]
	}
}
