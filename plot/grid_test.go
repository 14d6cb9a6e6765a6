package plot

import (
	"image"
	"image/color"
	"testing"
)

// uniformCell returns an h x w RGB cell of one colour.
func uniformCell(h, w int, c color.RGBA, label string) Cell {
	px := make([]float32, h*w*3)
	for i := 0; i < len(px); i += 3 {
		px[i], px[i+1], px[i+2] = float32(c.R), float32(c.G), float32(c.B)
	}
	return Cell{Pixels: px, H: h, W: w, C: 3, Label: label}
}

func rgbaAt(img image.Image, x, y int) color.RGBA {
	return color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
}

func TestGridPlacesCells(t *testing.T) {
	colours := []color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}, {255, 255, 0, 255}, {0, 255, 255, 255}}
	var cells []Cell
	for _, c := range colours {
		cells = append(cells, uniformCell(32, 32, c, "i"))
	}
	img := Grid(cells, 3)
	// 32x32 images are scaled 3 times to 96 pixels, framed to 98; the short
	// labels are narrower, so a cell is 98 wide.
	const cellW = 98
	wantW := 2*gridMargin + 3*cellW + 2*gridGapX
	if got := img.Bounds().Dx(); got != wantW {
		t.Fatalf("Grid width = %d, want %d", got, wantW)
	}
	ts := newTextStyle(gridLabelSize)
	cellH := 98 + gridLabelGap + ts.height("i")
	wantH := 2*gridMargin + 2*cellH + gridGapY
	if got := img.Bounds().Dy(); got != wantH {
		t.Fatalf("Grid height = %d, want %d", got, wantH)
	}
	for i, want := range colours {
		x0 := gridMargin + (i%3)*(cellW+gridGapX) + 1
		y0 := gridMargin + (i/3)*(cellH+gridGapY) + 1
		for _, p := range []image.Point{{x0, y0}, {x0 + 95, y0 + 95}, {x0 + 48, y0 + 30}} {
			if got := rgbaAt(img, p.X, p.Y); got != want {
				t.Errorf("cell %d: pixel %v = %v, want %v", i, p, got, want)
			}
		}
		// Just outside the image: the frame.
		if got := rgbaAt(img, x0-1, y0+10); got != frameColor {
			t.Errorf("cell %d: frame pixel (%d,%d) = %v, want %v", i, x0-1, y0+10, got, frameColor)
		}
	}
	// The empty sixth slot stays white.
	x0 := gridMargin + 2*(cellW+gridGapX) + 48
	y0 := gridMargin + cellH + gridGapY + 48
	if got := rgbaAt(img, x0, y0); got != (color.RGBA{255, 255, 255, 255}) {
		t.Errorf("empty slot pixel (%d,%d) = %v, want white", x0, y0, got)
	}
}

func TestGridScalesNearest(t *testing.T) {
	// A 2x2 grey image: each source pixel becomes a 48x48 block.
	cell := Cell{Pixels: []float32{255, 0, 64, 300}, H: 2, W: 2, C: 1}
	img := Grid([]Cell{cell}, 1)
	x0, y0 := gridMargin+1, gridMargin+1
	want := map[image.Point]uint8{
		{x0, y0}: 255, {x0 + 47, y0 + 47}: 255, {x0 + 48, y0}: 0, {x0 + 95, y0 + 47}: 0,
		{x0, y0 + 48}: 64, {x0 + 47, y0 + 95}: 64, {x0 + 48, y0 + 48}: 255, // 300 clamps to 255
	}
	for p, g := range want {
		if got := rgbaAt(img, p.X, p.Y); got != (color.RGBA{g, g, g, 255}) {
			t.Errorf("pixel %v = %v, want grey %d", p, got, g)
		}
	}
	if got, want := img.Bounds().Dx(), 2*gridMargin+98; got != want {
		t.Errorf("width = %d, want %d", got, want)
	}
}

// inkIn counts pixels in r that match is.
func inkIn(img image.Image, r image.Rectangle, is func(color.RGBA) bool) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if is(rgbaAt(img, x, y)) {
				n++
			}
		}
	}
	return n
}

func isDark(c color.RGBA) bool { return int(c.R)+int(c.G)+int(c.B) < 3*128 }
func isRed(c color.RGBA) bool  { return c.R > 150 && c.G < 110 && c.B < 110 }

func TestGridLabels(t *testing.T) {
	black := color.RGBA{0, 0, 0, 255}
	cells := []Cell{
		uniformCell(32, 32, black, "alef ا"),
		uniformCell(32, 32, black, ""),
		uniformCell(32, 32, black, "true: alef ا\npred: beh ب with probability 0.97"),
	}
	cells[2].Color = ErrorColor
	img := Grid(cells, 3)
	ts := newTextStyle(gridLabelSize)
	l := newGridLayout(cells, 3, ts)
	band := func(i, line int) image.Rectangle {
		o := l.origin(i)
		top := l.labelTop(i) + line*ts.line
		return image.Rect(o.X, top, o.X+l.cellW, top+ts.line)
	}
	if n := inkIn(img, band(0, 0), isDark); n < 20 {
		t.Errorf("label of cell 0: %d dark pixels, want text", n)
	}
	if n := inkIn(img, band(0, 0), isRed); n != 0 {
		t.Errorf("label of cell 0: %d red pixels, want the default colour", n)
	}
	if n := inkIn(img, band(1, 0), func(c color.RGBA) bool { return c != color.RGBA{255, 255, 255, 255} }); n != 0 {
		t.Errorf("empty label of cell 1: %d non-white pixels, want none", n)
	}
	for line := range 2 {
		if n := inkIn(img, band(2, line), isRed); n < 20 {
			t.Errorf("line %d of the red label of cell 2: %d red pixels, want text", line, n)
		}
	}
	// The two-line label makes every cell taller than one line would.
	if want := 98 + gridLabelGap + ts.height("a\nb"); l.cellH != want {
		t.Errorf("cell height = %d, want %d", l.cellH, want)
	}
	// The long label widens the columns beyond the image.
	if l.cellW <= 98 {
		t.Errorf("cell width = %d, want wider than the 98-pixel image for a long label", l.cellW)
	}
}

func TestGridArabicGlyphsDrawn(t *testing.T) {
	// An Arabic letter must produce ink, not an empty or missing glyph box
	// of the same ink as another letter.
	ts := newTextStyle(20)
	ink := func(s string) []bool {
		img := image.NewRGBA(image.Rect(0, 0, 40, 40))
		ts.draw(img, s, 5, 5, alignLeft, color.Black)
		var m []bool
		for i := 3; i < len(img.Pix); i += 4 {
			m = append(m, img.Pix[i] > 128)
		}
		return m
	}
	alef, beh := ink("ا"), ink("ب")
	count := func(m []bool) int {
		n := 0
		for _, b := range m {
			if b {
				n++
			}
		}
		return n
	}
	if count(alef) < 5 || count(beh) < 5 {
		t.Fatalf("Arabic letters drew %d and %d pixels, want glyphs", count(alef), count(beh))
	}
	same := true
	for i := range alef {
		if alef[i] != beh[i] {
			same = false
		}
	}
	if same {
		t.Error("alef and beh drew identical pixels: the font lacks Arabic glyphs")
	}
}

func TestGridPanics(t *testing.T) {
	tests := []struct {
		name  string
		cells []Cell
		cols  int
	}{
		{"short pixels", []Cell{{Pixels: make([]float32, 10), H: 4, W: 4, C: 1}}, 2},
		{"bad channels", []Cell{{Pixels: make([]float32, 32), H: 4, W: 4, C: 2}}, 2},
		{"no columns", []Cell{{Pixels: make([]float32, 16), H: 4, W: 4, C: 1}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Grid(%s) did not panic", tc.name)
				}
			}()
			Grid(tc.cells, tc.cols)
		})
	}
}

func TestToByte(t *testing.T) {
	tests := []struct {
		in   float32
		want uint8
	}{{-3, 0}, {0, 0}, {0.4, 0}, {0.5, 1}, {127.6, 128}, {254.6, 255}, {255, 255}, {1e9, 255}}
	for _, tc := range tests {
		if got := toByte(tc.in); got != tc.want {
			t.Errorf("toByte(%v) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
