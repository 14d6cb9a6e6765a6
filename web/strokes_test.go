package web

import (
	"fmt"
	"image"
	"math"
	"strings"
)

// Characters drawn by hand for the tests, as a person draws them on the
// pad: each a list of strokes, each stroke the points the pen passes
// through, (x, y) in a unit square (y down), in the order drawn. Dots are
// short strokes.
type glyph struct {
	name    string // the class name's first word
	strokes [][][2]float64
}

var letterGlyphs = []glyph{
	{"alef", [][][2]float64{
		{{0.52, 0.28}, {0.5, 0.5}, {0.49, 0.75}, {0.5, 1}},
		{{0.62, 0.02}, {0.5, 0.04}, {0.48, 0.1}, {0.56, 0.12}, {0.64, 0.1}, {0.44, 0.2}},
	}},
	{"beh", [][][2]float64{
		{{0.95, 0.3}, {0.93, 0.5}, {0.85, 0.62}, {0.5, 0.65}, {0.15, 0.62}, {0.05, 0.5}, {0.05, 0.35}},
		{{0.5, 0.86}, {0.52, 0.88}},
	}},
	{"teh", [][][2]float64{
		{{0.95, 0.35}, {0.93, 0.55}, {0.85, 0.67}, {0.5, 0.7}, {0.15, 0.67}, {0.05, 0.55}, {0.05, 0.4}},
		{{0.38, 0.3}, {0.4, 0.32}},
		{{0.6, 0.3}, {0.62, 0.32}},
	}},
	{"jeem", [][][2]float64{
		{{0.2, 0.2}, {0.6, 0.13}, {0.85, 0.2}, {0.5, 0.3}, {0.25, 0.45}, {0.15, 0.65}, {0.3, 0.9}, {0.6, 0.95}, {0.9, 0.85}},
		{{0.55, 0.6}, {0.57, 0.62}},
	}},
	{"hah", [][][2]float64{
		{{0.2, 0.2}, {0.6, 0.13}, {0.85, 0.2}, {0.5, 0.3}, {0.25, 0.45}, {0.15, 0.65}, {0.3, 0.9}, {0.6, 0.95}, {0.9, 0.85}},
	}},
	{"dal", [][][2]float64{
		{{0.35, 0.1}, {0.55, 0.4}, {0.65, 0.7}, {0.6, 0.85}, {0.2, 0.85}},
	}},
	{"reh", [][][2]float64{
		{{0.75, 0.2}, {0.8, 0.45}, {0.65, 0.75}, {0.3, 0.95}, {0.1, 0.95}},
	}},
	{"seen", [][][2]float64{
		{{0.98, 0.25}, {0.92, 0.5}, {0.85, 0.32}, {0.78, 0.5}, {0.7, 0.32}, {0.62, 0.5}, {0.55, 0.6}, {0.48, 0.82}, {0.28, 0.9}, {0.1, 0.8}, {0.05, 0.6}},
	}},
	{"ain", [][][2]float64{
		{{0.8, 0.15}, {0.5, 0.05}, {0.3, 0.15}, {0.35, 0.35}, {0.65, 0.45}, {0.3, 0.5}, {0.2, 0.7}, {0.35, 0.9}, {0.75, 0.95}},
	}},
	{"lam", [][][2]float64{
		{{0.75, 0}, {0.75, 0.7}, {0.65, 0.9}, {0.45, 0.95}, {0.25, 0.85}, {0.2, 0.65}},
	}},
	{"meem", [][][2]float64{
		{{0.55, 0.45}, {0.7, 0.35}, {0.65, 0.2}, {0.5, 0.15}, {0.35, 0.25}, {0.38, 0.4}, {0.55, 0.45}, {0.45, 0.5}, {0.42, 0.75}, {0.45, 1}},
	}},
	{"noon", [][][2]float64{
		{{0.9, 0.3}, {0.9, 0.6}, {0.75, 0.85}, {0.5, 0.9}, {0.25, 0.85}, {0.1, 0.6}, {0.12, 0.4}},
		{{0.5, 0.25}, {0.52, 0.27}},
	}},
	{"waw", [][][2]float64{
		{{0.6, 0.45}, {0.75, 0.3}, {0.6, 0.15}, {0.45, 0.3}, {0.6, 0.45}, {0.65, 0.65}, {0.5, 0.85}, {0.25, 0.95}},
	}},
}

var digitGlyphs = []glyph{
	{"0", [][][2]float64{{{0.5, 0.05}, {0.25, 0.15}, {0.15, 0.5}, {0.25, 0.85}, {0.5, 0.95}, {0.75, 0.85}, {0.85, 0.5}, {0.75, 0.15}, {0.5, 0.05}}}},
	{"1", [][][2]float64{{{0.35, 0.2}, {0.55, 0.05}, {0.55, 0.95}}}},
	{"2", [][][2]float64{{{0.2, 0.25}, {0.35, 0.08}, {0.6, 0.05}, {0.78, 0.2}, {0.75, 0.42}, {0.2, 0.92}, {0.85, 0.92}}}},
	{"3", [][][2]float64{{{0.2, 0.12}, {0.5, 0.05}, {0.75, 0.15}, {0.72, 0.35}, {0.45, 0.48}, {0.75, 0.6}, {0.8, 0.8}, {0.55, 0.95}, {0.2, 0.88}}}},
	{"4", [][][2]float64{{{0.6, 0.05}, {0.15, 0.65}, {0.85, 0.65}}, {{0.65, 0.35}, {0.65, 0.95}}}},
	{"5", [][][2]float64{{{0.8, 0.05}, {0.3, 0.05}, {0.25, 0.45}, {0.55, 0.4}, {0.8, 0.55}, {0.78, 0.82}, {0.5, 0.95}, {0.2, 0.88}}}},
	{"6", [][][2]float64{{{0.7, 0.05}, {0.4, 0.25}, {0.22, 0.6}, {0.3, 0.9}, {0.6, 0.92}, {0.75, 0.7}, {0.55, 0.52}, {0.3, 0.6}}}},
	{"7", [][][2]float64{{{0.15, 0.08}, {0.85, 0.08}, {0.5, 0.5}, {0.38, 0.95}}}},
	{"8", [][][2]float64{{{0.7, 0.15}, {0.5, 0.05}, {0.28, 0.15}, {0.32, 0.35}, {0.7, 0.6}, {0.75, 0.85}, {0.5, 0.95}, {0.25, 0.85}, {0.3, 0.6}, {0.7, 0.35}, {0.72, 0.2}}}},
	{"9", [][][2]float64{{{0.75, 0.3}, {0.6, 0.08}, {0.3, 0.1}, {0.25, 0.35}, {0.5, 0.48}, {0.75, 0.35}, {0.75, 0.5}, {0.65, 0.95}}}},
}

// padSide is the drawing pad's size in canvas pixels (index.html).
const padSide = 280

// A placement of a drawing on the pad: its size as a fraction of the pad
// and where it goes.
type drawSize struct {
	name string
	frac float64
}

var (
	drawSizes     = []drawSize{{"large", 0.8}, {"medium", 0.5}, {"small", 0.28}}
	drawPositions = []string{"centre", "top-left", "top-right", "bottom-left", "bottom-right"}
)

// placeGlyph returns g's strokes in pad pixels, drawn in a square of the
// given size at the given position (4% of the pad from its edges).
func placeGlyph(g glyph, size drawSize, pos string) [][][2]float64 {
	side := size.frac * padSide
	margin := 0.04 * padSide
	x0, y0 := (padSide-side)/2, (padSide-side)/2
	if strings.Contains(pos, "left") {
		x0 = margin
	}
	if strings.Contains(pos, "right") {
		x0 = padSide - margin - side
	}
	if strings.HasPrefix(pos, "top") {
		y0 = margin
	}
	if strings.HasPrefix(pos, "bottom") {
		y0 = padSide - margin - side
	}
	out := make([][][2]float64, len(g.strokes))
	for i, s := range g.strokes {
		for _, p := range s {
			out[i] = append(out[i], [2]float64{x0 + p[0]*side, y0 + p[1]*side})
		}
	}
	return out
}

// rasterize draws strokes (pad pixels) white on black as the pad does: line
// segments of the given width with round ends and joins, anti-aliased.
func rasterize(strokes [][][2]float64, width float64) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, padSide, padSide))
	r := width / 2
	for _, s := range strokes {
		for i := range s {
			a, b := s[i], s[max(i-1, 0)]
			y0, y1 := int(min(a[1], b[1])-r-1), int(max(a[1], b[1])+r+1)
			x0, x1 := int(min(a[0], b[0])-r-1), int(max(a[0], b[0])+r+1)
			for y := max(0, y0); y <= min(padSide-1, y1); y++ {
				for x := max(0, x0); x <= min(padSide-1, x1); x++ {
					d := segmentDistance([2]float64{float64(x) + 0.5, float64(y) + 0.5}, a, b)
					if cover := min(1, max(0, r-d+0.5)); cover > 0 {
						v := &img.Pix[y*img.Stride+x]
						*v = max(*v, uint8(255*cover+0.5))
					}
				}
			}
		}
	}
	return img
}

// segmentDistance returns the distance from p to the segment ab.
func segmentDistance(p, a, b [2]float64) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = min(1, max(0, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l))
	}
	return math.Hypot(p[0]-a[0]-t*dx, p[1]-a[1]-t*dy)
}

// brushWidth is the pad's default brush for a model of input width w, as
// the page sets it (app.js).
func brushWidth(int) float64 { return 16 }

// accuracyTable formats correct/total counts by size and position.
func accuracyTable(correct, total map[[2]string]int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-8s", "")
	for _, p := range drawPositions {
		fmt.Fprintf(&b, " %13s", p)
	}
	b.WriteString("\n")
	for _, s := range drawSizes {
		fmt.Fprintf(&b, "%-8s", s.name)
		for _, p := range drawPositions {
			k := [2]string{s.name, p}
			if total[k] == 0 {
				fmt.Fprintf(&b, " %13s", "")
				continue
			}
			fmt.Fprintf(&b, " %6d/%-6d", correct[k], total[k])
		}
		b.WriteString("\n")
	}
	return b.String()
}
