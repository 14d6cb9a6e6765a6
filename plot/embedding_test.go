package plot

import (
	"image"
	"image/color"
	"math"
	"strings"
	"testing"
)

// TestHSL checks the conversion against CSS's hsl() values.
func TestHSL(t *testing.T) {
	for _, tt := range []struct {
		h, s, l float64
		want    color.RGBA
	}{
		{0, 1, 0.5, color.RGBA{255, 0, 0, 255}},
		{120, 1, 0.5, color.RGBA{0, 255, 0, 255}},
		{240, 1, 0.5, color.RGBA{0, 0, 255, 255}},
		{60, 1, 0.25, color.RGBA{128, 128, 0, 255}},
		{300, 0.7, 0.38, color.RGBA{165, 29, 165, 255}}, // l ± s·l: 0.646 and 0.114 of 255
		{200, 0, 0.5, color.RGBA{128, 128, 128, 255}},
	} {
		if got := hsl(tt.h, tt.s, tt.l); got != tt.want {
			t.Errorf("hsl(%v, %v, %v) = %v, want %v", tt.h, tt.s, tt.l, got, tt.want)
		}
	}
}

// TestEmbeddingImage draws three points, the last predicted as another
// class: each dot has its class's colour, the mispredicted one a dark ring,
// and bad input is an error.
func TestEmbeddingImage(t *testing.T) {
	pts := [][2]float64{{0, 0}, {10, 0}, {5, 10}}
	img, err := EmbeddingImage(pts, []int{0, 1, 1}, []int{0, 1, 0}, []string{"a", "b"}, "three images")
	if err != nil {
		t.Fatal(err)
	}
	rgba := img.(*image.RGBA)
	if b := rgba.Bounds(); b.Dx() != 900 || b.Dy() != 900 {
		t.Fatalf("the map is %v, want 900x900", b)
	}
	// The points' places: x from 30 to 870 (scale 84 = 840/10 for x, y
	// limited by its 760/10), y from 80.
	scale := math.Min(840.0/10, (900-50-40-60)/10.0)
	at := func(p [2]float64) (int, int) {
		return 30 + int(math.Round(p[0]*scale)), 80 + int(math.Round(p[1]*scale))
	}
	for i, want := range []color.RGBA{ClassColor(0, 2), ClassColor(1, 2), ClassColor(1, 2)} {
		x, y := at(pts[i])
		if got := rgba.RGBAAt(x, y); got != want {
			t.Errorf("point %d at (%d, %d): %v, want %v", i, x, y, got, want)
		}
		ring := rgba.RGBAAt(x+5, y)
		if (i == 2) != (ring == ringColor) {
			t.Errorf("point %d: at 5 pixels %v (ring %v)", i, ring, ringColor)
		}
	}
	for _, tt := range []struct {
		class, pred []int
		pts         [][2]float64
		want        string
	}{
		{[]int{0, 1}, []int{0, 1, 0}, pts, "3 points, 2 true and 3 predicted"},
		{[]int{0, 2, 1}, []int{0, 1, 0}, pts, "point 1 of classes 2 and 1, of 2"},
		{[]int{0, 1, 1}, []int{0, 1, 0}, [][2]float64{{0, 0}, {math.NaN(), 1}, {1, 1}}, "not finite"},
	} {
		if _, err := EmbeddingImage(tt.pts, tt.class, tt.pred, []string{"a", "b"}, ""); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %v, want %q", err, tt.want)
		}
	}
}
