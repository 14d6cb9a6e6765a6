package plot

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"reflect"
	"strings"
	"testing"
)

var ahcdNames = []string{"alef ا", "beh ب", "teh ت", "theh ث", "jeem ج", "hah ح", "khah خ", "dal د", "thal ذ",
	"reh ر", "zain ز", "seen س", "sheen ش", "sad ص", "dad ض", "tah ط", "zah ظ", "ain ع", "ghain غ", "feh ف",
	"qaf ق", "kaf ك", "lam ل", "meem م", "noon ن", "heh ه", "waw و", "yeh ي"}

// ahcdCounts is a 28-class matrix: 115 on the diagonal, and a few errors.
func ahcdCounts() [][]int {
	c := make([][]int, 28)
	for i := range c {
		c[i] = make([]int, 28)
		c[i][i] = 115
		c[i][(i+1)%28] = 1
		c[i][(i+5)%28] = 4
	}
	c[8][9] = 30
	return c
}

func decodePNG(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decoding PNG: %v", err)
	}
	return img
}

func TestConfusionHeatmapPNG(t *testing.T) {
	var buf bytes.Buffer
	counts := ahcdCounts()
	if err := ConfusionHeatmap(&buf, counts, ahcdNames, "AHCD test set"); err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, buf.Bytes())
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	if w < 1000 || w > 1400 || h < 1000 || h > 1400 {
		t.Errorf("28-class heatmap is %dx%d, want each side in 1000..1400", w, h)
	}
	l := newHeatLayout(28, ahcdNames, 115, "AHCD test set")
	if l.width != w || l.height != h {
		t.Errorf("layout %dx%d, image %dx%d", l.width, l.height, w, h)
	}
	if l.cell < 30 {
		t.Errorf("cell side %d, want at least 30 pixels for 28 classes", l.cell)
	}

	// Sample each cell near its top-left corner, away from the count.
	fillOf := func(t0, p int) color.RGBA {
		r := l.cellRect(t0, p)
		return rgbaAt(img, r.Min.X+3, r.Min.Y+3)
	}
	white := color.RGBA{255, 255, 255, 255}
	byCount := []struct {
		t, p, count int
	}{{0, 0, 115}, {8, 9, 30}, {0, 5, 4}, {0, 1, 1}, {0, 2, 0}}
	prev := -1.0
	for _, c := range byCount {
		if counts[c.t][c.p] != c.count {
			t.Fatalf("test setup: counts[%d][%d] = %d, want %d", c.t, c.p, counts[c.t][c.p], c.count)
		}
		got := lum(fillOf(c.t, c.p))
		if got <= prev {
			t.Errorf("cell [%d][%d] with count %d has brightness %.0f, not brighter than %.0f of a larger count", c.t, c.p, c.count, got, prev)
		}
		prev = got
	}
	if got := fillOf(0, 2); got != white {
		t.Errorf("zero cell colour = %v, want white", got)
	}
	if got := fillOf(3, 4); got == white {
		t.Errorf("cell [3][4] with count 1 is white, want a tint")
	}

	// Counts are written in non-zero cells only.
	textIn := func(t0, p int) int {
		r := l.cellRect(t0, p).Inset(4)
		bg := fillOf(t0, p)
		return inkIn(img, r, func(c color.RGBA) bool { return c != bg })
	}
	for _, c := range byCount {
		n := textIn(c.t, c.p)
		if c.count > 0 && n < 5 {
			t.Errorf("cell [%d][%d] with count %d has %d text pixels, want a number", c.t, c.p, c.count, n)
		}
		if c.count == 0 && n != 0 {
			t.Errorf("zero cell [%d][%d] has %d text pixels, want none", c.t, c.p, n)
		}
	}

	// Row names left of the matrix, column names (turned) under it.
	for i := range 28 {
		r := l.cellRect(i, 0)
		row := image.Rect(l.matrix.X-l.rowLabelW-heatGap, r.Min.Y, l.matrix.X-2, r.Max.Y)
		if n := inkIn(img, row, isDark); n < 10 {
			t.Errorf("row %d label area %v: %d dark pixels, want a name", i, row, n)
		}
		c := l.cellRect(27, i)
		col := image.Rect(c.Min.X, c.Max.Y+2, c.Max.X, c.Max.Y+heatGap+l.colLabelH)
		if n := inkIn(img, col, isDark); n < 10 {
			t.Errorf("column %d label area %v: %d dark pixels, want a name", i, col, n)
		}
	}
	if l.upright {
		t.Error("28 AHCD names should be turned to fit under narrow columns")
	}
	// Longer names reach further from the matrix: "sheen ش" (12) beyond "lam ل" (22).
	reach := func(i int) int {
		c := l.cellRect(27, i)
		for y := c.Max.Y + heatGap + l.colLabelH; y > c.Max.Y; y-- {
			if inkIn(img, image.Rect(c.Min.X, y, c.Max.X, y+1), isDark) > 0 {
				return y
			}
		}
		return 0
	}
	if reach(12) <= reach(22) {
		t.Errorf("column label of sheen ends at y=%d, of lam at y=%d: want sheen's longer", reach(12), reach(22))
	}
}

func TestConfusionHeatmapColourBar(t *testing.T) {
	img, err := ConfusionHeatmapImage([][]int{{50, 2}, {0, 40}}, []string{"cat", "dog"}, "")
	if err != nil {
		t.Fatal(err)
	}
	l := newHeatLayout(2, []string{"cat", "dog"}, 50, "")
	if !l.upright {
		t.Error("short names should stand upright")
	}
	x := (l.bar.Min.X + l.bar.Max.X) / 2
	top, bottom := rgbaAt(img, x, l.bar.Min.Y+1), rgbaAt(img, x, l.bar.Max.Y-2)
	if lum(top) >= lum(bottom) {
		t.Errorf("colour bar top %v is not darker than bottom %v", top, bottom)
	}
	// Below the tick of 1 the bar is white, as the empty cells are.
	if bottom != zeroCellColor {
		t.Errorf("colour bar bottom %v, want the white of empty cells", bottom)
	}
	// The largest count's cell matches the top of the bar.
	r := l.cellRect(0, 0)
	if got := rgbaAt(img, r.Min.X+3, r.Min.Y+3); absDiff(lum(got), lum(top)) > 12 {
		t.Errorf("cell of the largest count %v, bar top %v: want about the same colour", got, top)
	}
	// Without a title, the matrix starts near the top.
	if l.matrix.Y != heatMargin {
		t.Errorf("matrix top = %d without a title, want %d", l.matrix.Y, heatMargin)
	}
}

func absDiff(a, b float64) float64 {
	if a > b {
		return a - b
	}
	return b - a
}

func TestConfusionHeatmapErrors(t *testing.T) {
	tests := []struct {
		name   string
		counts [][]int
		names  []string
		want   string
	}{
		{"empty", nil, nil, "no classes"},
		{"ragged", [][]int{{1, 2}, {3}}, nil, "row 1 has 1 counts, want 2"},
		{"negative", [][]int{{1, 0}, {-2, 3}}, nil, "count [1][0] is -2"},
		{"names", [][]int{{1, 0}, {0, 1}}, []string{"a"}, "1 names for 2 classes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := ConfusionHeatmap(&buf, tc.counts, tc.names, "x")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ConfusionHeatmap(%v) error = %v, want %q", tc.counts, err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("ConfusionHeatmap(%v) wrote %d bytes on error", tc.counts, buf.Len())
			}
		})
	}
}

func TestBarTicks(t *testing.T) {
	tests := []struct {
		max  int
		want []int
	}{
		{0, []int{0}},
		{1, []int{1, 0}},
		{7, []int{7, 5, 2, 1, 0}},
		{120, []int{120, 100, 50, 20, 10, 5, 2, 1, 0}},
		{1000, []int{1000, 500, 200, 100, 50, 20, 10, 5, 2, 1, 0}},
	}
	for _, tc := range tests {
		if got := barTicks(tc.max); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("barTicks(%d) = %v, want %v", tc.max, got, tc.want)
		}
	}
}

func TestColorAt(t *testing.T) {
	if got := colorAt(blues, 0); got != blues[0] {
		t.Errorf("colorAt(0) = %v, want %v", got, blues[0])
	}
	if got := colorAt(blues, 1); got != blues[len(blues)-1] {
		t.Errorf("colorAt(1) = %v, want %v", got, blues[len(blues)-1])
	}
	for i := range 20 {
		a, b := colorAt(blues, float64(i)/20), colorAt(blues, float64(i+1)/20)
		if lum(b) >= lum(a) {
			t.Errorf("colorAt(%v) = %v not darker than colorAt(%v) = %v", float64(i+1)/20, b, float64(i)/20, a)
		}
	}
}

// TestConfusionHeatmapManyClasses draws the matrix of a thousand classes
// (an ImageNet model's) with names of 200 characters: at most 3000 pixels
// for the matrix, no counts in its 3-pixel cells, a name every 6 rows, and
// the names cut short.
func TestConfusionHeatmapManyClasses(t *testing.T) {
	const n = 1000
	counts := make([][]int, n)
	names := make([]string, n)
	for i := range counts {
		counts[i] = make([]int, n)
		counts[i][i] = 50
		counts[i][(i+1)%n] = 2
		names[i] = fmt.Sprintf("class %d %s", i, strings.Repeat("x", 200))
	}
	img, err := ConfusionHeatmapImage(counts, names, "ImageNet")
	if err != nil {
		t.Fatal(err)
	}
	l := newHeatLayout(n, shortNames(names), 50, "ImageNet")
	if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w > 3700 || h > 3700 || n*l.cell > heatMaxSide {
		t.Errorf("%d classes: a %dx%d image of %d-pixel cells, want the matrix within %d pixels and the image within 3700", n, w, h, l.cell, heatMaxSide)
	}
	if l.counts || l.every < 2 {
		t.Errorf("%d classes in %d-pixel cells: counts written %v, a name every %d classes; want no counts and names far apart", n, l.cell, l.counts, l.every)
	}
	if got := shortNames(names)[7]; len([]rune(got)) != heatMaxName || !strings.HasSuffix(got, "…") || names[7] == got {
		t.Errorf("name cut to %q, want %d runes ending in … (the caller's left alone)", got, heatMaxName)
	}
	// A diagonal cell is coloured, an empty one white.
	d, e := l.cellRect(500, 500), l.cellRect(500, 700)
	if c := rgbaAt(img, d.Min.X+1, d.Min.Y+1); c == (color.RGBA{255, 255, 255, 255}) {
		t.Error("a diagonal cell of 50 is white")
	}
	if c := rgbaAt(img, e.Min.X+1, e.Min.Y+1); c != (color.RGBA{255, 255, 255, 255}) {
		t.Errorf("an empty cell is %v, want white", c)
	}
}
