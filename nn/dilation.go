package nn

import "github.com/convnet-go/convnet/internal/kernels"

// phases splits a dilated window of stride 1 (Keras's dilation_rate d: the
// taps d[0] rows and d[1] columns apart) into undilated ones, the way
// TensorFlow's atrous convolution does with space_to_batch. Output cell
// (oy, ox) reads the input rows oy-pad[0]+ky·d[0]: the outputs of phase
// (p0, p1) = (oy mod d[0], ox mod d[1]) read only the input rows
// p0-pad[0]+d[0]·r and columns p1-pad[1]+d[1]·s. Those inside the input
// make the phase's sub-image, over which the window is undilated, with
// stride 1 and the rows and columns of the phase outside the input as its
// padding. Each input cell is in the sub-image of at most one phase, so
// gradients copy back without adding.
type phases struct {
	in, out [2]int // the layer's input and output height and width
	c       int    // the input's channels
	d       [2]int
	list    []phase
	size    int // values of all phases' sub-images of one image
}

// phase is one phase's share: output rows p[0], p[0]+d[0], ... (out[0] of
// them) and the columns likewise, reading a sub-image of in cells whose
// first is the input's row first[0], column first[1], with pad rows and
// columns of the phase before it outside the input.
type phase struct {
	p, out, in, first, pad [2]int
	off                    int // the first value of its sub-images among all phases' of one image
}

// planPhases plans the phases of a window of size k over an in[0]×in[1]
// input of c channels with out output cells, dilation d and padding pad
// before the first row and column; phases without an output cell are left
// out.
func planPhases(in [2]int, c int, out, k, d, pad [2]int) *phases {
	ps := &phases{in: in, out: out, c: c, d: d}
	for p0 := range d[0] {
		for p1 := range d[1] {
			ph := phase{p: [2]int{p0, p1}, off: ps.size}
			for a, p := range []int{p0, p1} {
				ph.out[a] = (out[a] - p + d[a] - 1) / d[a]
				// Sub-image row r is the input's row p-pad+d·r: those from
				// r = before to r = end-1 are inside.
				at := p - pad[a]
				before, end := 0, 0
				if at < 0 {
					before = (-at + d[a] - 1) / d[a]
				}
				if at < in[a] {
					end = (in[a] - at + d[a] - 1) / d[a]
				}
				ph.in[a], ph.first[a], ph.pad[a] = max(end-before, 0), at+d[a]*before, before
			}
			if ph.out[0] < 1 || ph.out[1] < 1 {
				continue
			}
			ps.list = append(ps.list, ph)
			ps.size += ph.in[0] * ph.in[1] * c
		}
	}
	return ps
}

// empty reports whether none of the phase's taps reads the input: its
// outputs are the bias alone.
func (ph *phase) empty() bool { return ph.in[0] < 1 || ph.in[1] < 1 }

// geom is the undilated window of phase ph: size k, stride 1, the rows
// and columns of the phase outside the input as padding.
func (ph *phase) geom(c int, k [2]int) kernels.ConvGeom {
	return kernels.ConvGeom{H: ph.in[0], W: ph.in[1], C: c, KH: k[0], KW: k[1], SH: 1, SW: 1,
		PadTop: ph.pad[0], PadLeft: ph.pad[1], OH: ph.out[0], OW: ph.out[1]}
}

// move copies phase ph's sub-images between sub ([n, ph.in, c]) and the
// input-shaped x ([n, in, c]): out of x if toSub (gathering the input),
// else into it (putting a gradient back).
func (ps *phases) move(x, sub []float32, n int, ph *phase, toSub bool) {
	c, cells := ps.c, ps.in[0]*ps.in[1]
	for i := range n {
		img := x[i*cells*c : (i+1)*cells*c]
		own := sub[i*ph.in[0]*ph.in[1]*c : (i+1)*ph.in[0]*ph.in[1]*c]
		for r := range ph.in[0] {
			row := (ph.first[0] + ps.d[0]*r) * ps.in[1]
			for s := range ph.in[1] {
				cell := row + ph.first[1] + ps.d[1]*s
				a, b := img[cell*c:(cell+1)*c], own[(r*ph.in[1]+s)*c:(r*ph.in[1]+s+1)*c]
				if toSub {
					copy(b, a)
				} else {
					copy(a, b)
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
// (k-1)·d+1: k for d = 1, else 0 if that is out of bounds (more than
// maxElems) or either is not positive.
func dilatedSpan(k, d int) int {
	if d == 1 {
		return k // whatever its size: Cost saturates what Build refuses
	}
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
