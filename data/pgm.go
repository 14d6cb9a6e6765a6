package data

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
)

// The binary PGM format (Netpbm's "P5" grey map): a text header "P5",
// width, height and the largest value, separated by white space (with
// "#" comments up to the end of a line), one white-space byte, then the
// rows of one byte per pixel. It is the smallest lossless way to send a
// grey picture: the web demo sends its drawing pad this way, with no
// encoding to wait for. Only maximum values up to 255 are read; values are
// scaled to 0..255. https://netpbm.sourceforge.net/doc/pgm.html

func init() {
	image.RegisterFormat("pgm", "P5", decodePGM, decodePGMConfig)
}

// pgmHeader reads a P5 header up to and including the byte that ends it.
func pgmHeader(r *bufio.Reader) (w, h, maxval int, err error) {
	magic := make([]byte, 2)
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != "P5" {
		return 0, 0, 0, errors.New("pgm: not a binary PGM image (P5)")
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

func decodePGMConfig(r io.Reader) (image.Config, error) {
	w, h, _, err := pgmHeader(bufio.NewReader(r))
	if err != nil {
		return image.Config{}, err
	}
	return image.Config{ColorModel: color.GrayModel, Width: w, Height: h}, nil
}

func decodePGM(r io.Reader) (image.Image, error) {
	br := bufio.NewReader(r)
	w, h, maxval, err := pgmHeader(br)
	if err != nil {
		return nil, err
	}
	if w > maxImageSide || h > maxImageSide || w*h > maxImagePixels {
		return nil, fmt.Errorf("pgm: image size %dx%d outside 1..%d per side and %d pixels", w, h, maxImageSide, maxImagePixels)
	}
	img := image.NewGray(image.Rect(0, 0, w, h))
	if _, err := io.ReadFull(br, img.Pix); err != nil {
		return nil, fmt.Errorf("pgm: truncated pixels (%d expected): %w", w*h, noEOF(err))
	}
	if maxval != 255 {
		for i, v := range img.Pix {
			img.Pix[i] = uint8((min(int(v), maxval)*255 + maxval/2) / maxval)
		}
	}
	return img, nil
}
