package plot

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"io"
	"math"
	"slices"
	"strconv"
)

// blues is a sequential colour map from white to dark blue (the stops of
// ColorBrewer's "Blues", as in matplotlib).
var blues = []color.RGBA{
	{0xf7, 0xfb, 0xff, 0xff}, {0xde, 0xeb, 0xf7, 0xff}, {0xc6, 0xdb, 0xef, 0xff},
	{0x9e, 0xca, 0xe1, 0xff}, {0x6b, 0xae, 0xd6, 0xff}, {0x42, 0x92, 0xc6, 0xff},
	{0x21, 0x71, 0xb5, 0xff}, {0x08, 0x51, 0x9c, 0xff}, {0x08, 0x30, 0x6b, 0xff},
}

// colorAt maps t in 0..1 to a colour by linear interpolation between stops.
func colorAt(stops []color.RGBA, t float64) color.RGBA {
	t = math.Max(0, math.Min(1, t))
	f := t * float64(len(stops)-1)
	i := min(int(f), len(stops)-2)
	u := f - float64(i)
	a, b := stops[i], stops[i+1]
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + u*(float64(y)-float64(x)))) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xff}
}

// logNorm maps counts 0..max to 0..1 on the scale log(1+count), so that the
// few errors of a good classifier stay visible beside a diagonal of hundreds.
type logNorm struct{ den float64 }

func newLogNorm(maxCount int) logNorm { return logNorm{den: math.Log1p(float64(max(maxCount, 1)))} }

func (n logNorm) at(v float64) float64 { return math.Log1p(v) / n.den }

// Heatmap colours and sizes in pixels.
var (
	zeroCellColor = color.RGBA{0xff, 0xff, 0xff, 0xff}
	gridLineColor = color.RGBA{0xe2, 0xe2, 0xe2, 0xff}
	borderColor   = color.RGBA{0x80, 0x80, 0x80, 0xff}
)

const (
	heatMargin     = 20
	heatTitleSize  = 22
	heatLabelSize  = 15
	heatAxisSize   = 17
	heatTickSize   = 13
	heatGap        = 8
	heatBarWidth   = 22
	heatMatrixSize = 1000 // the matrix aims at about this many pixels a side
	heatMaxSide    = 3000 // and never passes this many: cells shrink below 24 pixels
	heatMaxName    = 32   // runes of a class name written; a longer one ends in "…"
)

// heatLayout is where ConfusionHeatmapImage puts things.
type heatLayout struct {
	n         int
	cell      int         // side of a cell
	every     int         // a class name every this many classes (1: all)
	counts    bool        // the counts are written in their cells
	matrix    image.Point // top-left corner of the matrix
	bar       image.Rectangle
	upright   bool // column labels fit upright under their cells
	width     int
	height    int
	titleY    int
	rowLabelW int
	colLabelH int
	countSize float64
}

// grid is the width of the lines between cells: none between cells too
// small to hold them and a colour.
func (l heatLayout) grid() int {
	if l.cell < 6 {
		return 0
	}
	return 1
}

// cellRect returns the square of row t, column p.
func (l heatLayout) cellRect(t, p int) image.Rectangle {
	x, y := l.matrix.X+p*l.cell, l.matrix.Y+t*l.cell
	return image.Rect(x, y, x+l.cell, y+l.cell)
}

func newHeatLayout(n int, names []string, maxCount int, title string) heatLayout {
	l := heatLayout{n: n, cell: max(24, min(64, int(math.Round(heatMatrixSize/float64(n))))), every: 1}
	if n*l.cell > heatMaxSide {
		// Hundreds of classes (an ImageNet model's thousand): small cells,
		// and a name every few rows and columns.
		l.cell = max(1, heatMaxSide/n)
	}
	labels, axis, ticks, titles := newTextStyle(heatLabelSize), newTextStyle(heatAxisSize), newTextStyle(heatTickSize), newTextStyle(heatTitleSize)
	if line := labels.ascent + labels.descent; l.cell < line {
		l.every = (line + l.cell - 1) / l.cell
	}

	// Counts shrink to fit their cells, or are left out.
	l.countSize = math.Min(18, float64(l.cell)*0.4)
	for l.countSize > 7 && newTextStyle(l.countSize).width(strconv.Itoa(maxCount)) > l.cell-4 {
		l.countSize--
	}
	l.counts = l.countSize >= 7 && newTextStyle(l.countSize).width(strconv.Itoa(maxCount)) <= l.cell-2

	nameW := 0
	for _, s := range names {
		nameW = max(nameW, labels.width(s))
	}
	l.rowLabelW = nameW
	l.upright = nameW <= l.cell-4
	if l.upright {
		l.colLabelH = labels.ascent + labels.descent
	} else {
		l.colLabelH = nameW
	}

	y := heatMargin
	if title != "" {
		l.titleY = y
		y += titles.height(title) + 2*heatGap
	}
	axisH := axis.ascent + axis.descent
	l.matrix = image.Pt(heatMargin+axisH+2*heatGap+l.rowLabelW+heatGap, y)
	side := n * l.cell
	barX := l.matrix.X + side + 3*heatGap
	l.bar = image.Rect(barX, l.matrix.Y, barX+heatBarWidth, l.matrix.Y+side)
	tickW := ticks.width(strconv.Itoa(max(maxCount, 1)))
	l.width = l.bar.Max.X + heatGap + tickW + 2*heatGap + axisH + heatMargin
	if title != "" {
		l.width = max(l.width, titles.width(title)+2*heatMargin)
	}
	l.height = l.matrix.Y + side + heatGap + l.colLabelH + 2*heatGap + axisH + heatMargin
	return l
}

// ConfusionHeatmapImage draws a confusion matrix as a heatmap: rows are true
// classes, columns predicted classes, each cell coloured by its count on a
// logarithmic scale (so that single errors show beside a diagonal of
// hundreds) and labelled with the count when it is not zero. Class names are
// written beside the rows and under the columns (turned upright when they do
// not fit; past 32 characters cut short), and a colour bar on the right
// gives the scale. A nil names uses the class indices. For 28 classes the
// matrix is about 1000 pixels wide; it is never more than 3000, so that
// hundreds of classes get small cells without counts, and a name every few
// rows and columns.
//
// It returns an error if counts is empty or not square, holds a negative
// count, or names has another length.
func ConfusionHeatmapImage(counts [][]int, names []string, title string) (image.Image, error) {
	n := len(counts)
	if n == 0 {
		return nil, errors.New("plot: confusion heatmap: no classes")
	}
	maxCount := 0
	for t, row := range counts {
		if len(row) != n {
			return nil, fmt.Errorf("plot: confusion heatmap: row %d has %d counts, want %d", t, len(row), n)
		}
		for p, v := range row {
			if v < 0 {
				return nil, fmt.Errorf("plot: confusion heatmap: count [%d][%d] is %d, want >= 0", t, p, v)
			}
			maxCount = max(maxCount, v)
		}
	}
	if names == nil {
		names = make([]string, n)
		for i := range names {
			names[i] = strconv.Itoa(i)
		}
	}
	if len(names) != n {
		return nil, fmt.Errorf("plot: confusion heatmap: %d names for %d classes", len(names), n)
	}

	names = shortNames(names)
	l := newHeatLayout(n, names, maxCount, title)
	norm := newLogNorm(maxCount)
	dst := image.NewRGBA(image.Rect(0, 0, l.width, l.height))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	fill := func(r image.Rectangle, c color.Color) {
		draw.Draw(dst, r, image.NewUniform(c), image.Point{}, draw.Src)
	}

	labels, axis, ticks, titles := newTextStyle(heatLabelSize), newTextStyle(heatAxisSize), newTextStyle(heatTickSize), newTextStyle(heatTitleSize)
	countStyle := newTextStyle(l.countSize)
	side := n * l.cell

	if title != "" {
		titles.draw(dst, title, l.width/2, l.titleY, alignCenter, textColor)
	}

	// Cells, grid lines, counts.
	fill(image.Rect(l.matrix.X, l.matrix.Y, l.matrix.X+side, l.matrix.Y+side), gridLineColor)
	for t, row := range counts {
		for p, v := range row {
			r := l.cellRect(t, p)
			c := zeroCellColor
			if v > 0 {
				c = colorAt(blues, 0.08+0.92*norm.at(float64(v)))
			}
			fill(image.Rect(r.Min.X+l.grid(), r.Min.Y+l.grid(), r.Max.X, r.Max.Y), c)
			if v == 0 || !l.counts {
				continue
			}
			ink := textColor
			if lum(c) < 140 {
				ink = color.RGBA{0xff, 0xff, 0xff, 0xff}
			}
			cy := r.Min.Y + (l.cell-countStyle.ascent-countStyle.descent)/2 + 1
			countStyle.draw(dst, strconv.Itoa(v), (r.Min.X+r.Max.X+1)/2, cy, alignCenter, ink)
		}
	}
	drawBorder(dst, image.Rect(l.matrix.X, l.matrix.Y, l.matrix.X+side+1, l.matrix.Y+side+1), borderColor)

	// Class names.
	for i, s := range names {
		if i%l.every != 0 {
			continue
		}
		r := l.cellRect(i, i)
		y := r.Min.Y + (l.cell-labels.ascent-labels.descent)/2
		labels.draw(dst, s, l.matrix.X-heatGap, y, alignRight, textColor)
		cx := (r.Min.X + r.Max.X) / 2
		if l.upright {
			labels.draw(dst, s, cx, l.matrix.Y+side+heatGap, alignCenter, textColor)
		} else {
			labels.drawUp(dst, s, cx-(labels.ascent+labels.descent)/2, l.matrix.Y+side+heatGap, alignRight, textColor)
		}
	}

	// Axis titles.
	axis.draw(dst, "Predicted class", l.matrix.X+side/2, l.matrix.Y+side+heatGap+l.colLabelH+2*heatGap, alignCenter, textColor)
	axis.drawUp(dst, "True class", heatMargin, l.matrix.Y+side/2, alignCenter, textColor)

	// Colour bar with ticks.
	for y := l.bar.Min.Y; y < l.bar.Max.Y; y++ {
		// The bar shows the colour of each count: white below 1, as the
		// empty cells are.
		u := 1 - (float64(y-l.bar.Min.Y)+0.5)/float64(l.bar.Dy())
		c := zeroCellColor
		if u >= norm.at(1) {
			c = colorAt(blues, 0.08+0.92*u)
		}
		fill(image.Rect(l.bar.Min.X, y, l.bar.Max.X, y+1), c)
	}
	drawBorder(dst, l.bar.Inset(-1), borderColor)
	lastY := math.MinInt / 2
	for _, v := range barTicks(maxCount) {
		y := l.bar.Max.Y - int(math.Round(norm.at(float64(v))*float64(l.bar.Dy())))
		if y-lastY < ticks.line {
			continue // too close to the larger tick above it
		}
		lastY = y
		fill(image.Rect(l.bar.Max.X, y, l.bar.Max.X+5, y+1), borderColor)
		ticks.draw(dst, strconv.Itoa(v), l.bar.Max.X+heatGap, y-(ticks.ascent+ticks.descent)/2, alignLeft, textColor)
	}
	tickW := ticks.width(strconv.Itoa(max(maxCount, 1)))
	axis.drawUp(dst, "count (log scale)", l.bar.Max.X+heatGap+tickW+heatGap, l.bar.Min.Y+l.bar.Dy()/2, alignCenter, textColor)
	return dst, nil
}

// ConfusionHeatmap writes [ConfusionHeatmapImage] as a PNG to w.
func ConfusionHeatmap(w io.Writer, counts [][]int, names []string, title string) error {
	img, err := ConfusionHeatmapImage(counts, names, title)
	if err != nil {
		return err
	}
	return WritePNG(w, img)
}

// shortNames returns names, each cut to heatMaxName runes.
func shortNames(names []string) []string {
	out := names
	for i, s := range names {
		if r := []rune(s); len(r) > heatMaxName {
			if &out[0] == &names[0] {
				out = slices.Clone(names)
			}
			out[i] = string(r[:heatMaxName-1]) + "…"
		}
	}
	return out
}

// barTicks returns the tick values of a log colour bar up to maxCount:
// maxCount itself, then ..., 50, 20, 10, 5, 2, 1, 0.
func barTicks(maxCount int) []int {
	ticks := []int{0}
	for base := 1; base <= maxCount; base *= 10 {
		for _, m := range []int{1, 2, 5} {
			if v := base * m; v <= maxCount {
				ticks = append(ticks, v)
			}
		}
	}
	if ticks[len(ticks)-1] != maxCount {
		ticks = append(ticks, maxCount)
	}
	// Largest first: drawn from the top, maxCount wins over a tick that
	// would crowd it.
	for i, j := 0, len(ticks)-1; i < j; i, j = i+1, j-1 {
		ticks[i], ticks[j] = ticks[j], ticks[i]
	}
	return ticks
}

// lum is the perceived brightness of c in 0..255.
func lum(c color.RGBA) float64 { return 0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B) }

func drawBorder(dst draw.Image, r image.Rectangle, c color.Color) {
	u := image.NewUniform(c)
	draw.Draw(dst, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+1), u, image.Point{}, draw.Src)
	draw.Draw(dst, image.Rect(r.Min.X, r.Max.Y-1, r.Max.X, r.Max.Y), u, image.Point{}, draw.Src)
	draw.Draw(dst, image.Rect(r.Min.X, r.Min.Y, r.Min.X+1, r.Max.Y), u, image.Point{}, draw.Src)
	draw.Draw(dst, image.Rect(r.Max.X-1, r.Min.Y, r.Max.X, r.Max.Y), u, image.Point{}, draw.Src)
}
