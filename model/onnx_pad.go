package model

import (
	"slices"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
	"google.golang.org/protobuf/proto"
)

// nonNegative returns v marked as holding no negative value, or as it is.
func (v *onnxValue) nonNegative(yes bool) *onnxValue {
	v.nonneg = v.nonneg || yes
	return v
}

// allNonNegative reports whether no value of xs is negative: a sum,
// product, mean or concatenation of them has none either.
func allNonNegative(xs []*onnxValue) bool {
	for _, x := range xs {
		if !x.nonneg {
			return false
		}
	}
	return true
}

// zeroPad returns image x padded with zeros by p ((top, bottom), (left,
// right)) in a ZeroPadding2D named after node n, or x itself when p is
// zero.
func (b *onnxBuilder) zeroPad(n *onnxpb.NodeProto, x *onnxValue, p [2][2]int) *onnxValue {
	if p == [2][2]int{} {
		return x
	}
	l := &nn.ZeroPadding2D{Padding: p}
	named := n
	if n.GetName() != "" && n.GetOpType() != "Pad" {
		named = &onnxpb.NodeProto{Name: proto.String(n.GetName() + "/pad")}
	}
	nd := b.add(named, l, x)
	shape := []int{x.shape[0], x.shape[1] + p[0][0] + p[0][1], x.shape[2] + p[1][0] + p[1][1]}
	return &onnxValue{node: nd, shape: shape, nonneg: x.nonneg}
}

// checkPadded refuses padding p when it would make image x larger than
// maxPadded on a side: a padded image must stay a size whose products
// cannot overflow.
func checkPadded(n *onnxpb.NodeProto, x *onnxValue, p [2][2]int) error {
	h, w := x.shape[1]+p[0][0]+p[0][1], x.shape[2]+p[1][0]+p[1][1]
	if h > maxPadded || w > maxPadded {
		return nodeErr(n, "padding %v would make the %dx%d image %dx%d, more than %d on a side", p, x.shape[1], x.shape[2], h, w, maxPadded)
	}
	return nil
}

// maxPadded bounds the height and width of a padded image.
const maxPadded = 2 * maxInputDim

// importPad turns a Pad node that adds zeros around the height and width
// of an image (PyTorch's nn.ZeroPad2d, F.pad) into a ZeroPadding2D.
func importPad(b *onnxBuilder, n *onnxpb.NodeProto) error {
	a, err := attrs(n, "mode", "pads", "value")
	if err != nil {
		return err
	}
	x, err := b.image(n)
	if err != nil {
		return err
	}
	mode, value := a.str("mode", "constant"), a.float("value", 0)
	pads := a.ints("pads")
	if a.err != nil {
		return a.err
	}
	if b.opset >= 11 {
		// pads and the value are inputs.
		c, err := b.constant(n, 1, false)
		if err != nil {
			return err
		}
		if c.i == nil {
			return nodeErr(n, "input pads: want int64 values")
		}
		pads = pads[:0]
		for _, v := range c.i {
			pads = append(pads, int(max(min(v, 1<<40), -1<<40)))
		}
		if v, err := b.constant(n, 2, true); err != nil {
			return err
		} else if v != nil {
			if len(v.f) != 1 {
				return nodeErr(n, "input constant_value: want one float value")
			}
			value = v.f[0]
		}
		if len(n.GetInput()) > 3 && n.GetInput()[3] != "" {
			return nodeErr(n, "input axes is not supported")
		}
	}
	if mode != "constant" || value != 0 {
		return nodeErr(n, "mode %q, value %v: convnet pads with zeros only (mode constant, value 0)", mode, value)
	}
	if len(pads) != 8 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0 || slices.Min(pads) < 0 {
		return nodeErr(n, "pads %v: convnet pads the height and width of an NCHW image: want [0 0 top left 0 0 bottom right], none negative", pads)
	}
	p := [2][2]int{{pads[2], pads[6]}, {pads[3], pads[7]}}
	if err := checkPadded(n, x, p); err != nil {
		return err
	}
	if p == [2][2]int{} {
		return b.output(n, b.same(n, x))
	}
	return b.output(n, b.zeroPad(n, x, p))
}
