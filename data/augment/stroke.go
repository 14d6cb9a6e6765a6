package augment

import "math"

// stroke moves each value of img a fraction |t| of the way to the largest
// (t > 0) or smallest (t < 0) of itself and its four neighbours inside the
// image, in place. Two rows of the values before the change are kept.
func stroke(img []float32, h, w, ch int, t float32) {
	row := w * ch
	var stack [2 * 1024]float32
	keep := stack[:]
	if 2*row > len(keep) {
		keep = make([]float32, 2*row)
	}
	prev, cur := keep[:row], keep[row:2*row]
	grow, a := t > 0, float32(math.Abs(float64(t)))
	for r := range h {
		copy(cur, img[r*row:(r+1)*row])
		out := img[r*row : (r+1)*row]
		var next []float32 // the row below, not changed yet
		if r+1 < h {
			next = img[(r+1)*row : (r+2)*row]
		}
		for i, v := range cur {
			e := v
			if i >= ch {
				e = extreme(e, cur[i-ch], grow)
			}
			if i+ch < row {
				e = extreme(e, cur[i+ch], grow)
			}
			if r > 0 {
				e = extreme(e, prev[i], grow)
			}
			if next != nil {
				e = extreme(e, next[i], grow)
			}
			out[i] = v + a*(e-v)
		}
		prev, cur = cur, prev
	}
}

// extreme returns the larger of e and u if grow, else the smaller.
func extreme(e, u float32, grow bool) float32 {
	if grow {
		return max(e, u)
	}
	return min(e, u)
}
