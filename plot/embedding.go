package plot

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"slices"
)

// EmbeddingImage draws a map of images placed in the plane (by t-SNE of a
// network's features, say): one dot per image in the colour of its true
// class, ringed in dark grey when the network predicted another, each
// class's name at the median of its dots, the title above and a key below.
// The picture is 900 pixels square; the points are scaled to fill it.
//
// It returns an error if class (the true classes), pred and points differ
// in length, a class
// lies outside names, or a point is not finite.
func EmbeddingImage(points [][2]float64, class, pred []int, names []string, title string) (image.Image, error) {
	if len(class) != len(points) || len(pred) != len(points) || len(points) == 0 {
		return nil, fmt.Errorf("plot: embedding: %d points, %d true and %d predicted classes", len(points), len(class), len(pred))
	}
	lo, hi := [2]float64{math.Inf(1), math.Inf(1)}, [2]float64{math.Inf(-1), math.Inf(-1)}
	for i, p := range points {
		if class[i] < 0 || class[i] >= len(names) || pred[i] < 0 || pred[i] >= len(names) {
			return nil, fmt.Errorf("plot: embedding: point %d of classes %d and %d, of %d", i, class[i], pred[i], len(names))
		}
		for k := range 2 {
			if math.IsNaN(p[k]) || math.IsInf(p[k], 0) {
				return nil, errors.New("plot: embedding: a point is not finite")
			}
			lo[k], hi[k] = min(lo[k], p[k]), max(hi[k], p[k])
		}
	}
	const size, margin, top, bottom = 900, 30, 50, 40
	scale := min(float64(size-2*margin)/max(hi[0]-lo[0], 1e-9), float64(size-top-bottom-2*margin)/max(hi[1]-lo[1], 1e-9))
	at := func(p [2]float64) (int, int) {
		return margin + int(math.Round((p[0]-lo[0])*scale)), top + margin + int(math.Round((p[1]-lo[1])*scale))
	}
	dst := image.NewRGBA(image.Rect(0, 0, size, size))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	n := len(names)
	for i, p := range points {
		x, y := at(p)
		if pred[i] != class[i] {
			disc(dst, x, y, 5.5, ringColor)
		}
		disc(dst, x, y, 3.5, ClassColor(class[i], n))
	}
	ts := newTextStyle(15)
	for c := range n {
		var xs, ys []float64
		for i, p := range points {
			if class[i] == c {
				xs, ys = append(xs, p[0]), append(ys, p[1])
			}
		}
		if len(xs) == 0 {
			continue
		}
		x, y := at([2]float64{median(xs), median(ys)})
		y -= 10 + ts.ascent
		for _, d := range [][2]int{{-1, 0}, {1, 0}, {0, -1}, {0, 1}} {
			ts.draw(dst, names[c], x+d[0], y+d[1], alignCenter, color.White)
		}
		ts.draw(dst, names[c], x, y, alignCenter, ClassColor(c, n))
	}
	big := newTextStyle(18)
	big.draw(dst, title, size/2, 14, alignCenter, textColor)
	ts.draw(dst, "colour: the true class; ringed: predicted as another class", size/2, size-bottom+8, alignCenter, textColor)
	return dst, nil
}

// ringColor rings the dots of mispredicted images.
var ringColor = color.RGBA{0x1d, 0x22, 0x30, 0xff}

// ClassColor returns class c's colour of n: hues around the circle, the
// lightness alternating between 52% and 38% so that neighbouring classes
// differ, saturation 70% (the demo's map uses the same).
func ClassColor(c, n int) color.RGBA {
	l := 0.52
	if c%2 == 1 {
		l = 0.38
	}
	return hsl(float64(c)*360/float64(n), 0.7, l)
}

// hsl converts a colour of hue h (degrees), saturation s and lightness l
// (0..1) to RGB, as CSS's hsl() does.
func hsl(h, s, l float64) color.RGBA {
	a := s * min(l, 1-l)
	f := func(k float64) uint8 {
		k = math.Mod(k+h/30, 12)
		v := l - a*max(-1, min(k-3, 9-k, 1))
		return uint8(math.Round(255 * v))
	}
	return color.RGBA{f(0), f(8), f(4), 0xff}
}

// disc fills the disc of radius r about (x, y).
func disc(dst *image.RGBA, x, y int, r float64, c color.RGBA) {
	ir := int(math.Ceil(r))
	for dy := -ir; dy <= ir; dy++ {
		for dx := -ir; dx <= ir; dx++ {
			if float64(dx*dx+dy*dy) <= r*r && (image.Point{x + dx, y + dy}).In(dst.Rect) {
				dst.SetRGBA(x+dx, y+dy, c)
			}
		}
	}
}

// median returns the middle value of v (the upper of the two middle ones).
func median(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}
