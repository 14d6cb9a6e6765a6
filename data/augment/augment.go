// Package augment applies random image transformations with the parameters
// and meaning of Keras's ImageDataGenerator: rotation, shift, shear, zoom,
// flips and brightness, sampled bilinearly about the image centre, with
// scipy.ndimage's fill modes; and one of its own for handwriting, a random
// change of stroke width ([Config].StrokeRange).
//
// # Transform
//
// [Config.Random] draws one set of [Params] the way Keras's
// get_random_transform does (same order of draws, same distributions), and
// [Config.Transform] applies them as Keras's apply_affine_transform and
// apply_transform do: the affine matrix is rotation · shift · shear · zoom,
// built in (x = column, y = row) coordinates and centred on the middle of the
// image, o = size/2 - 0.5. It maps each output pixel to the input position
// it samples, so a zoom factor above 1 shrinks the content and a positive
// shift moves the content up or left. Flips follow the affine transform,
// then the stroke width changes; brightness comes last. A positive
// rotation turns the content counter-clockwise; 90 degrees gives numpy's
// rot90.
//
// Two deliberate differences from Keras's code, both about Keras bugs:
// HeightShiftRange moves rows and WidthShiftRange moves columns, as Keras
// documents (Keras's own code swaps them for channels-last images:
// keras-team/keras#17398, tensorflow/tensorflow#41460); and the centre of a
// non-square image is its true centre (Keras swaps the two offsets). For a
// square image with no shift the output is Keras's.
//
// # Fill modes
//
// Points that fall outside the input are filled as scipy.ndimage does for an
// input abcd:
//
//	constant  kkkk|abcd|kkkk  (k = Cval)
//	nearest   aaaa|abcd|dddd  (the default)
//	reflect   abcddcba|abcd|dcbaabcd
//	wrap      abcdabcd|abcd|abcdabcd
//
// In constant mode a point outside the input gets Cval, and a point inside it
// is interpolated from the pixels alone. (scipy's "wrap" with spline order 1
// actually repeats with a period of size-1; the pattern above, scipy's
// "grid-wrap", is the one Keras documents and the one used here.)
//
// # Cost
//
// Transform computes each output pixel's source position incrementally,
// then samples; it allocates nothing. An identity transform is a copy.
//
// Reference: keras/src/legacy/preprocessing/image.py (ImageDataGenerator,
// apply_affine_transform); scipy.ndimage.affine_transform.
package augment

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Config holds ImageDataGenerator's augmentation parameters. The zero value
// does nothing.
type Config struct {
	// RotationRange is the largest rotation in degrees: theta ~ U(-r, r).
	RotationRange float64 `json:"rotation_range,omitempty"`
	// WidthShiftRange and HeightShiftRange are the largest shifts: below 1
	// a fraction of the width or height, from 1 up a number of pixels.
	WidthShiftRange  float64 `json:"width_shift_range,omitempty"`
	HeightShiftRange float64 `json:"height_shift_range,omitempty"`
	// ShearRange is the largest shear angle in degrees, counter-clockwise.
	ShearRange float64 `json:"shear_range,omitempty"`
	// ZoomRange is [lo, hi]: zx and zy are drawn from U(lo, hi)
	// independently. [0 0] and [1 1] mean no zoom; see [ZoomRangeOf].
	ZoomRange [2]float64 `json:"zoom_range,omitzero"`
	// HorizontalFlip and VerticalFlip flip with probability 1/2.
	HorizontalFlip bool `json:"horizontal_flip,omitempty"`
	VerticalFlip   bool `json:"vertical_flip,omitempty"`
	// FillMode is "nearest" (the default when empty), "constant",
	// "reflect" or "wrap".
	FillMode string `json:"fill_mode,omitempty"`
	// Cval is the fill value of the constant mode.
	Cval float64 `json:"cval,omitempty"`
	// BrightnessRange is [lo, hi]: each image's values are multiplied by a
	// factor from U(lo, hi) and clipped to 0..255, as PIL's brightness
	// enhancer does. [0 0] means off.
	BrightnessRange [2]float64 `json:"brightness_range,omitzero"`
	// StrokeRange is the largest change of stroke width, in [0, 1]: each
	// image draws t ~ U(-s, s), and each pixel moves a fraction |t| of the
	// way to the largest (t > 0) or smallest (t < 0) value of itself and
	// its four neighbours, channel by channel: bright strokes on a dark
	// ground grow thicker for t > 0 and thinner for t < 0. Not one of
	// Keras's options; 0 means off.
	StrokeRange float64 `json:"stroke_range,omitempty"`
	// Erasing is the probability that an image has a rectangle filled
	// with ErasingValue, after every other change (torchvision's
	// RandomErasing; see erase.go). 0 means off.
	Erasing float64 `json:"erasing,omitempty"`
	// ErasingScale is the range of the rectangle's area as a fraction of
	// the image's, ErasingRatio the range of its height / width (drawn on
	// a log scale); [0 0] means torchvision's [0.02 0.33] and [0.3 3.3].
	ErasingScale [2]float64 `json:"erasing_scale,omitzero"`
	ErasingRatio [2]float64 `json:"erasing_ratio,omitzero"`
	// ErasingValue fills the rectangle, a pixel value (0: black).
	ErasingValue float64 `json:"erasing_value,omitempty"`
}

// ZoomRangeOf returns the zoom range Keras derives from a single number z:
// [1-z, 1+z].
func ZoomRangeOf(z float64) [2]float64 { return [2]float64{1 - z, 1 + z} }

// Params is one drawn transformation, Keras's transform_parameters.
type Params struct {
	Theta      float64 // rotation, degrees
	Tx, Ty     float64 // shift in pixels along rows (Tx) and columns (Ty)
	Shear      float64 // degrees
	Zx, Zy     float64 // zoom along columns (x) and rows (y); 0 means 1
	FlipH      bool    // reverse the columns
	FlipV      bool    // reverse the rows
	Brightness float64 // factor; 0 means none
	Stroke     float64 // stroke-width change in [-1, 1]; 0 means none
	// Erase fills rows EraseY..EraseY+EraseH-1 and columns
	// EraseX..EraseX+EraseW-1 with the config's ErasingValue.
	Erase                          bool
	EraseY, EraseX, EraseH, EraseW int
}

// Validate reports a configuration Keras would reject or that makes no sense.
func (c *Config) Validate() error {
	switch c.FillMode {
	case "", "nearest", "constant", "reflect", "wrap":
	default:
		return fmt.Errorf("fill mode %q, want nearest, constant, reflect or wrap", c.FillMode)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"rotation range", c.RotationRange}, {"width shift range", c.WidthShiftRange},
		{"height shift range", c.HeightShiftRange}, {"shear range", c.ShearRange}} {
		if f.v < 0 || math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("%s %v, want a finite number >= 0", f.name, f.v)
		}
	}
	if z := c.ZoomRange; z != [2]float64{} && !(z[0] > 0 && z[0] <= z[1] && !math.IsInf(z[1], 0)) {
		return fmt.Errorf("zoom range %v, want 0 < lo <= hi", z)
	}
	if b := c.BrightnessRange; b != [2]float64{} && !(b[0] >= 0 && b[0] <= b[1] && !math.IsInf(b[1], 0)) {
		return fmt.Errorf("brightness range %v, want 0 <= lo <= hi", b)
	}
	if !(c.StrokeRange >= 0 && c.StrokeRange <= 1) {
		return fmt.Errorf("stroke range %v, want 0..1", c.StrokeRange)
	}
	if math.IsNaN(c.Cval) || math.IsInf(c.Cval, 0) {
		return fmt.Errorf("cval %v, want a finite number", c.Cval)
	}
	return c.validateErasing()
}

// Enabled reports whether the configuration changes images at all.
func (c *Config) Enabled() bool {
	return c.RotationRange != 0 || c.WidthShiftRange != 0 || c.HeightShiftRange != 0 ||
		c.ShearRange != 0 || c.zooms() || c.HorizontalFlip || c.VerticalFlip ||
		c.BrightnessRange != [2]float64{} || c.StrokeRange != 0 || c.Erasing > 0
}

func (c *Config) zooms() bool {
	return c.ZoomRange != [2]float64{} && c.ZoomRange != [2]float64{1, 1}
}

// uniform returns a draw from U(lo, hi), as numpy.random.uniform, also
// when hi-lo is past the largest float64.
func uniform(rng *rand.Rand, lo, hi float64) float64 {
	u := rng.Float64()
	if d := hi - lo; !math.IsInf(d, 0) {
		return lo + d*u
	}
	return lo*(1-u) + hi*u
}

// Random draws a transformation for an h x w image in Keras's order: theta,
// tx, ty, shear, zx and zy, the two flips (always drawn), brightness; then
// the stroke width and the erasing, which are not Keras's (drawn only when
// StrokeRange or Erasing is set, so that every other configuration draws
// Keras's sequence).
func (c *Config) Random(h, w int, rng *rand.Rand) Params {
	p := Params{Zx: 1, Zy: 1}
	if c.RotationRange != 0 {
		p.Theta = uniform(rng, -c.RotationRange, c.RotationRange)
	}
	if r := c.HeightShiftRange; r != 0 {
		p.Tx = uniform(rng, -r, r)
		if r < 1 {
			p.Tx *= float64(h)
		}
	}
	if r := c.WidthShiftRange; r != 0 {
		p.Ty = uniform(rng, -r, r)
		if r < 1 {
			p.Ty *= float64(w)
		}
	}
	if c.ShearRange != 0 {
		p.Shear = uniform(rng, -c.ShearRange, c.ShearRange)
	}
	if c.zooms() {
		p.Zx = uniform(rng, c.ZoomRange[0], c.ZoomRange[1])
		p.Zy = uniform(rng, c.ZoomRange[0], c.ZoomRange[1])
	}
	p.FlipH = rng.Float64() < 0.5 && c.HorizontalFlip
	p.FlipV = rng.Float64() < 0.5 && c.VerticalFlip
	if b := c.BrightnessRange; b != [2]float64{} {
		p.Brightness = uniform(rng, b[0], b[1])
	}
	if s := c.StrokeRange; s != 0 {
		p.Stroke = uniform(rng, -s, s)
	}
	if c.Erasing > 0 && rng.Float64() < c.Erasing {
		c.eraseBox(&p, h, w, rng)
	}
	return p
}

// Apply draws a random transformation and applies it: dst = T(src) for an
// image of h rows, w columns and ch channels stored row by row, channels
// last. dst and src must not overlap.
func (c *Config) Apply(dst, src []float32, h, w, ch int, rng *rand.Rand) {
	c.Transform(dst, src, h, w, ch, c.Random(h, w, rng))
}

// Transform applies p to src and writes the result to dst (see the package
// documentation for the conventions). dst and src must have h*w*ch values
// and must not overlap.
func (c *Config) Transform(dst, src []float32, h, w, ch int, p Params) {
	n := h * w * ch
	if h <= 0 || w <= 0 || ch <= 0 || len(dst) != n || len(src) != n {
		panic(fmt.Sprintf("augment: Transform: %d and %d values for a %dx%dx%d image", len(dst), len(src), h, w, ch))
	}
	if &dst[0] == &src[0] {
		panic("augment: Transform: dst and src overlap")
	}
	zx, zy := p.Zx, p.Zy
	if zx == 0 {
		zx = 1
	}
	if zy == 0 {
		zy = 1
	}
	if p.Theta == 0 && p.Tx == 0 && p.Ty == 0 && p.Shear == 0 && zx == 1 && zy == 1 {
		flipCopy(dst, src, h, w, ch, p.FlipH, p.FlipV)
	} else {
		m := matrix(p.Theta, p.Tx, p.Ty, p.Shear, zx, zy, h, w)
		c.sample(dst, src, h, w, ch, m, p.FlipH, p.FlipV)
	}
	if p.Stroke != 0 {
		stroke(dst, h, w, ch, float32(p.Stroke))
	}
	// A factor past float32's range would make 0·b NaN: the largest
	// float32 takes any black pixel to 0 and any other to 255 as well.
	if b := float32(min(p.Brightness, math.MaxFloat32)); b != 0 {
		for i, v := range dst {
			dst[i] = min(max(v*b, 0), 255)
		}
	}
	if p.Erase {
		c.erase(dst, h, w, ch, p)
	}
}

// affine maps an output position (x = column, y = row) to the input
// position it samples: xin = a*x + b*y + e, yin = c*x + d*y + f.
type affine struct{ a, b, c, d, e, f float64 }

// matrix builds Keras's rotation · shift · shear · zoom in (x, y)
// coordinates, centred on the image.
func matrix(theta, tx, ty, shear, zx, zy float64, h, w int) affine {
	sinT, cosT := math.Sincos(theta * math.Pi / 180)
	sinS, cosS := math.Sincos(shear * math.Pi / 180)
	// shear · zoom = [[zx, -sinS*zy], [0, cosS*zy]]
	s00, s01, s11 := zx, -sinS*zy, cosS*zy
	// rotation · (shear · zoom)
	a := cosT * s00
	b := cosT*s01 - sinT*s11
	c := sinT * s00
	d := sinT*s01 + cosT*s11
	// The shift (ty along x, tx along y) sits between rotation and shear,
	// so it is rotated.
	sx := cosT*ty - sinT*tx
	sy := sinT*ty + cosT*tx
	// Centre: in = o + L(out - o) + s.
	ox, oy := float64(w)/2-0.5, float64(h)/2-0.5
	return affine{a, b, c, d, ox - a*ox - b*oy + sx, oy - c*ox - d*oy + sy}
}

// flipCopy copies src to dst, reversing columns and/or rows.
func flipCopy(dst, src []float32, h, w, ch int, flipH, flipV bool) {
	if !flipH && !flipV {
		copy(dst, src)
		return
	}
	for r := range h {
		sr := r
		if flipV {
			sr = h - 1 - r
		}
		drow, srow := dst[r*w*ch:(r+1)*w*ch], src[sr*w*ch:(sr+1)*w*ch]
		if !flipH {
			copy(drow, srow)
			continue
		}
		for x := range w {
			copy(drow[x*ch:(x+1)*ch], srow[(w-1-x)*ch:(w-x)*ch])
		}
	}
}

// edgeTol lets points a rounding error outside the input count as inside in
// constant mode (a 90-degree rotation lands on the edge up to ~1e-15).
const edgeTol = 1e-6

// sample fills dst with src sampled bilinearly at m(out), where out is the
// output position before the flips.
func (c *Config) sample(dst, src []float32, h, w, ch int, m affine, flipH, flipV bool) {
	mode := c.FillMode
	cval := float32(c.Cval)
	// Column step of the source position as the output column advances.
	dx, dy := m.a, m.c
	if flipH {
		dx, dy = -dx, -dy
	}
	maxX, maxY := float64(w-1), float64(h-1)
	for r := range h {
		yr := float64(r)
		if flipV {
			yr = float64(h - 1 - r)
		}
		x0 := 0.0
		if flipH {
			x0 = float64(w - 1)
		}
		// Source position of the first output pixel of this row.
		xs := m.a*x0 + m.b*yr + m.e
		ys := m.c*x0 + m.d*yr + m.f
		out := dst[r*w*ch : (r+1)*w*ch]
		for col := range w {
			xi := xs + float64(col)*dx
			yi := ys + float64(col)*dy
			o := out[col*ch : (col+1)*ch]
			if mode == "constant" {
				if xi < -edgeTol || xi > maxX+edgeTol || yi < -edgeTol || yi > maxY+edgeTol {
					for k := range o {
						o[k] = cval
					}
					continue
				}
				xi = min(max(xi, 0), maxX)
				yi = min(max(yi, 0), maxY)
			}
			fx, fy := math.Floor(xi), math.Floor(yi)
			ix, iy := int(fx), int(fy)
			wx, wy := float32(xi-fx), float32(yi-fy)
			var i00, i01, i10, i11 int // offsets of the four neighbours
			if ix >= 0 && iy >= 0 && ix+1 < w && iy+1 < h {
				i00 = (iy*w + ix) * ch
				i01 = i00 + ch
				i10 = i00 + w*ch
				i11 = i10 + ch
			} else {
				x0, x1 := edge(ix, w, mode), edge(ix+1, w, mode)
				y0, y1 := edge(iy, h, mode), edge(iy+1, h, mode)
				i00, i01 = (y0*w+x0)*ch, (y0*w+x1)*ch
				i10, i11 = (y1*w+x0)*ch, (y1*w+x1)*ch
			}
			for k := range o {
				top := src[i00+k] + wx*(src[i01+k]-src[i00+k])
				bot := src[i10+k] + wx*(src[i11+k]-src[i10+k])
				o[k] = top + wy*(bot-top)
			}
		}
	}
}

// edge maps an index outside 0..n-1 into it according to the fill mode.
// Constant mode only reaches here for the neighbour past the last pixel,
// whose weight is zero.
func edge(i, n int, mode string) int {
	if i >= 0 && i < n {
		return i
	}
	switch mode {
	case "reflect":
		// Period 2n: abcd|dcba.
		m := i % (2 * n)
		if m < 0 {
			m += 2 * n
		}
		if m >= n {
			m = 2*n - 1 - m
		}
		return m
	case "wrap":
		m := i % n
		if m < 0 {
			m += n
		}
		return m
	default: // nearest, constant
		return min(max(i, 0), n-1)
	}
}
