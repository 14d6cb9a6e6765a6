package data

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"math"
	"path/filepath"

	"golang.org/x/image/bmp"
	"golang.org/x/image/draw"
)

// Image limits, checked from the header before an image is decoded.
const (
	maxImageSide   = 1 << 14
	maxImagePixels = 1 << 26
	maxImageFile   = 256 << 20
)

// readImage reads and decodes the image file name of fsys (path in
// messages), charging it to a new allowance of rate r on b. It returns the
// image, the allowance and the bytes still charged to it for the image, to
// be given back once the image is no longer needed. It stops at once when
// ctx is done.
func readImage(ctx context.Context, fsys fs.FS, name, path string, b *Budget, r rate) (img image.Image, a *allowance, cost int64, err error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, 0, readErr(path, err)
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, nil, 0, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, 0, err
	}
	if info.Size() > maxImageFile {
		return nil, nil, 0, formatErr(path, 0, 0, "image file of %d bytes, more than %d", info.Size(), maxImageFile)
	}
	a = b.allow(path, info.Size(), r)
	data, err := makeCharged[byte](a, int(info.Size()))
	if err != nil {
		return nil, nil, 0, err
	}
	defer a.give(costOf[byte](len(data)))
	if _, err := io.ReadFull(ctxReader{ctx, f}, data); err != nil {
		return nil, nil, 0, readErr(path, err)
	}
	img, cost, err = decodeImage(ctx, path, data, a)
	return img, a, cost, err
}

// LoadImage reads and decodes one PNG, JPEG, GIF, BMP, PGM or PPM file, which must be
// a regular file, with the checks of [DecodeImage].
func LoadImage(ctx context.Context, path string) (image.Image, error) {
	dir, name := filepath.Split(path)
	img, _, _, err := readImage(ctx, osFolder(filepath.Clean(dir)), name, path, NewBudget(math.MaxInt64), imageRate)
	return img, err
}

// DecodeImage decodes a PNG, JPEG, GIF, BMP, PGM or PPM image held in b. name is used
// in messages. Images wider or taller than 16,384 pixels, or of more than
// 2^26 pixels, are refused before they are decoded, and so is an image
// whose decoding would cost more than 256 bytes of memory per byte of b
// plus 16 MiB.
func DecodeImage(name string, b []byte) (image.Image, error) {
	img, _, err := decodeImage(context.Background(), name, b, NewBudget(math.MaxInt64).allow(name, int64(len(b)), imageRate))
	return img, err
}

// decodeImage decodes an image after charging to a what decoding it costs,
// worked out from its header. It returns that cost, which stays charged.
func decodeImage(ctx context.Context, name string, b []byte, a *allowance) (image.Image, int64, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, 0, formatErr(name, 0, 0, "not a readable PNG, JPEG, GIF, BMP, PGM or PPM image: %v", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxImageSide || cfg.Height > maxImageSide || cfg.Width*cfg.Height > maxImagePixels {
		return nil, 0, formatErr(name, 0, 0, "image size %dx%d outside 1..%d per side and %d pixels", cfg.Width, cfg.Height, maxImageSide, maxImagePixels)
	}
	decode, cost := decoderOf(format, cfg)
	if decode == nil {
		return nil, 0, formatErr(name, 0, 0, "%s images are not read, only PNG, JPEG, GIF, BMP, PGM and PPM", format)
	}
	if err := a.take(cost); err != nil {
		return nil, 0, err
	}
	img, err := decode(bufio.NewReader(ctxReader{ctx, bytes.NewReader(b)}))
	if err != nil {
		a.give(cost)
		if ctx.Err() != nil {
			return nil, 0, readErr(name, ctx.Err())
		}
		return nil, 0, formatErr(name, 0, 0, "not a readable image: %v", err)
	}
	return img, cost, nil
}

// decoderOf returns the decoder of an image format and the most memory it
// takes, in bytes, for an image of header cfg: the image itself (an
// interlaced PNG decodes each pass on its own first, a progressive JPEG
// keeps every coefficient as an int32, a CMYK JPEG holds a YCbCr, a black
// and a CMYK image), rounded up to whole JPEG blocks, plus the decoder's own
// tables and buffers.
func decoderOf(format string, cfg image.Config) (func(io.Reader) (image.Image, error), int64) {
	w, h := int64(cfg.Width), int64(cfg.Height)
	const tables = 64 << 10
	switch format {
	case "png":
		bpp := int64(4) // NRGBA stands in for gray with transparency
		switch cfg.ColorModel {
		case color.Gray16Model, color.RGBA64Model, color.NRGBA64Model:
			bpp = 8
		}
		if _, ok := cfg.ColorModel.(color.Palette); ok {
			bpp = 1
		}
		return png.Decode, 2*bpp*w*h + 16*w + tables
	case "jpeg":
		return jpeg.Decode, 24*(w+32)*(h+32) + tables
	case "gif":
		return gif.Decode, w*h + tables
	case "bmp":
		return bmp.Decode, 4*w*h + 4*w + tables
	case "pgm":
		return netpbmFormat("pgm"), w*h + 4096 + tables
	case "ppm":
		return netpbmFormat("ppm"), 4*w*h + 4096 + tables
	}
	return nil, 0
}

// ImageToPixels converts a decoded image to the network's input: h*w*c
// values in 0..255, row by row, channels last. The image is resized with
// bilinear interpolation when its size differs. c is 1 (luminance, with
// the ITU-R 601 weights that PIL and Go's color.GrayModel use), 3 (RGB) or
// 4 (RGBA). Transparent pixels come out as if drawn over black. It panics
// if h or w is not positive or c is not 1, 3 or 4.
func ImageToPixels(img image.Image, h, w, c int) []float32 {
	if h <= 0 || w <= 0 || (c != 1 && c != 3 && c != 4) {
		panic(fmt.Sprintf("data: ImageToPixels: size %dx%dx%d, want positive sides and 1, 3 or 4 channels", h, w, c))
	}
	out := make([]float32, h*w*c)
	imageToPixels(out, img, h, w, c)
	return out
}

// imageToPixels is ImageToPixels into out, of h*w*c values.
func imageToPixels(out []float32, img image.Image, h, w, c int) {
	b := img.Bounds()
	if b.Dx() != w || b.Dy() != h {
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.BiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
		img, b = dst, dst.Bounds()
	}
	if g, ok := img.(*image.Gray); ok && c == 1 {
		for y := range h {
			row := g.Pix[(y+b.Min.Y-g.Rect.Min.Y)*g.Stride+(b.Min.X-g.Rect.Min.X):]
			for x := range w {
				out[y*w+x] = float32(row[x])
			}
		}
		return
	}
	for y := range h {
		for x := range w {
			r, g, bl, a := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			p := out[(y*w+x)*c:]
			switch c {
			case 1:
				p[0] = float32((19595*r + 38470*g + 7471*bl + 1<<15) >> 24)
			case 3:
				p[0], p[1], p[2] = float32(r>>8), float32(g>>8), float32(bl>>8)
			case 4:
				p[0], p[1], p[2], p[3] = float32(r>>8), float32(g>>8), float32(bl>>8), float32(a>>8)
			}
		}
	}
}

// CropImage returns the part r of img (within its bounds), sharing its
// pixels where img's type can.
func CropImage(img image.Image, r image.Rectangle) image.Image {
	if r == img.Bounds() {
		return img
	}
	if s, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		return s.SubImage(r)
	}
	return cropped{img, r}
}

// cropped is the part r of an image.
type cropped struct {
	image.Image
	r image.Rectangle
}

func (c cropped) Bounds() image.Rectangle { return c.r }
