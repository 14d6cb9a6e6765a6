package nn

import (
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// globalPool is what the global pooling layers share: input [N,H,W,C],
// output [N,C] or, with keepdims, [N,1,1,C]; no weights; a Forward that
// pools the images of a batch in parallel, each by the layer's own function.
type globalPool struct {
	named
	buffers
	in    []int
	x     *tensor.Tensor // the input of the Forward in progress
	y, dx *tensor.Tensor
	imgFn func(worker, i int) // pools image i of x into y
}

// build checks the input shape of layer l and keeps image as the function
// that pools one image.
func (g *globalPool) build(l Layer, in []int, image func(worker, i int), keepDims bool) ([]int, error) {
	if len(in) != 3 || !positive(in) {
		return nil, errorf(l, "input shape %v: want height, width, channels (all positive)", in)
	}
	g.in = append([]int(nil), in...)
	g.y, g.dx = nil, nil
	g.imgFn = image
	return g.outputShape(keepDims), nil
}

func (g *globalPool) outputShape(keepDims bool) []int {
	if keepDims {
		return []int{1, 1, g.in[2]}
	}
	return []int{g.in[2]}
}

func (g *globalPool) Params() []*Param { return nil }

// Cost is zero: a pool has no weights.
func (g *globalPool) Cost(in []int) Cost { return Cost{} }

// begin checks the input x of layer l, sizes the output and returns the
// number of images; the layer then sizes what it keeps per image and
// calls pool.
func (g *globalPool) begin(l Layer, x *tensor.Tensor, keepDims bool) int {
	checkInput(l, "Forward", x, g.in)
	n, c := x.Shape[0], g.in[2]
	if keepDims {
		g.y = resize(g.y, n, 1, 1, c)
	} else {
		g.y = resize(g.y, n, c)
	}
	return n
}

// pool runs the layer's image function on every image of x and returns
// the output.
func (g *globalPool) pool(x *tensor.Tensor) *tensor.Tensor {
	n := x.Shape[0]
	g.x = x
	kernels.ParallelFor(n, n, g.imgFn)
	g.x = nil
	return g.y
}

// input returns image i of the input in progress, and its channels.
func (g *globalPool) input(i int) (img []float32, c int) {
	size := g.in[0] * g.in[1] * g.in[2]
	return g.x.Data[i*size : (i+1)*size], g.in[2]
}

func (g *globalPool) config(keepDims bool) map[string]any {
	return map[string]any{"name": g.Name(), "keepdims": keepDims}
}
