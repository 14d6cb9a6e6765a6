package plot

import (
	"cmp"
	"fmt"
	"image"
	"io"
	"math"
	"slices"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// LRFindImage draws a learning-rate range test: the smoothed loss against
// the rate, on a log scale, with the suggested rate (index suggested of
// lr; -1 for none) marked. It returns an error if the slices differ in
// length or hold no positive rate.
func LRFindImage(lr, loss []float64, suggested int) (image.Image, error) {
	if len(lr) != len(loss) || suggested >= len(lr) {
		return nil, fmt.Errorf("plot: lr find: %d rates, %d losses, suggestion %d", len(lr), len(loss), suggested)
	}
	var xys plotter.XYs
	for i, r := range lr {
		if r > 0 && !(math.IsNaN(loss[i]) || math.IsInf(loss[i], 0)) {
			xys = append(xys, plotter.XY{X: r, Y: loss[i]})
		}
	}
	if len(xys) == 0 {
		return nil, fmt.Errorf("plot: lr find: no point to draw")
	}
	registerFont()
	p := newPanel("Learning-rate range test", "loss (smoothed)")
	p.X.Label.Text = "learning rate (log scale)"
	p.X.Scale = gplot.LogScale{}
	p.X.Tick.Marker = logTicks{}
	line, err := plotter.NewLine(xys)
	if err != nil {
		return nil, fmt.Errorf("plot: lr find: %w", err)
	}
	line.Color, line.Width = trainColor, px(2.5)
	p.Add(line)
	lo := slices.MinFunc(xys, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) }).X
	hi := slices.MaxFunc(xys, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) }).X
	p.X.Min, p.X.Max = lo, hi
	// The divergence at the end would flatten the rest: the loss axis
	// stops as far above the first loss as the lowest is below it.
	first := xys[0].Y
	low := slices.MinFunc(xys, func(a, b plotter.XY) int { return cmp.Compare(a.Y, b.Y) }).Y
	if high := slices.MaxFunc(xys, func(a, b plotter.XY) int { return cmp.Compare(a.Y, b.Y) }).Y; high > first && first > low {
		p.Y.Min, p.Y.Max = low-0.1*(first-low), min(high, 2*first-low)
	}
	if suggested >= 0 && lr[suggested] > 0 && !math.IsNaN(loss[suggested]) && !math.IsInf(loss[suggested], 0) {
		s, err := plotter.NewScatter(plotter.XYs{{X: lr[suggested], Y: loss[suggested]}})
		if err != nil {
			return nil, fmt.Errorf("plot: lr find: %w", err)
		}
		s.Color, s.Radius, s.Shape = valColor, px(6), draw.CircleGlyph{}
		p.Add(s)
		p.Legend.Add("suggested "+strconv.FormatFloat(lr[suggested], 'g', 2, 64), s)
		p.Legend.Left = true
	}
	c := vgimg.NewWith(vgimg.UseWH(px(curvesPanelW*1.3), px(curvesPanelH)), vgimg.UseDPI(curvesDPI))
	dc := draw.New(c)
	p.Draw(draw.Crop(dc, px(8), -px(16), px(8), -px(8)))
	return c.Image(), nil
}

// LRFind writes [LRFindImage] as a PNG to w.
func LRFind(w io.Writer, lr, loss []float64, suggested int) error {
	img, err := LRFindImage(lr, loss, suggested)
	if err != nil {
		return err
	}
	return WritePNG(w, img)
}
