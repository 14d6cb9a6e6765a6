package model

import (
	"slices"

	"github.com/convnet-go/convnet/internal/onnxpb"
)

// The folds that move a constant's values: Slice (PyTorch reverses the
// pads of F.pad with a step of -1) and Transpose.

// strides returns the row-major strides of dims.
func strides(dims []int) []int {
	s := make([]int, len(dims))
	step := 1
	for i := len(dims) - 1; i >= 0; i-- {
		s[i] = step
		step *= dims[i]
	}
	return s
}

func foldSlice(b *onnxBuilder, n *onnxpb.NodeProto, in []*onnxConst) (*onnxConst, error) {
	if _, err := attrs(n); err != nil {
		return nil, err
	}
	if len(in) < 3 || in[1] == nil || in[2] == nil {
		return nil, nodeErr(n, "want the data, starts and ends (opset 10 and later)")
	}
	c, rank := in[0], len(in[0].dims)
	list := func(k int, def func(j int) int64) ([]int64, error) {
		if k < len(in) && in[k] != nil {
			if !in[k].isInt() || len(in[k].dims) != 1 || len(in[k].i) != len(in[1].i) {
				return nil, nodeErr(n, "input %d: want as many INT64 values as starts", k+1)
			}
			return in[k].i, nil
		}
		v := make([]int64, len(in[1].i))
		for j := range v {
			v[j] = def(j)
		}
		return v, nil
	}
	starts, err := list(1, nil)
	if err != nil {
		return nil, err
	}
	ends, err := list(2, nil)
	if err != nil {
		return nil, err
	}
	axes, err := list(3, func(j int) int64 { return int64(j) })
	if err != nil {
		return nil, err
	}
	steps, err := list(4, func(int) int64 { return 1 })
	if err != nil {
		return nil, err
	}
	start, step, dims := make([]int, rank), make([]int, rank), slices.Clone(c.dims)
	for k := range step {
		step[k] = 1
	}
	for j, ax := range axes {
		if ax < 0 {
			ax += int64(rank)
		}
		if ax < 0 || ax >= int64(rank) || steps[j] == 0 {
			return nil, nodeErr(n, "axis %d, step %d on a constant of shape %v", axes[j], steps[j], c.dims)
		}
		d := int64(c.dims[ax])
		// A step longer than the axis takes one value at most.
		s, e, st := starts[j], ends[j], max(min(steps[j], d+1), -d-1)
		if s < 0 {
			s += d
		}
		if e < 0 {
			e += d
		}
		var count int64
		if st > 0 {
			s, e = min(max(s, 0), d), min(max(e, 0), d)
			count = max(0, (e-s+st-1)/st)
		} else {
			s, e = min(max(s, -1), d-1), min(max(e, -1), d-1)
			count = max(0, (s-e-st-1)/-st)
		}
		start[ax], step[ax], dims[ax] = int(s), int(st), int(count)
	}
	if err := b.allot(n, count(dims)); err != nil {
		return nil, err
	}
	src, dst := strides(c.dims), strides(dims)
	return c.gather(dims, func(k int) int {
		at := 0
		for ax := range dims {
			at += (start[ax] + k/dst[ax]%dims[ax]*step[ax]) * src[ax]
		}
		return at
	}), nil
}

func foldTranspose(b *onnxBuilder, n *onnxpb.NodeProto, in []*onnxConst) (*onnxConst, error) {
	a, err := attrs(n, "perm")
	if err != nil {
		return nil, err
	}
	c, rank := in[0], len(in[0].dims)
	perm := a.ints("perm")
	if perm == nil {
		for k := rank - 1; k >= 0; k-- {
			perm = append(perm, k)
		}
	}
	sorted := slices.Sorted(slices.Values(perm))
	if a.err != nil || len(perm) != rank || rank > 0 && (sorted[0] != 0 || sorted[rank-1] != rank-1 || len(slices.Compact(sorted)) != rank) {
		return nil, nodeErr(n, "attribute perm = %v on a constant of shape %v", perm, c.dims)
	}
	dims := make([]int, rank)
	for k, p := range perm {
		dims[k] = c.dims[p]
	}
	if err := b.allot(n, c.size()); err != nil {
		return nil, err
	}
	src, dst := strides(c.dims), strides(dims)
	return c.gather(dims, func(k int) int {
		at := 0
		for ax, p := range perm {
			at += k / dst[ax] % dims[ax] * src[p]
		}
		return at
	}), nil
}
