package plot

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
)

// Cell is one image of a [Grid] with its label.
type Cell struct {
	// Pixels holds H*W*C values in 0..255, row-major HWC (channels last).
	// Values outside 0..255 are clamped. C is 1 (grey), 3 (RGB) or 4 (RGBA).
	Pixels  []float32
	H, W, C int
	// Label is written under the image; "\n" starts a new line.
	Label string
	// Color is the label's colour; nil means near-black.
	Color color.Color
}

// Colours shared by the pictures.
var (
	textColor  = color.RGBA{0x20, 0x20, 0x20, 0xff}
	frameColor = color.RGBA{0xc0, 0xc0, 0xc0, 0xff}
	// ErrorColor is the red used for the labels of misclassified images.
	ErrorColor color.Color = color.RGBA{0xc6, 0x28, 0x28, 0xff}
)

// Grid geometry in pixels.
const (
	gridMargin    = 12 // around the whole grid
	gridGapX      = 14 // between columns
	gridGapY      = 12 // between rows
	gridLabelGap  = 5  // between an image and its label
	gridTarget    = 96 // small images are scaled up to about this size
	gridLabelSize = 14 // font size of labels
)

// gridLayout is where Grid puts things.
type gridLayout struct {
	scale         int // each source pixel becomes scale x scale pixels
	cellW, cellH  int // a cell: image and label
	imgW, imgH    int // largest scaled image
	cols, rows    int
	width, height int
}

// origin returns the top-left corner of cell i.
func (l gridLayout) origin(i int) image.Point {
	r, c := i/l.cols, i%l.cols
	return image.Pt(gridMargin+c*(l.cellW+gridGapX), gridMargin+r*(l.cellH+gridGapY))
}

// imageRect returns where the scaled pixels of a cell of h x w pixels go,
// centred horizontally in cell i and aligned to the top of the image area.
func (l gridLayout) imageRect(i, h, w int) image.Rectangle {
	o := l.origin(i)
	x := o.X + (l.cellW-w*l.scale)/2
	y := o.Y + 1 + (l.imgH-h*l.scale)/2
	return image.Rect(x, y, x+w*l.scale, y+h*l.scale)
}

// labelTop returns the y of the top of cell i's label.
func (l gridLayout) labelTop(i int) int {
	return l.origin(i).Y + l.imgH + 2 + gridLabelGap
}

func newGridLayout(cells []Cell, cols int, ts textStyle) gridLayout {
	maxH, maxW := 1, 1
	for _, c := range cells {
		maxH, maxW = max(maxH, c.H), max(maxW, c.W)
	}
	l := gridLayout{scale: max(1, int(math.Round(float64(gridTarget)/float64(max(maxH, maxW)))))}
	if l.scale*max(maxH, maxW) > 2*gridTarget {
		l.scale = max(1, l.scale-1)
	}
	l.imgW, l.imgH = maxW*l.scale, maxH*l.scale
	labelW, labelH := 0, 0
	for _, c := range cells {
		if c.Label != "" {
			labelW = max(labelW, ts.width(c.Label))
			labelH = max(labelH, ts.height(c.Label))
		}
	}
	// The frame adds one pixel on each side of the image.
	l.cellW = max(l.imgW+2, labelW)
	l.cellH = l.imgH + 2
	if labelH > 0 {
		l.cellH += gridLabelGap + labelH
	}
	l.cols = max(1, min(cols, len(cells)))
	l.rows = max(1, (len(cells)+l.cols-1)/l.cols)
	l.width = 2*gridMargin + l.cols*l.cellW + (l.cols-1)*gridGapX
	l.height = 2*gridMargin + l.rows*l.cellH + (l.rows-1)*gridGapY
	return l
}

// Grid draws the cells in rows of cols images on a white background, each
// image scaled up by a whole factor (3 for 32x32 images) and framed, with its
// label centred under it. Cell i is in row i/cols, column i%cols. Pixels are
// shown as they are: AHCD and MNIST images are white strokes on black.
//
// Grid panics if a cell's pixel count differs from H*W*C or C is not 1, 3 or
// 4, or if cols is not positive.
func Grid(cells []Cell, cols int) image.Image {
	if cols <= 0 {
		panic(fmt.Sprintf("plot: Grid: %d columns", cols))
	}
	for i, c := range cells {
		if c.H <= 0 || c.W <= 0 || (c.C != 1 && c.C != 3 && c.C != 4) || len(c.Pixels) != c.H*c.W*c.C {
			panic(fmt.Sprintf("plot: Grid: cell %d has %d values for H=%d W=%d C=%d", i, len(c.Pixels), c.H, c.W, c.C))
		}
	}
	ts := newTextStyle(gridLabelSize)
	l := newGridLayout(cells, cols, ts)
	dst := image.NewRGBA(image.Rect(0, 0, l.width, l.height))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	for i, c := range cells {
		r := l.imageRect(i, c.H, c.W)
		draw.Draw(dst, r.Inset(-1), image.NewUniform(frameColor), image.Point{}, draw.Src)
		drawScaled(dst, r.Min, l.scale, c)
		if c.Label != "" {
			col := c.Color
			if col == nil {
				col = textColor
			}
			o := l.origin(i)
			ts.draw(dst, c.Label, o.X+l.cellW/2, l.labelTop(i), alignCenter, col)
		}
	}
	return dst
}

// drawScaled draws c's pixels with their top-left corner at at, each pixel
// as a scale x scale square.
func drawScaled(dst *image.RGBA, at image.Point, scale int, c Cell) {
	for y := range c.H {
		for x := range c.W {
			v := c.Pixels[(y*c.W+x)*c.C:]
			var px color.RGBA
			switch c.C {
			case 1:
				g := toByte(v[0])
				px = color.RGBA{g, g, g, 0xff}
			case 3:
				px = color.RGBA{toByte(v[0]), toByte(v[1]), toByte(v[2]), 0xff}
			case 4:
				// Blend straight alpha over white.
				a := float32(toByte(v[3])) / 255
				blend := func(v float32) uint8 { return toByte(v*a + 255*(1-a)) }
				px = color.RGBA{blend(v[0]), blend(v[1]), blend(v[2]), 0xff}
			}
			for dy := range scale {
				i := dst.PixOffset(at.X+x*scale, at.Y+y*scale+dy)
				for range scale {
					dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = px.R, px.G, px.B, px.A
					i += 4
				}
			}
		}
	}
}

// toByte rounds v to the nearest integer in 0..255; NaN becomes 0.
func toByte(v float32) uint8 {
	switch {
	case !(v > 0):
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}
