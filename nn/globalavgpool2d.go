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

	globalPool
	sums []float64 // per image and channel, during Forward
}

func (l *GlobalAveragePooling2D) Type() string { return "GlobalAveragePooling2D" }

func (l *GlobalAveragePooling2D) Build(in []int, rng *rand.Rand) ([]int, error) {
	return l.build(l, in, l.image, l.KeepDims)
}

func (l *GlobalAveragePooling2D) OutputShape() []int { return l.outputShape(l.KeepDims) }

func (l *GlobalAveragePooling2D) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	n := l.begin(l, x, l.KeepDims)
	if len(l.sums) < n*l.in[2] {
		l.sums = make([]float64, n*l.in[2])
	}
	return l.pool(x)
}

// image sets the output of image i: each channel's mean, its cells summed
// in order in float64 (batch normalization's column sums).
func (l *GlobalAveragePooling2D) image(_, i int) {
	img, c := l.input(i)
	s := l.sums[i*c : (i+1)*c]
	clear(s)
	kernels.BatchNormSum(s, img, len(img)/c, c)
	inv := 1 / float64(len(img)/c)
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

func (l *GlobalAveragePooling2D) Config() map[string]any { return l.config(l.KeepDims) }
