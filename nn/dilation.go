package nn

import "github.com/convnet-go/convnet/internal/kernels"

// phases splits a dilated window of stride 1 (Keras's dilation_rate d: the
// taps d[0] rows and d[1] columns apart) into undilated ones, the way
// TensorFlow's atrous convolution does with space_to_batch. Output cell
// (oy, ox) reads the input rows oy-pad[0]+ky·d[0]: the outputs of phase
// (p0, p1) = (oy mod d[0], ox mod d[1]) read only the input rows
// p0-pad[0]+d[0]·r and columns p1-pad[1]+d[1]·s, and over that sub-image
// (cells outside the input read as 0) the window is undilated, with stride
// 1 and no padding. Each input cell is in the sub-image of at most one
// phase, so gradients copy back without adding.
type phases struct {
	in, out [2]int // the layer's input and output height and width
	c       int    // the input's channels
	d, pad  [2]int
	list    []phase
	size    int // values of all phases' sub-images of one image
}

// phase is one phase's share: output rows p[0], p[0]+d[0], ... (out[0] of
// them) and the columns likewise, reading a sub-image of in cells.
type phase struct {
	p, out, in [2]int
	off        int // the first value of its sub-images among all phases' of one image
}

// planPhases plans the phases of a window of size k over an in[0]×in[1]
// input of c channels with out output cells, dilation d and padding pad
// before the first row and column; phases without an output cell are left
// out.
func planPhases(in [2]int, c int, out, k, d, pad [2]int) *phases {
	ps := &phases{in: in, out: out, c: c, d: d, pad: pad}
	for p0 := range d[0] {
		for p1 := range d[1] {
			o := [2]int{(out[0] - p0 + d[0] - 1) / d[0], (out[1] - p1 + d[1] - 1) / d[1]}
			if o[0] < 1 || o[1] < 1 {
				continue
			}
			ph := phase{p: [2]int{p0, p1}, out: o, in: [2]int{o[0] + k[0] - 1, o[1] + k[1] - 1}, off: ps.size}
			ps.list = append(ps.list, ph)
			ps.size += ph.in[0] * ph.in[1] * c
		}
	}
	return ps
}

// geom is the undilated window of phase ph: size k, stride 1, no padding.
func (ph *phase) geom(c int, k [2]int) kernels.ConvGeom {
	return kernels.ConvGeom{H: ph.in[0], W: ph.in[1], C: c, KH: k[0], KW: k[1], SH: 1, SW: 1, OH: ph.out[0], OW: ph.out[1]}
}

// source returns the input cell of row r, column s of phase ph's
// sub-image, and whether it is inside the input.
func (ps *phases) source(ph *phase, r, s int) (int, bool) {
	iy, ix := ph.p[0]-ps.pad[0]+ps.d[0]*r, ph.p[1]-ps.pad[1]+ps.d[1]*s
	return iy*ps.in[1] + ix, iy >= 0 && iy < ps.in[0] && ix >= 0 && ix < ps.in[1]
}

// gather writes into dst the sub-images of phase ph of n images x
// ([n, in, c]): dst is [n, ph.in, c], zeros outside the input.
func (ps *phases) gather(dst, x []float32, n int, ph *phase) {
	c, cells := ps.c, ps.in[0]*ps.in[1]
	for i := range n {
		img := x[i*cells*c : (i+1)*cells*c]
		sub := dst[i*ph.in[0]*ph.in[1]*c : (i+1)*ph.in[0]*ph.in[1]*c]
		for r := range ph.in[0] {
			for s := range ph.in[1] {
				d := sub[(r*ph.in[1]+s)*c : (r*ph.in[1]+s+1)*c]
				if cell, ok := ps.source(ph, r, s); ok {
					copy(d, img[cell*c:(cell+1)*c])
				} else {
					clear(d)
				}
			}
		}
	}
}

// putBack copies phase ph's sub-images src ([n, ph.in, c], a gradient)
// back onto the input cells they were gathered from in dx ([n, in, c]);
// the cells outside the input are dropped.
func (ps *phases) putBack(dx, src []float32, n int, ph *phase) {
	c, cells := ps.c, ps.in[0]*ps.in[1]
	for i := range n {
		img := dx[i*cells*c : (i+1)*cells*c]
		sub := src[i*ph.in[0]*ph.in[1]*c : (i+1)*ph.in[0]*ph.in[1]*c]
		for r := range ph.in[0] {
			for s := range ph.in[1] {
				if cell, ok := ps.source(ph, r, s); ok {
					copy(img[cell*c:(cell+1)*c], sub[(r*ph.in[1]+s)*c:(r*ph.in[1]+s+1)*c])
				}
			}
		}
	}
}

// interleave moves phase ph's outputs between its own buffer sub ([n,
// ph.out, f]) and the layer's y ([n, out, f]): into y if toY, else out of
// it (a gradient into the phase's buffer).
func (ps *phases) interleave(y, sub []float32, n, f int, ph *phase, toY bool) {
	cells := ps.out[0] * ps.out[1]
	for i := range n {
		img := y[i*cells*f : (i+1)*cells*f]
		own := sub[i*ph.out[0]*ph.out[1]*f : (i+1)*ph.out[0]*ph.out[1]*f]
		for j := range ph.out[0] {
			oy := ph.p[0] + ps.d[0]*j
			for k := range ph.out[1] {
				cell := oy*ps.out[1] + ph.p[1] + ps.d[1]*k
				a, b := img[cell*f:(cell+1)*f], own[(j*ph.out[1]+k)*f:(j*ph.out[1]+k+1)*f]
				if toY {
					copy(a, b)
				} else {
					copy(b, a)
				}
			}
		}
	}
}

// dilatedSpan is the rows (or columns) a kernel of k taps d apart covers,
// (k-1)·d+1, or 0 if that is out of bounds (more than maxElems) or either
// is not positive.
func dilatedSpan(k, d int) int {
	if k < 1 || d < 1 || (k > 1 && d > (maxElems-1)/(k-1)) {
		return 0
	}
	return (k-1)*d + 1
}

// dilatedGeom is windowGeom for a kernel of size k whose taps are d apart:
// the padding and the output sizes those of the kernel's span (see
// dilatedSpan), KH and KW the kernel's own. As in Keras, strides and a
// dilation other than 1, 1 do not go together.
func dilatedGeom(l Layer, in []int, k, s, d [2]int, padding string) (kernels.ConvGeom, error) {
	if d == [2]int{1, 1} {
		return windowGeom(l, in, "kernel", k, s, padding)
	}
	e := [2]int{dilatedSpan(k[0], d[0]), dilatedSpan(k[1], d[1])}
	switch {
	case d[0] < 1 || d[1] < 1:
		return kernels.ConvGeom{}, errorf(l, "dilation_rate %s: must be positive", dims(d[0], d[1]))
	case k[0] < 1 || k[1] < 1:
		return kernels.ConvGeom{}, errorf(l, "kernel size %s: must be positive", dims(k[0], k[1]))
	case e[0] < 1 || e[1] < 1:
		return kernels.ConvGeom{}, errorf(l, "kernel %s with dilation_rate %s is too large", dims(k[0], k[1]), dims(d[0], d[1]))
	case s != [2]int{1, 1}:
		return kernels.ConvGeom{}, errorf(l, "strides %s with dilation_rate %s: as in Keras, one of them must be 1x1", dims(s[0], s[1]), dims(d[0], d[1]))
	}
	g, err := windowGeom(l, in, "dilated kernel", e, s, padding)
	g.KH, g.KW = k[0], k[1]
	return g, err
}
