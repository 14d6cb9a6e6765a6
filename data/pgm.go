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

func init() {
	image.RegisterFormat("pgm", "P5", netpbmDecoder("P5"), netpbmConfig("P5"))
	image.RegisterFormat("ppm", "P6", netpbmDecoder("P6"), netpbmConfig("P6"))
}

// pgmHeader reads a header of the given magic number up to and including
// the byte that ends it.
func pgmHeader(r *bufio.Reader, want string) (w, h, maxval int, err error) {
	magic := make([]byte, 2)
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != want {
		return 0, 0, 0, fmt.Errorf("pgm: not a binary Netpbm image (%s)", want)
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
	n, digits := 0, 0
	for err == nil && b >= '0' && b <= '9' {
		if digits++; digits > 7 {
			return 0, errors.New("pgm: header number of more than 7 digits")
		}
		n = 10*n + int(b-'0')
		b, err = r.ReadByte()
	}
	switch {
	case err != nil:
		return 0, fmt.Errorf("pgm: truncated header: %w", noEOF(err))
	case digits == 0 || !isPGMSpace(b):
		return 0, fmt.Errorf("pgm: header byte %q, want a number followed by white space", b)
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
		if magic == "P6" {
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
