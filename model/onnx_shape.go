package model

import (
	"slices"

	"github.com/convnet-go/convnet/internal/onnxpb"
)

// The batch size: PyTorch writes x.view(x.size(0), -1) as a Shape of the
// computed tensor x, a Gather of its first value, an Unsqueeze and a
// Concat with -1, then a Reshape. Shape gives the batch size as 0, marked
// (onnxConst.batch), and the marked value is followed through Gather,
// Unsqueeze, Slice, Concat and Reshape to the first axis of a Reshape's
// shape, or of a Resize's sizes (PyTorch's F.interpolate(size=...)); any
// other node that reads it is an error (errBatch).

// batchOps are the operators that carry the batch size through.
var batchOps = map[string]bool{"Gather": true, "Unsqueeze": true, "Concat": true, "Reshape": true, "Slice": true}

// importShape gives the shape of a computed tensor as a constant, the
// batch size 0 and marked (see onnxConst.batch).
func importShape(b *onnxBuilder, n *onnxpb.NodeProto) error {
	a, err := attrs(n, "start", "end")
	if err != nil {
		return err
	}
	x, err := b.computed(n)
	if err != nil {
		return err
	}
	full := []int64{0}
	for _, d := range x.shape {
		full = append(full, int64(d))
	}
	rank := len(full)
	start, end := a.int("start", 0), a.int("end", rank)
	if a.err != nil {
		return a.err
	}
	if start < 0 {
		start += rank
	}
	if end < 0 {
		end += rank
	}
	start, end = min(max(start, 0), rank), min(max(end, 0), rank)
	end = max(end, start)
	c := &onnxConst{dims: []int{end - start}, i: slices.Clone(full[start:end])}
	if start == 0 && end > 0 {
		c.batch = 1
	}
	return b.output(n, &onnxValue{konst: c})
}

func foldGather(b *onnxBuilder, n *onnxpb.NodeProto, in []*onnxConst) (*onnxConst, error) {
	a, err := attrs(n, "axis")
	if err != nil {
		return nil, err
	}
	if len(in) != 2 {
		return nil, nodeErr(n, "want the data and the indices")
	}
	data, idx := in[0], in[1]
	if idx == nil || !idx.isInt() || len(idx.dims) > 1 || len(data.dims) != 1 || a.int("axis", 0) != 0 || a.err != nil {
		return nil, nodeErr(n, "gathers along axis %d from a constant of shape %v: only a list indexed by a list or a number is folded", a.int("axis", 0), data.dims)
	}
	if err := b.allot(n, len(idx.i)); err != nil {
		return nil, err
	}
	size := int64(data.dims[0])
	out := &onnxConst{dims: slices.Clone(idx.dims)}
	for k, v := range idx.i {
		if v < 0 {
			v += size
		}
		if v < 0 || v >= size {
			return nil, nodeErr(n, "index %d out of a list of %d", idx.i[k], size)
		}
		if int(v) == data.batch-1 {
			out.batch = k + 1
		}
		if data.isInt() {
			out.i = append(out.i, data.i[v])
		} else {
			out.f = append(out.f, data.f[v])
		}
	}
	return out, nil
}

func foldUnsqueeze(b *onnxBuilder, n *onnxpb.NodeProto, in []*onnxConst) (*onnxConst, error) {
	a, err := attrs(n, "axes")
	if err != nil {
		return nil, err
	}
	axes := a.ints("axes")
	if a.err != nil {
		return nil, a.err
	}
	if b.opset >= 13 {
		if len(in) < 2 || in[1] == nil || !in[1].isInt() {
			return nil, nodeErr(n, "input axes: want INT64 values")
		}
		axes = axes[:0]
		for _, v := range in[1].i {
			axes = append(axes, int(max(min(v, 1<<20), -1<<20)))
		}
	}
	c := in[0]
	rank := len(c.dims) + len(axes)
	if rank > 64 {
		return nil, nodeErr(n, "axes %v on a constant of shape %v: more than 64 axes", axes, c.dims)
	}
	ones := make([]bool, rank)
	for _, ax := range axes {
		if ax < 0 {
			ax += rank
		}
		if ax < 0 || ax >= rank || ones[ax] {
			return nil, nodeErr(n, "axes %v on a constant of shape %v", axes, c.dims)
		}
		ones[ax] = true
	}
	dims, k := make([]int, rank), 0
	for ax := range dims {
		if ones[ax] {
			dims[ax] = 1
		} else {
			dims[ax], k = c.dims[k], k+1
		}
	}
	return &onnxConst{dims: dims, f: c.f, i: c.i, batch: c.batch}, nil
}
