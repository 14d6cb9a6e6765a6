package model

import (
	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
)

// importSlice turns a Slice with step 1 into the layers that compute it:
// of the channels of an image, or of the features of a vector, a
// ChannelSlice; of the height and width of an image, a Cropping2D
// (PyTorch's x[:, :, 1:, 1:], one Slice per axis or one for both).
func importSlice(b *onnxBuilder, n *onnxpb.NodeProto) error {
	if _, err := attrs(n); err != nil {
		return err
	}
	x, err := b.computed(n)
	if err != nil {
		return err
	}
	var v [4][]int64 // starts, ends, axes, steps
	for i, what := range []string{"starts", "ends", "axes", "steps"} {
		c, err := b.constant(n, i+1, i >= 2)
		if err != nil {
			return err
		}
		if c == nil {
			continue
		}
		if !c.isInt() || len(c.dims) != 1 || len(c.i) == 0 || i > 0 && len(c.i) != len(v[0]) {
			return nodeErr(n, "input %s: want as many INT64 values as starts (%d), got shape %v", what, len(v[0]), c.dims)
		}
		v[i] = c.i
	}
	rank := int64(len(x.shape) + 1)
	channels, crop := [2]int{0, x.shape[0]}, [2][2]int{}
	seen := map[int64]bool{}
	for j := range v[0] {
		axis, step := int64(j), int64(1)
		if v[2] != nil {
			axis = v[2][j]
		}
		if v[3] != nil {
			step = v[3][j]
		}
		if axis < 0 {
			axis += rank
		}
		image := len(x.shape) == 3 && !x.flat && (axis == 2 || axis == 3)
		if !(axis == 1 || image) || step != 1 || x.nhwc || x.order != nil || seen[axis] {
			return nodeErr(n, "axis %d, step %d on %s: convnet slices the channels of an image, or the features of a vector, and crops the height and width of an image, each once, with step 1", axis, step, x.describe())
		}
		seen[axis] = true
		size := int64(x.shape[axis-1])
		start, end := v[0][j], v[1][j]
		if start < 0 {
			start += size
		}
		if end < 0 {
			end += size
		}
		start, end = min(max(start, 0), size), min(max(end, 0), size)
		if start >= end {
			what := map[int64]string{1: "channels", 2: "rows", 3: "columns"}[axis]
			return nodeErr(n, "%s %d to %d of %d: an empty slice", what, v[0][j], v[1][j], size)
		}
		if axis == 1 {
			channels = [2]int{int(start), int(end)}
		} else {
			crop[axis-2] = [2]int{int(start), int(size - end)}
		}
	}
	if channels != [2]int{0, x.shape[0]} || crop == [2][2]int{} {
		x = b.channelSlice(n, x, channels[0], channels[1])
	}
	if crop != [2][2]int{} {
		x = b.crop(n, x, crop)
	}
	return b.output(n, x)
}

// crop returns image x cropped by c ((top, bottom), (left, right)) in a
// Cropping2D named after node n.
func (b *onnxBuilder) crop(n *onnxpb.NodeProto, x *onnxValue, c [2][2]int) *onnxValue {
	v := x.after(b.add(n, &nn.Cropping2D{Cropping: c}, x))
	v.shape = []int{x.shape[0], x.shape[1] - c[0][0] - c[0][1], x.shape[2] - c[1][0] - c[1][1]}
	v.nonneg = x.nonneg
	return v
}
