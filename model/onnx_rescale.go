package model

import (
	"math"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
)

// rescale makes arithmetic with a constant of one value a Rescaling layer:
// x·c, x/c, x+c, x-c or c-x (input xi of node n is x, the other is c). An
// Add or Sub that only reads the output of a Rescaling without an offset
// becomes its offset, so that a Rescaling convnet exported (a Mul, then an
// Add) comes back as one layer.
func (b *onnxBuilder) rescale(n *onnxpb.NodeProto, op string, xi int, x *onnxValue, c *onnxConst) error {
	if c.f == nil {
		return nodeErr(n, "%s by an integer constant on a float tensor", op)
	}
	if len(c.dims) > len(x.shape)+1 {
		return nodeErr(n, "%s by a constant of shape %v on a tensor of shape [N %s] changes its rank", op, c.dims, dimList(x.shape))
	}
	v := float64(c.f[0])
	scale, offset := 1.0, 0.0
	switch {
	case op == "Mul":
		scale = v
	case op == "Div" && xi == 0:
		scale = 1 / v
	case op == "Add":
		offset = v
	case op == "Sub" && xi == 0:
		offset = -v
	case op == "Sub":
		scale, offset = -1, v
	default:
		return nodeErr(n, "a constant divided by a tensor is not a convnet layer")
	}
	if scale == 0 || math.IsInf(float64(float32(scale)), 0) || math.IsNaN(scale) || math.IsNaN(offset) || math.IsInf(offset, 0) {
		return nodeErr(n, "%s by %v: a Rescaling needs a finite scale other than 0 and a finite offset", op, v)
	}
	if r, ok := x.fold.(*nn.Rescaling); ok && scale == 1 && r.Offset == 0 && r.Offsets == nil && b.soleReader(n.GetInput()[xi]) {
		r.Offset = offset
		b.name(n, r)
		y := x.after(x.node)
		y.fold = r
		return b.output(n, y)
	}
	r := &nn.Rescaling{Scale: scale, Offset: offset}
	y := x.after(b.add(n, r, x))
	y.fold = r
	return b.output(n, y)
}

// rescaleChannels makes x times scales, one per channel, a per-channel
// Rescaling named after node n.
func (b *onnxBuilder) rescaleChannels(n *onnxpb.NodeProto, x *onnxValue, scales []float32) error {
	for i, v := range scales {
		if v == 0 || math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) {
			return nodeErr(n, "Mul by a constant whose value %d is %v: a Rescaling needs finite scales other than 0", i, v)
		}
	}
	r := &nn.Rescaling{Scales: float64s(scales)}
	y := x.after(b.add(n, r, x))
	y.fold = r
	return b.output(n, y)
}

// float64s returns v as float64s.
func float64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, e := range v {
		out[i] = float64(e)
	}
	return out
}
