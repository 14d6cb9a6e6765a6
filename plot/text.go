package plot

import (
	_ "embed"
	"image"
	"image/color"
	"image/draw"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

//go:embed fonts/DejaVuSans.ttf
var dejaVuSans []byte

// sansFont is the parsed embedded font.
var sansFont = sync.OnceValue(func() *opentype.Font {
	f, err := opentype.Parse(dejaVuSans)
	if err != nil {
		panic("plot: embedded font: " + err.Error())
	}
	return f
})

// newFace returns a face of the embedded font whose em is size pixels.
// A face is not safe for concurrent use; each drawing makes its own.
func newFace(size float64) font.Face {
	face, err := opentype.NewFace(sansFont(), &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic("plot: font face: " + err.Error())
	}
	return face
}

// textStyle is a face with the vertical metrics used to lay out lines.
type textStyle struct {
	face    font.Face
	ascent  int // pixels above the baseline
	descent int // pixels below the baseline
	line    int // distance between baselines
}

func newTextStyle(size float64) textStyle {
	face := newFace(size)
	m := face.Metrics()
	return textStyle{face: face, ascent: m.Ascent.Ceil(), descent: m.Descent.Ceil(), line: m.Height.Ceil()}
}

// width returns the advance of the widest line of s in pixels.
func (ts textStyle) width(s string) int {
	w := 0
	for line := range strings.SplitSeq(s, "\n") {
		w = max(w, font.MeasureString(ts.face, line).Ceil())
	}
	return w
}

// height returns the height in pixels of the lines of s.
func (ts textStyle) height(s string) int {
	return ts.ascent + ts.descent + (strings.Count(s, "\n"))*ts.line
}

// align is a horizontal alignment of text about an x coordinate.
type align int

const (
	alignLeft align = iota
	alignCenter
	alignRight
)

// draw draws the lines of s in colour c with the top of the first line at y,
// each line aligned about x.
func (ts textStyle) draw(dst draw.Image, s string, x, y int, a align, c color.Color) {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: ts.face}
	baseline := y + ts.ascent
	for line := range strings.SplitSeq(s, "\n") {
		lx := x
		switch a {
		case alignCenter:
			lx -= font.MeasureString(ts.face, line).Ceil() / 2
		case alignRight:
			lx -= font.MeasureString(ts.face, line).Ceil()
		}
		d.Dot = fixed.P(lx, baseline)
		d.DrawString(line)
		baseline += ts.line
	}
}

// drawUp draws the single line s turned a quarter turn anticlockwise, so that
// it reads from bottom to top. The text's baseline runs up the column
// x+ascent; the text starts at y (its bottom end) and a aligns it about y.
func (ts textStyle) drawUp(dst draw.Image, s string, x, y int, a align, c color.Color) {
	w, h := ts.width(s), ts.ascent+ts.descent
	if w == 0 {
		return
	}
	flat := image.NewRGBA(image.Rect(0, 0, w, h))
	ts.draw(flat, s, 0, 0, alignLeft, c)
	// Turn: flat (fx, fy) goes to (fy, w-1-fx).
	up := image.NewRGBA(image.Rect(0, 0, h, w))
	for fy := range h {
		for fx := range w {
			i := flat.PixOffset(fx, fy)
			j := up.PixOffset(fy, w-1-fx)
			copy(up.Pix[j:j+4], flat.Pix[i:i+4])
		}
	}
	top := y - w
	switch a {
	case alignCenter:
		top = y - w/2
	case alignRight:
		top = y
	}
	draw.Draw(dst, image.Rect(x, top, x+h, top+w), up, image.Point{}, draw.Over)
}
