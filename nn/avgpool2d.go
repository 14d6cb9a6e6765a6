package nn

import (
	"math/rand/v2"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// AveragePooling2D takes the mean over each window, per channel (Keras
// AveragePooling2D, also accepted as AvgPool2D in configs):
//
//	y[n,oy,ox,c] = mean_{ky,kx inside the image} x[n, oy*sh-pt+ky, ox*sw-pl+kx, c]
//
// Input [N,H,W,C], output [N,OH,OW,C]. As in Keras, with "same" padding the
// mean counts only the cells inside the image.
type AveragePooling2D struct {
	PoolSize [2]int // zero means 2, 2
	Strides  [2]int // zero means PoolSize
	Padding  string // "valid" (default) or "same"

	named
	buffers
	g     kernels.ConvGeom
	in    []int
	out   []int
	y, dx *tensor.Tensor
}

func (l *AveragePooling2D) Type() string { return "AveragePooling2D" }

func (l *AveragePooling2D) Build(in []int, rng *rand.Rand) ([]int, error) {
	k, s := poolWindow(l.PoolSize, l.Strides)
	g, err := windowGeom(l, in, "pool", k, s, l.Padding)
	if err != nil {
		return nil, err
	}
	l.g, l.in, l.out = g, append([]int(nil), in...), []int{g.OH, g.OW, g.C}
	l.y, l.dx = nil, nil
	return append([]int(nil), l.out...), nil
}

func (l *AveragePooling2D) OutputShape() []int { return l.out }
func (l *AveragePooling2D) Params() []*Param   { return nil }

// Cost is zero: a pool has no weights.
func (l *AveragePooling2D) Cost(in []int) Cost { return Cost{} }

// window returns the input rows [y0,y1) and columns [x0,x1) of output
// (oy, ox), clipped to the image.
func (l *AveragePooling2D) window(oy, ox int) (y0, y1, x0, x1 int) {
	g := &l.g
	y0, x0 = oy*g.SH-g.PadTop, ox*g.SW-g.PadLeft
	y1, x1 = min(y0+g.KH, g.H), min(x0+g.KW, g.W)
	return max(y0, 0), y1, max(x0, 0), x1
}

func (l *AveragePooling2D) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	g := &l.g
	n, c := x.Shape[0], g.C
	l.y = resize(l.y, n, g.OH, g.OW, c)
	size := g.H * g.W * c
	for i := range n {
		img := x.Data[i*size : (i+1)*size]
		for oy := range g.OH {
			for ox := range g.OW {
				o := ((i*g.OH+oy)*g.OW + ox) * c
				sum := l.y.Data[o : o+c]
				clear(sum)
				y0, y1, x0, x1 := l.window(oy, ox)
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						kernels.AddTo(sum, img[(iy*g.W+ix)*c:(iy*g.W+ix+1)*c])
					}
				}
				inv := 1 / float32((y1-y0)*(x1-x0))
				for j := range sum {
					sum[j] *= inv
				}
			}
		}
	}
	return l.y
}

func (l *AveragePooling2D) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	g := &l.g
	n, c := dy.Shape[0], g.C
	l.dx = l.grad(l.dx, n, g.H, g.W, c)
	l.dx.Zero()
	size := g.H * g.W * c
	for i := range n {
		dx := l.dx.Data[i*size : (i+1)*size]
		for oy := range g.OH {
			for ox := range g.OW {
				o := ((i*g.OH+oy)*g.OW + ox) * c
				y0, y1, x0, x1 := l.window(oy, ox)
				inv := 1 / float32((y1-y0)*(x1-x0))
				d := dy.Data[o : o+c]
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						cell := dx[(iy*g.W+ix)*c : (iy*g.W+ix+1)*c]
						for j, v := range d {
							cell[j] += v * inv
						}
					}
				}
			}
		}
	}
	return l.dx
}

func (l *AveragePooling2D) Config() map[string]any {
	return poolConfig(l, l.PoolSize, l.Strides, l.Padding)
}

func avgPoolFromConfig(f *fields) *AveragePooling2D {
	return &AveragePooling2D{PoolSize: f.positive("pool_size"), Strides: f.positive("strides"), Padding: f.str("padding")}
}
