package model

import (
	"math"
	"slices"

	"github.com/convnet-go/convnet/internal/onnxpb"
)

// foldSqrt computes the square root of a float constant, each value
// rounded once to float32: PyTorch writes the divisor of a normalization
// from its variance buffer that way.
func foldSqrt(b *onnxBuilder, n *onnxpb.NodeProto, in []*onnxConst) (*onnxConst, error) {
	if _, err := attrs(n); err != nil {
		return nil, err
	}
	x := in[0]
	if x.f == nil {
		return nil, nodeErr(n, "the square root of an integer constant")
	}
	if err := b.allot(n, len(x.f)); err != nil {
		return nil, err
	}
	out := &onnxConst{dims: slices.Clone(x.dims), f: make([]float32, len(x.f))}
	for i, v := range x.f {
		if v < 0 {
			return nil, nodeErr(n, "the square root of %v (value %d of %q)", v, i, n.GetInput()[0])
		}
		out.f[i] = float32(math.Sqrt(float64(v)))
	}
	return out, nil
}

// foldClip computes Clip of a float constant: min(max(x, min), max), the
// bounds given as inputs (opset 11 on) or attributes, each one value.
func foldClip(b *onnxBuilder, n *onnxpb.NodeProto, in []*onnxConst) (*onnxConst, error) {
	a, err := attrs(n, "min", "max")
	if err != nil {
		return nil, err
	}
	x := in[0]
	lo, hi := a.float("min", float32(math.Inf(-1))), a.float("max", float32(math.Inf(1)))
	if a.err != nil {
		return nil, a.err
	}
	for i, c := range in[1:] {
		if c == nil {
			continue
		}
		if len(c.f) != 1 {
			return nil, nodeErr(n, "input %d: want one float value", i+2)
		}
		*[]*float32{&lo, &hi}[i] = c.f[0]
	}
	if x.f == nil {
		return nil, nodeErr(n, "clips an integer constant")
	}
	if err := b.allot(n, len(x.f)); err != nil {
		return nil, err
	}
	out := &onnxConst{dims: slices.Clone(x.dims), f: make([]float32, len(x.f))}
	for i, v := range x.f {
		out.f[i] = min(max(v, lo), hi)
	}
	return out, nil
}
