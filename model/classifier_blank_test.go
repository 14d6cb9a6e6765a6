package model

import (
	"context"
	"fmt"
	"image"
	"slices"
	"testing"

	"github.com/convnet-go/convnet/data"
)

// TestClassifierEmptyImage: an image without pixels is an error to
// classify and frames as zeros, framed or resized whole, instead of a
// panic deep in the resizing.
func TestClassifierEmptyImage(t *testing.T) {
	for framing, c := range framedClassifiers(t) {
		for _, r := range []image.Rectangle{image.Rect(0, 0, 0, 0), image.Rect(3, 3, 9, 3), image.Rect(5, 0, 5, 16)} {
			img := image.NewGray(r)
			f := c.Frame(img)
			if len(f.Pixels) != 64 || slices.Max(f.Pixels) != 0 || f.Inverted {
				t.Errorf("framing %v: Frame of %v: %d values, largest %v, inverted %v; want 64 zeros", framing.Size, r, len(f.Pixels), slices.Max(f.Pixels), f.Inverted)
			}
			want := fmt.Sprintf("image 1 is empty (%dx%d pixels)", r.Dx(), r.Dy())
			if _, err := c.Classify(context.Background(), img, 1); err == nil || err.Error() != want {
				t.Errorf("framing %v: Classify of %v: %v, want %q", framing.Size, r, err, want)
			}
		}
	}
}

// framedClassifiers returns classifiers of classifierModel (8×8) that
// resize images whole and that frame their ink, by framing.
func framedClassifiers(t *testing.T) map[data.Framing]*Classifier {
	t.Helper()
	out := map[data.Framing]*Classifier{}
	for _, framing := range []data.Framing{{Size: [2]int{8, 8}}, {Size: [2]int{8, 8}, Box: 5, Center: "mass", At: [2]float64{4, 4}}} {
		m := classifierModel(t)
		if err := m.SetFraming(framing); err != nil {
			t.Fatal(err)
		}
		c, err := NewClassifier(m, ClassifierOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out[framing] = c
	}
	return out
}

// TestClassifierBlank marks an image of one colour blank, white or black,
// framed or not, and a CSV row of one value, and not an image with a dot.
func TestClassifierBlank(t *testing.T) {
	for framing, c := range framedClassifiers(t) {
		white, black, dot := image.NewGray(image.Rect(0, 0, 20, 20)), image.NewGray(image.Rect(0, 0, 20, 20)), image.NewGray(image.Rect(0, 0, 20, 20))
		for i := range white.Pix {
			white.Pix[i] = 255
		}
		dot.Pix[7*20+9] = 200
		rs, err := c.ClassifyImages(context.Background(), []image.Image{white, black, dot}, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !rs[0].Blank || !rs[1].Blank || rs[2].Blank {
			t.Errorf("framing %v: blank white %v, black %v, a dot %v; want true, true, false", framing, rs[0].Blank, rs[1].Blank, rs[2].Blank)
		}
	}
	c, err := NewClassifier(classifierModel(t), ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	row, ink := make([]float32, 64), make([]float32, 64)
	for i := range row {
		row[i] = 17
	}
	ink[5] = 1
	rs, err := c.ClassifyPixels(context.Background(), [][]float32{row, ink}, 1)
	if err != nil || !rs[0].Blank || rs[1].Blank {
		t.Errorf("rows of one value and with one ink pixel: %v, blank %v %v", err, rs[0].Blank, rs[1].Blank)
	}
}
