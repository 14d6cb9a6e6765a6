package plot

import (
	"image"
	"image/png"
	"io"
)

// encodePNG writes img to w as a PNG.
func encodePNG(w io.Writer, img image.Image) error {
	return png.Encode(w, img)
}
