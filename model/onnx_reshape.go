package model

import (
	"fmt"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
)

// reshape writes a Reshape of the tensor of shape e.shape (convnet's,
// channels last) to out, keeping convnet's row-major order: an image goes
// to NHWC first, an image comes back to NCHW after. A vector as an image of
// one cell, [1 1 C], is one Reshape to [N C 1 1]. convnet's samples are
// images or vectors: other ranks have no ONNX form here.
func (e *onnxWriter) reshape(l *nn.Reshape, out []int) error {
	in, name := e.shape, l.Name()
	if len(in) != 1 && len(in) != 3 || len(out) != 1 && len(out) != 3 {
		return fmt.Errorf("a reshape of %v to %v: the ONNX export takes images [H W C] and vectors", in, out)
	}
	if len(in) == 1 && len(out) == 3 && out[0] == 1 && out[1] == 1 {
		e.apply("Reshape", name, []string{e.ints(name+"/shape", []int64{0, int64(out[2]), 1, 1})})
		return nil
	}
	if len(in) == 3 {
		e.apply("Transpose", name+"/nhwc", nil, attrInts("perm", 0, 2, 3, 1))
	}
	to := name
	if len(out) == 3 {
		to = name + "/reshape"
	}
	e.apply("Reshape", to, []string{e.ints(name+"/shape", append([]int64{0}, ints64(out)...))})
	if len(out) == 3 {
		e.apply("Transpose", name, nil, attrInts("perm", 0, 3, 1, 2))
	}
	return nil
}

// unflatten imports node n, a Reshape of the vector x to [N C 1 1] (PyTorch's
// x.view(N, C, 1, 1) before a squeeze-and-excitation block's convolutions),
// as a Reshape to an image of one cell. A vector whose features convnet
// holds in another order than ONNX (flattened from an image) is refused.
func (b *onnxBuilder) unflatten(n *onnxpb.NodeProto, x *onnxValue, c int) error {
	if x.order != nil {
		return nodeErr(n, "a reshape to [N %d 1 1] of a vector flattened from an image, whose features convnet holds in another order", c)
	}
	v := x.after(b.add(n, &nn.Reshape{TargetShape: []int{1, 1, c}}, x))
	v.shape, v.flat = []int{c, 1, 1}, false
	return b.output(n, v)
}
