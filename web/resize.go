package web

import "image"

// imagePixels converts img to h×w×c pixels 0..255 by area averaging.
func imagePixels(img image.Image, h, w, c int) []float32 {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	out := make([]float32, h*w*c)
	acc := make([]float64, h*w*4)
	cnt := make([]float64, h*w)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		ty := (y - b.Min.Y) * h / sh
		for x := b.Min.X; x < b.Max.X; x++ {
			tx := (x - b.Min.X) * w / sw
			r, g, bl, a := img.At(x, y).RGBA()
			i := ty*w + tx
			acc[i*4] += float64(r)
			acc[i*4+1] += float64(g)
			acc[i*4+2] += float64(bl)
			acc[i*4+3] += float64(a)
			cnt[i]++
		}
	}
	for i := range h * w {
		if cnt[i] == 0 {
			continue
		}
		r, g, bl := acc[i*4]/cnt[i]/257, acc[i*4+1]/cnt[i]/257, acc[i*4+2]/cnt[i]/257
		if c == 1 {
			out[i] = float32(0.299*r + 0.587*g + 0.114*bl)
		} else {
			out[i*c], out[i*c+1], out[i*c+2] = float32(r), float32(g), float32(bl)
		}
	}
	return out
}
