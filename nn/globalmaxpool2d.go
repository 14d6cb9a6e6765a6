package nn

import (
	"math/rand/v2"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// GlobalMaxPooling2D takes each channel's maximum over the whole image
// (Keras GlobalMaxPooling2D, PyTorch's AdaptiveMaxPool2d(1)): input
// [N,H,W,C], output [N,C], or [N,1,1,C] with KeepDims. Ties: the gradient
// goes to the channel's first maximum in scan order (row by row, left to
// right), as MaxPooling2D's does.
type GlobalMaxPooling2D struct {
	KeepDims bool

	named
	buffers
	in     []int
	x      *tensor.Tensor // the input of the Forward in progress
	y, dx  *tensor.Tensor
	argmax []int32 // per image and channel, the cell of the maximum
	imgFn  func(worker, i int)
}

func (l *GlobalMaxPooling2D) Type() string { return "GlobalMaxPooling2D" }

func (l *GlobalMaxPooling2D) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) != 3 || !positive(in) {
		return nil, errorf(l, "input shape %v: want height, width, channels (all positive)", in)
	}
	l.in = append([]int(nil), in...)
	l.y, l.dx = nil, nil
	l.imgFn = l.image
	return l.OutputShape(), nil
}

func (l *GlobalMaxPooling2D) OutputShape() []int {
	if l.KeepDims {
		return []int{1, 1, l.in[2]}
	}
	return []int{l.in[2]}
}
func (l *GlobalMaxPooling2D) Params() []*Param { return nil }

// Cost is zero: a pool has no weights.
func (l *GlobalMaxPooling2D) Cost(in []int) Cost { return Cost{} }

func (l *GlobalMaxPooling2D) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	n, c := x.Shape[0], l.in[2]
	if l.KeepDims {
		l.y = resize(l.y, n, 1, 1, c)
	} else {
		l.y = resize(l.y, n, c)
	}
	if cap(l.argmax) < n*c {
		l.argmax = make([]int32, n*c)
	}
	l.argmax = l.argmax[:n*c]
	l.x = x
	kernels.ParallelFor(n, n, l.imgFn)
	l.x = nil
	return l.y
}

// image sets the output of image i: each channel's first maximum and the
// cell it is in.
func (l *GlobalMaxPooling2D) image(_, i int) {
	hw, c := l.in[0]*l.in[1], l.in[2]
	img := l.x.Data[i*hw*c : (i+1)*hw*c]
	y, arg := l.y.Data[i*c:(i+1)*c], l.argmax[i*c:(i+1)*c]
	copy(y, img[:c])
	clear(arg)
	for p := 1; p < hw; p++ {
		row := img[p*c : (p+1)*c]
		for j, v := range row {
			if v > y[j] {
				y[j], arg[j] = v, int32(p)
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

func (l *GlobalMaxPooling2D) Config() map[string]any {
	return map[string]any{"name": l.Name(), "keepdims": l.KeepDims}
}
