package plot

import (
	"bytes"
	"image"
	"image/color"
	"math"
	"reflect"
	"strings"
	"testing"

	gplot "gonum.org/v1/plot"
)

func sampleHistory(n int) History {
	var h History
	for e := 1; e <= n; e++ {
		x := float64(e)
		h.Epoch = append(h.Epoch, e)
		h.Loss = append(h.Loss, 0.05+2*math.Exp(-x/3))
		h.Accuracy = append(h.Accuracy, 0.99-0.6*math.Exp(-x/3))
		h.ValLoss = append(h.ValLoss, 0.1+1.5*math.Exp(-x/3))
		h.ValAccuracy = append(h.ValAccuracy, 0.97-0.5*math.Exp(-x/3))
		h.LearningRate = append(h.LearningRate, 0.001)
	}
	return h
}

// near reports whether c is within 40 of want on each channel.
func nearColor(c, want color.RGBA) bool {
	d := func(a, b uint8) int { return int(math.Abs(float64(a) - float64(b))) }
	return d(c.R, want.R) < 40 && d(c.G, want.G) < 40 && d(c.B, want.B) < 40
}

// colourY returns how many pixels of colour want lie in r, and their mean y.
func colourY(img image.Image, r image.Rectangle, want color.RGBA) (int, float64) {
	n, sum := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if nearColor(rgbaAt(img, x, y), want) {
				n++
				sum += y
			}
		}
	}
	if n == 0 {
		return 0, 0
	}
	return n, float64(sum) / float64(n)
}

func TestCurvesPNG(t *testing.T) {
	var buf bytes.Buffer
	if err := Curves(&buf, sampleHistory(20), "run 1"); err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, buf.Bytes())
	// Two panels (constant learning rate) and a title band.
	if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != 2*curvesPanelW || h != curvesPanelH+curvesTitleH {
		t.Fatalf("Curves image is %dx%d, want %dx%d", w, h, 2*curvesPanelW, curvesPanelH+curvesTitleH)
	}
	if n := inkIn(img, image.Rect(0, 0, img.Bounds().Dx(), curvesTitleH-8), isDark); n < 30 {
		t.Errorf("title band has %d dark pixels, want the title", n)
	}
	h := img.Bounds().Dy()
	left := image.Rect(0, curvesTitleH, curvesPanelW, h)
	right := image.Rect(curvesPanelW, curvesTitleH, 2*curvesPanelW, h)
	for _, panel := range []struct {
		name    string
		r       image.Rectangle
		falling bool
	}{{"loss", left, true}, {"accuracy", right, false}} {
		for _, c := range []color.RGBA{trainColor, valColor} {
			n, _ := colourY(img, panel.r, c)
			if n < 200 {
				t.Errorf("%s panel: %d pixels of %v, want a line", panel.name, n, c)
			}
		}
		// The training line falls (loss) or rises (accuracy) from left to
		// right: compare its mean height in the first and last fifth.
		w := panel.r.Dx() / 5
		_, early := colourY(img, image.Rect(panel.r.Min.X+w/2, panel.r.Min.Y, panel.r.Min.X+w, panel.r.Max.Y), trainColor)
		_, late := colourY(img, image.Rect(panel.r.Max.X-w, panel.r.Min.Y, panel.r.Max.X-w/2, panel.r.Max.Y), trainColor)
		if panel.falling != (early < late) {
			t.Errorf("%s panel: training line at y=%.0f early and y=%.0f late, want it %s", panel.name, early, late,
				map[bool]string{true: "falling", false: "rising"}[panel.falling])
		}
	}
}

func TestCurvesPanels(t *testing.T) {
	noVal := sampleHistory(5)
	noVal.ValLoss, noVal.ValAccuracy = nil, nil
	changing := sampleHistory(12)
	for i := range changing.LearningRate {
		changing.LearningRate[i] = 0.001 / math.Pow(2, float64(i/4))
	}
	lossOnly := History{Loss: []float64{1, 0.5, 0.25}}
	tests := []struct {
		name      string
		h         History
		panels    int
		hasVal    bool
		hasLRLine bool
	}{
		{"no validation", noVal, 2, false, false},
		{"changing learning rate", changing, 3, true, true},
		{"loss only", lossOnly, 1, false, false},
		{"one epoch", sampleHistory(1), 2, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img, err := CurvesImage(tc.h, "")
			if err != nil {
				t.Fatal(err)
			}
			if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != tc.panels*curvesPanelW || h != curvesPanelH {
				t.Fatalf("image %dx%d, want %dx%d", w, h, tc.panels*curvesPanelW, curvesPanelH)
			}
			if n, _ := colourY(img, img.Bounds(), valColor); (n > 0) != tc.hasVal {
				t.Errorf("%d validation-coloured pixels, want validation curves %v", n, tc.hasVal)
			}
			if n, _ := colourY(img, img.Bounds(), lrColor); (n > 0) != tc.hasLRLine {
				t.Errorf("%d learning-rate-coloured pixels, want learning rate %v", n, tc.hasLRLine)
			}
		})
	}
}

func TestCurvesSkipsNaN(t *testing.T) {
	h := sampleHistory(6)
	h.Loss[5] = math.NaN()
	h.ValLoss[2] = math.Inf(1)
	if _, err := CurvesImage(h, ""); err != nil {
		t.Errorf("CurvesImage with NaN and Inf values: %v", err)
	}
}

// TestCurvesFarEpochs draws epochs numbered anywhere an int reaches.
func TestCurvesFarEpochs(t *testing.T) {
	for _, epochs := range [][]int{{math.MaxInt, math.MinInt}, {math.MaxInt, math.MaxInt - 1}, {math.MinInt}} {
		h := sampleHistory(len(epochs))
		h.Epoch = epochs
		if _, err := CurvesImage(h, ""); err != nil {
			t.Errorf("CurvesImage of epochs %v: %v", epochs, err)
		}
	}
}

func TestCurvesErrors(t *testing.T) {
	short := sampleHistory(4)
	short.ValAccuracy = short.ValAccuracy[:3]
	epochs := sampleHistory(4)
	epochs.Epoch = []int{1, 2}
	tests := []struct {
		name string
		h    History
		want string
	}{
		{"empty", History{}, "no epochs"},
		{"short val accuracy", short, "ValAccuracy has 3 values for 4 epochs"},
		{"short epochs", epochs, "Epoch has 2 values for 4 epochs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Curves(&buf, tc.h, "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Curves error = %v, want %q", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("Curves wrote %d bytes on error", buf.Len())
			}
		})
	}
}

func labels(ticks []gplot.Tick) []string {
	var s []string
	for _, t := range ticks {
		if t.Label != "" {
			s = append(s, t.Label)
		}
	}
	return s
}

func TestEpochTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   []string
	}{
		{1, 5, []string{"1", "2", "3", "4", "5"}},
		{1, 30, []string{"5", "10", "15", "20", "25", "30"}},
		{1, 12, []string{"2", "4", "6", "8", "10", "12"}},
		{0.5, 1.5, []string{"1"}},
		{1, 123456, []string{"20000", "40000", "60000", "80000", "100000", "120000"}},
		// Epochs read from a file may be any int: the ticks stay few.
		{math.MinInt, math.MaxInt, []string{"-8000000000000000000", "-6000000000000000000", "-4000000000000000000", "-2000000000000000000",
			"0", "2000000000000000000", "4000000000000000000", "6000000000000000000", "8000000000000000000"}},
		{math.MaxInt - 0.5, math.MaxInt + 0.5, []string{"9223372036854776000"}},
	}
	for _, tc := range tests {
		if got := labels(epochTicks{}.Ticks(tc.lo, tc.hi)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("epochTicks.Ticks(%v, %v) = %v, want %v", tc.lo, tc.hi, got, tc.want)
		}
	}
}

func TestNiceTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   []string
	}{
		{0.05, 1.45, []string{"0.25", "0.50", "0.75", "1.00", "1.25"}},
		{0.54, 0.99, []string{"0.6", "0.7", "0.8", "0.9"}},
		{0, 10, []string{"0", "2", "4", "6", "8", "10"}},
		{0.95, 0.99, []string{"0.95", "0.96", "0.97", "0.98", "0.99"}},
		{0.951, 0.962, []string{"0.952", "0.954", "0.956", "0.958", "0.960", "0.962"}},
	}
	for _, tc := range tests {
		if got := labels(niceTicks{}.Ticks(tc.lo, tc.hi)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("niceTicks.Ticks(%v, %v) = %v, want %v", tc.lo, tc.hi, got, tc.want)
		}
	}
}

func TestLogTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   []string
	}{
		// A cosine schedule from 0.002 to 5.5e-11: one label per two decades.
		{2.7e-11, 0.004, []string{"1e-09", "1e-07", "1e-05", "0.001"}},
		{1e-6, 1e-3, []string{"1e-06", "1e-05", "0.0001", "0.001"}},
		// A constant rate of 0.002 drawn from 0.001 to 0.004.
		{0.001, 0.004, []string{"0.001", "0.002"}},
		{0.0003, 0.0012, []string{"0.0005", "0.001"}},
		{0, 1, nil},
	}
	for _, tc := range tests {
		if got := labels(logTicks{}.Ticks(tc.lo, tc.hi)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("logTicks.Ticks(%v, %v) = %v, want %v", tc.lo, tc.hi, got, tc.want)
		}
	}
}
