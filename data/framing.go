package data

import (
	"fmt"
	"image"
	"math"
	"slices"

	"github.com/convnet-go/convnet/tensor"
)

// Framing is where the images of a data set put their ink and how large:
// MNIST's digits are scaled so that the long side of their bounding box is
// 20 pixels and placed with their centre of mass at the centre of the 28x28
// image; AHCD's letters keep the size they were written at, 17 pixels long
// in the middle of the range, near the centre of the 32x32 image. A model
// that learnt from such images recognises a drawing or a photograph best
// when it is framed the same way, whatever its size and position:
// [Framing.Frame] crops an image to its ink, scales it and places it as
// the training images are. [MeasureFraming] finds the framing of a data set
// from its images.
//
// Its JSON form, as model files keep it:
//
//	{"size": [28, 28], "box": 20, "center": "mass", "at": [14.5, 14.5]}
type Framing struct {
	// Size is the height and width of the images it was measured on.
	Size [2]int `json:"size"`
	// Box is the long side of the ink's bounding box, in pixels. 0 means the
	// images are not framed (their ink fills them, or they are not ink on a
	// dark background): an image is resized whole.
	Box float64 `json:"box,omitempty"`
	// Center is the point of the ink placed at At: "mass" (its centre of
	// mass) or "box" (the centre of its bounding box).
	Center string `json:"center,omitempty"`
	// At is where Center goes, [y, x] in pixels from the top left corner:
	// pixel (0, 0) covers 0..1 on each axis, so [14, 14] is the centre of
	// a 28x28 image.
	At [2]float64 `json:"at"`
	// Stroke is the usual width of the strokes, in pixels (see
	// framing_stroke.go); 0 leaves strokes as they are.
	Stroke float64 `json:"stroke,omitempty"`
	// Dark reports that most of the images are light ink on a dark
	// background, as MNIST's and AHCD's; every framing with a Box is (a box
	// is measured on such images alone). A model that learnt from them is
	// given an image of dark ink on light paper inverted ([model.Classifier]'s
	// InvertAuto); a photograph, to a model of photographs, as it is.
	Dark bool `json:"dark,omitempty"`
	// Crop, for images that are not framed, is how an image of another
	// shape than Size is fitted to it: 0 resizes it whole; c in (0, 1]
	// first crops the centred region of Size's aspect ratio, c times the
	// largest that fits ([Framing.CropRect]): Teachable Machine's image
	// models crop the centre square (1), torchvision's Resize(256) then
	// CenterCrop(224) keep 0.875 of it.
	Crop float64 `json:"crop,omitempty"`
}

// Framed reports whether f frames images (Box > 0) rather than resizing
// them whole.
func (f Framing) Framed() bool { return f.Box > 0 }

// CropRect returns the part of an image of bounds b that f.Crop keeps: the
// centred rectangle of Size's aspect ratio, f.Crop times the largest that
// fits in b, in whole pixels rounded down (at least one), as Keras's
// keep_aspect_ratio cuts it for Crop 1; b itself when Crop is 0.
func (f Framing) CropRect(b image.Rectangle) image.Rectangle {
	if f.Crop <= 0 || b.Empty() || f.Size[0] < 1 || f.Size[1] < 1 {
		return b
	}
	h, w := float64(b.Dy()), float64(b.Dx())
	if w*float64(f.Size[0]) > h*float64(f.Size[1]) { // wider than Size: the full height
		w = h * float64(f.Size[1]) / float64(f.Size[0])
	} else {
		h = w * float64(f.Size[0]) / float64(f.Size[1])
	}
	// Whole pixels as Keras's keep_aspect_ratio counts them, rounded down
	// (the 1e-9 keeps a whole number that float arithmetic left a hair
	// below it, such as 0.875·256, whole).
	ch := min(b.Dy(), max(1, int(math.Floor(h*f.Crop+1e-9))))
	cw := min(b.Dx(), max(1, int(math.Floor(w*f.Crop+1e-9))))
	y, x := b.Min.Y+(b.Dy()-ch)/2, b.Min.X+(b.Dx()-cw)/2
	return image.Rect(x, y, x+cw, y+ch)
}

// Check reports a framing that cannot be applied.
func (f Framing) Check() error {
	if f.Size[0] < 1 || f.Size[1] < 1 {
		return fmt.Errorf("framing: size %v, want positive sides", f.Size)
	}
	switch {
	case !(f.Crop >= 0 && f.Crop <= 1):
		return fmt.Errorf("framing: crop %v, want 0 (none) or a fraction in (0, 1]", f.Crop)
	case f.Crop > 0 && f.Framed():
		return fmt.Errorf("framing: crop %v of images framed in a box of %v: a framed image is cropped to its ink", f.Crop, f.Box)
	case !f.Framed():
		return nil
	}
	long := float64(max(f.Size[0], f.Size[1]))
	switch {
	case math.IsNaN(f.Box) || f.Box > long:
		return fmt.Errorf("framing: box %v, want at most the image's long side %v", f.Box, long)
	case f.Center != "mass" && f.Center != "box":
		return fmt.Errorf("framing: center %q, want \"mass\" or \"box\"", f.Center)
	case !(f.Stroke >= 0 && f.Stroke < f.Box):
		return fmt.Errorf("framing: stroke %v, want at least 0 and less than the box %v", f.Stroke, f.Box)
	}
	for i, v := range f.At {
		if !(v >= 0 && v <= float64(f.Size[i])) {
			return fmt.Errorf("framing: at %v, outside the %dx%d image", f.At, f.Size[0], f.Size[1])
		}
	}
	return nil
}

// Placement is what [Framing.Frame] found in an image and where it put it,
// in the source image's pixels (continuous coordinates, as in Framing.At).
type Placement struct {
	// Ink is the bounding box of the ink: top, left, bottom, right (the
	// bottom and right ends excluded).
	Ink [4]float64 `json:"ink"`
	// Center is the point placed at At.
	Center [2]float64 `json:"center"`
	// At is where Center went, in output pixels: output point q shows
	// source point (q-At)/Scale + Center.
	At [2]float64 `json:"at"`
	// Scale is the size of a source pixel in output pixels.
	Scale float64 `json:"scale"`
	// Empty reports an image without ink (no contrast), resized whole.
	Empty bool `json:"empty,omitempty"`
	// Thinned is by how many pixels of the source the strokes were
	// eroded (negative: dilated) to the framing's width.
	Thinned float64 `json:"thinned,omitempty"`
}

// Ink levels, in 0..255 after the background is taken away and the
// contrast stretched (see inkOf).
const (
	inkLevel    = 64 // a pixel at or above it is ink, for the bounding box
	massLevel   = 16 // pixels below it weigh nothing in the centre of mass
	minContrast = 32 // less between background and darkest ink: no ink
)

// maxMorphScale is the largest scale (output pixels per source pixel) at
// which Frame changes the width of strokes.
const maxMorphScale = 0.5

// ink is what inkOf finds in an image.
type ink struct {
	bg, gain float64    // level v becomes (v-bg)*gain
	box      [4]float64 // top, left, bottom, right
	mass     [2]float64 // centre of mass, y and x
}

// long returns the long side of the bounding box.
func (k *ink) long() float64 { return max(k.box[2]-k.box[0], k.box[3]-k.box[1]) }

// centre returns the point named by center ("mass" or "box").
func (k *ink) centre(center string) [2]float64 {
	if center == "box" {
		return [2]float64{(k.box[0] + k.box[2]) / 2, (k.box[1] + k.box[3]) / 2}
	}
	return k.mass
}

// greyOf returns the mean over the channels of each pixel of px (h*w*c
// values); px itself when c is 1.
func greyOf(px []float32, h, w, c int) []float32 {
	if c == 1 {
		return px
	}
	g := make([]float32, h*w)
	for i := range g {
		var s float32
		for _, v := range px[i*c : (i+1)*c] {
			s += v
		}
		g[i] = s / float32(c)
	}
	return g
}

// inkOf finds the ink of the grey image g (h*w values, 0..255, white on
// black): the background is the median of the outermost ring of pixels,
// the ink the brightest level; levels in between are stretched to 0..255
// by bg and gain. It reports false when the image has too little contrast
// to hold ink.
func inkOf(g []float32, h, w int) (k ink, ok bool) {
	ring := make([]float32, 0, 2*(h+w))
	var peak float32
	for y := range h {
		row := g[y*w : (y+1)*w]
		for x, v := range row {
			peak = max(peak, v)
			if y == 0 || y == h-1 || x == 0 || x == w-1 {
				ring = append(ring, v)
			}
		}
	}
	slices.Sort(ring)
	k.bg = float64(ring[len(ring)/2])
	if !(float64(peak)-k.bg >= minContrast) {
		return k, false
	}
	k.gain = 255 / (float64(peak) - k.bg)
	k.box = [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	var m, my, mx float64
	for y := range h {
		var rm, rx float64
		y0, y1 := math.Inf(1), math.Inf(-1)
		for x, g := range g[y*w : (y+1)*w] {
			v := (float64(g) - k.bg) * k.gain
			if v >= inkLevel {
				y0, y1 = min(y0, float64(x)), max(y1, float64(x+1))
			}
			if v >= massLevel {
				rm += v
				rx += v * (float64(x) + 0.5)
			}
		}
		if y1 > y0 {
			k.box[0], k.box[2] = min(k.box[0], float64(y)), max(k.box[2], float64(y+1))
			k.box[1], k.box[3] = min(k.box[1], y0), max(k.box[3], y1)
		}
		m, my, mx = m+rm, my+rm*(float64(y)+0.5), mx+rx
	}
	k.mass = [2]float64{my / m, mx / m}
	return k, true
}

// MeasureFraming finds the framing of the images x, [N, H, W, C] raw
// values (0..255, white on black): the median long side of the ink's
// bounding box, and the centring (by mass or by box) whose centres vary
// least from image to image, placed at their mean. Images without ink are
// left out. The images are not framed (Box 0) when fewer than half hold
// ink on a dark background, or when the ink of most of them fills 90% of
// the image's long side or more.
func MeasureFraming(x *tensor.Tensor) Framing {
	x.MustShape("data: MeasureFraming", -1, -1, -1, -1)
	per := tensor.Size(x.Shape[1:])
	return measureFraming(x.Shape, func(i int) []float32 { return x.Data[i*per : (i+1)*per] })
}

// MeasureFraming is the package's [MeasureFraming] of the images of d,
// however it holds them.
func (d *Dataset) MeasureFraming() Framing {
	if d.X != nil {
		return MeasureFraming(d.X)
	}
	if len(d.PixShape) != 4 {
		panic(fmt.Sprintf("data: Dataset.MeasureFraming: images of shape %v, want [N H W C]", d.PixShape))
	}
	px := make([]float32, d.SampleSize())
	return measureFraming(d.PixShape, func(i int) []float32 { return d.ImageTo(px, i) })
}

// measureFraming is MeasureFraming of the images of shape [N, H, W, C],
// image(i) returning image i.
func measureFraming(shape []int, image func(i int) []float32) Framing {
	n, h, w, c := shape[0], shape[1], shape[2], shape[3]
	f := Framing{Size: [2]int{h, w}}
	var longs, strokes []float64
	var sums [2][2][2]float64 // [mass, box][y, x][sum, sum of squares]
	for i := range n {
		g := greyOf(image(i), h, w, c)
		k, ok := inkOf(g, h, w)
		if !ok || k.bg > inkLevel {
			continue
		}
		longs = append(longs, k.long())
		strokes = append(strokes, strokeWidth(g, h, w, k.bg, k.gain))
		for j, name := range []string{"mass", "box"} {
			p := k.centre(name)
			for a := range 2 {
				sums[j][a][0] += p[a]
				sums[j][a][1] += p[a] * p[a]
			}
		}
	}
	if len(longs) == 0 || 2*len(longs) < n {
		return f
	}
	f.Dark = true
	slices.Sort(longs)
	box := longs[len(longs)/2]
	if box >= 0.9*float64(max(h, w)) {
		return f
	}
	m := float64(len(longs))
	spread := func(j int) float64 {
		var s float64
		for a := range 2 {
			mean := sums[j][a][0] / m
			s += max(0, sums[j][a][1]/m-mean*mean)
		}
		return s
	}
	j := 0
	f.Center = "mass"
	if spread(1) < spread(0) {
		j, f.Center = 1, "box"
	}
	f.Box = box
	slices.Sort(strokes)
	f.Stroke = math.Round(strokes[len(strokes)/2]*100) / 100
	for a := range 2 {
		f.At[a] = math.Round(sums[j][a][0]/m*100) / 100
	}
	return f
}

// Frame writes into dst, H*W*c values, the image src (h*w*c values in
// 0..255, white on black, row by row, channels last) framed as f says: the
// background level (the median of its outermost ring of pixels) is taken
// away and the contrast stretched so that the brightest ink is 255; the
// ink is scaled so that the long side of its bounding box is f.Box pixels
// (of an image of f.Size, scaled to H*W) and placed with its centre at
// f.At. Each output pixel averages the source over its area. An image
// without ink, or a framing that does not frame, is resized whole. src is
// not changed.
func (f Framing) Frame(dst []float32, H, W int, src []float32, h, w, c int) Placement {
	if len(dst) != H*W*c || len(src) != h*w*c || h < 1 || w < 1 {
		panic(fmt.Sprintf("data: Framing.Frame: %d values for %dx%dx%d, %d for %dx%dx%d", len(dst), H, W, c, len(src), h, w, c))
	}
	g := greyOf(src, h, w, c)
	k, ok := inkOf(g, h, w)
	if !f.Framed() || !ok {
		sy, sx := float64(H)/float64(h), float64(W)/float64(w)
		resample(dst, H, W, src, h, w, c, [2]float64{sy, sx}, [2]float64{0, 0}, [2]float64{0, 0}, 0, 1, true)
		return Placement{Ink: [4]float64{0, 0, float64(h), float64(w)}, Scale: min(sy, sx), Empty: !ok}
	}
	// Box and At are in pixels of an image of f.Size; the model's may differ.
	ry, rx := float64(H)/float64(f.Size[0]), float64(W)/float64(f.Size[1])
	s := f.Box * min(ry, rx) / k.long()
	at := [2]float64{f.At[0] * ry, f.At[1] * rx}
	p := Placement{Ink: k.box, Center: k.centre(f.Center), At: at, Scale: s}
	// Strokes far from the usual width: erode or dilate the source by r so
	// that, framed (the ink's box changes by 2r too), they have it. This is
	// done only when the source is finer than the output, whose averaging
	// smooths the eroded source's binary edges.
	box, want := f.Box*min(ry, rx), f.Stroke*min(ry, rx)
	if got := strokeWidth(g, h, w, k.bg, k.gain); f.Stroke > 0 && s <= maxMorphScale && got > 0 &&
		(got*s > want*strokeSpread || got*s < want/strokeSpread) {
		r := (got - want*k.long()/box) / (2 * (1 - want/box))
		thin := morph(g, h, w, c, k.bg, k.gain, r)
		if k2, ok := inkOf(greyOf(thin, h, w, c), h, w); ok {
			src, k, s = thin, k2, box/k2.long()
			p.Center, p.Scale, p.Thinned = k.centre(f.Center), s, r
		}
	}
	resample(dst, H, W, src, h, w, c, [2]float64{s, s}, at, p.Center, k.bg, k.gain, false)
	return p
}

// resample writes dst (H*W*c) from src (h*w*c): output point q shows the
// source point (q-at)/scale + from, bilinearly interpolated, each output
// pixel the mean of a grid of such points over its area (as many per side
// as source pixels it spans, at most 16); levels v become (v-bg)*gain,
// clipped to 0..255, and points outside the source are 0 (with clamp, the
// nearest edge pixel's). The grid and the interpolation are separable: the
// weights of each output row over the source rows, and of each output
// column over the source columns, are worked out once.
func resample(dst []float32, H, W int, src []float32, h, w, c int, scale, at, from [2]float64, bg, gain float64, clamp bool) {
	wy := weights(H, h, scale[0], at[0], from[0], clamp)
	wx := weights(W, w, scale[1], at[1], from[1], clamp)
	// The columns any output pixel reads, levelled, row by row as needed.
	x0, x1 := w, 0
	for _, t := range wx {
		for _, tap := range t {
			x0, x1 = min(x0, tap.i), max(x1, tap.i+1)
		}
	}
	clear(dst)
	if x1 <= x0 {
		return
	}
	row := make([]float64, (x1-x0)*c) // one output row over the source columns
	for Y, ty := range wy {
		clear(row)
		for _, tap := range ty {
			for i, v := range src[(tap.i*w+x0)*c : (tap.i*w+x1)*c] {
				row[i] += tap.w * min(255, max(0, (float64(v)-bg)*gain))
			}
		}
		for X, tx := range wx {
			for ch := range c {
				var sum float64
				for _, tap := range tx {
					sum += tap.w * row[(tap.i-x0)*c+ch]
				}
				dst[(Y*W+X)*c+ch] = float32(sum)
			}
		}
	}
}

// tap is a source index and its weight.
type tap struct {
	i int
	w float64
}

// weights returns, for each of n output positions along an axis of m
// source pixels, the source pixels it reads and their weights: the mean
// over a grid of points across the output pixel of the linear
// interpolation at (q-at)/scale + from.
func weights(n, m int, scale, at, from float64, clamp bool) [][]tap {
	k := int(min(16, max(1, math.Ceil(1/scale))))
	out := make([][]tap, n)
	for q := range n {
		var taps []tap
		add := func(i int, w float64) {
			if clamp {
				i = min(m-1, max(0, i))
			} else if i < 0 || i >= m {
				return
			}
			for j := range taps {
				if taps[j].i == i {
					taps[j].w += w
					return
				}
			}
			taps = append(taps, tap{i, w})
		}
		for a := range k {
			s := (float64(q)+(float64(a)+0.5)/float64(k)-at)/scale + from - 0.5
			i := int(math.Floor(s))
			f := s - float64(i)
			add(i, (1-f)/float64(k))
			add(i+1, f/float64(k))
		}
		out[q] = taps
	}
	return out
}

// namedFramings are the framings [MeasureFraming] finds on the training
// sets of the named data sets (checked by a test when the data is at hand).
var namedFramings = map[string]Framing{
	"ahcd":  {Size: [2]int{32, 32}, Box: 17, Center: "mass", At: [2]float64{17.49, 17.43}, Stroke: 1.61, Dark: true},
	"mnist": {Size: [2]int{28, 28}, Box: 20, Center: "mass", At: [2]float64{14.5, 14.51}, Stroke: 2.5, Dark: true},
}

// NamedFraming returns the framing of the training images of a named data
// set ("ahcd", "mnist"), for models that were trained on it before their
// files recorded one.
func NamedFraming(name string) (Framing, bool) {
	f, ok := namedFramings[name]
	return f, ok
}
