package nn

import (
	"math/rand/v2"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// GlobalAveragePooling2D averages each channel over the whole image (Keras
// GlobalAveragePooling2D): input [N,H,W,C], output [N,C], or [N,1,1,C]
// with KeepDims (Keras's keepdims), an image of one cell that a
// squeeze-and-excitation block convolves and multiplies its map by.
type GlobalAveragePooling2D struct {
	KeepDims bool

	named
	buffers
	in    []int
	y, dx *tensor.Tensor
	x     *tensor.Tensor // the input of the Forward in progress
	sums  []float64      // per image and channel, during Forward
	imgFn func(worker, i int)
}

func (l *GlobalAveragePooling2D) Type() string { return "GlobalAveragePooling2D" }

func (l *GlobalAveragePooling2D) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) != 3 || !positive(in) {
		return nil, errorf(l, "input shape %v: want height, width, channels (all positive)", in)
	}
	l.in = append([]int(nil), in...)
	l.y, l.dx = nil, nil
	l.imgFn = l.image
	return l.OutputShape(), nil
}

func (l *GlobalAveragePooling2D) OutputShape() []int {
	if l.KeepDims {
		return []int{1, 1, l.in[2]}
	}
	return []int{l.in[2]}
}
func (l *GlobalAveragePooling2D) Params() []*Param { return nil }

// Cost is zero: a pool has no weights.
func (l *GlobalAveragePooling2D) Cost(in []int) Cost { return Cost{} }

func (l *GlobalAveragePooling2D) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	n, c := x.Shape[0], l.in[2]
	if l.KeepDims {
		l.y = resize(l.y, n, 1, 1, c)
	} else {
		l.y = resize(l.y, n, c)
	}
	if len(l.sums) < n*c {
		l.sums = make([]float64, n*c)
	}
	l.x = x
	kernels.ParallelFor(n, n, l.imgFn)
	l.x = nil
	return l.y
}

// image sets the output of image i: each channel's mean, its cells summed
// in order in float64 (batch normalization's column sums).
func (l *GlobalAveragePooling2D) image(_, i int) {
	hw, c := l.in[0]*l.in[1], l.in[2]
	img := l.x.Data[i*hw*c : (i+1)*hw*c]
	s := l.sums[i*c : (i+1)*c]
	clear(s)
	kernels.BatchNormSum(s, img, hw, c)
	inv := 1 / float64(hw)
	for j, v := range s {
		l.y.Data[i*c+j] = float32(v * inv)
	}
}

func (l *GlobalAveragePooling2D) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	n, hw, c := dy.Shape[0], l.in[0]*l.in[1], l.in[2]
	l.dx = l.grad(l.dx, n, l.in[0], l.in[1], c)
	inv := 1 / float32(hw)
	for i := range n {
		d := dy.Data[i*c : (i+1)*c]
		img := l.dx.Data[i*hw*c : (i+1)*hw*c]
		for p := 0; p < len(img); p += c {
			for j, v := range d {
				img[p+j] = v * inv
			}
		}
	}
	return l.dx
}

func (l *GlobalAveragePooling2D) Config() map[string]any {
	return map[string]any{"name": l.Name(), "keepdims": l.KeepDims}
}
