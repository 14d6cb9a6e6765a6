package nn

import (
	"math/rand/v2"

	"github.com/convnet-go/convnet/tensor"
)

// Cropping2D cuts rows and columns off the edges of each image (Keras
// Cropping2D, channels_last): Cropping is ((top, bottom), (left, right)).
// Input [N,H,W,C], output [N, H-top-bottom, W-left-right, C]; the gradient
// is dy with zeros where the crop was, as [ZeroPadding2D]'s output. Keras's
// NASNet crops a padded map this way to shift it by a pixel.
type Cropping2D struct {
	named
	buffers
	Cropping [2][2]int
	in, out  []int
	y, dx    *tensor.Tensor
	dims     []int // the shape of dx
}

func (l *Cropping2D) Type() string { return "Cropping2D" }

func (l *Cropping2D) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) != 3 || !positive(in) {
		return nil, errorf(l, "input shape %v: want height, width, channels (all positive)", in)
	}
	c := l.Cropping
	for _, v := range []int{c[0][0], c[0][1], c[1][0], c[1][1]} {
		if v < 0 {
			return nil, errorf(l, "cropping %v: want ((top, bottom), (left, right)), none below 0", c)
		}
	}
	if c[0][0] >= in[0]-c[0][1] || c[1][0] >= in[1]-c[1][1] {
		return nil, errorf(l, "cropping %v leaves nothing of the %dx%d input", c, in[0], in[1])
	}
	l.in = append([]int(nil), in...)
	l.out = []int{in[0] - c[0][0] - c[0][1], in[1] - c[1][0] - c[1][1], in[2]}
	l.y, l.dx = nil, nil
	return append([]int(nil), l.out...), nil
}

func (l *Cropping2D) OutputShape() []int { return append([]int(nil), l.out...) }
func (l *Cropping2D) Params() []*Param   { return nil }

// Cost is zero: cropping has no weights.
func (l *Cropping2D) Cost(in []int) Cost { return Cost{} }

// Forward copies the kept part of each input row.
func (l *Cropping2D) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	n := x.Shape[0]
	l.y = resize(l.y, n, l.out[0], l.out[1], l.out[2])
	row := l.out[1] * l.out[2]
	l.rows(n, func(in, out int) { copy(l.y.Data[out:out+row], x.Data[in:in+row]) })
	return l.y
}

// Backward puts each row of dy back in place, the cropped edges zero.
func (l *Cropping2D) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	n := dy.Shape[0]
	l.dims = batchShape(l.dims, n, l.in)
	l.dx = l.grad(l.dx, l.dims...)
	clear(l.dx.Data)
	row := l.out[1] * l.out[2]
	l.rows(n, func(in, out int) { copy(l.dx.Data[in:in+row], dy.Data[out:out+row]) })
	return l.dx
}

// rows calls f for each output row of the batch with the offsets of its
// first value in the input and in the output.
func (l *Cropping2D) rows(n int, f func(in, out int)) {
	h, w, c := l.in[0], l.in[1], l.in[2]
	oh, ow := l.out[0], l.out[1]
	top, left := l.Cropping[0][0], l.Cropping[1][0]
	for i := range n {
		for y := range oh {
			f(((i*h+top+y)*w+left)*c, (i*oh+y)*ow*c)
		}
	}
}

func (l *Cropping2D) Config() map[string]any {
	c := l.Cropping
	return map[string]any{"name": l.Name(), "cropping": [][]int{{c[0][0], c[0][1]}, {c[1][0], c[1][1]}}}
}
