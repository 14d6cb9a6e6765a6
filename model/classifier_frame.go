package model

import (
	"image"

	"github.com/convnet-go/convnet/data"
)

// Invert says when a [Classifier] turns an image's values over (v becomes
// 255-v) before classifying it.
type Invert int

const (
	// InvertAuto inverts an image whose outermost ring of pixels is light
	// (dark ink on paper) for a model that learnt light strokes on a dark
	// background (its framing is Dark, see [data.Framing]), and no image
	// for another, such as a model of photographs.
	InvertAuto Invert = iota
	// InvertAlways inverts every image.
	InvertAlways
	// InvertNever keeps every image as it is.
	InvertNever
)

// Framing returns how the classifier frames images: the framing of the
// model's training images ([Sequential.Framing]).
func (c *Classifier) Framing() data.Framing { return c.framing }

// Framed is an image as [Classifier.Frame] prepares it for the model.
type Framed struct {
	// Pixels is the model's raw input, H*W*C values in 0..255, row by row,
	// channels last.
	Pixels []float32
	// Inverted reports that the image's values were turned over (dark ink
	// on light paper).
	Inverted bool
	// Placement says where the ink was found, in pixels of the image as
	// given, and how much it was scaled.
	Placement data.Placement
}

// frameSide bounds the long side of an image that is framed, in multiples
// of the model's input: a larger image is first resized to it.
const frameSide = 10

// Frame returns img as the model's raw input, the way the model's
// training images were made ([Classifier.Framing]): converted to luminance
// or RGB(A) (see [data.ImageToPixels]), inverted as
// [ClassifierOptions].Invert says, then cropped to its ink, scaled and
// centred by [data.Framing.Frame]. For a model whose training images are
// not framed, the image is resized (bilinear), whole or, if the framing
// says so, its centre ([data.Framing.CropRect]), then inverted; an image of
// exactly the model's input size (taken to be framed already, as a data
// set's images are) is taken whole. An empty image gives an input of zeros.
func (c *Classifier) Frame(img image.Image) Framed {
	h, w, ch := c.shape[0], c.shape[1], c.shape[2]
	b := img.Bounds()
	if b.Empty() {
		return Framed{Pixels: make([]float32, h*w*ch)}
	}
	if !c.framing.Framed() || b.Dx() == w && b.Dy() == h {
		r := b
		if b.Dx() != w || b.Dy() != h {
			r = c.framing.CropRect(b)
		}
		px := data.ImageToPixels(data.CropImage(img, r), h, w, ch)
		inv := c.invert(px, h, w, ch)
		return Framed{Pixels: px, Inverted: inv, Placement: data.Placement{
			Ink:   [4]float64{float64(r.Min.Y - b.Min.Y), float64(r.Min.X - b.Min.X), float64(r.Max.Y - b.Min.Y), float64(r.Max.X - b.Min.X)},
			Scale: min(float64(h)/float64(r.Dy()), float64(w)/float64(r.Dx())),
		}}
	}
	sh, sw := b.Dy(), b.Dx()
	if limit := frameSide * max(h, w); max(sh, sw) > limit {
		r := float64(limit) / float64(max(sh, sw))
		sh, sw = max(1, int(float64(sh)*r+0.5)), max(1, int(float64(sw)*r+0.5))
	}
	src := data.ImageToPixels(img, sh, sw, ch)
	f := Framed{Pixels: make([]float32, h*w*ch), Inverted: c.invert(src, sh, sw, ch)}
	p := c.framing.Frame(f.Pixels, h, w, src, sh, sw, ch)
	// Back to the image's own pixels.
	ry, rx := float64(b.Dy())/float64(sh), float64(b.Dx())/float64(sw)
	p.Ink = [4]float64{p.Ink[0] * ry, p.Ink[1] * rx, p.Ink[2] * ry, p.Ink[3] * rx}
	p.Center = [2]float64{p.Center[0] * ry, p.Center[1] * rx}
	p.Scale /= max(ry, rx)
	f.Placement = p
	return f
}

// Pixels returns img as the model's raw input, as [Classifier.Frame] makes
// it, and whether it was inverted.
func (c *Classifier) Pixels(img image.Image) ([]float32, bool) {
	f := c.Frame(img)
	return f.Pixels, f.Inverted
}

// invert applies [ClassifierOptions].Invert to px, h*w*ch values, and
// reports whether it inverted them.
func (c *Classifier) invert(px []float32, h, w, ch int) bool {
	switch c.opts.Invert {
	case InvertAuto:
		return c.framing.Dark && data.MatchPolarity(px, h, w, ch)
	case InvertAlways:
		for i, v := range px {
			px[i] = 255 - v
		}
		return true
	}
	return false
}
