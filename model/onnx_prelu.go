package model

import (
	"slices"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
)

// prelu writes a PReLU as a PRelu whose slope holds alpha in ONNX's order
// of the input, (C, H, W) for an image, with 1 along the shared axes, which
// ONNX broadcasts from the right.
func (e *onnxWriter) prelu(l *nn.PReLU) {
	a := l.Params()[0].Value
	dims, data := a.Shape, a.Data
	if len(dims) == 3 {
		dims, data = nchw(dims), hwioToOIHW(data, dims[0], dims[1], 1, dims[2])
	}
	e.apply("PRelu", l.Name(), []string{e.weight(l.Name()+"/slope", dims, data)})
}

// importPReLU turns a PRelu into a PReLU layer whose alpha is the slope,
// broadcast from the right over the input of one sample (and, if the slope
// has the input's rank with the batch axis, 1 along it): its axes of size 1
// are the shared axes. PyTorch's nn.PReLU(C) writes a slope of shape
// [C, 1, 1], nn.PReLU() one value.
func importPReLU(b *onnxBuilder, n *onnxpb.NodeProto) error {
	if _, err := attrs(n); err != nil {
		return err
	}
	x, err := b.computed(n)
	if err != nil {
		return err
	}
	c, err := b.constant(n, 1, false)
	if err != nil {
		return err
	}
	shape, dims := x.shape, slices.Clone(c.dims)
	if len(dims) == len(shape)+1 && dims[0] == 1 {
		dims = dims[1:]
	}
	if c.f == nil || len(dims) > len(shape) {
		return nodeErr(n, "slope %q: want a float tensor that broadcasts to the input [N %s], got shape %v", n.GetInput()[1], dimList(shape), c.dims)
	}
	dims = append(slices.Repeat([]int{1}, len(shape)-len(dims)), dims...)
	for i, d := range dims {
		if d != 1 && d != shape[i] {
			return nodeErr(n, "slope %q of shape %v does not broadcast to the input [N %s]", n.GetInput()[1], c.dims, dimList(shape))
		}
	}
	// alpha in convnet's order: axis k of convnet's input is ONNX axis
	// from[k].
	from := []int{0}
	data := c.f
	switch {
	case x.vector():
		if x.flat {
			dims = dims[:1]
		}
		if dims[0] > 1 {
			data = permuted(&onnxConst{dims: dims, f: data}, x.order).f
		}
	case x.nhwc:
		from = []int{0, 1, 2}
	default:
		from = []int{1, 2, 0}
		data = oihwToHWIO(data, dims[0], 1, dims[1], dims[2])
	}
	alpha := make([]int, len(from))
	var shared []int
	for k, i := range from {
		alpha[k] = dims[i]
		if dims[i] == 1 && shape[i] > 1 {
			shared = append(shared, k+1)
		}
	}
	l := &nn.PReLU{SharedAxes: shared}
	return b.output(n, x.after(b.add(n, l, x, &onnxConst{dims: alpha, f: data})))
}
