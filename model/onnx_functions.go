package model

import (
	"math"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"google.golang.org/protobuf/proto"
)

// The functions exporters write as several nodes, at the opsets before
// ONNX had an operator for them (or, for Softsign, as PyTorch writes it):
//
//	Gelu      x · (erf(x / √2) + 1) · 0.5, the 0.5 also taken first: 0.5·x · (…)
//	Mish      x · tanh(softplus(x))
//	Softsign  x / (|x| + 1)
//	LayerNormalization  (x - mean) / √(variance + ε) over some axes (see layerNormNodes)
//
// fuseFunctions replaces each such subgraph, when nothing else reads the
// values inside it, by one node of the operator (opset 20's Gelu, opset
// 18's Mish, Softsign), which importActivation reads as one activation.
// The decomposed layer normalization becomes a LayerNormalization node
// whose axes and epsilon are attributes, which only a node made here may
// have (see importLayerNorm). A subgraph that differs in any way stays as
// it is, for the operators to take or refuse one by one.
func (b *onnxBuilder) fuseFunctions(nodes []*onnxpb.NodeProto, out string) []*onnxpb.NodeProto {
	f := functionMatcher{b: b, producer: map[string]*onnxpb.NodeProto{}, readers: map[string]int{out: 1}}
	for _, n := range nodes {
		for _, o := range n.GetOutput() {
			if _, dup := f.producer[o]; !dup {
				f.producer[o] = n
			}
		}
		for _, in := range n.GetInput() {
			f.readers[in]++
		}
	}
	used := map[*onnxpb.NodeProto]bool{}
	fused := map[*onnxpb.NodeProto]*onnxpb.NodeProto{}
	for _, n := range nodes {
		op, x, inner := f.match(n)
		var node *onnxpb.NodeProto
		if op == "" && n.GetOpType() == "Div" && len(n.GetInput()) == 2 && len(n.GetOutput()) == 1 && len(n.GetAttribute()) == 0 {
			var axes []int
			var eps float32
			if x, axes, eps, inner = f.layerNormNodes(n); x != "" {
				node = &onnxpb.NodeProto{OpType: proto.String("LayerNormalization"), Name: n.Name, Input: []string{x}, Output: n.GetOutput()[:1],
					Attribute: []*onnxpb.AttributeProto{attrInts("axes", axes...), attrFloat("epsilon", float64(eps))}}
			}
		}
		if op == "" && node == nil {
			node, inner = f.groupNormNodes(n)
		}
		if op != "" {
			node = &onnxpb.NodeProto{OpType: proto.String(op), Name: n.Name, Input: []string{x}, Output: n.GetOutput()[:1]}
		}
		if node == nil || used[n] || anyUsed(used, inner) {
			continue
		}
		for _, m := range inner {
			used[m] = true
		}
		used[n] = true
		fused[n] = node
		if op == "" { // a normalization, whose attributes only a node made here may have
			if b.fused == nil {
				b.fused = map[*onnxpb.NodeProto]bool{}
			}
			b.fused[node] = true
		}
	}
	if len(fused) == 0 {
		return nodes
	}
	kept := make([]*onnxpb.NodeProto, 0, len(nodes))
	for _, n := range nodes {
		switch {
		case fused[n] != nil:
			kept = append(kept, fused[n])
		case !used[n]:
			kept = append(kept, n)
		}
	}
	return kept
}

func anyUsed(used map[*onnxpb.NodeProto]bool, nodes []*onnxpb.NodeProto) bool {
	for _, n := range nodes {
		if used[n] {
			return true
		}
	}
	return false
}

// functionMatcher finds the subgraphs of fuseFunctions.
type functionMatcher struct {
	b        *onnxBuilder
	producer map[string]*onnxpb.NodeProto
	readers  map[string]int // the graph's output counts as a reader
}

// match returns the operator whose subgraph ends in node n, the input x of
// that subgraph and the nodes inside it (those before n), or "".
func (f *functionMatcher) match(n *onnxpb.NodeProto) (op, x string, inner []*onnxpb.NodeProto) {
	in := n.GetInput()
	if len(in) != 2 || len(n.GetOutput()) != 1 || len(n.GetAttribute()) > 0 {
		return "", "", nil
	}
	switch n.GetOpType() {
	case "Mul":
		for k := range 2 {
			a, c := in[k], in[1-k]
			if x, inner := f.gelu(a, c); x != "" {
				return "Gelu", x, inner
			}
			// Mish: x · tanh(softplus(x)).
			t := f.inner(c, "Tanh", 1)
			if t == nil {
				continue
			}
			if s := f.inner(t.GetInput()[0], "Softplus", 1); s != nil && s.GetInput()[0] == a {
				return "Mish", a, []*onnxpb.NodeProto{t, s}
			}
		}
	case "Div":
		// Softsign: x / (|x| + 1).
		ad := f.inner(in[1], "Add", 2)
		if ad == nil {
			return "", "", nil
		}
		for k := range 2 {
			abs := f.inner(ad.GetInput()[k], "Abs", 1)
			if abs != nil && abs.GetInput()[0] == in[0] && f.scalar(ad.GetInput()[1-k]) == 1 {
				return "Softsign", in[0], []*onnxpb.NodeProto{ad, abs}
			}
		}
	}
	return "", "", nil
}

// gelu matches a Mul of a and c as the last node of a Gelu: a = x·(erf(x/√2)
// + 1) and c = 0.5, or a = x·0.5 (or 0.5·x) and c = erf(x/√2) + 1. It
// returns x and the nodes before the last, or "".
func (f *functionMatcher) gelu(a, c string) (string, []*onnxpb.NodeProto) {
	var x string
	if f.scalar(c) == 0.5 {
		// a = x · (erf(x/√2) + 1)
		m := f.inner(a, "Mul", 2)
		if m == nil {
			return "", nil
		}
		for k := range 2 {
			x = m.GetInput()[k]
			if e := f.erfPlusOne(m.GetInput()[1-k], x); e != nil {
				return x, append([]*onnxpb.NodeProto{m}, e...)
			}
		}
		return "", nil
	}
	// a = x · 0.5, c = erf(x/√2) + 1
	h := f.inner(a, "Mul", 2)
	if h == nil {
		return "", nil
	}
	for k := range 2 {
		if f.scalar(h.GetInput()[1-k]) == 0.5 {
			x = h.GetInput()[k]
			if e := f.erfPlusOne(c, x); e != nil {
				return x, append([]*onnxpb.NodeProto{h}, e...)
			}
		}
	}
	return "", nil
}

// erfPlusOne returns the nodes that compute v = erf(x/√2) + 1 (or
// erf(x·(1/√2)) + 1), or nil.
func (f *functionMatcher) erfPlusOne(v, x string) []*onnxpb.NodeProto {
	ad := f.inner(v, "Add", 2)
	if ad == nil {
		return nil
	}
	for k := range 2 {
		e := f.inner(ad.GetInput()[k], "Erf", 1)
		if e == nil || f.scalar(ad.GetInput()[1-k]) != 1 {
			continue
		}
		d := f.inner(e.GetInput()[0], "Div", 2)
		if d != nil && d.GetInput()[0] == x && near(float32(f.scalar(d.GetInput()[1])), math.Sqrt2) {
			return []*onnxpb.NodeProto{ad, e, d}
		}
		m := f.inner(e.GetInput()[0], "Mul", 2)
		if m == nil {
			continue
		}
		for j := range 2 {
			if m.GetInput()[j] == x && near(float32(f.scalar(m.GetInput()[1-j])), 1/math.Sqrt2) {
				return []*onnxpb.NodeProto{ad, e, m}
			}
		}
	}
	return nil
}

// inner returns the node of operator op and arity inputs that computes v,
// when v is its only output and nothing else reads v, or nil.
func (f *functionMatcher) inner(v, op string, arity int) *onnxpb.NodeProto {
	n := f.producer[v]
	if n == nil || n.GetOpType() != op || len(n.GetInput()) != arity || len(n.GetOutput()) != 1 ||
		len(n.GetAttribute()) > 0 || f.readers[v] != 1 || n.GetDomain() != "" && n.GetDomain() != "ai.onnx" {
		return nil
	}
	return n
}

// scalar returns the value of v when it is a floating-point constant of
// one element (an initializer or the output of a Constant node), else NaN.
func (f *functionMatcher) scalar(v string) float64 {
	c := f.constant(v)
	if c == nil || c.isInt() || len(c.f) != 1 {
		return math.NaN()
	}
	return float64(c.f[0])
}

// constant returns v when it is an initializer or the output of a Constant
// node, else nil.
func (f *functionMatcher) constant(v string) *onnxConst {
	if val := f.b.values[v]; val != nil {
		return val.konst
	}
	n := f.producer[v]
	if n == nil || n.GetOpType() != "Constant" || len(n.GetAttribute()) != 1 || n.GetAttribute()[0].GetName() != "value" {
		return nil
	}
	t := n.GetAttribute()[0].GetT()
	if t != nil && (one(t.GetDims()) || len(t.GetDims()) == 1 && t.GetDims()[0] <= 1<<16) {
		c, _ := parseTensor(t)
		return c
	}
	return nil
}

// one reports whether dims describe a tensor of one element.
func one(dims []int64) bool {
	for _, d := range dims {
		if d != 1 {
			return false
		}
	}
	return true
}
