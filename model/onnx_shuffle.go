package model

import (
	"slices"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
)

// ShuffleNet's channels. PyTorch writes its channel shuffle,
// x.view(N, g, C/g, H, W).transpose(1, 2).reshape(N, -1, H, W), as a
// Reshape of an image to [N g C/g H W], a Transpose of perm [0 2 1 3 4] and
// a Reshape back to [N C H W]: a ChannelShuffle of g groups (of a vector's
// features likewise, without H and W). The split image is a value of shape
// [g C/g H W] (grouped), [C/g g H W] once transposed (shuffled), which only
// Transpose, Reshape and Shape read. Its
// x.chunk(2, dim=1) is a Slice of the channels, or a Split: ChannelSlice
// layers. The channel counts they take come from Shape through Gather,
// Add, Div and Mul of integers, which are folded.

// grouping is the state of a split image: its channel axis cut into groups
// (the ONNX shape [N g C/g H W]) and, when shuffled, the two axes swapped.
type grouping int

const (
	groupedChannels grouping = iota + 1
	shuffledChannels
)

// readsGroups are the operators that may read a split image.
var readsGroups = map[string]bool{"Reshape": true, "Transpose": true, "Shape": true}

// importReshape turns a Reshape to [N features] into a Flatten, and the
// two Reshapes of a channel shuffle into a split image and a
// ChannelShuffle.
func importReshape(b *onnxBuilder, n *onnxpb.NodeProto) error {
	x, err := b.computed(n)
	if err != nil {
		return err
	}
	t, err := b.reshapeShape(n)
	if err != nil {
		return err
	}
	s := x.shape
	split := x.grouping == 0 && !x.nhwc && x.order == nil && len(t) == len(s)+2
	if !split && x.grouping == 0 {
		size := boundedSize(s)
		// A vector as an image of one cell: [N size 1 1].
		if x.vector() && len(t) == 4 && (t[1] == int64(size) || t[1] == -1) && t[2] == 1 && t[3] == 1 {
			return b.unflatten(n, x, size)
		}
		// To [N features]: [0 or -1 or N, size], or [0, -1].
		if len(t) != 2 || t[1] != int64(size) && (t[1] != -1 || t[0] != 0) {
			return nodeErr(n, "shape %v: only a reshape to [N, %d] (or of a vector to [N, %d, 1, 1]) is supported", t, size, size)
		}
		return b.flatten(n, x)
	}
	dims, err := reshapeDims(n, t, s)
	if err != nil {
		return err
	}
	if split {
		if dims[0]*dims[1] != s[0] || !slices.Equal(dims[2:], s[1:]) {
			return nodeErr(n, "shape %v of %s: convnet splits only the channels into groups, [N g %d/g %s]", t, x.describe(), s[0], dimList(s[1:]))
		}
		return b.output(n, &onnxValue{node: x.node, shape: dims, flat: x.flat, grouping: groupedChannels, nonneg: x.nonneg})
	}
	if len(dims) != len(s)-1 || dims[0] != s[0]*s[1] || !slices.Equal(dims[1:], s[2:]) {
		return nodeErr(n, "shape %v of channels split into groups [N %s]: convnet joins them again only, to [N %d %s]", t, dimList(s), s[0]*s[1], dimList(s[2:]))
	}
	v := &onnxValue{node: x.node, shape: dims, flat: x.flat, nonneg: x.nonneg}
	if x.grouping == shuffledChannels {
		v.node = b.add(n, &nn.ChannelShuffle{Groups: s[1]}, x)
	}
	return b.output(n, v)
}

// reshapeShape returns a Reshape's shape, whose first value stands for the
// batch size (0, -1, a Shape's batch size, or a fixed size); its other
// zeros copy the input's sizes (see reshapeDims); with allowzero set, a zero
// is refused.
func (b *onnxBuilder) reshapeShape(n *onnxpb.NodeProto) ([]int64, error) {
	a, err := attrs(n, "allowzero")
	if err != nil {
		return nil, err
	}
	allowZero := a.int("allowzero", 0)
	if a.err != nil {
		return nil, a.err
	}
	var s *onnxConst
	if len(n.GetInput()) > 1 {
		if v := b.values[n.GetInput()[1]]; v != nil && v.konst != nil && v.konst.batch == 1 {
			s, allowZero = v.konst, 0
		}
	}
	if s == nil {
		if s, err = b.constant(n, 1, false); err != nil {
			return nil, err
		}
	}
	if !s.isInt() || len(s.dims) != 1 || len(s.i) == 0 {
		return nil, nodeErr(n, "input shape: want a list of INT64 values, got shape %v", s.dims)
	}
	t := slices.Clone(s.i)
	if t[0] < -1 || t[0] == 0 && allowZero != 0 {
		return nil, nodeErr(n, "shape %v: the first value must keep the batch size", t)
	}
	if allowZero != 0 && slices.Contains(t[1:], 0) {
		return nil, nodeErr(n, "shape %v with allowzero = 1: a size of 0", t)
	}
	return t, nil
}

// reshapeDims returns the per-sample sizes of a Reshape of a sample of
// shape in to [N t...]: zeros copy the input's size, one -1 takes what
// the others leave. A fixed first value (PyTorch's export with a batch of
// one: [1 -1 H W]) is the batch size.
func reshapeDims(n *onnxpb.NodeProto, t []int64, in []int) ([]int, error) {
	size := 1
	for _, d := range in {
		size *= d
	}
	dims, known, free := make([]int, len(t)-1), 1, -1
	for k, v := range t[1:] {
		switch {
		case v == 0 && k < len(in):
			dims[k] = in[k]
		case v == -1 && free < 0:
			free = k
			continue
		case v < 1 || v > maxInputSize:
			return nil, nodeErr(n, "shape %v: size %d out of range", t, v)
		default:
			dims[k] = int(v)
		}
		if known *= dims[k]; known > size {
			return nil, nodeErr(n, "shape %v: more values per sample than the input's %d", t, size)
		}
	}
	if free >= 0 && known > 0 && size%known == 0 {
		dims[free] = size / known
		known = size
	}
	if known != size {
		return nil, nodeErr(n, "shape %v: %d values per sample, the input has %d", t, known, size)
	}
	return dims, nil
}

// shuffleTranspose swaps the group axes of a split image: perm
// [0 2 1 3 4] (or [0 2 1] for a vector).
func (b *onnxBuilder) shuffleTranspose(n *onnxpb.NodeProto, x *onnxValue, perm []int) error {
	want := []int{0, 2, 1}
	for k := 3; k <= len(x.shape); k++ {
		want = append(want, k)
	}
	if !slices.Equal(perm, want) {
		return nodeErr(n, "attribute perm = %v on channels split into groups [N %s]: only %v (a channel shuffle) is supported", perm, dimList(x.shape), want)
	}
	v := &onnxValue{node: x.node, shape: slices.Clone(x.shape), flat: x.flat, grouping: groupedChannels, nonneg: x.nonneg}
	v.shape[0], v.shape[1] = x.shape[1], x.shape[0]
	if x.grouping == groupedChannels {
		v.grouping = shuffledChannels
	}
	return b.output(n, v)
}

// channelSlice returns the channels start to end-1 of x, computed by a
// ChannelSlice named after node n.
func (b *onnxBuilder) channelSlice(n *onnxpb.NodeProto, x *onnxValue, start, end int) *onnxValue {
	v := x.after(b.add(n, &nn.ChannelSlice{Start: start, End: end}, x))
	v.shape = slices.Clone(x.shape)
	v.shape[0] = end - start
	v.nonneg = x.nonneg
	return v
}

// importSplit turns a Split of the channels of an image, or of the
// features of a vector, into a ChannelSlice for each output.
func importSplit(b *onnxBuilder, n *onnxpb.NodeProto) error {
	a, err := attrs(n, "axis", "split", "num_outputs")
	if err != nil {
		return err
	}
	x, err := b.computed(n)
	if err != nil {
		return err
	}
	axis, parts := a.int("axis", 0), a.ints("split")
	if a.err != nil {
		return a.err
	}
	if axis < 0 {
		axis += len(x.shape) + 1
	}
	if axis != 1 || x.nhwc || x.order != nil {
		return nodeErr(n, "attribute axis = %d on %s: convnet splits the channels of an image, or the features of a vector", a.int("axis", 0), x.describe())
	}
	if b.opset >= 13 {
		c, err := b.constant(n, 1, true)
		if err != nil {
			return err
		}
		if c != nil {
			if !c.isInt() || len(c.dims) != 1 {
				return nodeErr(n, "input split: want a list of INT64 values, got shape %v", c.dims)
			}
			parts = make([]int, len(c.i))
			for k, v := range c.i {
				parts[k] = int(max(min(v, maxInputSize), -1))
			}
		}
	}
	out, c := n.GetOutput(), x.shape[0]
	if parts == nil {
		if k := len(out); k == 0 || c%k != 0 {
			return nodeErr(n, "%d outputs of %d channels: without split, the outputs share the channels equally", k, c)
		}
		for range out {
			parts = append(parts, c/len(out))
		}
	}
	sum := 0
	for _, p := range parts {
		if p < 1 {
			return nodeErr(n, "split %v: want positive sizes", parts)
		}
		sum += p
	}
	if len(parts) != len(out) || sum != c {
		return nodeErr(n, "split %v into %d outputs of %d channels: want one size per output, adding up to %d", parts, len(out), c, c)
	}
	start := 0
	for k, name := range out {
		end := start + parts[k]
		if name != "" {
			one := &onnxpb.NodeProto{Name: n.Name, OpType: n.OpType, Output: []string{name}}
			b.values[name] = b.channelSlice(one, x, start, end)
		}
		start = end
	}
	return nil
}

// channelShuffle writes a ChannelShuffle as PyTorch writes
// x.view(N, g, C/g, ...).transpose(1, 2).reshape(N, C, ...).
func (e *onnxWriter) channelShuffle(l *nn.ChannelShuffle) {
	name, g, s := l.Name(), l.Groups, nchw(e.shape)
	split := append([]int64{0, int64(g), int64(s[0] / g)}, ints64(s[1:])...)
	perm := []int{0, 2, 1}
	for k := range s[1:] {
		perm = append(perm, k+3)
	}
	e.apply("Reshape", name+"/split", []string{e.ints(name+"/split_shape", split)})
	e.apply("Transpose", name+"/transpose", nil, attrInts("perm", perm...))
	e.apply("Reshape", name, []string{e.ints(name+"/shape", append([]int64{0}, ints64(s)...))})
}
