package nn

import (
	"math/rand/v2"

	"github.com/convnet-go/convnet/tensor"
)

// ZeroPadding2D adds rows and columns of zeros around each image (Keras
// ZeroPadding2D, channels_last): Padding is ((top, bottom), (left, right)).
// Input [N,H,W,C], output [N, top+H+bottom, left+W+right, C]. It is how a
// padding that is neither "valid" nor "same" (PyTorch's padding=1 on a
// stride-2 convolution, say) is written: the padding, then a "valid"
// window.
type ZeroPadding2D struct {
	named
	buffers
	Padding [2][2]int
	in, out []int
	y, dx   *tensor.Tensor
	dims    []int // the shape of dx
}

func (l *ZeroPadding2D) Type() string { return "ZeroPadding2D" }

func (l *ZeroPadding2D) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) != 3 || !positive(in) {
		return nil, errorf(l, "input shape %v: want height, width, channels (all positive)", in)
	}
	p := l.Padding
	for _, v := range []int{p[0][0], p[0][1], p[1][0], p[1][1]} {
		if v < 0 || v > maxElems {
			return nil, errorf(l, "padding %v: want ((top, bottom), (left, right)), each from 0 to %d", p, maxElems)
		}
	}
	out := []int{in[0] + p[0][0] + p[0][1], in[1] + p[1][0] + p[1][1], in[2]}
	if err := checkSize(l, "output", out...); err != nil {
		return nil, err
	}
	l.in, l.out = append([]int(nil), in...), out
	l.y, l.dx = nil, nil
	return append([]int(nil), out...), nil
}

func (l *ZeroPadding2D) OutputShape() []int { return append([]int(nil), l.out...) }
func (l *ZeroPadding2D) Params() []*Param   { return nil }

// Cost is zero: padding has no weights.
func (l *ZeroPadding2D) Cost(in []int) Cost { return Cost{} }

// rows calls f for each input row of the batch with its offsets in the
// input and the output.
func (l *ZeroPadding2D) rows(n int, f func(in, out int)) {
	h, w, c := l.in[0], l.in[1], l.in[2]
	oh, ow := l.out[0], l.out[1]
	for i := range n {
		for y := range h {
			f(((i*h+y)*w)*c, ((i*oh+y+l.Padding[0][0])*ow+l.Padding[1][0])*c)
		}
	}
}

// Forward copies each input row into place and clears the padding around
// it, each output value written once.
func (l *ZeroPadding2D) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	n, h, c := x.Shape[0], l.in[0], l.in[2]
	row, orow := l.in[1]*c, l.out[1]*c
	top, left := l.Padding[0][0], l.Padding[1][0]*c
	l.y = resize(l.y, n, l.out[0], l.out[1], l.out[2])
	per := l.out[0] * orow
	for i := range n {
		img := l.y.Data[i*per : (i+1)*per]
		clear(img[:top*orow])
		clear(img[(top+h)*orow:])
		for y := range h {
			out := img[(top+y)*orow : (top+y+1)*orow]
			clear(out[:left])
			copy(out[left:], x.Data[(i*h+y)*row:(i*h+y+1)*row])
			clear(out[left+row:])
		}
	}
	return l.y
}

func (l *ZeroPadding2D) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	n, row := dy.Shape[0], l.in[1]*l.in[2]
	l.dims = batchShape(l.dims, n, l.in)
	l.dx = l.grad(l.dx, l.dims...)
	l.rows(n, func(in, out int) { copy(l.dx.Data[in:in+row], dy.Data[out:out+row]) })
	return l.dx
}

func (l *ZeroPadding2D) Config() map[string]any {
	p := l.Padding
	return map[string]any{"name": l.Name(), "padding": [][]int{{p[0][0], p[0][1]}, {p[1][0], p[1][1]}}}
}
