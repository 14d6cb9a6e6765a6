package model

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/nn"
)

// imageModel returns a built model of 8x8 images of c channels.
func imageModel(t *testing.T, c int) *Sequential {
	t.Helper()
	m := New(&nn.Conv2D{Filters: 2, KernelSize: pair(3)}, &nn.Flatten{}, &nn.Dense{Units: 3, Activation: "softmax"})
	if err := m.Build([]int{8, 8, c}, 1); err != nil {
		t.Fatal(err)
	}
	return m
}

// lightImage is a w x h image of white paper with a dark mark.
func lightImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	img.Set(w/2, h/2, color.Black)
	return img
}

// TestClassifierPolarity: InvertAuto inverts dark ink on light paper for a
// model that learnt light ink on dark, as its framing says (or, without
// one, for a model of one channel), and leaves a photograph as it is for a
// model of colours or of photographs.
func TestClassifierPolarity(t *testing.T) {
	img := lightImage(8, 8)
	for _, c := range []struct {
		name     string
		channels int
		framing  *data.Framing // nil: none stored
		want     bool
	}{
		{"colours, no framing", 3, nil, false},
		{"one channel, no framing", 1, nil, true},
		{"photographs of one channel", 1, &data.Framing{Size: [2]int{8, 8}}, false},
		{"light ink filling its images", 1, &data.Framing{Size: [2]int{8, 8}, Dark: true}, true},
		{"framed, of a file without dark", 1, &data.Framing{Size: [2]int{8, 8}, Box: 5, Center: "mass", At: [2]float64{4, 4}}, true},
		{"colours, light ink on dark", 3, &data.Framing{Size: [2]int{8, 8}, Dark: true}, true},
	} {
		m := imageModel(t, c.channels)
		if c.framing != nil {
			if err := m.SetFraming(*c.framing); err != nil {
				t.Fatal(err)
			}
		}
		cl, err := NewClassifier(m, ClassifierOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := cl.Frame(img).Inverted; got != c.want {
			t.Errorf("%s: inverted %v, want %v", c.name, got, c.want)
		}
	}
}

// subImageless hides an image's SubImage method.
type subImageless struct{ image.Image }

// TestClassifierCenterCrop: a model whose framing crops the centre takes a
// 16x8 image's middle 8x8 square, pixel for pixel, whatever the image's
// type, and says where it took it; without the crop the image is squeezed
// whole.
func TestClassifierCenterCrop(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 16, 8))
	for y := range 8 {
		for x := range 16 {
			img.Set(x, y, color.RGBA{uint8(16 * x), uint8(30 * y), 0, 255})
		}
	}
	centre := data.ImageToPixels(img.SubImage(image.Rect(4, 0, 12, 8)), 8, 8, 3)
	m := imageModel(t, 3)
	if err := m.SetFraming(data.Framing{Size: [2]int{8, 8}, Crop: 1}); err != nil {
		t.Fatal(err)
	}
	c, err := NewClassifier(m, ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []image.Image{img, subImageless{img}} {
		f := c.Frame(in)
		if !slices.Equal(f.Pixels, centre) || f.Placement.Ink != [4]float64{0, 4, 8, 12} || f.Placement.Scale != 1 {
			t.Errorf("%T: placement %+v; pixels the centre square: %v", in, f.Placement, slices.Equal(f.Pixels, centre))
		}
	}
	whole, _ := NewClassifier(imageModel(t, 3), ClassifierOptions{})
	if f := whole.Frame(img); slices.Equal(f.Pixels, centre) || f.Placement.Ink != [4]float64{0, 0, 8, 16} {
		t.Errorf("without a crop: placement %+v", f.Placement)
	}
}

// TestClassifierCropAsFolder: a photograph comes to the model as an image
// folder read with the model's crop gave it to training, value for value.
func TestClassifierCropAsFolder(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 21, 13))
	for y := range 13 {
		for x := range 21 {
			img.Set(x, y, color.RGBA{uint8(12 * x), uint8(19 * y), uint8(7 * (x + y)), 255})
		}
	}
	dir := t.TempDir()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a", "1.png"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, crop := range []float64{0, 0.875, 1} {
		d, err := data.LoadImageFolder(context.Background(), dir, data.ImageFolderOptions{Height: 8, Width: 8, ColorMode: "rgb", Crop: crop})
		if err != nil {
			t.Fatal(err)
		}
		m := imageModel(t, 3)
		if err := m.SetFraming(data.Framing{Size: [2]int{8, 8}, Crop: crop}); err != nil {
			t.Fatal(err)
		}
		c, err := NewClassifier(m, ClassifierOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := c.Frame(img).Pixels, d.Image(0); !slices.Equal(got, want) {
			t.Errorf("crop %v: the classifier's pixels differ from the image folder's", crop)
		}
	}
}
