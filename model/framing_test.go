package model

import (
	"context"
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
)

func TestFramingRoundTrip(t *testing.T) {
	m := small(t, 3) // 8x8x1
	if f, err := m.Framing(); err != nil || f.Framed() || f.Size != [2]int{8, 8} {
		t.Errorf("Framing() of a model without one = %+v, %v; want none for 8x8", f, err)
	}
	m.Meta = map[string]string{"dataset": "mnist"}
	if f, err := m.Framing(); err != nil || f != must(data.NamedFraming("mnist")) {
		t.Errorf("Framing() of a model trained on mnist = %+v, %v; want MNIST's", f, err)
	}
	f := data.Framing{Size: [2]int{8, 8}, Box: 5, Center: "box", At: [2]float64{4, 4.5}, Stroke: 1, Dark: true}
	if err := m.SetFraming(f); err != nil {
		t.Fatal(err)
	}
	if got, err := throughFile(t, m).Framing(); err != nil || got != f {
		t.Errorf("Framing() after a round trip = %+v, %v; want %+v", got, err, f)
	}
	if err := m.SetFraming(data.Framing{Size: [2]int{8, 8}, Box: 5, Center: "middle"}); err == nil {
		t.Error("SetFraming(center middle) = nil, want an error")
	}
	m.Meta["framing"] = `{"size": [8, 8], "box": 50, "center": "mass", "at": [4, 4]}`
	if _, err := NewClassifier(m, ClassifierOptions{}); err == nil || !strings.Contains(err.Error(), "framing in model metadata: framing: box 50") {
		t.Errorf("NewClassifier with a box larger than the image: %v, want an error naming the framing", err)
	}
}

func must[T any](v T, ok bool) T {
	if !ok {
		panic("missing")
	}
	return v
}

// A classifier frames images as its model's training images were: a small
// dark mark in the corner of white paper comes out as a bright mark of the
// framing's size at the framing's place.
func TestClassifierFrame(t *testing.T) {
	m := small(t, 3) // 8x8x1
	if err := m.SetFraming(data.Framing{Size: [2]int{8, 8}, Box: 4, Center: "mass", At: [2]float64{4, 4}}); err != nil {
		t.Fatal(err)
	}
	c, err := NewClassifier(m, ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, 60, 50))
	for i := range img.Pix {
		img.Pix[i] = 250
	}
	for y := 10; y < 26; y++ {
		for x := 40; x < 56; x++ {
			img.SetGray(x, y, color.Gray{5})
		}
	}
	f := c.Frame(img)
	if p := f.Placement; !f.Inverted || p.Ink != [4]float64{10, 40, 26, 56} || p.Center != [2]float64{18, 48} || p.Scale != 0.25 {
		t.Fatalf("Frame: inverted %v, placement %+v; want inverted, ink at rows 10-26, columns 40-56, centre (18, 48), scale 1/4", f.Inverted, p)
	}
	for y := range 8 {
		for x := range 8 {
			want := float32(0)
			if y >= 2 && y < 6 && x >= 2 && x < 6 {
				want = 255
			}
			if got := f.Pixels[y*8+x]; got < want-1 || got > want+1 {
				t.Fatalf("framed pixel (%d, %d) = %v, want %v; all %v", y, x, got, want, f.Pixels)
			}
		}
	}
	// An image of the model's input size is taken as it is.
	small := image.NewGray(image.Rect(0, 0, 8, 8))
	small.SetGray(7, 0, color.Gray{200})
	if f := c.Frame(small); f.Pixels[7] != 200 || f.Placement.Scale != 1 {
		t.Errorf("Frame(an 8x8 image) moved its ink: %v", f.Pixels)
	}
	r, err := c.Classify(context.Background(), img, 1)
	if err != nil || !r.Inverted {
		t.Errorf("Classify: %v, %+v", err, r)
	}
}
