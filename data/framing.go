package data

import (
	"fmt"
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
}

// Framed reports whether f frames images (Box > 0) rather than resizing
// them whole.
func (f Framing) Framed() bool { return f.Box > 0 }

// Check reports a framing that cannot be applied.
func (f Framing) Check() error {
	if f.Size[0] < 1 || f.Size[1] < 1 {
		return fmt.Errorf("framing: size %v, want positive sides", f.Size)
	}
	if !f.Framed() {
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
	// Center is the point placed at the framing's At.
	Center [2]float64 `json:"center"`
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

// inkOf finds the ink of px (h*w*c values, 0..255, white on black): the
// background is the median of the outermost ring of pixels, the ink the
// brightest level; levels in between are stretched to 0..255 by bg and
// gain. It reports false when the image has too little contrast to hold
// ink. Channels are averaged.
func inkOf(px []float32, h, w, c int) (k ink, ok bool) {
	grey := func(y, x int) float64 {
		var s float64
		for _, v := range px[(y*w+x)*c : (y*w+x+1)*c] {
			s += float64(v)
		}
		return s / float64(c)
	}
	var ring []float64
	peak := math.Inf(-1)
	for y := range h {
		for x := range w {
			g := grey(y, x)
			peak = max(peak, g)
			if y == 0 || y == h-1 || x == 0 || x == w-1 {
				ring = append(ring, g)
			}
		}
	}
	slices.Sort(ring)
	k.bg = ring[len(ring)/2]
	if !(peak-k.bg >= minContrast) {
		return k, false
	}
	k.gain = 255 / (peak - k.bg)
	k.box = [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	var m, my, mx float64
	for y := range h {
		for x := range w {
			v := (grey(y, x) - k.bg) * k.gain
			if v >= inkLevel {
				k.box[0], k.box[1] = min(k.box[0], float64(y)), min(k.box[1], float64(x))
				k.box[2], k.box[3] = max(k.box[2], float64(y+1)), max(k.box[3], float64(x+1))
			}
			if v >= massLevel {
				m += v
				my += v * (float64(y) + 0.5)
				mx += v * (float64(x) + 0.5)
			}
		}
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
	n, h, w, c := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	f := Framing{Size: [2]int{h, w}}
	var longs, strokes []float64
	var sums [2][2][2]float64 // [mass, box][y, x][sum, sum of squares]
	for i := range n {
		px := x.Data[i*h*w*c : (i+1)*h*w*c]
		k, ok := inkOf(px, h, w, c)
		if !ok || k.bg > inkLevel {
			continue
		}
		longs = append(longs, k.long())
		strokes = append(strokes, strokeWidth(px, h, w, c, k.bg, k.gain))
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
	k, ok := inkOf(src, h, w, c)
	if !f.Framed() || !ok {
		sy, sx := float64(H)/float64(h), float64(W)/float64(w)
		resample(dst, H, W, src, h, w, c, [2]float64{sy, sx}, [2]float64{0, 0}, [2]float64{0, 0}, 0, 1, true)
		return Placement{Ink: [4]float64{0, 0, float64(h), float64(w)}, Scale: min(sy, sx), Empty: !ok}
	}
	// Box and At are in pixels of an image of f.Size; the model's may differ.
	ry, rx := float64(H)/float64(f.Size[0]), float64(W)/float64(f.Size[1])
	s := f.Box * min(ry, rx) / k.long()
	at := [2]float64{f.At[0] * ry, f.At[1] * rx}
	p := Placement{Ink: k.box, Center: k.centre(f.Center), Scale: s}
	// Strokes far from the usual width: erode or dilate the source by r so
	// that, framed (the ink's box changes by 2r too), they have it. This is
	// done only when the source is finer than the output, whose averaging
	// smooths the eroded source's binary edges.
	box, want := f.Box*min(ry, rx), f.Stroke*min(ry, rx)
	if got := strokeWidth(src, h, w, c, k.bg, k.gain); f.Stroke > 0 && s <= maxMorphScale && got > 0 &&
		(got*s > want*strokeSpread || got*s < want/strokeSpread) {
		r := (got - want*k.long()/box) / (2 * (1 - want/box))
		thin := morph(src, h, w, c, k.bg, k.gain, r)
		if k2, ok := inkOf(thin, h, w, c); ok {
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
// nearest edge pixel's).
func resample(dst []float32, H, W int, src []float32, h, w, c int, scale, at, from [2]float64, bg, gain float64, clamp bool) {
	grid := func(s float64) int { return int(min(16, max(1, math.Ceil(1/s)))) }
	ky, kx := grid(scale[0]), grid(scale[1])
	level := func(y, x, ch int) float64 {
		if clamp {
			y, x = min(h-1, max(0, y)), min(w-1, max(0, x))
		} else if y < 0 || y >= h || x < 0 || x >= w {
			return 0
		}
		return min(255, max(0, (float64(src[(y*w+x)*c+ch])-bg)*gain))
	}
	sum := make([]float64, c)
	for Y := range H {
		for X := range W {
			clear(sum)
			for a := range ky {
				sy := (float64(Y)+(float64(a)+0.5)/float64(ky)-at[0])/scale[0] + from[0] - 0.5
				y0 := int(math.Floor(sy))
				fy := sy - float64(y0)
				for b := range kx {
					sx := (float64(X)+(float64(b)+0.5)/float64(kx)-at[1])/scale[1] + from[1] - 0.5
					x0 := int(math.Floor(sx))
					fx := sx - float64(x0)
					for ch := range c {
						top := level(y0, x0, ch)*(1-fx) + level(y0, x0+1, ch)*fx
						bot := level(y0+1, x0, ch)*(1-fx) + level(y0+1, x0+1, ch)*fx
						sum[ch] += top*(1-fy) + bot*fy
					}
				}
			}
			for ch := range c {
				dst[(Y*W+X)*c+ch] = float32(sum[ch] / float64(ky*kx))
			}
		}
	}
}

// namedFramings are the framings [MeasureFraming] finds on the training
// sets of the named data sets (checked by a test when the data is at hand).
var namedFramings = map[string]Framing{
	"ahcd":  {Size: [2]int{32, 32}, Box: 17, Center: "mass", At: [2]float64{17.49, 17.43}, Stroke: 1.61},
	"mnist": {Size: [2]int{28, 28}, Box: 20, Center: "mass", At: [2]float64{14.5, 14.51}, Stroke: 2.5},
}

// NamedFraming returns the framing of the training images of a named data
// set ("ahcd", "mnist"), for models that were trained on it before their
// files recorded one.
func NamedFraming(name string) (Framing, bool) {
	f, ok := namedFramings[name]
	return f, ok
}
