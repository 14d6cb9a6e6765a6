package plot

import (
	"cmp"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"slices"
	"strconv"
	"sync"

	gplot "gonum.org/v1/plot"
	gfont "gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// History holds per-epoch training figures, as Keras's History.history does.
// Every non-empty slice has one value per epoch, in the order of Epoch; an
// empty slice is a metric that was not recorded (for example ValLoss without
// a validation set). An empty Epoch numbers the epochs 1, 2, 3, ...
type History struct {
	Epoch        []int
	Loss         []float64
	Accuracy     []float64
	ValLoss      []float64
	ValAccuracy  []float64
	LearningRate []float64
}

// Curve colours: matplotlib's first two.
var (
	trainColor = color.RGBA{0x1f, 0x77, 0xb4, 0xff}
	valColor   = color.RGBA{0xff, 0x7f, 0x0e, 0xff}
	lrColor    = color.RGBA{0x2c, 0xa0, 0x2c, 0xff}
)

// Sizes of the curves picture, in pixels at 96 dots per inch.
const (
	curvesDPI    = 96
	curvesPanelW = 560
	curvesPanelH = 440
	curvesTitleH = 44
)

// px converts pixels to a vg length at curvesDPI.
func px(n float64) vg.Length { return vg.Length(n * 72 / curvesDPI) }

const typeface = "DejaVu Sans"

// registerFont adds the embedded font to gonum/plot's font cache once.
var registerFont = sync.OnceFunc(func() {
	gfont.DefaultCache.Add(gfont.Collection{{Font: gfont.Font{Typeface: typeface}, Face: sansFont()}})
})

func sans(size float64) gfont.Font {
	return gfont.Font{Typeface: typeface, Size: px(size)}
}

// CurvesImage draws h as panels side by side: the loss, then the accuracy
// (each for the training set and, when recorded, the validation set, with
// the best validation figure and its epoch in the legend), then the learning
// rate on a log scale if it changed during training. It returns an error if
// h has no epochs or a slice of the wrong length.
func CurvesImage(h History, title string) (image.Image, error) {
	n := len(h.Loss)
	if n == 0 {
		return nil, fmt.Errorf("plot: curves: no epochs (empty Loss)")
	}
	for _, f := range []struct {
		name string
		len  int
	}{{"Epoch", len(h.Epoch)}, {"Accuracy", len(h.Accuracy)}, {"ValLoss", len(h.ValLoss)},
		{"ValAccuracy", len(h.ValAccuracy)}, {"LearningRate", len(h.LearningRate)}} {
		if f.len != 0 && f.len != n {
			return nil, fmt.Errorf("plot: curves: %s has %d values for %d epochs", f.name, f.len, n)
		}
	}
	epochs := make([]float64, n)
	for i := range epochs {
		epochs[i] = float64(i + 1)
		if h.Epoch != nil {
			epochs[i] = float64(h.Epoch[i])
		}
	}
	registerFont()

	loss, err := curvePanel("Loss", "loss", epochs, h.Loss, h.ValLoss, true)
	if err != nil {
		return nil, err
	}
	panels := []*gplot.Plot{loss}
	if len(h.Accuracy) > 0 || len(h.ValAccuracy) > 0 {
		acc, err := curvePanel("Accuracy", "accuracy", epochs, h.Accuracy, h.ValAccuracy, false)
		if err != nil {
			return nil, err
		}
		panels = append(panels, acc)
	}
	if changes(h.LearningRate) {
		lr, err := learningRatePanel(epochs, h.LearningRate)
		if err != nil {
			return nil, err
		}
		panels = append(panels, lr)
	}

	titleH := 0.0
	if title != "" {
		titleH = curvesTitleH
	}
	c := vgimg.NewWith(
		vgimg.UseWH(px(float64(curvesPanelW*len(panels))), px(curvesPanelH+titleH)),
		vgimg.UseDPI(curvesDPI))
	dc := draw.New(c)
	if title != "" {
		sty := text.Style{Color: textColor, Font: sans(20), XAlign: draw.XCenter, YAlign: draw.YTop, Handler: gplot.DefaultTextHandler}
		dc.FillText(sty, vg.Point{X: dc.Center().X, Y: dc.Max.Y - px(12)}, title)
	}
	body := draw.Crop(dc, 0, 0, 0, -px(titleH))
	tiles := draw.Tiles{Rows: 1, Cols: len(panels), PadX: px(24), PadLeft: px(8), PadRight: px(16), PadTop: px(8), PadBottom: px(8)}
	for i, p := range panels {
		p.Draw(tiles.At(body, i, 0))
	}
	return c.Image(), nil
}

// Curves writes [CurvesImage] as a PNG to w.
func Curves(w io.Writer, h History, title string) error {
	img, err := CurvesImage(h, title)
	if err != nil {
		return err
	}
	return WritePNG(w, img)
}

// newPanel returns a plot with the embedded font, a grid and integer epochs.
func newPanel(title, ylabel string) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = sans(17)
	p.Title.Padding = px(10)
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = ylabel
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sans(15)
		a.Tick.Label.Font = sans(13)
	}
	p.X.Tick.Marker = epochTicks{}
	p.Y.Tick.Marker = niceTicks{}
	p.Legend.TextStyle.Font = sans(14)
	p.Legend.ThumbnailWidth = px(28)
	p.Legend.Padding = px(4)
	g := plotter.NewGrid()
	g.Horizontal.Color = color.Gray{0xdd}
	g.Vertical.Color = color.Gray{0xdd}
	p.Add(g)
	return p
}

// curvePanel plots a training and a validation series; lower says whether
// lower values are better (loss) for the best-epoch note in the legend.
func curvePanel(title, ylabel string, epochs, train, val []float64, lower bool) (*gplot.Plot, error) {
	p := newPanel(title, ylabel)
	p.Legend.Top = lower // loss falls, accuracy rises: keep the legend off the lines
	p.Legend.XOffs = -px(6)
	if lower {
		p.Legend.YOffs = -px(6)
	} else {
		p.Legend.YOffs = px(6)
	}
	for _, s := range []struct {
		name  string
		ys    []float64
		color color.Color
	}{{"training", train, trainColor}, {"validation", val, valColor}} {
		if len(s.ys) == 0 {
			continue
		}
		xys := points(epochs, s.ys)
		if len(xys) == 0 {
			continue
		}
		line, dots, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, fmt.Errorf("plot: curves: %s %s: %w", s.name, ylabel, err)
		}
		line.Color, line.Width = s.color, px(2.5)
		dots.Color, dots.Radius, dots.Shape = s.color, px(2.5), draw.CircleGlyph{}
		if len(xys) > 60 {
			dots.Radius = 0
		}
		p.Add(line, dots)
		var name string
		if s.name == "validation" {
			i := best(xys, lower)
			name = fmt.Sprintf("validation (best %s, epoch %s)", strconv.FormatFloat(xys[i].Y, 'f', 4, 64), strconv.FormatFloat(xys[i].X, 'f', -1, 64))
		} else {
			name = fmt.Sprintf("training (last %s)", strconv.FormatFloat(xys[len(xys)-1].Y, 'f', 4, 64))
		}
		p.Legend.Add(name, line, dots)
	}
	fitEpochs(p, epochs)
	return p, nil
}

func learningRatePanel(epochs, lr []float64) (*gplot.Plot, error) {
	p := newPanel("Learning rate", "learning rate (log scale)")
	xys := points(epochs, lr)
	var pos plotter.XYs
	for _, xy := range xys {
		if xy.Y > 0 {
			pos = append(pos, xy)
		}
	}
	if len(pos) == 0 {
		return p, nil
	}
	line, err := plotter.NewLine(pos)
	if err != nil {
		return nil, fmt.Errorf("plot: curves: learning rate: %w", err)
	}
	line.StepStyle = plotter.MidStep // the rate changes between two epochs
	line.Color, line.Width = lrColor, px(2.5)
	p.Add(line)
	p.Y.Scale = gplot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	lo, hi := slices.MinFunc(pos, func(a, b plotter.XY) int { return cmp.Compare(a.Y, b.Y) }).Y, slices.MaxFunc(pos, func(a, b plotter.XY) int { return cmp.Compare(a.Y, b.Y) }).Y
	p.Y.Min, p.Y.Max = lo/2, hi*2
	fitEpochs(p, epochs)
	return p, nil
}

// points pairs epochs with values, leaving out NaN and infinite values.
func points(epochs, ys []float64) plotter.XYs {
	var xys plotter.XYs
	for i, y := range ys {
		if !math.IsNaN(y) && !math.IsInf(y, 0) {
			xys = append(xys, plotter.XY{X: epochs[i], Y: y})
		}
	}
	return xys
}

// best returns the index of the lowest (lower) or highest value; the first
// one on ties.
func best(xys plotter.XYs, lower bool) int {
	b := 0
	for i, xy := range xys {
		if (lower && xy.Y < xys[b].Y) || (!lower && xy.Y > xys[b].Y) {
			b = i
		}
	}
	return b
}

// changes reports whether vs holds two different values.
func changes(vs []float64) bool {
	for _, v := range vs {
		if v != vs[0] {
			return true
		}
	}
	return false
}

// fitEpochs sets the x range to the epochs, at least one epoch wide.
func fitEpochs(p *gplot.Plot, epochs []float64) {
	lo, hi := slices.Min(epochs), slices.Max(epochs)
	if hi-lo < 1 {
		lo, hi = lo-0.5, hi+0.5
	}
	p.X.Min, p.X.Max = lo, hi
}

// epochTicks marks whole epochs: at most about ten labelled ticks at a step
// of 1, 2 or 5 times a power of ten.
type epochTicks struct{}

func (epochTicks) Ticks(lo, hi float64) []gplot.Tick {
	step := 1.0
	for _, m := range []float64{1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000} {
		step = m
		if (hi-lo)/m <= 10 {
			break
		}
	}
	for k := 0; (hi-lo)/step > 10; k++ {
		step *= [...]float64{2, 2.5, 2}[k%3] // 2, 5, 10 times 10,000, 20,000, ...
	}
	// Counted, not added up: far from 0, v+step may round back to v.
	var ticks []gplot.Tick
	first := math.Ceil(lo/step) * step
	for i := range 11 {
		v := first + float64(i)*step
		if v > hi+1e-9 || i > 0 && v == ticks[len(ticks)-1].Value {
			break
		}
		ticks = append(ticks, gplot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ticks
}

// logTicks labels powers of ten (and 2 and 5 times them when the axis spans
// less than two decades) with their shortest decimal form, skipping decades
// to keep at most eight labels.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []gplot.Tick {
	if !(lo > 0 && hi >= lo) {
		return nil
	}
	first, last := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	mantissas := []float64{1}
	if last-first <= 2 {
		mantissas = []float64{1, 2, 5}
	}
	every := (last - first + 7) / 8
	var ticks []gplot.Tick
	for e := first; e <= last; e++ {
		for _, m := range mantissas {
			// Parse the decimal form so that the value is the float64
			// nearest to m×10^e, not a product carrying rounding errors.
			v, _ := strconv.ParseFloat(strconv.FormatFloat(m, 'f', 0, 64)+"e"+strconv.Itoa(e), 64)
			if v < lo || v > hi {
				continue
			}
			t := gplot.Tick{Value: v}
			if m != 1 || (e-first)%every == 0 {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// niceTicks labels about six values at a step of 1, 2, 2.5 or 5 times a
// power of ten, with minor ticks between them.
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []gplot.Tick {
	if !(hi > lo) {
		return []gplot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 4, 64)}}
	}
	raw := (hi - lo) / 6
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * pow
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*pow >= raw {
			step = m * pow
			break
		}
	}
	// Decimals enough to tell the labels apart.
	prec := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	if m := step / math.Pow(10, math.Floor(math.Log10(step)+1e-9)); math.Abs(m-2.5) < 1e-9 {
		prec++
	}
	var ticks []gplot.Tick
	for k := math.Ceil(lo/step - 1e-9); k*step <= hi+step*1e-9; k++ {
		v := k * step
		if v == 0 {
			v = 0 // not -0
		}
		ticks = append(ticks, gplot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', prec, 64)})
		if minor := v + step/2; minor <= hi {
			ticks = append(ticks, gplot.Tick{Value: minor})
		}
	}
	if first := math.Ceil(lo/step-1e-9)*step - step/2; first >= lo {
		ticks = append(ticks, gplot.Tick{Value: first})
	}
	return ticks
}
