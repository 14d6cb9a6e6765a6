package model

import (
	"fmt"
	"strings"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
)

// The builder's plumbing: reading a node's inputs, recording its output,
// appending layers; and the operators that make no layer.

// computed returns the node's first input, a computed tensor that must be
// the end of the chain of layers so far.
func (b *onnxBuilder) computed(n *onnxpb.NodeProto) (*onnxValue, error) {
	if len(n.GetInput()) == 0 || n.GetInput()[0] == "" {
		return nil, nodeErr(n, "no input")
	}
	return b.chain(n, n.GetInput()[0])
}

func (b *onnxBuilder) chain(n *onnxpb.NodeProto, name string) (*onnxValue, error) {
	v := b.values[name]
	switch {
	case v == nil:
		return nil, nodeErr(n, "input %q is not known", name)
	case v.konst != nil:
		return nil, nodeErr(n, "input %q is a constant, want a computed tensor", name)
	case name != b.head:
		return nil, nodeErr(n, "reads %q, but the chain of layers has reached %q: a branching graph needs a graph model", name, b.head)
	}
	return v, nil
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
	return v.konst, nil
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

// output records v as the node's result, the new end of the chain. Outputs
// after the first (pooling indices, dropout masks) must be unused.
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
	if v.konst == nil {
		b.head = n.GetOutput()[0]
	}
	return nil
}

// add appends a layer named after node n with its weights.
func (b *onnxBuilder) add(n *onnxpb.NodeProto, l nn.Layer, foldable bool, weights ...*onnxConst) {
	name := strings.ReplaceAll(strings.Trim(n.GetName(), "/"), "/", ".")
	name = strings.ReplaceAll(name, "\x00", "")
	if name != "" {
		base := name
		for k := 1; b.names[name]; k++ {
			name = fmt.Sprintf("%s_%d", base, k)
		}
		b.names[name] = true
		l.SetName(name)
	}
	b.layers = append(b.layers, l)
	b.weights = append(b.weights, weights)
	b.foldable = foldable
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
	x, err := b.computed(n)
	if err != nil {
		return err
	}
	return b.output(n, x)
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

// importConcat refuses Concat: joining computed tensors needs a graph
// model.
func importConcat(b *onnxBuilder, n *onnxpb.NodeProto) error {
	return nodeErr(n, "joining tensors needs a graph model, which convnet's Sequential is not")
}
