package model

import (
	"fmt"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
)

// The merge layers, both ways: a graph's Add, Multiply, Average, Subtract,
// Maximum, Minimum and Concatenate export as Add or Sum, Mul, Mean, Sub,
// Max, Min and Concat nodes, and those nodes on computed tensors import as
// the layers. A ScaledAdd exports as a Mul by its scale and an Add, which
// import as a Rescaling and an Add.

// merge appends the nodes of merge layer l called on the tensors inputs;
// e.shape is the shape of the first.
func (e *onnxWriter) merge(l nn.Layer, inputs []string) error {
	name := l.Name()
	e.cur = inputs[0]
	switch l.Type() {
	case "Add":
		op := "Sum"
		if len(inputs) == 2 {
			op = "Add"
		}
		e.apply(op, name, inputs[1:])
	case "Multiply":
		// ONNX's Mul takes two inputs: one node for each input after the
		// first, multiplied in order as convnet does, the first named after
		// the layer.
		for k, x := range inputs[1:] {
			nm := name
			if k > 0 {
				nm = fmt.Sprintf("%s/%d", name, k+1)
			}
			e.apply("Mul", nm, []string{x})
		}
	case "Average":
		e.apply("Mean", name, inputs[1:])
	case "Subtract":
		e.apply("Sub", name, inputs[1:])
	case "ScaledAdd":
		e.scaledAdd(l.(*nn.ScaledAdd), inputs[0], inputs[1])
	case "Maximum":
		e.apply("Max", name, inputs[1:])
	case "Minimum":
		e.apply("Min", name, inputs[1:])
	case "Concatenate":
		axis, ok := l.Config()["axis"].(int)
		r := len(e.shape)
		switch {
		case ok && axis < 0 && axis >= -r:
			axis += r
		case ok && axis > 0 && axis <= r:
			axis--
		default:
			return fmt.Errorf("axis %v of inputs of shape %v", l.Config()["axis"], e.shape)
		}
		e.apply("Concat", name, inputs[1:], attrInt("axis", onnxAxis(axis, r)))
	default:
		return fmt.Errorf("no ONNX form for a merge layer of type %s", l.Type())
	}
	e.shape = l.OutputShape()
	return nil
}

// onnxAxis returns the ONNX axis, batch included, of axis i of a convnet
// sample of rank r: the channels of an image [H W C] are axis 1 of NCHW.
func onnxAxis(i, r int) int {
	if r != 3 {
		return i + 1
	}
	return []int{2, 3, 1}[i]
}

// tensors returns the node's inputs, at least one, all computed.
func (b *onnxBuilder) tensors(n *onnxpb.NodeProto) ([]*onnxValue, error) {
	if len(n.GetInput()) == 0 {
		return nil, nodeErr(n, "no input")
	}
	xs := make([]*onnxValue, len(n.GetInput()))
	for k, name := range n.GetInput() {
		if name == "" {
			return nil, nodeErr(n, "input %d is empty", k)
		}
		x, err := b.tensor(n, name)
		if err != nil {
			return nil, err
		}
		xs[k] = x
	}
	return xs, nil
}

// importMerge turns Add, Sum, Mul, Mean, Sub, Max and Min of computed
// tensors into the merge layers Add, Multiply, Average, Subtract, Maximum
// and Minimum: tensors of one shape, or images
// of size 1 along the axes where they differ (which the layers broadcast).
// Sum and Mean of one tensor are that tensor, a Mul of the output of a
// Multiply that nothing else reads is one more input of it, and x times
// the sigmoid or hard sigmoid of x is the silu or hard_silu of x.
func importMerge(b *onnxBuilder, n *onnxpb.NodeProto) error {
	if _, err := attrs(n); err != nil {
		return err
	}
	xs, err := b.tensors(n)
	if err != nil {
		return err
	}
	if v := b.swish(n, xs); v != nil {
		return b.output(n, v)
	}
	x := xs[0]
	out := slices.Clone(x.shape)
	for k, y := range xs[1:] {
		same := slices.Equal(y.shape, x.shape) && y.flat == x.flat && y.nhwc == x.nhwc
		if !same && !broadcasts(y, x) {
			return nodeErr(n, "input %q is %s, input %q %s: convnet's merge layers join tensors of one shape, or images of size 1 along the axes where they differ",
				n.GetInput()[k+1], y.describe(), n.GetInput()[0], x.describe())
		}
		for i := range out {
			out[i] = max(out[i], y.shape[i])
		}
		if !slices.Equal(y.order, x.order) {
			return nodeErr(n, "inputs %q and %q are vectors whose features convnet holds in different orders (one flattened from an image)", n.GetInput()[0], n.GetInput()[k+1])
		}
	}
	if len(xs) == 1 {
		return b.output(n, b.same(n, x))
	}
	if _, ok := x.fold.(*nn.Multiply); ok && n.GetOpType() == "Mul" && b.soleReader(n.GetInput()[0]) {
		// A chain of Mul nodes is one Multiply, which multiplies in order.
		x.node.in = append(x.node.in, xs[1].node)
		return b.output(n, b.same(n, x))
	}
	var l nn.Layer
	switch n.GetOpType() {
	case "Add", "Sum":
		l = &nn.Add{}
	case "Mul":
		l = &nn.Multiply{}
	case "Sub":
		l = &nn.Subtract{}
	case "Max":
		l = &nn.Maximum{}
	case "Min":
		l = &nn.Minimum{}
	default:
		l = &nn.Average{}
	}
	_, sub := l.(*nn.Subtract)
	v := x.after(b.call(n, l, xs)).nonNegative(!sub && allNonNegative(xs))
	v.shape = out
	switch l.(type) {
	case *nn.Add, *nn.Multiply:
		v.fold = l // a Div may make an Add an Average, a Mul extend a Multiply
	}
	return b.output(n, v)
}

// broadcasts reports whether images x and y have one shape but for axes
// where one of them has size 1.
func broadcasts(x, y *onnxValue) bool {
	if len(x.shape) != 3 || len(y.shape) != 3 || x.flat || y.flat || x.nhwc || y.nhwc {
		return false
	}
	for i, d := range x.shape {
		if d != y.shape[i] && d != 1 && y.shape[i] != 1 {
			return false
		}
	}
	return true
}

// swish returns the output of a Mul of x and the sigmoid (or hard sigmoid)
// of x that nothing else reads, as PyTorch exports SiLU (and Hardswish
// before opset 14): the sigmoid's layer becomes silu (hard_silu), or, when
// the gate and the Mul are all that read x, the layer that computes x
// without an activation takes the function. It returns nil for any other
// Mul.
func (b *onnxBuilder) swish(n *onnxpb.NodeProto, xs []*onnxValue) *onnxValue {
	if n.GetOpType() != "Mul" || len(xs) != 2 {
		return nil
	}
	for k, g := range xs {
		x := xs[1-k]
		act, ok := g.node.layer.(*nn.Activation)
		if !ok || len(g.node.in) != 1 || g.node.in[0] != x.node || !b.soleReader(n.GetInput()[k]) {
			continue
		}
		fn := map[string]string{"sigmoid": "silu", "hard_sigmoid": "hard_silu"}[act.Func]
		if fn == "" {
			continue
		}
		if b.inputs[n.GetInput()[1-k]] == 2 && x.fold != nil && x.node.layer == x.fold && setActivation(x.fold, fn) {
			return x.after(x.node)
		}
		act.Func = fn
		return g.after(g.node)
	}
	return nil
}

// describe gives a tensor's shape per sample for messages: "[N 16 13 13]",
// and how convnet holds it when that differs.
// dimList writes sizes as a list without brackets: "3 32 32".
func dimList(s []int) string { return strings.Trim(fmt.Sprint(s), "[]") }

func (v *onnxValue) describe() string {
	s := "[N " + dimList(v.shape) + "]"
	switch {
	case v.flat:
		s += " (a vector in convnet)"
	case v.nhwc:
		s += " (transposed to NHWC)"
	}
	return s
}

// importConcat turns Concat of computed tensors into a Concatenate layer:
// images along their channels, height or width, vectors along their
// features.
func importConcat(b *onnxBuilder, n *onnxpb.NodeProto) error {
	a, err := attrs(n, "axis")
	if err != nil {
		return err
	}
	if !a.has("axis") {
		return nodeErr(n, "attribute axis is missing")
	}
	axis := a.int("axis", 0)
	if a.err != nil {
		return a.err
	}
	xs, err := b.tensors(n)
	if err != nil {
		return err
	}
	x := xs[0]
	rank := len(x.shape) + 1
	if axis < 0 {
		axis += rank
	}
	if axis < 1 || axis >= rank || x.vector() && axis != 1 {
		return nodeErr(n, "attribute axis = %d on %s: convnet joins the channels, height or width of images and the features of vectors", a.int("axis", 0), x.describe())
	}
	out := slices.Clone(x.shape)
	out[axis-1] = 0
	for k, y := range xs {
		ok := len(y.shape) == len(x.shape) && y.flat == x.flat && y.nhwc == x.nhwc
		for i := 0; ok && i < len(x.shape); i++ {
			ok = i == axis-1 || y.shape[i] == x.shape[i]
		}
		if !ok {
			return nodeErr(n, "input %q is %s, input %q %s: all axes but axis %d must agree", n.GetInput()[k], y.describe(), n.GetInput()[0], x.describe(), axis)
		}
		out[axis-1] += y.shape[axis-1]
		if size := boundedSize(out); size > maxInputSize {
			return nodeErr(n, "joins more than %d values per sample", maxInputSize)
		}
	}
	if len(xs) == 1 {
		return b.output(n, b.same(n, x))
	}
	// convnet's axis (Keras's, counting the batch as 0; -1 the last) for
	// the ONNX axis: images are [H W C] in convnet, [C H W] in ONNX
	// unless transposed.
	l := &nn.Concatenate{Axis: -1}
	if !x.vector() {
		l.Axis = [4]int{0, -1, 1, 2}[axis]
		if x.nhwc {
			l.Axis = [4]int{0, 1, 2, -1}[axis]
		}
	}
	v := &onnxValue{shape: out, flat: x.flat, nhwc: x.nhwc, nonneg: allNonNegative(xs)}
	if v.order, err = b.joinOrders(n, xs, out[0]); err != nil {
		return err
	}
	v.node = b.call(n, l, xs)
	return b.output(n, v)
}

// joinOrders returns the order of the vector of size features that joins
// the vectors xs, nil when none of them is reordered.
func (b *onnxBuilder) joinOrders(n *onnxpb.NodeProto, xs []*onnxValue, size int) ([]int, error) {
	if !slices.ContainsFunc(xs, func(x *onnxValue) bool { return x.order != nil }) {
		return nil, nil
	}
	order, err := b.newOrder(n, size)
	if err != nil {
		return nil, err
	}
	off := 0
	for _, x := range xs {
		for i := range x.shape[0] {
			j := i
			if x.order != nil {
				j = x.order[i]
			}
			order[off+i] = off + j
		}
		off += x.shape[0]
	}
	return order, nil
}

// importReduce turns the mean (ReduceMean) or the maximum (ReduceMax) over
// the height and width of an image into GlobalAveragePooling2D or
// GlobalMaxPooling2D, as PyTorch's x.mean((2, 3)) and x.amax((2, 3))
// export.
func importReduce(b *onnxBuilder, n *onnxpb.NodeProto) error {
	a, err := attrs(n, "axes", "keepdims", "noop_with_empty_axes")
	if err != nil {
		return err
	}
	x, err := b.image(n)
	if err != nil {
		return err
	}
	axes := a.ints("axes")
	keep := a.int("keepdims", 1)
	if a.err != nil {
		return a.err
	}
	if axes == nil && len(n.GetInput()) > 1 && n.GetInput()[1] != "" { // opset 18: axes is an input
		c, err := b.constant(n, 1, false)
		if err != nil {
			return err
		}
		for _, v := range c.i {
			axes = append(axes, int(max(min(v, 8), -8)))
		}
	}
	given := slices.Clone(axes)
	for i, v := range axes {
		if v < 0 {
			axes[i] = v + 4
		}
	}
	slices.Sort(axes)
	what, maximum := "mean", n.GetOpType() == "ReduceMax"
	if maximum {
		what = "maximum"
	}
	if !slices.Equal(axes, []int{2, 3}) || keep != 0 && keep != 1 {
		return nodeErr(n, "axes %v, keepdims %d: only the %s over the height and width of an image (axes 2, 3) is a convnet layer", given, keep, what)
	}
	return b.globalPool(n, x, keep == 1, maximum)
}

// boundedSize returns the number of values of a shape of positive sizes, or
// more than maxInputSize when it is larger, without overflowing.
func boundedSize(shape []int) int {
	n := 1
	for _, d := range shape {
		if n *= d; n > maxInputSize {
			return n
		}
	}
	return n
}
