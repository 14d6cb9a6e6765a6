package model

import (
	"fmt"
	"strings"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
)

// The builder's plumbing: reading a node's inputs, recording its output,
// calling layers; and the operators that make no layer.

// computed returns the node's first input, a computed tensor.
func (b *onnxBuilder) computed(n *onnxpb.NodeProto) (*onnxValue, error) {
	if len(n.GetInput()) == 0 || n.GetInput()[0] == "" {
		return nil, nodeErr(n, "no input")
	}
	return b.tensor(n, n.GetInput()[0])
}

// tensor returns the computed tensor called name that node n reads.
func (b *onnxBuilder) tensor(n *onnxpb.NodeProto, name string) (*onnxValue, error) {
	v := b.values[name]
	switch {
	case v == nil:
		return nil, nodeErr(n, "input %q is not known", name)
	case v.konst != nil:
		return nil, nodeErr(n, "input %q is a constant, want a computed tensor", name)
	case v.grouping != 0 && !readsGroups[n.GetOpType()]:
		return nil, nodeErr(n, "input %q is an image's channels split into groups [N %s]: convnet reads them only through a Transpose and a Reshape back to an image (a channel shuffle)", name, dimList(v.shape))
	}
	return v, nil
}

// soleReader reports whether one node reads the value called name once
// (the graph's output counts as a reader): whether a layer may fold that
// node into itself without changing what other nodes read.
func (b *onnxBuilder) soleReader(name string) bool { return b.inputs[name] == 1 }

// outName returns the name of node n's first output, "" if none.
func (b *onnxBuilder) outName(n *onnxpb.NodeProto) string {
	if len(n.GetOutput()) == 0 {
		return ""
	}
	return n.GetOutput()[0]
}

// same returns x as the output of node n, which computes nothing from its
// first input x: the same model node and layout, and what may fold into
// the layer before when n is its sole reader.
func (b *onnxBuilder) same(n *onnxpb.NodeProto, x *onnxValue) *onnxValue {
	v := *x
	if !b.soleReader(n.GetInput()[0]) {
		v.fold, v.dense = nil, false
	}
	return &v
}

// after returns a tensor of v's layout computed by model node nd.
func (v *onnxValue) after(nd *Node) *onnxValue {
	return &onnxValue{node: nd, shape: v.shape, flat: v.flat, nhwc: v.nhwc, order: v.order}
}

// constant returns input i of n as a constant: nil if optional and absent.
func (b *onnxBuilder) constant(n *onnxpb.NodeProto, i int, optional bool) (*onnxConst, error) {
	if i >= len(n.GetInput()) || n.GetInput()[i] == "" {
		if optional {
			return nil, nil
		}
		return nil, nodeErr(n, "input %d is missing", i)
	}
	name := n.GetInput()[i]
	v := b.values[name]
	if v == nil || v.konst == nil {
		return nil, nodeErr(n, "input %q must be a constant (an initializer or a Constant node)", name)
	}
	if v.konst.batch != 0 {
		return nil, errBatch(n, name)
	}
	return v.konst, nil
}

// errBatch reports a value computed from the batch size that node n reads
// where convnet cannot take it.
func errBatch(n *onnxpb.NodeProto, name string) error {
	return nodeErr(n, "input %q is computed from the batch size (a Shape of a computed tensor): convnet takes that only as the first axis of a Reshape's shape or a Resize's sizes", name)
}

// weight returns input i of n as float32 constant of the given rank.
func (b *onnxBuilder) weight(n *onnxpb.NodeProto, i int, optional bool, what string, rank int) (*onnxConst, error) {
	c, err := b.constant(n, i, optional)
	if err != nil || c == nil {
		return nil, err
	}
	if c.f == nil || len(c.dims) != rank {
		return nil, nodeErr(n, "%s %q: want a float tensor of rank %d, got shape %v", what, n.GetInput()[i], rank, c.dims)
	}
	return c, nil
}

// output records v as the node's result. Outputs after the first (pooling
// indices, dropout masks) must be unused.
func (b *onnxBuilder) output(n *onnxpb.NodeProto, v *onnxValue) error {
	if len(n.GetOutput()) == 0 || n.GetOutput()[0] == "" {
		return nodeErr(n, "no output")
	}
	for _, o := range n.GetOutput()[1:] {
		if o != "" && b.inputs[o] > 0 {
			return nodeErr(n, "output %q is used, convnet computes only the first output", o)
		}
	}
	b.values[n.GetOutput()[0]] = v
	return nil
}

// add calls layer l, named after node n, on x with its weights, and returns
// the model node of its output.
func (b *onnxBuilder) add(n *onnxpb.NodeProto, l nn.Layer, x *onnxValue, weights ...*onnxConst) *Node {
	return b.call(n, l, []*onnxValue{x}, weights...)
}

// call is add for a layer with several inputs.
func (b *onnxBuilder) call(n *onnxpb.NodeProto, l nn.Layer, in []*onnxValue, weights ...*onnxConst) *Node {
	b.name(n, l)
	b.weights[l] = weights
	nodes := make([]*Node, len(in))
	for k, x := range in {
		nodes[k] = x.node
	}
	return Call(l, nodes...)
}

// name names l after node n, unless n has no name.
func (b *onnxBuilder) name(n *onnxpb.NodeProto, l nn.Layer) {
	name := strings.ReplaceAll(strings.Trim(n.GetName(), "/"), "/", ".")
	name = strings.ReplaceAll(name, "\x00", "")
	if name == "" {
		return
	}
	base := name
	for k := 1; b.names[name]; k++ {
		name = fmt.Sprintf("%s_%d", base, k)
	}
	b.names[name] = true
	l.SetName(name)
}

func importIdentity(b *onnxBuilder, n *onnxpb.NodeProto) error {
	if _, err := attrs(n, "ratio", "seed"); err != nil {
		return err
	}
	if n.GetOpType() == "Dropout" && len(n.GetInput()) > 2 && n.GetInput()[2] != "" {
		return nodeErr(n, "input training_mode is not supported")
	}
	if n.GetOpType() == "Identity" && len(n.GetAttribute()) > 0 {
		return nodeErr(n, "attribute %q is not supported", n.GetAttribute()[0].GetName())
	}
	// PyTorch's exporter writes Identity nodes that copy an initializer
	// (one weight tensor read by several nodes): the copy is the constant.
	if len(n.GetInput()) > 0 {
		if v := b.values[n.GetInput()[0]]; v != nil && v.konst != nil {
			return b.output(n, &onnxValue{konst: v.konst})
		}
	}
	x, err := b.computed(n)
	if err != nil {
		return err
	}
	return b.output(n, b.same(n, x))
}

func importConstant(b *onnxBuilder, n *onnxpb.NodeProto) error {
	a, err := attrs(n, "value", "value_float", "value_floats", "value_int", "value_ints")
	if err != nil {
		return err
	}
	if len(a.m) != 1 {
		return nodeErr(n, "want exactly one value attribute")
	}
	var c *onnxConst
	switch {
	case a.has("value"):
		t := a.get("value", onnxpb.AttributeProto_TENSOR)
		if a.err != nil {
			return a.err
		}
		if c, err = parseTensor(t.GetT()); err != nil {
			return nodeErr(n, "attribute value: %v", err)
		}
	case a.has("value_float"):
		c = &onnxConst{f: []float32{a.float("value_float", 0)}}
	case a.has("value_floats"):
		at := a.get("value_floats", onnxpb.AttributeProto_FLOATS)
		c = &onnxConst{dims: []int{len(at.GetFloats())}, f: at.GetFloats()}
	case a.has("value_int"):
		c = &onnxConst{i: []int64{int64(a.int("value_int", 0))}}
	default:
		at := a.get("value_ints", onnxpb.AttributeProto_INTS)
		c = &onnxConst{dims: []int{len(at.GetInts())}, i: at.GetInts()}
	}
	if a.err != nil {
		return a.err
	}
	return b.output(n, &onnxValue{konst: c})
}
