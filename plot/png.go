package plot

import (
	"image"
	"image/png"
	"io"
)

// WritePNG writes img to w as a PNG.
func WritePNG(w io.Writer, img image.Image) error {
	return png.Encode(w, img)
}
