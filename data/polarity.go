package data

// MatchPolarity makes pixels of a photographed or scanned image look like the
// training data of this package's data sets, white strokes on black: if the
// mean of the outermost ring of pixels is above mid-grey (dark ink on light
// paper) every value v becomes 255-v. px holds h*w*c values in 0..255, row by
// row, channels last. It reports whether it inverted.
func MatchPolarity(px []float32, h, w, c int) bool {
	var sum float64
	n := 0
	for y := range h {
		for x := range w {
			if y != 0 && y != h-1 && x != 0 && x != w-1 {
				continue
			}
			for k := range c {
				sum += float64(px[(y*w+x)*c+k])
				n++
			}
		}
	}
	if n == 0 || sum/float64(n) <= 127.5 {
		return false
	}
	for i, v := range px {
		px[i] = 255 - v
	}
	return true
}
