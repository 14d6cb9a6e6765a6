package data

import (
	"bytes"
	"fmt"
	"image"
	_ "image/gif" // registers GIF
	_ "image/jpeg"
	_ "image/png"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	_ "golang.org/x/image/bmp" // registers BMP
	"golang.org/x/image/draw"

	"github.com/convnet-go/convnet/tensor"
)

// ImageFolderOptions describes how [LoadImageFolder] reads images.
type ImageFolderOptions struct {
	// Height and Width are the target size; every image is resized to it
	// with bilinear interpolation. Zero means the size of the first image.
	Height, Width int
	// ColorMode is "grayscale" (1 channel), "rgb" (3, the default, as in
	// Keras) or "rgba" (4).
	ColorMode string
}

// Image limits, checked from the header before an image is decoded.
const (
	maxImageSide   = 1 << 14
	maxImagePixels = 1 << 26
	maxImageFile   = 256 << 20
)

// imageExts lists the file name endings read as images; other files are
// skipped, as Keras does.
var imageExts = []string{".png", ".jpg", ".jpeg", ".gif", ".bmp"}

// LoadImageFolder loads images laid out as Keras's flow_from_directory
// expects: one subfolder of dir per class, the classes in sorted order of
// their names, the images anywhere below each class folder. PNG, JPEG, GIF
// and BMP files are read; other files and hidden entries are skipped. An
// empty class folder or a file that does not decode is an error.
func LoadImageFolder(dir string, opts ImageFolderOptions) (*Dataset, error) {
	channels, err := colorChannels(opts.ColorMode)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var classes []string
	var files [][]string
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		list, err := listImages(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		if len(list) == 0 {
			return nil, formatErr(filepath.Join(dir, e.Name()), 0, 0, "class folder has no images (%s)", strings.Join(imageExts, ", "))
		}
		classes = append(classes, e.Name())
		files = append(files, list)
	}
	if len(classes) == 0 {
		return nil, formatErr(dir, 0, 0, "no class subfolders; want one folder of images per class")
	}
	n := 0
	for _, list := range files {
		n += len(list)
	}
	h, w := opts.Height, opts.Width
	if h < 0 || w < 0 || h > maxImageSide || w > maxImageSide {
		return nil, fmt.Errorf("image size %dx%d outside 1..%d", h, w, maxImageSide)
	}
	var x *tensor.Tensor
	y := make([]int, 0, n)
	for k, list := range files {
		for _, path := range list {
			img, err := readImage(path)
			if err != nil {
				return nil, err
			}
			if x == nil {
				if h == 0 || w == 0 {
					b := img.Bounds()
					h, w = b.Dy(), b.Dx()
				}
				if int64(n)*int64(h*w*channels) > maxIDXBytes {
					return nil, fmt.Errorf("%s: %d images of %dx%dx%d are too many to hold in memory", dir, n, h, w, channels)
				}
				x = tensor.New(n, h, w, channels)
			}
			i := len(y)
			copy(x.Data[i*h*w*channels:], ImageToPixels(img, h, w, channels))
			y = append(y, k)
		}
	}
	return &Dataset{X: x, Y: y, ClassNames: classes}, nil
}

func colorChannels(mode string) (int, error) {
	switch mode {
	case "grayscale":
		return 1, nil
	case "rgb", "":
		return 3, nil
	case "rgba":
		return 4, nil
	}
	return 0, fmt.Errorf("color mode %q, want grayscale, rgb or rgba", mode)
}

// listImages returns the image files below dir in lexical order.
func listImages(dir string) ([]string, error) {
	var list []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && path != dir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && slices.Contains(imageExts, strings.ToLower(filepath.Ext(path))) {
			list = append(list, path)
		}
		return nil
	})
	return list, err
}

// readImage decodes one image file, checking its size from the header first.
func readImage(path string) (image.Image, error) {
	b, err := readFileLimited(path, maxImageFile)
	if err != nil {
		return nil, err
	}
	return DecodeImage(path, b)
}

// DecodeImage decodes a PNG, JPEG, GIF or BMP image held in b. name is used
// in messages. Images wider or taller than 16,384 pixels, or of more than
// 2^26 pixels, are refused before they are decoded.
func DecodeImage(name string, b []byte) (image.Image, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, formatErr(name, 0, 0, "not a readable PNG, JPEG, GIF or BMP image: %v", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxImageSide || cfg.Height > maxImageSide || cfg.Width*cfg.Height > maxImagePixels {
		return nil, formatErr(name, 0, 0, "image size %dx%d outside 1..%d per side and %d pixels", cfg.Width, cfg.Height, maxImageSide, maxImagePixels)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, formatErr(name, 0, 0, "not a readable image: %v", err)
	}
	return img, nil
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
		return out
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
	return out
}
