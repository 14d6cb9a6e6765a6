package data

import (
	"bytes"
	"image"
	"strings"
	"testing"
)

func TestDecodePGM(t *testing.T) {
	body := "P5\n# the pad\n3 2\n255\n" + string([]byte{0, 128, 255, 10, 20, 30})
	img, format, err := image.Decode(strings.NewReader(body))
	if err != nil || format != "pgm" {
		t.Fatalf("image.Decode(P5) = %v, %q, want a pgm image", err, format)
	}
	g, ok := img.(*image.Gray)
	if !ok || g.Bounds() != image.Rect(0, 0, 3, 2) || !bytes.Equal(g.Pix, []byte{0, 128, 255, 10, 20, 30}) {
		t.Fatalf("decoded %T %v %v, want the 3x2 grey pixels", img, img.Bounds(), g.Pix)
	}
	cfg, _, err := image.DecodeConfig(strings.NewReader(body))
	if err != nil || cfg.Width != 3 || cfg.Height != 2 {
		t.Fatalf("DecodeConfig = %+v, %v, want 3x2", cfg, err)
	}
	// A smaller largest value is scaled to 0..255.
	img, err = DecodeImage("small.pgm", []byte("P5 2 1 15 "+string([]byte{15, 5})))
	if err != nil {
		t.Fatal(err)
	}
	if got := img.(*image.Gray).Pix; !bytes.Equal(got, []byte{255, 85}) {
		t.Errorf("maxval 15 pixels = %v, want [255 85]", got)
	}
	for _, tc := range []struct{ body, want string }{
		{"P4 1 1 255 x", "unknown format"},
		{"P5 1", "truncated header"},
		{"P5 0 1 255 ", "positive sides"},
		{"P5 1 1 65535 ", "largest value 65535"},
		{"P5 1 1 255x", "want a number followed by white space"},
		{"P5 12345678 1 255 ", "more than 7 digits"},
		{"P5 2 2 255 " + "abc", "truncated pixels"},
	} {
		_, err := DecodeImage("x.pgm", []byte(tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DecodeImage(%q) = %v, want an error containing %q", tc.body, err, tc.want)
		}
	}
}

func TestDecodePPM(t *testing.T) {
	img, err := DecodeImage("rgb.ppm", []byte("P6 2 1 255\n"+string([]byte{255, 0, 0, 0, 0, 255})))
	if err != nil {
		t.Fatal(err)
	}
	if got := img.(*image.RGBA).Pix; !bytes.Equal(got, []byte{255, 0, 0, 255, 0, 0, 255, 255}) {
		t.Errorf("P6 pixels = %v, want red then blue", got)
	}
	if _, err := DecodeImage("short.ppm", []byte("P6 2 1 255 abc")); err == nil || !strings.Contains(err.Error(), "truncated pixels") {
		t.Errorf("a short P6 image: %v, want truncated pixels", err)
	}
}

// TestDecodePlainNetpbm reads the plain formats, P2 and P3, as their binary
// forms: the same pixels, a smaller largest value scaled, the last number at
// the end of the file; errors name the sample.
func TestDecodePlainNetpbm(t *testing.T) {
	img, format, err := image.Decode(strings.NewReader("P2\n# plain\n3 2\n255\n0 128 255\n10 20 30"))
	if err != nil || format != "pgm" {
		t.Fatalf("image.Decode(P2) = %v, %q", err, format)
	}
	if g := img.(*image.Gray); !bytes.Equal(g.Pix, []byte{0, 128, 255, 10, 20, 30}) || g.Bounds() != image.Rect(0, 0, 3, 2) {
		t.Errorf("P2 pixels %v %v", g.Pix, g.Bounds())
	}
	img, err = DecodeImage("rgb.ppm", []byte("P3 2 1 15\n15 0 0  0 0 5\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := img.(*image.RGBA).Pix; !bytes.Equal(got, []byte{255, 0, 0, 255, 0, 0, 85, 255}) {
		t.Errorf("P3 pixels = %v, want red then a dark blue", got)
	}
	for _, tc := range []struct{ body, want string }{
		{"P2 2 1 255 7", "sample 2 of 2: unexpected EOF"},
		{"P2 2 1 15 7 16", "sample 2 is 16, more than the largest value 15"},
		{"P3 1 1 255 1 2 x", `sample 3 of 3: byte 'x', want a number`},
		{"P2 1 1 255 123456", "more than 5 digits"},
	} {
		if _, err := DecodeImage("x.pgm", []byte(tc.body)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DecodeImage(%q) = %v, want an error containing %q", tc.body, err, tc.want)
		}
	}
}
