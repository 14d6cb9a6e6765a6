package data

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
)

func encodeImage(t testing.TB, format string, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpg":
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 100})
	case "gif":
		// A gray palette keeps gray images exact.
		pal := make(color.Palette, 256)
		for i := range pal {
			pal[i] = color.Gray{uint8(i)}
		}
		p := image.NewPaletted(img.Bounds(), pal)
		draw.Draw(p, p.Rect, img, img.Bounds().Min, draw.Src)
		err = gif.Encode(&b, p, nil)
	case "bmp":
		err = bmp.Encode(&b, img)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// grayImage returns a w x h image whose pixel (x, y) has value 10*y+x.
func grayImage(w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			g.SetGray(x, y, color.Gray{uint8(10*y + x)})
		}
	}
	return g
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadImageFolder(t *testing.T) {
	dir := t.TempDir()
	g := grayImage(4, 3)
	writeFile(t, filepath.Join(dir, "b_cat", "1.png"), encodeImage(t, "png", g))
	writeFile(t, filepath.Join(dir, "b_cat", "sub", "2.bmp"), encodeImage(t, "bmp", g))
	writeFile(t, filepath.Join(dir, "b_cat", "notes.txt"), []byte("skipped"))
	writeFile(t, filepath.Join(dir, "a_dog", "x.GIF"), encodeImage(t, "gif", g))
	writeFile(t, filepath.Join(dir, "c_eel", "y.jpeg"), encodeImage(t, "jpg", g))
	writeFile(t, filepath.Join(dir, ".hidden", "z.png"), encodeImage(t, "png", g))
	writeFile(t, filepath.Join(dir, "README"), []byte("top-level files are skipped"))

	d, err := LoadImageFolder(context.Background(), dir, ImageFolderOptions{ColorMode: "grayscale"})
	if err != nil {
		t.Fatalf("LoadImageFolder: %v", err)
	}
	if want := []string{"a_dog", "b_cat", "c_eel"}; strings.Join(d.ClassNames, ",") != strings.Join(want, ",") {
		t.Errorf("ClassNames = %v, want %v", d.ClassNames, want)
	}
	if !equalInts(d.Y, []int{0, 1, 1, 2}) {
		t.Errorf("Y = %v, want [0 1 1 2]", d.Y)
	}
	if s := d.Shape(); !equalInts(s, []int{3, 4, 1}) {
		t.Errorf("Shape() = %v, want [3 4 1]", s)
	}
	// Lossless formats give the exact pixels.
	for i := range 3 {
		for p, v := range d.Image(i) {
			if want := float32(10*(p/4) + p%4); v != want {
				t.Fatalf("image %d pixel %d = %v, want %v", i, p, v, want)
			}
		}
	}

	// Resized and in colour.
	d, err = LoadImageFolder(context.Background(), dir, ImageFolderOptions{Height: 6, Width: 8, ColorMode: "rgb"})
	if err != nil {
		t.Fatalf("LoadImageFolder(rgb 6x8): %v", err)
	}
	if s := d.Shape(); !equalInts(s, []int{6, 8, 3}) {
		t.Errorf("Shape() = %v, want [6 8 3]", s)
	}
	if lo, hi := d.Range(); lo < 0 || hi > 23 {
		t.Errorf("Range() = %v..%v, want within the source's 0..23", lo, hi)
	}
}

// An image of another aspect ratio is cropped to its centre, when asked,
// before it is resized; one of the size read is taken whole.
func TestLoadImageFolderCrop(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a", "wide.png"), encodeImage(t, "png", grayImage(8, 4)))
	writeFile(t, filepath.Join(dir, "b", "square.png"), encodeImage(t, "png", grayImage(4, 4)))
	for _, c := range []struct {
		side int
		crop float64
		want [2][]float32 // the pixels of each image
	}{
		// The centre 4x4 of 8x4, x from 2 to 6.
		{4, 1, [2][]float32{{2, 3, 4, 5, 12, 13, 14, 15, 22, 23, 24, 25, 32, 33, 34, 35}, {0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33}}},
		// Half of the largest square, 2x2 from (x 3, y 1), and of the
		// square from (1, 1).
		{2, 0.5, [2][]float32{{13, 14, 23, 24}, {11, 12, 21, 22}}},
		// The square image is of the size read: whole.
		{4, 0.5, [2][]float32{nil, {0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33}}},
	} {
		d, err := LoadImageFolder(context.Background(), dir, ImageFolderOptions{Height: c.side, Width: c.side, ColorMode: "grayscale", Crop: c.crop})
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range c.want {
			if got := d.Image(i); want != nil && !slices.Equal(got, want) {
				t.Errorf("side %d, crop %v: image %d = %v, want %v", c.side, c.crop, i, got, want)
			}
		}
	}
}

func TestLoadImageFolderBad(t *testing.T) {
	png1 := encodeImage(t, "png", grayImage(2, 2))
	for _, c := range []struct {
		name  string
		files map[string][]byte
		opts  ImageFolderOptions
		want  string
	}{
		{"empty class", map[string][]byte{"a/1.png": png1, "b/notes.txt": []byte("x")}, ImageFolderOptions{}, "b: class folder has no images"},
		{"no classes", map[string][]byte{"1.png": png1}, ImageFolderOptions{}, "no class subfolders"},
		{"not an image", map[string][]byte{"a/1.png": png1, "a/2.png": []byte("not a png")}, ImageFolderOptions{}, "2.png: not a readable PNG, JPEG, GIF, BMP, PGM or PPM image"},
		{"truncated", map[string][]byte{"a/1.png": png1[:len(png1)-20]}, ImageFolderOptions{}, "1.png: not a readable image"},
		{"color mode", map[string][]byte{"a/1.png": png1}, ImageFolderOptions{ColorMode: "cmyk"}, `color mode "cmyk"`},
		{"crop", map[string][]byte{"a/1.png": png1}, ImageFolderOptions{Crop: 1.5}, `crop 1.5, want 0 (none) or a fraction in (0, 1]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, b := range c.files {
				writeFile(t, filepath.Join(dir, name), b)
			}
			d, err := LoadImageFolder(context.Background(), dir, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("LoadImageFolder error = %v, want one containing %q", err, c.want)
			}
			if d != nil {
				t.Errorf("LoadImageFolder returned data with an error")
			}
		})
	}
}

func TestImageToPixels(t *testing.T) {
	rgba := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	rgba.Set(0, 0, color.NRGBA{255, 0, 0, 255})
	rgba.Set(1, 0, color.NRGBA{10, 20, 30, 0}) // transparent
	for _, c := range []struct {
		c    int
		want []float32
	}{
		{1, []float32{76, 0}},
		{3, []float32{255, 0, 0, 0, 0, 0}},
		{4, []float32{255, 0, 0, 255, 0, 0, 0, 0}},
	} {
		if got := ImageToPixels(rgba, 1, 2, c.c); !equalFloats(got, c.want) {
			t.Errorf("ImageToPixels(red and transparent, c=%d) = %v, want %v", c.c, got, c.want)
		}
	}
	// A uniform image stays uniform when resized; a sub-image is read from
	// its own origin.
	g := image.NewGray(image.Rect(0, 0, 9, 9))
	for i := range g.Pix {
		g.Pix[i] = 200
	}
	for _, v := range ImageToPixels(g, 4, 5, 1) {
		if v != 200 {
			t.Fatalf("ImageToPixels(uniform 200, resized) has %v", v)
		}
	}
	sub := grayImage(4, 3).SubImage(image.Rect(1, 1, 3, 3))
	if got, want := ImageToPixels(sub, 2, 2, 1), []float32{11, 12, 21, 22}; !equalFloats(got, want) {
		t.Errorf("ImageToPixels(sub-image) = %v, want %v", got, want)
	}
}
