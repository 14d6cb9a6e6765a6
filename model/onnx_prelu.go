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
	alpha, data, shared, err := inConvnetOrder(n, x, c, "slope", n.GetInput()[1])
	if err != nil {
		return err
	}
	l := &nn.PReLU{SharedAxes: shared}
	return b.output(n, x.after(b.add(n, l, x, &onnxConst{dims: alpha, f: data})))
}

// inConvnetOrder returns the constant c (named name), which broadcasts
// from the right to the input x of node n (with or without the batch
// axis), in convnet's order of x's axes with 1 along those it is the same
// along: its shape, its values, and the axes (counted from 1) along which
// it is shared.
func inConvnetOrder(n *onnxpb.NodeProto, x *onnxValue, c *onnxConst, what, name string) (dims []int, data []float32, shared []int, err error) {
	shape, cd := x.shape, slices.Clone(c.dims)
	if len(cd) == len(shape)+1 && cd[0] == 1 {
		cd = cd[1:]
	}
	if c.f == nil || len(cd) > len(shape) {
		return nil, nil, nil, nodeErr(n, "%s %q: want a float tensor that broadcasts to the input [N %s], got shape %v", what, name, dimList(shape), c.dims)
	}
	cd = append(slices.Repeat([]int{1}, len(shape)-len(cd)), cd...)
	for i, d := range cd {
		if d != 1 && d != shape[i] {
			return nil, nil, nil, nodeErr(n, "%s %q of shape %v does not broadcast to the input [N %s]", what, name, c.dims, dimList(shape))
		}
	}
	// In convnet's order: axis k of convnet's input is ONNX axis from[k].
	from := []int{0}
	data = c.f
	switch {
	case x.vector():
		if x.flat {
			cd = cd[:1]
		}
		if cd[0] > 1 {
			data = permuted(&onnxConst{dims: cd, f: data}, x.order).f
		}
	case x.nhwc:
		from = []int{0, 1, 2}
	default:
		from = []int{1, 2, 0}
		data = oihwToHWIO(data, cd[0], 1, cd[1], cd[2])
	}
	dims = make([]int, len(from))
	for k, i := range from {
		dims[k] = cd[i]
		if cd[i] == 1 && shape[i] > 1 {
			shared = append(shared, k+1)
		}
	}
	return dims, data, shared, nil
}
