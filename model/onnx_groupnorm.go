package model

import (
	"slices"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
	"google.golang.org/protobuf/proto"
)

// groupNorm writes a GroupNormalization as PyTorch exports nn.GroupNorm:
//
//	Reshape(x, [0, G, -1]) → InstanceNormalization(ones, zeros) → Reshape to x's shape
//
// then a Mul by gamma and an Add of beta, (C, 1, 1) on an image, each left
// out when the layer has none.
func (e *onnxWriter) groupNorm(l *nn.GroupNormalization) {
	name, s := l.Name(), nchw(e.shape)
	g := l.GroupCount()
	ones := make([]float32, g)
	for i := range ones {
		ones[i] = 1
	}
	eps, _ := l.Config()["epsilon"].(float64)
	ps := l.Params()
	e.apply("Reshape", name+"/groups", []string{e.ints(name+"/groups_shape", []int64{0, int64(g), -1})})
	e.apply("InstanceNormalization", name+"/normalized", []string{e.weight(name+"/ones", []int{g}, ones),
		e.weight(name+"/zeros", []int{g}, make([]float32, g))}, attrFloat("epsilon", eps))
	last := name
	if len(ps) > 0 {
		last = name + "/ungroup"
	}
	e.apply("Reshape", last, []string{e.ints(name+"/shape", append([]int64{0}, ints64(s)...))})
	dims := []int{s[0]}
	if len(s) == 3 {
		dims = append(dims, 1, 1)
	}
	for i, p := range ps {
		op, part := "Mul", "/scale"
		if p.Name == "beta" {
			op, part = "Add", "/shift"
		}
		if i == len(ps)-1 {
			part = ""
		}
		e.apply(op, name+part, []string{e.weight(name+"/"+p.Name, dims, p.Value.Data)})
	}
}

// groupNormNodes matches the last Reshape n of the decomposed group
// normalization above, as PyTorch and convnet write it:
//
//	Reshape(x, [0, G, -1]) → r, InstanceNormalization(r, ones, zeros) → i,
//	Reshape(i, Shape(x) or a constant shape)
//
// It returns the node that stands for them, a GroupNormalization of x with
// the attributes num_groups and epsilon (and shape, when the shape is a
// constant: importGroupNorm checks it), and the nodes before n; or nil.
// Gamma and beta, a Mul and an Add after it, fold into the layer when it
// is imported.
func (f *functionMatcher) groupNormNodes(n *onnxpb.NodeProto) (*onnxpb.NodeProto, []*onnxpb.NodeProto) {
	in := n.GetInput()
	if !plainReshape(n) {
		return nil, nil
	}
	inst := f.producer[in[0]]
	if inst == nil || inst.GetOpType() != "InstanceNormalization" || len(inst.GetInput()) != 3 || len(inst.GetOutput()) != 1 || f.readers[in[0]] != 1 {
		return nil, nil
	}
	a, err := attrs(inst, "epsilon")
	if err != nil {
		return nil, nil
	}
	eps := a.float("epsilon", 1e-5)
	r := f.producer[inst.GetInput()[0]]
	if r == nil || !plainReshape(r) || f.readers[inst.GetInput()[0]] != 1 || a.err != nil {
		return nil, nil
	}
	// [0 or -1, G, -1 or the values of a group]
	gs := f.constant(r.GetInput()[1])
	if gs == nil || !gs.isInt() || len(gs.i) != 3 || gs.i[0] != 0 && gs.i[0] != -1 || gs.i[1] <= 0 || gs.i[2] < -1 || gs.i[2] == 0 {
		return nil, nil
	}
	groups := int(min(gs.i[1], 1<<30))
	scale, bias := f.constant(inst.GetInput()[1]), f.constant(inst.GetInput()[2])
	if !filled(scale, 1, groups) || !filled(bias, 0, groups) {
		return nil, nil
	}
	x := r.GetInput()[0]
	inner := []*onnxpb.NodeProto{inst, r}
	at := []*onnxpb.AttributeProto{attrInt("num_groups", groups), attrFloat("epsilon", float64(eps))}
	if gs.i[2] != -1 {
		at = append(at, attrInt("group_size", int(min(gs.i[2], 1<<30))))
	}
	if s := f.producer[in[1]]; s != nil && s.GetOpType() == "Shape" && len(s.GetAttribute()) == 0 && len(s.GetInput()) == 1 && s.GetInput()[0] == x && f.readers[in[1]] == 1 {
		inner = append(inner, s)
	} else if c := f.constant(in[1]); c != nil && c.isInt() {
		at = append(at, attrInts("shape", int64sToInts(c.i)...))
	} else {
		return nil, nil
	}
	fused := &onnxpb.NodeProto{OpType: proto.String("GroupNormalization"), Name: n.Name, Input: []string{x}, Output: n.GetOutput(), Attribute: at}
	return fused, inner
}

// plainReshape reports whether n is a Reshape of a tensor to a shape, one
// output, zeros in the shape copying the input's sizes (allowzero 0).
func plainReshape(n *onnxpb.NodeProto) bool {
	if n.GetOpType() != "Reshape" || len(n.GetInput()) != 2 || len(n.GetOutput()) != 1 || n.GetDomain() != "" && n.GetDomain() != "ai.onnx" {
		return false
	}
	for _, a := range n.GetAttribute() {
		if a.GetName() != "allowzero" || a.GetType() != onnxpb.AttributeProto_INT || a.GetI() != 0 {
			return false
		}
	}
	return true
}

// filled reports whether c is a float tensor of n values, each v.
func filled(c *onnxConst, v float32, n int) bool {
	return c != nil && c.f != nil && len(c.f) == n && !slices.ContainsFunc(c.f, func(x float32) bool { return x != v })
}

func int64sToInts(v []int64) []int {
	out := make([]int, len(v))
	for k, x := range v {
		out[k] = int(max(min(x, 1<<30), -1<<30))
	}
	return out
}

// importGroupNorm turns opset 18's and 21's GroupNormalization, and the
// node groupNormNodes makes of a decomposed one (without gamma and beta:
// a Mul and an Add after it give them, see normAffine), into a
// GroupNormalization layer. Opset 18's scale and bias hold one value per
// group, repeated here over the group's channels; opset 21's one per
// channel.
func importGroupNorm(b *onnxBuilder, n *onnxpb.NodeProto) error {
	decomposed := b.fused[n]
	known := []string{"num_groups", "epsilon", "stash_type"}
	if decomposed {
		known = []string{"num_groups", "epsilon", "shape", "group_size"}
	}
	a, err := attrs(n, known...)
	if err != nil {
		return err
	}
	if !decomposed && b.opset < 18 {
		return nodeErr(n, "GroupNormalization is an operator of opset 18, the graph's opset is %d", b.opset)
	}
	x, err := b.computed(n)
	if err != nil {
		return err
	}
	groups, eps := a.int("num_groups", 0), a.float("epsilon", 1e-5)
	shape, size := a.ints("shape"), a.int("group_size", -1)
	if a.err != nil {
		return a.err
	}
	if st := a.int("stash_type", 1); st != 1 {
		return nodeErr(n, "attribute stash_type = %d: convnet computes the statistics in float32 (1) and float64", st)
	}
	if x.grouping != 0 || x.nhwc || x.order != nil {
		return nodeErr(n, "input %s: convnet normalises groups of the channels of an image or a vector as ONNX holds it, [N C H W] or [N C]", x.describe())
	}
	c := x.shape[0]
	if groups <= 0 || c%groups != 0 {
		return nodeErr(n, "num_groups = %d: want a divisor of the input's %d channels", groups, c)
	}
	if !(eps > 0) {
		return nodeErr(n, "attribute epsilon = %v: want a positive number", eps)
	}
	if values := boundedSize(x.shape) / groups; size != -1 && size != values {
		return nodeErr(n, "groups of %d values: the input [N %s] has %d in each of %d groups", size, dimList(x.shape), values, groups)
	}
	if shape != nil && (len(shape) != len(x.shape)+1 || !slices.Equal(shape[1:], x.shape) || shape[0] != 0 && shape[0] != -1) {
		return nodeErr(n, "shape %v: the groups go back to a shape other than the input's [N %s]", shape, dimList(x.shape))
	}
	l := &nn.GroupNormalization{Groups: groups, Epsilon: decimal(eps), NoScale: decomposed, NoCenter: decomposed}
	var ws []*onnxConst
	if !decomposed {
		for i, what := range []string{"scale", "bias"} {
			w, err := b.weight(n, i+1, false, what, 1)
			if err != nil {
				return err
			}
			switch {
			case len(w.f) == groups && b.opset < 21: // one value per group
				per := &onnxConst{dims: []int{c}, f: make([]float32, 0, c)}
				for _, v := range w.f {
					for range c / groups {
						per.f = append(per.f, v)
					}
				}
				w = per
			case len(w.f) != c:
				return nodeErr(n, "%s %q has %d values: want one per channel (%d), or per group (%d) before opset 21", what, n.GetInput()[i+1], len(w.f), c, groups)
			}
			ws = append(ws, w)
		}
	}
	y := x.after(b.add(n, l, x, ws...))
	y.fold = l
	return b.output(n, y)
}

// importInstanceNorm turns InstanceNormalization of an image, each channel
// of a sample normalised over its pixels then scaled and shifted (PyTorch's
// InstanceNorm2d(affine=True)), into a GroupNormalization of one group per
// channel.
func importInstanceNorm(b *onnxBuilder, n *onnxpb.NodeProto) error {
	a, err := attrs(n, "epsilon")
	if err != nil {
		return err
	}
	eps := a.float("epsilon", 1e-5)
	if a.err != nil {
		return a.err
	}
	x, err := b.computed(n)
	if err != nil {
		return err
	}
	if len(x.shape) != 3 || x.grouping != 0 || x.nhwc || x.flat {
		return nodeErr(n, "input %s: convnet normalises instances of images [N C H W] only", x.describe())
	}
	if !(eps > 0) {
		return nodeErr(n, "attribute epsilon = %v: want a positive number", eps)
	}
	var ws []*onnxConst
	for i, what := range []string{"scale", "B"} {
		w, err := b.weight(n, i+1, false, what, 1)
		if err != nil {
			return err
		}
		if len(w.f) != x.shape[0] {
			return nodeErr(n, "%s %q has %d values: want one per channel (%d)", what, n.GetInput()[i+1], len(w.f), x.shape[0])
		}
		ws = append(ws, w)
	}
	l := &nn.GroupNormalization{Groups: -1, Epsilon: decimal(eps)}
	y := x.after(b.add(n, l, x, ws...))
	y.fold = l
	return b.output(n, y)
}
