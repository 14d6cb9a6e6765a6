package model

import (
	"slices"

	"github.com/convnet-go/convnet/internal/onnxpb"
)

// Exporters compute some constants in the graph: PyTorch writes the pads of
// F.pad (nn.ZeroPad2d) as ConstantOfShape, Concat, Reshape, Slice,
// Transpose and Cast nodes over Constant nodes, and x.view(x.size(0), -1)
// as Shape, Gather, Unsqueeze and Concat; ShuffleNet's channel counts are
// Add, Div and Mul of a Shape's values; a normalization's divisor is the
// Clip of the Sqrt of its variance. ImportONNX folds such nodes into
// the constants they compute; the batch size, which a Shape reads, is
// followed through Gather, Unsqueeze, Slice, Concat and Reshape to the
// first axis of a Reshape's shape or of a Resize's sizes, the places
// convnet takes it.

// maxFolded bounds the values of a constant computed in the graph.
const maxFolded = 1 << 24

// foldOps are the operators folded when every input is a constant.
var foldOps = map[string]func(b *onnxBuilder, n *onnxpb.NodeProto, in []*onnxConst) (*onnxConst, error){
	"ConstantOfShape": foldConstantOfShape,
	"Concat":          foldConcat,
	"Reshape":         foldReshape,
	"Slice":           foldSlice,
	"Transpose":       foldTranspose,
	"Cast":            foldCast,
	"Gather":          foldGather,
	"Unsqueeze":       foldUnsqueeze,
	"Add":             foldArithmetic,
	"Sub":             foldArithmetic,
	"Mul":             foldArithmetic,
	"Div":             foldArithmetic,
	"Sqrt":            foldSqrt,
	"Clip":            foldClip,
}

// fold computes node n when its operator is one of foldOps and every input
// it is given is a constant, and records the result; it reports whether it
// did.
func (b *onnxBuilder) fold(n *onnxpb.NodeProto) (bool, error) {
	f, ok := foldOps[n.GetOpType()]
	if !ok || len(n.GetInput()) == 0 {
		return false, nil
	}
	in := make([]*onnxConst, len(n.GetInput()))
	for i, name := range n.GetInput() {
		if name == "" {
			continue
		}
		v := b.values[name]
		if v == nil || v.konst == nil {
			return false, nil
		}
		if v.konst.batch != 0 && (!batchOps[n.GetOpType()] || (n.GetOpType() == "Reshape" || n.GetOpType() == "Slice") && i > 0) {
			return true, errBatch(n, name)
		}
		in[i] = v.konst
	}
	if in[0] == nil {
		return false, nil
	}
	c, err := f(b, n, in)
	if err != nil {
		return true, err
	}
	return true, b.output(n, &onnxValue{konst: c})
}

// isInt reports whether c holds INT64 values.
func (c *onnxConst) isInt() bool { return c.i != nil || c.f == nil }

// gather returns a constant of c's type with the given dims whose value k
// is c's value at(k); the batch size, where c has it, is marked where it
// goes first.
func (c *onnxConst) gather(dims []int, at func(k int) int) *onnxConst {
	n := 1
	for _, d := range dims {
		n *= d
	}
	out := &onnxConst{dims: dims}
	if c.isInt() {
		out.i = make([]int64, n)
		for k := range out.i {
			from := at(k)
			out.i[k] = c.i[from]
			if c.batch != 0 && from == c.batch-1 && out.batch == 0 {
				out.batch = k + 1
			}
		}
		return out
	}
	out.f = make([]float32, n)
	for k := range out.f {
		out.f[k] = c.f[at(k)]
	}
	return out
}

// count returns the number of values of a constant of the given dims, which
// checkFolded (or the constant the dims come from) has bounded.
func count(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// shapeOf reads a constant holding a shape: INT64 values, none negative
// unless allowed, making at most maxFolded values.
func shapeOf(n *onnxpb.NodeProto, what string, c *onnxConst, signed bool) ([]int, error) {
	if !c.isInt() || len(c.dims) > 1 {
		return nil, nodeErr(n, "input %s: want a list of INT64 values, got shape %v", what, c.dims)
	}
	dims := make([]int, len(c.i))
	for k, v := range c.i {
		if v > maxFolded || v < -1 || v < 0 && !signed {
			return nil, nodeErr(n, "input %s: dimension %d out of range", what, v)
		}
		dims[k] = int(v)
	}
	return dims, nil
}

// allot takes the values of a constant node n computes from what the
// graph's computed constants may hold together, before they are allocated.
func (b *onnxBuilder) allot(n *onnxpb.NodeProto, values int) error {
	if values > b.folds {
		return nodeErr(n, "computes a constant of %d values: more than the file, %d bytes, justifies for the constants it computes", values, b.folds)
	}
	b.folds -= values
	return nil
}

// checkFolded refuses dims of more than maxFolded values.
func checkFolded(n *onnxpb.NodeProto, dims []int) error {
	size := 1
	for _, d := range dims {
		if d < 0 || d > 0 && size > maxFolded/d {
			return nodeErr(n, "computes a constant of shape %v: more than %d values", dims, maxFolded)
		}
		size *= d
	}
	return nil
}

func foldConstantOfShape(b *onnxBuilder, n *onnxpb.NodeProto, in []*onnxConst) (*onnxConst, error) {
	a, err := attrs(n, "value")
	if err != nil {
		return nil, err
	}
	value := &onnxConst{dims: []int{1}, f: []float32{0}}
	if a.has("value") {
		t := a.get("value", onnxpb.AttributeProto_TENSOR)
		if a.err != nil {
			return nil, a.err
		}
		if value, err = parseTensor(t.GetT()); err != nil {
			return nil, nodeErr(n, "attribute value: %v", err)
		}
		if value.size() != 1 {
			return nil, nodeErr(n, "attribute value: want one value, got shape %v", value.dims)
		}
	}
	dims, err := shapeOf(n, "shape", in[0], false)
	if err != nil {
		return nil, err
	}
	if err := checkFolded(n, dims); err != nil {
		return nil, err
	}
	if err := b.allot(n, count(dims)); err != nil {
		return nil, err
	}
	return value.gather(dims, func(int) int { return 0 }), nil
}

func foldConcat(b *onnxBuilder, n *onnxpb.NodeProto, in []*onnxConst) (*onnxConst, error) {
	a, err := attrs(n, "axis")
	if err != nil {
		return nil, err
	}
	first := in[0]
	axis := a.int("axis", 0)
	if axis < 0 {
		axis += len(first.dims)
	}
	if a.err != nil || axis < 0 || axis >= len(first.dims) {
		return nil, nodeErr(n, "attribute axis = %d on constants of shape %v", a.int("axis", 0), first.dims)
	}
	dims := slices.Clone(first.dims)
	dims[axis] = 0
	for k, c := range in {
		join := c != nil && c.isInt() == first.isInt() && len(c.dims) == len(dims)
		for ax := range dims {
			join = join && (ax == axis || c.dims[ax] == dims[ax])
		}
		if !join {
			return nil, nodeErr(n, "input %d does not join the first along axis %d: a constant of another shape or type, or none", k+1, axis)
		}
		dims[axis] += c.dims[axis]
	}
	if err := checkFolded(n, dims); err != nil {
		return nil, err
	}
	if err := b.allot(n, count(dims)); err != nil {
		return nil, err
	}
	// Row k of the result along axis comes from the input holding it.
	outer := 1
	for _, d := range dims[:axis] {
		outer *= d
	}
	inner := 1
	for _, d := range dims[axis+1:] {
		inner *= d
	}
	out := &onnxConst{dims: dims}
	at := 0 // where each input starts in a list
	for _, c := range in {
		if c.batch != 0 {
			if len(dims) != 1 || out.batch != 0 {
				return nil, nodeErr(n, "joins the batch size into a constant of shape %v: convnet takes it only in a list", dims)
			}
			out.batch = at + c.batch
		}
		at += c.size()
	}
	for o := range outer {
		for _, c := range in {
			lo, hi := o*c.dims[axis]*inner, (o+1)*c.dims[axis]*inner
			if c.isInt() {
				out.i = append(out.i, c.i[lo:hi]...)
			} else {
				out.f = append(out.f, c.f[lo:hi]...)
			}
		}
	}
	return out, nil
}

func foldReshape(b *onnxBuilder, n *onnxpb.NodeProto, in []*onnxConst) (*onnxConst, error) {
	a, err := attrs(n, "allowzero")
	if err != nil {
		return nil, err
	}
	allowZero := a.int("allowzero", 0) != 0 // a 0 is a 0, not the input's size
	if a.err != nil {
		return nil, a.err
	}
	if len(in) != 2 || in[1] == nil {
		return nil, nodeErr(n, "want the data and the shape")
	}
	dims, err := shapeOf(n, "shape", in[1], true)
	if err != nil {
		return nil, err
	}
	size, known, infer := in[0].size(), 1, -1
	for k, d := range dims {
		switch {
		case d == 0 && allowZero:
		case d == 0 && k < len(in[0].dims):
			dims[k] = in[0].dims[k]
		case d == -1 && infer < 0:
			infer = k
			continue
		case d <= 0:
			return nil, nodeErr(n, "shape %v for a constant of shape %v", in[1].i, in[0].dims)
		}
		known *= dims[k]
	}
	if infer >= 0 && known > 0 {
		dims[infer] = size / known
		known *= dims[infer]
	}
	if known != size {
		return nil, nodeErr(n, "shape %v for a constant of shape %v", in[1].i, in[0].dims)
	}
	if err := checkFolded(n, dims); err != nil {
		return nil, err
	}
	return &onnxConst{dims: dims, f: in[0].f, i: in[0].i, batch: in[0].batch}, nil
}

func foldCast(b *onnxBuilder, n *onnxpb.NodeProto, in []*onnxConst) (*onnxConst, error) {
	a, err := attrs(n, "to", "saturate")
	if err != nil {
		return nil, err
	}
	c, to := in[0], onnxpb.TensorProto_DataType(a.int("to", 0))
	if a.err != nil {
		return nil, a.err
	}
	out := &onnxConst{dims: c.dims}
	if err := b.allot(n, c.size()); err != nil {
		return nil, err
	}
	switch {
	case to == onnxpb.TensorProto_INT64 && c.isInt(), to == onnxpb.TensorProto_FLOAT && !c.isInt():
		return c, nil
	case to == onnxpb.TensorProto_INT64:
		out.i = make([]int64, len(c.f))
		for k, v := range c.f {
			out.i[k] = int64(max(min(v, 1<<62), -1<<62))
		}
	case to == onnxpb.TensorProto_FLOAT:
		out.f = make([]float32, len(c.i))
		for k, v := range c.i {
			out.f[k] = float32(v)
		}
	default:
		return nil, nodeErr(n, "attribute to = %s: only FLOAT and INT64 constants are supported", to)
	}
	return out, nil
}

// foldArithmetic computes Add, Sub, Mul and Div of two constants of one
// type, of one shape or one of them a single value; Div of INT64 values
// rounds toward zero.
func foldArithmetic(b *onnxBuilder, n *onnxpb.NodeProto, in []*onnxConst) (*onnxConst, error) {
	if _, err := attrs(n); err != nil {
		return nil, err
	}
	if len(in) != 2 || in[1] == nil {
		return nil, nodeErr(n, "want two inputs")
	}
	x, y := in[0], in[1]
	if x.isInt() != y.isInt() {
		return nil, nodeErr(n, "inputs of two types (INT64 and FLOAT)")
	}
	dims := x.dims
	switch {
	case x.size() == 1 && (y.size() != 1 || len(y.dims) > len(x.dims)):
		dims = y.dims
	case y.size() != 1 && !slices.Equal(x.dims, y.dims):
		return nil, nodeErr(n, "constants of shapes %v and %v: convnet folds constants of one shape, or with a single value", x.dims, y.dims)
	}
	size := count(dims)
	if err := b.allot(n, size); err != nil {
		return nil, err
	}
	out := &onnxConst{dims: slices.Clone(dims)}
	op := n.GetOpType()
	if !x.isInt() {
		out.f = arithmetic(op, make([]float32, size), x.f, y.f)
		return out, nil
	}
	if k := slices.Index(y.i, 0); op == "Div" && k >= 0 {
		if len(x.i) == 0 { // an empty constant
			return nil, nodeErr(n, "divides by zero")
		}
		return nil, nodeErr(n, "divides %d by zero", x.i[min(k, len(x.i)-1)])
	}
	out.i = arithmetic(op, make([]int64, size), x.i, y.i)
	return out, nil
}

// arithmetic sets dst[k] to x[k] op y[k], a list of one value standing for
// all of them; INT64 division rounds toward zero.
func arithmetic[T int64 | float32](op string, dst, x, y []T) []T {
	for k := range dst {
		p, q := x[min(k, len(x)-1)], y[min(k, len(y)-1)]
		switch op {
		case "Add":
			dst[k] = p + q
		case "Sub":
			dst[k] = p - q
		case "Mul":
			dst[k] = p * q
		default:
			dst[k] = p / q
		}
	}
	return dst
}
