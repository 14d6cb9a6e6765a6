package model

import (
	"slices"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
)

// layerNorm writes a LayerNormalization as PyTorch exports F.layer_norm
// before opset 17 had an operator for it:
//
//	d = x - ReduceMean(x);  y = d / Sqrt(ReduceMean(d·d) + epsilon) · gamma + beta
//
// the means over the normalised axes in ONNX's order (the channels of an
// image are axis 1), gamma and beta of the input's shape with 1 along the
// other axes, (C, H, W) for an image, each left out when the layer has
// none.
func (e *onnxWriter) layerNorm(l *nn.LayerNormalization) {
	name, x := l.Name(), e.cur
	in, axes := e.shape, l.Axes()
	onnxAxes := make([]int, len(axes))
	for i, a := range axes {
		onnxAxes[i] = a
		if len(in) == 3 {
			onnxAxes[i] = []int{0, 2, 3, 1}[a]
		}
	}
	slices.Sort(onnxAxes)
	reduce := []*onnxpb.AttributeProto{attrInts("axes", onnxAxes...), attrInt("keepdims", 1)}
	e.apply("ReduceMean", name+"/mean", nil, reduce...)
	mean := e.cur
	e.cur = x
	e.apply("Sub", name+"/center", []string{mean})
	d := e.cur
	e.apply("Mul", name+"/square", []string{d})
	e.apply("ReduceMean", name+"/variance", nil, reduce...)
	eps, _ := l.Config()["epsilon"].(float64)
	e.apply("Add", name+"/add_epsilon", []string{e.weight(name+"/epsilon", nil, []float32{float32(eps)})})
	e.apply("Sqrt", name+"/std", nil)
	std := e.cur
	e.cur = d
	// The last node is called after the layer.
	ps := l.Params()
	last := func(i int, part string) string {
		if i == len(ps) {
			return name
		}
		return name + "/" + part
	}
	e.apply("Div", last(0, "normalized"), []string{std})
	for i, p := range ps {
		dims, data := slices.Clone(in), p.Value.Data
		for a := range dims {
			if !slices.Contains(axes, a+1) {
				dims[a] = 1
			}
		}
		if len(dims) == 3 {
			dims, data = nchw(dims), hwioToOIHW(data, dims[0], dims[1], 1, dims[2])
		}
		op := map[string]string{"gamma": "Mul", "beta": "Add"}[p.Name]
		e.apply(op, last(i+1, map[string]string{"gamma": "scale", "beta": "shift"}[p.Name]), []string{e.weight(name+"/"+p.Name, dims, data)})
	}
}

// layerNormNodes matches the Div of the decomposed layer normalization
// above, as PyTorch and convnet write it (the square a Mul or a Pow by 2):
//
//	ReduceMean(x) → m, Sub(x, m) → d, Mul(d, d) or Pow(d, 2) → s,
//	ReduceMean(s) → v, Add(v, ε) → w, Sqrt(w) → r, Div(d, r)
//
// both means over the same axes, keeping them. It returns x, the axes, ε
// and the nodes before the Div, or "". Gamma and beta, a Mul and an Add
// after it, fold into the layer when it is imported.
func (f *functionMatcher) layerNormNodes(n *onnxpb.NodeProto) (x string, axes []int, eps float32, inner []*onnxpb.NodeProto) {
	in := n.GetInput()
	r := f.inner(in[1], "Sqrt", 1)
	if r == nil {
		return "", nil, 0, nil
	}
	w := f.inner(r.GetInput()[0], "Add", 2)
	if w == nil {
		return "", nil, 0, nil
	}
	var v *onnxpb.NodeProto
	for k := range 2 {
		if e := f.scalar(w.GetInput()[1-k]); e > 0 {
			v, axes, eps = f.reduceMean(w.GetInput()[k]), nil, float32(e)
			if v != nil {
				break
			}
		}
	}
	if v == nil {
		return "", nil, 0, nil
	}
	axes = reduceAxes(v)
	d := in[0]
	s := f.producer[v.GetInput()[0]]
	switch {
	case s == nil || f.readers[v.GetInput()[0]] != 1 || len(s.GetInput()) != 2 || len(s.GetAttribute()) > 0:
		return "", nil, 0, nil
	case s.GetOpType() == "Mul" && s.GetInput()[0] == d && s.GetInput()[1] == d && f.readers[d] == 3:
	case s.GetOpType() == "Pow" && s.GetInput()[0] == d && f.scalar(s.GetInput()[1]) == 2 && f.readers[d] == 2:
	default:
		return "", nil, 0, nil
	}
	sub := f.producer[d]
	if sub == nil || sub.GetOpType() != "Sub" || len(sub.GetInput()) != 2 || len(sub.GetOutput()) != 1 || len(sub.GetAttribute()) > 0 {
		return "", nil, 0, nil
	}
	x = sub.GetInput()[0]
	m := f.reduceMean(sub.GetInput()[1])
	if m == nil || m.GetInput()[0] != x || !slices.Equal(reduceAxes(m), axes) {
		return "", nil, 0, nil
	}
	return x, axes, eps, []*onnxpb.NodeProto{r, w, v, s, sub, m}
}

// reduceMean returns the ReduceMean that computes v keeping its axes, given
// as an attribute, when nothing else reads v, or nil.
func (f *functionMatcher) reduceMean(v string) *onnxpb.NodeProto {
	n := f.producer[v]
	if n == nil || n.GetOpType() != "ReduceMean" || len(n.GetInput()) != 1 || len(n.GetOutput()) != 1 || f.readers[v] != 1 || reduceAxes(n) == nil {
		return nil
	}
	for _, a := range n.GetAttribute() {
		switch {
		case a.GetName() == "axes":
		case a.GetName() == "keepdims" && a.GetType() == onnxpb.AttributeProto_INT && a.GetI() == 1:
		default:
			return nil
		}
	}
	return n
}

// reduceAxes returns the axes attribute of a ReduceMean, sorted, or nil.
func reduceAxes(n *onnxpb.NodeProto) []int {
	for _, a := range n.GetAttribute() {
		if a.GetName() == "axes" && a.GetType() == onnxpb.AttributeProto_INTS && len(a.GetInts()) > 0 {
			axes := make([]int, len(a.GetInts()))
			for i, v := range a.GetInts() {
				axes[i] = int(max(min(v, 8), -8))
			}
			slices.Sort(axes)
			return axes
		}
	}
	return nil
}

// importLayerNorm turns opset 17's LayerNormalization, over the axes from
// axis to the last, into a LayerNormalization layer whose gamma is the
// Scale and beta the B (none without one), and so the node fuseFunctions
// makes of a decomposed one, over its axes, without gamma and beta (a Mul
// and an Add after it give them, see normAffine). On an image the
// axes are ONNX's: axis 1 of NCHW normalises a whole image, Keras's [1, 2,
// 3]; after a Transpose to NHWC (PyTorch's nn.LayerNorm(C) on an image
// permuted channel-last), axis -1 normalises the channels, Keras's -1. On
// the [C 1 1] output of a global pooling, a vector in convnet, the axes
// must hold the channels (PyTorch's LayerNorm2d in ConvNeXt's head).
func importLayerNorm(b *onnxBuilder, n *onnxpb.NodeProto) error {
	decomposed := b.fused[n]
	known := []string{"axis", "epsilon", "stash_type"}
	if decomposed {
		known = []string{"axes", "epsilon"}
	}
	a, err := attrs(n, known...)
	if err != nil {
		return err
	}
	if !decomposed && b.opset < 17 {
		return nodeErr(n, "LayerNormalization is an operator of opset 17, the graph's opset is %d", b.opset)
	}
	x, err := b.computed(n)
	if err != nil {
		return err
	}
	if x.grouping != 0 {
		return nodeErr(n, "input [N %s] is not an image or a vector as convnet holds it", dimList(x.shape))
	}
	rank := len(x.shape) + 1
	axes := a.ints("axes")
	if !decomposed {
		axis := a.int("axis", -1)
		if axis < 0 {
			axis += rank
		}
		for k := max(axis, 0); k < rank; k++ {
			axes = append(axes, k)
		}
		if axis <= 0 || axis >= rank {
			axes = []int{axis}
		}
	}
	eps := a.float("epsilon", 1e-5)
	if a.err != nil {
		return a.err
	}
	if st := a.int("stash_type", 1); st != 1 {
		return nodeErr(n, "attribute stash_type = %d: convnet computes the statistics in float32 (1) and float64", st)
	}
	if !(eps > 0) {
		return nodeErr(n, "attribute epsilon = %v: want a positive number", eps)
	}
	shape, src := convnetLayout(x)
	norm := make([]bool, len(shape))
	var keras []int
	for _, k := range axes {
		if k < 0 {
			k += rank
		}
		c := slices.Index(src, k-1) // the convnet axis of ONNX's axis k
		if k <= 0 || k >= rank || norm[c] {
			return nodeErr(n, "axes %v on an input of rank %d: want distinct axes other than the batch axis 0", axes, rank)
		}
		norm[c] = true
	}
	for c, yes := range norm {
		if yes {
			keras = append(keras, c+1)
		}
	}
	if slices.Equal(keras, []int{len(shape)}) || x.flat && norm[len(norm)-1] {
		keras = []int{-1} // Keras's default; a flat [C 1 1] is a vector in convnet
	} else if x.flat {
		return nodeErr(n, "axes %v of an input %s leave out its channels: each value would be normalised alone", axes, x.describe())
	}
	l := &nn.LayerNormalization{Axis: keras, Epsilon: decimal(eps), NoScale: decomposed, NoCenter: true}
	var ws []*onnxConst
	if !decomposed {
		for i, what := range []string{"scale", "bias"} {
			c, err := b.constant(n, i+1, i == 1)
			if err != nil {
				return err
			}
			if c == nil {
				break
			}
			w, err := overAxes(n, x, c, what, n.GetInput()[i+1], norm)
			if err != nil {
				return err
			}
			ws = append(ws, w)
		}
		l.NoCenter = len(ws) < 2
	}
	y := x.after(b.add(n, l, x, ws...))
	y.fold = l
	return b.output(n, y)
}

// normAffine folds x·c or x + c into the LayerNormalization or
// GroupNormalization l whose output x is, read by n alone: c its gamma, or
// its beta, when l has none yet (a beta after gamma, not before) and c is
// the same along the axes l does not normalise (a group normalization's
// gamma and beta are per channel). It reports whether it did.
func (b *onnxBuilder) normAffine(n *onnxpb.NodeProto, op string, xi int, x *onnxValue, c *onnxConst, l nn.Layer) (bool, error) {
	shape, _ := convnetLayout(x)
	norm := make([]bool, len(shape))
	var noScale, noCenter *bool
	switch l := l.(type) {
	case *nn.LayerNormalization:
		noScale, noCenter = &l.NoScale, &l.NoCenter
		axes := l.Axis
		if slices.Equal(axes, []int{-1}) {
			axes = []int{len(shape)}
		}
		for _, a := range axes {
			norm[a-1] = true
		}
	case *nn.GroupNormalization:
		noScale, noCenter = &l.NoScale, &l.NoCenter
		norm[len(norm)-1] = true
	default:
		return false, nil
	}
	if op == "Mul" && (!*noScale || !*noCenter) || op == "Add" && !*noCenter || op != "Mul" && op != "Add" {
		return false, nil
	}
	w, err := overAxes(n, x, c, "constant", n.GetInput()[1-xi], norm)
	if err != nil {
		return false, nil // another layer's, then
	}
	if op == "Mul" {
		*noScale = false
	} else {
		*noCenter = false
	}
	b.weights[l] = append(b.weights[l], w)
	b.name(n, l)
	y := x.after(x.node)
	y.fold = l
	return true, b.output(n, y)
}

// convnetLayout returns the convnet shape of one sample of x, [H W C] for an
// image, and for each of its axes the axis of ONNX's sample that holds it:
// (1, 2, 0) for NCHW, (0, 1, 2) for an image transposed to NHWC (whose
// shape is kept as NCHW's).
func convnetLayout(x *onnxValue) (shape, src []int) {
	if len(x.shape) != 3 {
		return x.shape, []int{0}
	}
	shape = []int{x.shape[1], x.shape[2], x.shape[0]}
	if x.nhwc {
		return shape, []int{0, 1, 2}
	}
	return shape, []int{1, 2, 0}
}

// overAxes returns the constant c (named name), which broadcasts from the
// right to the input x of node n (with or without the batch axis), as the
// values of a LayerNormalization's gamma or beta over the axes norm of
// convnet's order: an error unless it is the same along the other axes.
func overAxes(n *onnxpb.NodeProto, x *onnxValue, c *onnxConst, what, name string, norm []bool) (*onnxConst, error) {
	shape, src := convnetLayout(x)
	onnxShape := make([]int, len(shape)) // as ONNX sees one sample
	for a, k := range src {
		onnxShape[k] = shape[a]
	}
	cd := slices.Clone(c.dims)
	if len(cd) == len(onnxShape)+1 && cd[0] == 1 {
		cd = cd[1:]
	}
	if c.f == nil || len(cd) > len(onnxShape) {
		return nil, nodeErr(n, "%s %q: want a float tensor that broadcasts to the input [N %s], got shape %v", what, name, dimList(onnxShape), c.dims)
	}
	cd = append(slices.Repeat([]int{1}, len(onnxShape)-len(cd)), cd...)
	strides := make([]int, len(cd)) // 0 along the axes c is the same along
	for k, st := len(cd)-1, 1; k >= 0; k-- {
		if cd[k] != 1 && cd[k] != onnxShape[k] {
			return nil, nodeErr(n, "%s %q of shape %v does not broadcast to the input [N %s]", what, name, c.dims, dimList(onnxShape))
		}
		if cd[k] > 1 {
			strides[k] = st
		}
		st *= cd[k]
	}
	data := c.f
	if len(shape) == 1 && cd[0] > 1 {
		data = permuted(&onnxConst{dims: cd, f: data}, x.order).f
	}
	var out []int
	for a, k := range src {
		if norm[a] {
			out = append(out, shape[a])
		} else if strides[k] != 0 {
			return nil, nodeErr(n, "%s %q varies along axis %d of convnet's input %v, which the layer normalization does not normalise", what, name, a+1, shape)
		}
	}
	w := &onnxConst{dims: out, f: make([]float32, 0, boundedSize(out))}
	idx := make([]int, len(shape))
	for range cap(w.f) {
		off := 0
		for a, k := range src {
			off += idx[a] * strides[k]
		}
		w.f = append(w.f, data[off])
		for a := len(idx) - 1; a >= 0; a-- { // the next index along the normalised axes
			if !norm[a] {
				continue
			}
			if idx[a]++; idx[a] < shape[a] {
				break
			}
			idx[a] = 0
		}
	}
	return w, nil
}
