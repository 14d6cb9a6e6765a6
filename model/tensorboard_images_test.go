package model

import (
	"bytes"
	"image"
	"image/png"
	"slices"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// TestWeightImages draws weights of each shape as Keras's write_images
// does, the bytes worked out by hand: v clipped to [0, 1], times 255.5,
// truncated.
func TestWeightImages(t *testing.T) {
	// 0.1·255.5 = 25.55 → 25; 0.5 → 127.75 → 127; 0.999 → 255.24 → 255;
	// 2 and -0.3 are clipped; 0.25 → 63.875 → 63.
	six := []float32{0.1, 0.5, 0.999, 2, -0.3, 0.25}
	values := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = six[i%6]
		}
		return v
	}
	for _, c := range []struct {
		name     string
		shape    []int
		h, w     int
		channels int
		images   [][]uint8 // the pixels of each image written
	}{
		{"vector", []int{6}, 6, 1, 1, [][]uint8{{25, 127, 255, 255, 0, 63}}},
		{"wide matrix", []int{2, 3}, 2, 3, 1, [][]uint8{{25, 127, 255, 255, 0, 63}}},
		// Three rows of two: transposed.
		{"tall matrix", []int{3, 2}, 2, 3, 1, [][]uint8{{25, 255, 0, 127, 255, 63}}},
		// Axes of size 1 go first: a 1x1 kernel of 3 channels and 2 filters
		// is a tall matrix.
		{"1x1 kernel", []int{1, 1, 3, 2}, 2, 3, 1, [][]uint8{{25, 255, 0, 127, 255, 63}}},
		// A 2x2 kernel of one channel and 3 filters: an image per filter.
		{"kernel of one channel", []int{2, 2, 1, 3}, 2, 2, 1, [][]uint8{{25, 255, 25, 255}, {127, 0, 127, 0}, {255, 63, 255, 63}}},
		// Of 4 filters: the first 3 (tf.summary.image's max_outputs).
		{"four filters", []int{2, 1, 3, 4}, 2, 3, 1, [][]uint8{{25, 0, 255, 25, 0, 255}, {127, 63, 255, 127, 63, 255}, {255, 25, 0, 255, 25, 0}}},
		// Four axes, the last of 3 or 4: RGB and RGBA images.
		{"rgb", []int{2, 2, 2, 3}, 2, 2, 3, [][]uint8{{25, 127, 255, 255, 0, 63, 25, 127, 255, 255, 0, 63}, {25, 127, 255, 255, 0, 63, 25, 127, 255, 255, 0, 63}}},
		{"rgba", []int{2, 2, 2, 4}, 2, 2, 4, [][]uint8{{25, 127, 255, 255, 0, 63, 25, 127, 255, 255, 0, 63, 25, 127, 255, 255},
			{0, 63, 25, 127, 255, 255, 0, 63, 25, 127, 255, 255, 0, 63, 25, 127}}},
	} {
		v := values(tensor.Size(c.shape))
		h, w, pngs, ok := weightImages(tensor.FromData(v, c.shape...))
		if !ok || h != c.h || w != c.w || len(pngs) != len(c.images) {
			t.Errorf("%s: %dx%d, %d images, %v; want %dx%d and %d", c.name, h, w, len(pngs), ok, c.h, c.w, len(c.images))
			continue
		}
		for i, b := range pngs {
			if got := decodePixels(t, b, h, w, c.channels); !slices.Equal(got, c.images[i]) {
				t.Errorf("%s: image %d = %v, want %v", c.name, i, got, c.images[i])
			}
		}
	}
	// Not drawn, as Keras does not: a last axis of other than 1, 3 or 4
	// channels, five axes, a single value.
	for _, shape := range [][]int{{3, 3, 2, 5}, {2, 2, 2, 2, 2}, {1, 1}} {
		if _, _, _, ok := weightImages(tensor.FromData(values(tensor.Size(shape)), shape...)); ok {
			t.Errorf("shape %v drawn, want it left out", shape)
		}
	}
}

// decodePixels decodes a PNG of h×w pixels of c channels (1: grey, 3: RGB
// opaque, 4: RGBA) and returns its values, or fails if it is not one.
func decodePixels(t *testing.T, b []byte, h, w, c int) []uint8 {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != image.Rect(0, 0, w, h) {
		t.Fatalf("a PNG of %v, want %dx%d", img.Bounds(), h, w)
	}
	var out []uint8
	switch m := img.(type) {
	case *image.Gray:
		if c == 1 {
			return m.Pix
		}
	case *image.RGBA: // Go decodes RGB as opaque RGBA
		if c == 3 {
			for p := 0; p < len(m.Pix); p += 4 {
				out = append(out, m.Pix[p:p+3]...)
			}
			return out
		}
	case *image.NRGBA:
		if c == 4 {
			return m.Pix
		}
	}
	t.Fatalf("a PNG of %T, want %d channels", img, c)
	return nil
}
