package nn

import (
	"math/rand/v2"

	"github.com/convnet-go/convnet/tensor"
)

// GlobalMaxPooling2D takes each channel's maximum over the whole image
// (Keras GlobalMaxPooling2D, PyTorch's AdaptiveMaxPool2d(1)): input
// [N,H,W,C], output [N,C], or [N,1,1,C] with KeepDims. Ties: the gradient
// goes to the channel's first maximum in scan order (row by row, left to
// right), as MaxPooling2D's does.
type GlobalMaxPooling2D struct {
	KeepDims bool

	globalPool
	argmax []int32 // per image and channel, the cell of the maximum
}

func (l *GlobalMaxPooling2D) Type() string { return "GlobalMaxPooling2D" }

func (l *GlobalMaxPooling2D) Build(in []int, rng *rand.Rand) ([]int, error) {
	return l.build(l, in, l.image, l.KeepDims)
}

func (l *GlobalMaxPooling2D) OutputShape() []int { return l.outputShape(l.KeepDims) }

func (l *GlobalMaxPooling2D) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	n := l.begin(l, x, l.KeepDims)
	if cap(l.argmax) < n*l.in[2] {
		l.argmax = make([]int32, n*l.in[2])
	}
	l.argmax = l.argmax[:n*l.in[2]]
	return l.pool(x)
}

// image sets the output of image i: each channel's first maximum and the
// cell it is in.
func (l *GlobalMaxPooling2D) image(_, i int) {
	img, c := l.input(i)
	y, arg := l.y.Data[i*c:(i+1)*c], l.argmax[i*c:(i+1)*c]
	copy(y, img[:c])
	clear(arg)
	for p := c; p < len(img); p += c {
		for j, v := range img[p : p+c] {
			if v > y[j] {
				y[j], arg[j] = v, int32(p/c)
			}
		}
	}
}

func (l *GlobalMaxPooling2D) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	n, hw, c := dy.Shape[0], l.in[0]*l.in[1], l.in[2]
	l.dx = l.grad(l.dx, n, l.in[0], l.in[1], c)
	clear(l.dx.Data)
	for i := range n {
		img := l.dx.Data[i*hw*c : (i+1)*hw*c]
		for j, p := range l.argmax[i*c : (i+1)*c] {
			img[int(p)*c+j] = dy.Data[i*c+j]
		}
	}
	return l.dx
}

func (l *GlobalMaxPooling2D) Config() map[string]any { return l.config(l.KeepDims) }
