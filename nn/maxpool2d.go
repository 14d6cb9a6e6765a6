package nn

import (
	"math/rand/v2"
	"runtime"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// MaxPool2D takes the maximum over each window, per channel (Keras
// MaxPooling2D, also accepted as MaxPool2D in configs):
//
//	y[n,oy,ox,c] = max_{ky,kx inside the image} x[n, oy*sh-pt+ky, ox*sw-pl+kx, c]
//
// Input [N,H,W,C], output [N,OH,OW,C]. With "same" padding the padded cells
// are ignored. Ties: the whole gradient of a window goes to its first
// maximum in scan order (row by row, left to right).
type MaxPool2D struct {
	PoolSize [2]int // zero means 2, 2
	Strides  [2]int // zero means PoolSize
	Padding  string // "valid" (default) or "same"

	named
	buffers
	g      kernels.ConvGeom
	in     []int
	out    []int
	x, dy  *tensor.Tensor // the inputs of the running Forward or Backward
	y, dx  *tensor.Tensor
	argmax []int32 // per output, the index of the chosen input in its image
	bands  int     // the parts of each image's output rows Forward runs apart
	fwdFn  func(worker, i int)
	bwdFn  func(worker, i int)
}

func (l *MaxPool2D) Type() string { return "MaxPooling2D" }

func (l *MaxPool2D) Build(in []int, rng *rand.Rand) ([]int, error) {
	k, s := poolWindow(l.PoolSize, l.Strides)
	g, err := windowGeom(l, in, "pool", k, s, l.Padding)
	if err != nil {
		return nil, err
	}
	l.g, l.in, l.out = g, append([]int(nil), in...), []int{g.OH, g.OW, g.C}
	l.y, l.dx = nil, nil
	l.fwdFn, l.bwdFn = l.forwardBand, l.backwardImage
	return append([]int(nil), l.out...), nil
}

func (l *MaxPool2D) OutputShape() []int { return l.out }
func (l *MaxPool2D) Params() []*Param   { return nil }

// Cost is zero: a pool has no weights.
func (l *MaxPool2D) Cost(in []int) Cost { return Cost{} }

func (l *MaxPool2D) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	g := &l.g
	n, c := x.Shape[0], g.C
	l.y = resize(l.y, n, g.OH, g.OW, c)
	if cap(l.argmax) < len(l.y.Data) {
		l.argmax = make([]int32, len(l.y.Data))
	}
	l.argmax = l.argmax[:len(l.y.Data)]
	l.x = x
	// Fewer images than cores: each image's rows in bands, when it is
	// worth it. Every output is computed alone, so the results do not
	// depend on the bands.
	l.bands = 1
	if w := runtime.GOMAXPROCS(0); n < w && g.OH*g.OW*c*g.KH*g.KW >= 1<<16 {
		l.bands = min(g.OH, (2*w+n-1)/n)
	}
	kernels.ParallelFor(n*l.bands, n*l.bands, l.fwdFn)
	return l.y
}

// forwardBand pools band b of the rows of image i of the batch, item
// i·bands + b.
func (l *MaxPool2D) forwardBand(_, item int) {
	g := &l.g
	i, b := item/l.bands, item%l.bands
	size, per := g.H*g.W*g.C, g.OH*g.OW*g.C
	kernels.MaxPoolRows(l.y.Data[i*per:(i+1)*per], l.argmax[i*per:(i+1)*per], l.x.Data[i*size:(i+1)*size], g,
		b*g.OH/l.bands, (b+1)*g.OH/l.bands)
}

func (l *MaxPool2D) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	g := &l.g
	n := dy.Shape[0]
	l.dx = l.grad(l.dx, n, g.H, g.W, g.C)
	l.dy = dy
	kernels.ParallelFor(n, n, l.bwdFn)
	return l.dx
}

// backwardImage routes the gradient of image i to the chosen cells.
func (l *MaxPool2D) backwardImage(_, i int) {
	g := &l.g
	size, per := g.H*g.W*g.C, g.OH*g.OW*g.C
	kernels.MaxPoolGrad(l.dx.Data[i*size:(i+1)*size], l.dy.Data[i*per:(i+1)*per], l.argmax[i*per:(i+1)*per], g)
}

// ReleaseBackward implements [BackwardReleaser]; the chosen cells go too.
func (l *MaxPool2D) ReleaseBackward() {
	l.buffers.ReleaseBackward()
	l.argmax, l.dy = nil, nil
}

func (l *MaxPool2D) Config() map[string]any { return poolConfig(l, l.PoolSize, l.Strides, l.Padding) }

func maxPoolFromConfig(f *fields) *MaxPool2D {
	return &MaxPool2D{PoolSize: f.positive("pool_size"), Strides: f.positive("strides"), Padding: f.str("padding")}
}
