package plot

import (
	"image"
	"image/color"
	"testing"
)

// TestCAMOverlay checks the blend and the placement of the map: one hot
// cell of a 2x2 map over a grey 8x8 image, each pixel 3x3.
func TestCAMOverlay(t *testing.T) {
	img := Cell{Pixels: make([]float32, 64), H: 8, W: 8, C: 1}
	for i := range img.Pixels {
		img.Pixels[i] = 100
	}
	out := CAMOverlay(img, []float32{0, 0, 0, 2}, 2, 2, 3).(*image.RGBA)
	if b := out.Bounds(); b.Dx() != 24 || b.Dy() != 24 {
		t.Fatalf("bounds %v, want 24x24", b)
	}
	blend := func(c color.RGBA) color.RGBA {
		f := func(v uint8) uint8 { return uint8(0.6*100 + 0.4*float64(v) + 0.5) }
		return color.RGBA{f(c.R), f(c.G), f(c.B), 0xff}
	}
	for _, tt := range []struct {
		x, y int
		want color.RGBA
	}{
		// The cells' centres are pixels' corners 2 and 6: the pixels
		// around the corner cell's centre and beyond it take its value,
		// dark red; those of the opposite corner dark blue.
		{7*3 + 1, 7*3 + 1, blend(jet[8])},
		{6*3 + 2, 6*3 + 2, blend(jet[8])},
		{0, 0, blend(jet[0])},
		{1*3 + 1, 1*3 + 1, blend(jet[0])},
	} {
		if got := out.RGBAAt(tt.x, tt.y); got != tt.want {
			t.Errorf("pixel (%d, %d) = %v, want %v", tt.x, tt.y, got, tt.want)
		}
	}
	// Pixel (4, 4), 0.625 of the way from the cells of 0 to the hot one
	// in each direction: 0.39 of the largest value, cyan.
	mid := out.RGBAAt(4*3, 4*3)
	want := blend(colorAt(jet, float64(bilinear([]float32{0, 0, 0, 1}, 2, sourceCoord(4, 8, 2), sourceCoord(4, 8, 2)))))
	if mid != want || mid.B <= mid.R {
		t.Errorf("the middle pixel = %v, want %v, blue over red", mid, want)
	}
	// A map of zeros is dark blue all over.
	if got := CAMOverlay(img, make([]float32, 4), 2, 2, 1).(*image.RGBA).RGBAAt(5, 2); got != blend(jet[0]) {
		t.Errorf("a map of zeros: %v, want %v", got, blend(jet[0]))
	}
}
