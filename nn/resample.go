package nn

import (
	"math"

	"github.com/convnet-go/convnet/tensor"
)

// A tap is one output index of a resampled axis: the sum of n (1 or 2)
// input values at indices i, weighted by w.
type tap struct {
	i [2]int32
	w [2]float32
	n int32
}

// taps returns the taps of an axis of size in (from index from on, of
// which in values are read) resampled to size out, as tf.image.resize
// computes them without antialiasing, with half-pixel centres and the
// ratio scale = in/out in float32: nearest reads input floor((o+0.5)·scale),
// bilinear the two inputs around (o+0.5)·scale - 0.5, clamped at the
// edges (PyTorch's F.interpolate with align_corners=False, ONNX's Resize
// with coordinate_transformation_mode half_pixel).
func taps(from, in, out int, bilinear bool) []tap {
	t := make([]tap, out)
	scale := float32(in) / float32(out)
	for o := range t {
		if !bilinear {
			i := min(int(float32(float32(o)+0.5)*scale), in-1)
			t[o] = tap{i: [2]int32{int32(from + i), int32(from + i)}, w: [2]float32{1, 0}, n: 1}
			continue
		}
		src := max(float32(float32(float32(o)+0.5)*scale)-0.5, 0)
		i := int(math.Floor(float64(src)))
		if i >= in-1 {
			t[o] = tap{i: [2]int32{int32(from + in - 1), int32(from + in - 1)}, w: [2]float32{1, 0}, n: 1}
			continue
		}
		l := src - float32(i)
		t[o] = tap{i: [2]int32{int32(from + i), int32(from + i + 1)}, w: [2]float32{1 - l, l}, n: 2}
		if l == 0 {
			t[o].n = 1
		}
	}
	return t
}

// maxSide bounds a resampled image's height and width: the taps cost tens
// of bytes per output row and column, whatever the channels.
const maxSide = 1 << 16

// checkSides returns an error unless an output of oh×ow×c fits the bounds.
func checkSides(l Layer, oh, ow, c int) error {
	if oh > maxSide || ow > maxSide {
		return errorf(l, "output %dx%d: at most %d rows and columns", oh, ow, maxSide)
	}
	return checkSize(l, "output", oh, ow, c)
}

// repeats returns the taps of an axis of size in repeated s times: output
// o reads input o/s (Keras UpSampling2D's nearest).
func repeats(in, s int) []tap {
	t := make([]tap, in*s)
	for o := range t {
		i := int32(o / s)
		t[o] = tap{i: [2]int32{i, i}, w: [2]float32{1, 0}, n: 1}
	}
	return t
}

// adjoint is the transpose of an axis's taps: for input index i, the
// outputs o[at[i]:at[i+1]] that read it with weights w, outputs in
// increasing order.
type adjoint struct {
	at []int32
	o  []int32
	w  []float32
}

func transpose(t []tap, in int) adjoint {
	a := adjoint{at: make([]int32, in+1)}
	for _, p := range t {
		for k := range p.n {
			a.at[p.i[k]+1]++
		}
	}
	for i := range in {
		a.at[i+1] += a.at[i]
	}
	next := append([]int32(nil), a.at[:in]...)
	a.o, a.w = make([]int32, a.at[in]), make([]float32, a.at[in])
	for o, p := range t {
		for k := range p.n {
			j := next[p.i[k]]
			a.o[j], a.w[j] = int32(o), p.w[k]
			next[p.i[k]]++
		}
	}
	return a
}

// The phases of a resampler's passes, over rows.
const (
	rsForward = iota // y, by output row
	rsColumns        // Backward's t = dy's rows resampled back along the width, by output row
	rsRows           // dx from t along the height, by input row
)

// resampler holds the work UpSampling2D and Resizing share: an image
// [H, W, C] resampled to [OH, OW, C] along each axis by its taps. Forward
// computes each output row from one or two input rows; Backward applies the
// transposed taps, first along the width then along the height, each value
// a sum of its own terms in a fixed order, so that the result does not
// depend on how the rows are shared among the cores.
type resampler struct {
	buffers
	layer      Layer // the UpSampling2D or Resizing, for messages
	in, out    []int // [H, W, C] and [OH, OW, C]
	rows, cols []tap
	rowsT      adjoint
	colsT      adjoint
	x, y       *tensor.Tensor
	gt, gx     *tensor.Tensor // Backward's t and dx, kept for the next one
	gy         *tensor.Tensor // dy, during Backward
	dims       []int          // the shape of dx
	split      split
}

// build sets the resampler of layer l for input in and the axes' taps.
func (r *resampler) build(l Layer, in []int, rows, cols []tap) {
	r.layer = l
	r.in = append(r.in[:0], in...)
	r.out = []int{len(rows), len(cols), in[2]}
	r.rows, r.cols = rows, cols
	r.rowsT, r.colsT = transpose(rows, in[0]), transpose(cols, in[1])
	r.x, r.y, r.gt, r.gy, r.gx = nil, nil, nil, nil, nil
}

func (r *resampler) OutputShape() []int { return append([]int(nil), r.out...) }
func (r *resampler) Params() []*Param   { return nil }

// Cost is zero: resampling has no weights.
func (r *resampler) Cost(in []int) Cost { return Cost{} }

func (r *resampler) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(r.layer, "Forward", x, r.in)
	r.x = x
	r.y = resize(r.y, x.Shape[0], r.out[0], r.out[1], r.out[2])
	r.split.rows(r, rsForward, x.Shape[0]*r.out[0], r.out[1]*r.out[2])
	return r.y
}

// Backward returns dx. Its intermediate t ([N, OH, W, C]) is the
// resampler's own, not a lent scratch buffer: t's rows would overwrite
// rows of dy still to be read there.
func (r *resampler) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(r.layer, dy, r.y)
	n := dy.Shape[0]
	r.dims = batchShape(r.dims, n, r.in)
	dx := r.grad(r.gx, r.dims...)
	r.gt = resize(r.gt, n, r.out[0], r.in[1], r.in[2])
	r.gy, r.gx = dy, dx
	r.split.rows(r, rsColumns, n*r.out[0], r.in[1]*r.in[2])
	r.split.rows(r, rsRows, n*r.in[0], r.in[1]*r.in[2])
	r.gy = nil
	return dx
}

func (r *resampler) do(phase, lo, hi int) {
	h, w, c := r.in[0], r.in[1], r.in[2]
	oh, ow := r.out[0], r.out[1]
	for k := lo; k < hi; k++ {
		switch phase {
		case rsForward: // output row k: its taps along the height of the columns' taps
			n, p := k/oh, r.rows[k%oh]
			y := r.y.Data[k*ow*c : (k+1)*ow*c]
			a := r.x.Data[(n*h+int(p.i[0]))*w*c:][:w*c]
			b := r.x.Data[(n*h+int(p.i[1]))*w*c:][:w*c]
			for ox, q := range r.cols {
				out, a0, a1 := y[ox*c:(ox+1)*c], a[int(q.i[0])*c:][:c], a[int(q.i[1])*c:][:c]
				b0, b1 := b[int(q.i[0])*c:][:c], b[int(q.i[1])*c:][:c]
				// v = q's weights over row a, u over row b, then p's over
				// them; the cases leave out the terms of weight 0.
				qw0, qw1, pw0, pw1 := q.w[0], q.w[1], p.w[0], p.w[1]
				switch {
				case p.n == 1 && q.n == 1: // a copy of one cell
					copy(out, a0)
				case p.n == 1:
					for ch := range out {
						out[ch] = qw0*a0[ch] + qw1*a1[ch]
					}
				case q.n == 1:
					for ch := range out {
						out[ch] = pw0*(qw0*a0[ch]) + pw1*(qw0*b0[ch])
					}
				default:
					for ch := range out {
						out[ch] = pw0*(qw0*a0[ch]+qw1*a1[ch]) + pw1*(qw0*b0[ch]+qw1*b1[ch])
					}
				}
			}
		case rsColumns: // t's row k: dy's row k, each column the sum of the outputs that read it
			dy := r.gy.Data[k*ow*c : (k+1)*ow*c]
			t := r.gt.Data[k*w*c : (k+1)*w*c]
			for ix := range w {
				t := t[ix*c : (ix+1)*c]
				clear(t)
				for j := r.colsT.at[ix]; j < r.colsT.at[ix+1]; j++ {
					d, wt := dy[int(r.colsT.o[j])*c:][:c], r.colsT.w[j]
					for ch := range t {
						t[ch] += wt * d[ch]
					}
				}
			}
		case rsRows: // dx's row k: the sum of t's rows that read it
			n, iy := k/h, k%h
			dx := r.gx.Data[k*w*c : (k+1)*w*c]
			clear(dx)
			for j := r.rowsT.at[iy]; j < r.rowsT.at[iy+1]; j++ {
				t, wt := r.gt.Data[(n*oh+int(r.rowsT.o[j]))*w*c:][:w*c], r.rowsT.w[j]
				for i := range dx {
					dx[i] += wt * t[i]
				}
			}
		}
	}
}
