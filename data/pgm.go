package data

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
)

// The binary Netpbm formats: PGM ("P5", grey) and PPM ("P6", RGB). A text
// header, the magic number, the width, the height and the largest value,
// separated by white space (with "#" comments up to the end of a line),
// one white-space byte, then the rows, one byte per sample. It is the
// smallest lossless way to send a picture: the web demo sends its drawing
// pad this way, with no encoding to wait for. Only largest values up to
// 255 are read; values are scaled to 0..255.
// https://netpbm.sourceforge.net/doc/pgm.html, .../ppm.html

//
// The plain formats, "P2" and "P3", hold the same header and the samples as
// decimal numbers separated by white space.

func init() {
	for _, f := range [][2]string{{"pgm", "P5"}, {"ppm", "P6"}, {"pgm", "P2"}, {"ppm", "P3"}} {
		image.RegisterFormat(f[0], f[1], netpbmDecoder(f[1]), netpbmConfig(f[1]))
	}
}

// netpbmFormat returns the decoder of the Netpbm format name ("pgm" or
// "ppm"), binary or plain, told apart by the magic number.
func netpbmFormat(name string) func(io.Reader) (image.Image, error) {
	binary, plain := "P5", "P2"
	if name == "ppm" {
		binary, plain = "P6", "P3"
	}
	return func(r io.Reader) (image.Image, error) {
		br := bufio.NewReader(r)
		if magic, _ := br.Peek(2); string(magic) == plain {
			return netpbmDecoder(plain)(br)
		}
		return netpbmDecoder(binary)(br)
	}
}

// rgb reports whether a magic number is PPM's, three samples a pixel.
func rgb(magic string) bool { return magic == "P6" || magic == "P3" }

// pgmHeader reads a header of the given magic number up to and including
// the byte that ends it.
func pgmHeader(r *bufio.Reader, want string) (w, h, maxval int, err error) {
	magic := make([]byte, 2)
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != want {
		return 0, 0, 0, fmt.Errorf("pgm: not a Netpbm image (%s)", want)
	}
	var fields [3]int
	for i := range fields {
		n, err := pgmNumber(r)
		if err != nil {
			return 0, 0, 0, err
		}
		fields[i] = n
	}
	w, h, maxval = fields[0], fields[1], fields[2]
	if w < 1 || h < 1 {
		return 0, 0, 0, fmt.Errorf("pgm: size %dx%d, want positive sides", w, h)
	}
	if maxval < 1 || maxval > 255 {
		return 0, 0, 0, fmt.Errorf("pgm: largest value %d, want 1..255", maxval)
	}
	return w, h, maxval, nil
}

// pgmNumber skips white space and comments, then reads a decimal number of
// at most 7 digits and the one white-space byte after it.
func pgmNumber(r *bufio.Reader) (int, error) {
	n, err := netpbmNumber(r, 7, false)
	var short *shortError
	switch {
	case errors.As(err, &short):
		return 0, fmt.Errorf("pgm: truncated header: %w", short.err)
	case err != nil:
		return 0, fmt.Errorf("pgm: header %w", err)
	}
	return n, nil
}

// shortError is the end of the input where a number was due.
type shortError struct{ err error }

func (e *shortError) Error() string { return e.err.Error() }

// netpbmNumber skips white space and comments, then reads a decimal number
// of at most digits digits and the one white-space byte after it, or with
// endOK the end of the input.
func netpbmNumber(r *bufio.Reader, digits int, endOK bool) (int, error) {
	b, err := r.ReadByte()
	for err == nil && (isPGMSpace(b) || b == '#') {
		if b == '#' {
			for err == nil && b != '\n' && b != '\r' {
				b, err = r.ReadByte()
			}
		}
		if err == nil {
			b, err = r.ReadByte()
		}
	}
	n, read := 0, 0
	for err == nil && b >= '0' && b <= '9' {
		if read++; read > digits {
			return 0, fmt.Errorf("number of more than %d digits", digits)
		}
		n = 10*n + int(b-'0')
		b, err = r.ReadByte()
	}
	switch {
	case err == io.EOF && read > 0 && endOK:
	case err != nil:
		return 0, &shortError{noEOF(err)}
	case read == 0 || !isPGMSpace(b):
		return 0, fmt.Errorf("byte %q, want a number followed by white space", b)
	}
	return n, nil
}

func isPGMSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f'
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func netpbmConfig(magic string) func(io.Reader) (image.Config, error) {
	return func(r io.Reader) (image.Config, error) {
		w, h, _, err := pgmHeader(bufio.NewReader(r), magic)
		if err != nil {
			return image.Config{}, err
		}
		model := color.GrayModel
		if rgb(magic) {
			model = color.RGBAModel
		}
		return image.Config{ColorModel: model, Width: w, Height: h}, nil
	}
}

// netpbmDecoder returns the decoder of a P5 (grey) or P6 (RGB) image.
func netpbmDecoder(magic string) func(io.Reader) (image.Image, error) {
	return func(r io.Reader) (image.Image, error) {
		br := bufio.NewReader(r)
		w, h, maxval, err := pgmHeader(br, magic)
		if err != nil {
			return nil, err
		}
		if w > maxImageSide || h > maxImageSide || w*h > maxImagePixels {
			return nil, fmt.Errorf("pgm: image size %dx%d outside 1..%d per side and %d pixels", w, h, maxImageSide, maxImagePixels)
		}
		if magic == "P2" || magic == "P3" {
			return plainNetpbm(br, w, h, maxval, rgb(magic))
		}
		var img image.Image
		var pix []byte
		if magic == "P5" {
			g := image.NewGray(image.Rect(0, 0, w, h))
			img, pix = g, g.Pix
			if _, err := io.ReadFull(br, pix); err != nil {
				return nil, fmt.Errorf("pgm: truncated pixels (%d expected): %w", w*h, noEOF(err))
			}
		} else {
			rgba := image.NewRGBA(image.Rect(0, 0, w, h))
			img, pix = rgba, rgba.Pix
			for i := 0; i < len(pix); i += 4 {
				if _, err := io.ReadFull(br, pix[i:i+3]); err != nil {
					return nil, fmt.Errorf("pgm: truncated pixels (%d expected): %w", 3*w*h, noEOF(err))
				}
				pix[i+3] = 255
			}
		}
		if maxval != 255 {
			for i, v := range pix {
				if magic == "P5" || i%4 != 3 {
					pix[i] = uint8((min(int(v), maxval)*255 + maxval/2) / maxval)
				}
			}
		}
		return img, nil
	}
}

// plainNetpbm reads the samples of a plain PGM or PPM image: decimal
// numbers separated by white space, each at most the largest value.
func plainNetpbm(r *bufio.Reader, w, h, maxval int, color bool) (image.Image, error) {
	var img image.Image
	var pix []byte
	step := 1
	if color {
		rgba := image.NewRGBA(image.Rect(0, 0, w, h))
		img, pix, step = rgba, rgba.Pix, 4
	} else {
		g := image.NewGray(image.Rect(0, 0, w, h))
		img, pix = g, g.Pix
	}
	for i := 0; i < len(pix); i += step {
		for c := range min(step, 3) {
			n, err := netpbmNumber(r, 5, true)
			if err != nil {
				return nil, fmt.Errorf("pgm: sample %d of %d: %w", i/step*min(step, 3)+c+1, w*h*min(step, 3), err)
			}
			if n > maxval {
				return nil, fmt.Errorf("pgm: sample %d is %d, more than the largest value %d", i/step*min(step, 3)+c+1, n, maxval)
			}
			pix[i+c] = uint8((n*255 + maxval/2) / maxval)
		}
		if color {
			pix[i+3] = 255
		}
	}
	return img, nil
}
