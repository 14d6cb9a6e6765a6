package plot

import (
	"image"
	"image/color"
)

// jet is matplotlib's "jet" colour map, dark blue through cyan, yellow and
// red to dark red, in stops every eighth.
var jet = []color.RGBA{
	{0x00, 0x00, 0x80, 0xff}, {0x00, 0x00, 0xff, 0xff}, {0x00, 0x80, 0xff, 0xff},
	{0x00, 0xff, 0xff, 0xff}, {0x80, 0xff, 0x80, 0xff}, {0xff, 0xff, 0x00, 0xff},
	{0xff, 0x80, 0x00, 0xff}, {0xff, 0x00, 0x00, 0xff}, {0x80, 0x00, 0x00, 0xff},
}

// camAlpha is the share of the heat map in [CAMOverlay]'s blend, Keras's
// Grad-CAM example's 0.4.
const camAlpha = 0.4

// CAMOverlay draws a class activation map over an image, as Keras's
// Grad-CAM example does: the map (h x w cells, none negative) divided by
// its largest value, resized to the image bilinearly (each cell's value at
// its centre), coloured by the jet colour map and blended at 40% over the
// image (the Cell's pixels; its label is not drawn). Each image pixel
// becomes scale x scale pixels. A map of zeros is dark blue all over.
func CAMOverlay(img Cell, cam []float32, h, w, scale int) image.Image {
	if len(cam) != h*w || h < 1 || w < 1 || scale < 1 || len(img.Pixels) != img.H*img.W*img.C {
		panic("plot: CAMOverlay: the map or the image does not have its size")
	}
	var top float32
	for _, v := range cam {
		top = max(top, v)
	}
	base := image.NewRGBA(image.Rect(0, 0, img.W*scale, img.H*scale))
	drawScaled(base, image.Point{}, scale, img)
	out := image.NewRGBA(base.Rect)
	for y := range img.H {
		sy := sourceCoord(y, img.H, h)
		for x := range img.W {
			sx := sourceCoord(x, img.W, w)
			v := bilinear(cam, w, sy, sx)
			t := 0.0
			if top > 0 {
				t = float64(v / top)
			}
			heat := colorAt(jet, t)
			for dy := range scale {
				for dx := range scale {
					i := base.PixOffset(x*scale+dx, y*scale+dy)
					for k, c := range [3]uint8{heat.R, heat.G, heat.B} {
						out.Pix[i+k] = uint8((1-camAlpha)*float64(base.Pix[i+k]) + camAlpha*float64(c) + 0.5)
					}
					out.Pix[i+3] = 0xff
				}
			}
		}
	}
	return out
}

// sourceCoord returns where the centre of pixel i of n falls among m cells,
// in cell units from the first cell's centre, within 0..m-1.
func sourceCoord(i, n, m int) float64 {
	s := (float64(i)+0.5)*float64(m)/float64(n) - 0.5
	return min(max(s, 0), float64(m-1))
}

// bilinear interpolates the h x w map of row length w at (y, x).
func bilinear(cam []float32, w int, y, x float64) float32 {
	y0, x0 := int(y), int(x)
	y1, x1 := min(y0+1, len(cam)/w-1), min(x0+1, w-1)
	fy, fx := float32(y-float64(y0)), float32(x-float64(x0))
	at := func(r, c int) float32 { return cam[r*w+c] }
	top := at(y0, x0) + fx*(at(y0, x1)-at(y0, x0))
	bottom := at(y1, x0) + fx*(at(y1, x1)-at(y1, x0))
	return top + fy*(bottom-top)
}
