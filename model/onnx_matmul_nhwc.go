package model

import (
	"slices"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
)

// PyTorch's nn.Linear on an image permuted channel-last (ConvNeXt's
// blocks: Permute([0, 2, 3, 1]), LayerNorm, Linear, GELU, Linear,
// Permute([0, 3, 1, 2])) exports as a MatMul of the [N H W C] tensor by a
// [C U] weight, and an Add of a [U] bias. convnet holds every image
// channel-last, and its Dense applies along the last axis, each pixel's
// channels: the MatMul is a Dense of U units on the image, a 1x1
// convolution.

// matMulPixels turns x·W, x an image transposed to NHWC by node n's
// input, into a Dense applied to each pixel. Its output stays NHWC, of U
// channels.
func (b *onnxBuilder) matMulPixels(n *onnxpb.NodeProto, x *onnxValue) error {
	w, err := b.weight(n, 1, false, "weights", 2)
	if err != nil {
		return err
	}
	if w.dims[0] != x.shape[0] {
		return nodeErr(n, "weights of shape %v for an image of %d channels %s", w.dims, x.shape[0], x.describe())
	}
	l := &nn.Dense{Units: w.dims[1], NoBias: true}
	nd := b.add(n, l, x, w)
	v := x.after(nd)
	v.shape = append([]int{w.dims[1]}, x.shape[1:]...)
	v.fold, v.dense = l, true
	return b.output(n, v)
}

// pixelBias checks that the bias c of the Dense of matMulPixels, read by
// node n, is the same at every pixel: a scalar, or a constant that varies
// along the last axis alone.
func pixelBias(n *onnxpb.NodeProto, x *onnxValue, c *onnxConst) error {
	if len(c.f) <= 1 || !x.nhwc {
		return nil
	}
	d := c.dims
	if len(d) == 0 || d[len(d)-1] != x.shape[0] || slices.ContainsFunc(d[:len(d)-1], func(k int) bool { return k != 1 }) {
		return nodeErr(n, "bias of shape %v on an image %s: want %d values along its last axis, the channels", c.dims, x.describe(), x.shape[0])
	}
	return nil
}
