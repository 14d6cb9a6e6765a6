package model

import (
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
	"google.golang.org/protobuf/proto"
)

// fnNode is a node for TestImportONNXFunctions; the attributes are its
// last arguments.
func fnNode(op, out string, in []string, attr ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{Name: proto.String("f/" + out), OpType: proto.String(op), Input: in, Output: []string{out}, Attribute: attr}
}

// scalarNode is a Constant node of one float value, as PyTorch writes them.
func scalarNode(out string, v float32) *onnxpb.NodeProto {
	t := floats("", v)
	t.Name, t.Dims = nil, nil
	return fnNode("Constant", out, nil, &onnxpb.AttributeProto{Name: proto.String("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: t})
}

// TestImportONNXFunctions replaces tinyONNX's Relu by the nodes exporters
// write for gelu (PyTorch's form, and with the 0.5 first and x·(1/√2)),
// mish and softsign (PyTorch's), and by the operators Gelu, Mish,
// Softsign, Softplus and Selu: each must come back as the convolution's
// activation. A subgraph that is not the function, or an operator's
// attributes convnet's function does not have, gives an error naming the
// node.
func TestImportONNXFunctions(t *testing.T) {
	sqrt2 := float32(math.Sqrt2)
	// x is the Conv's output, y what the Relu wrote.
	tests := []struct {
		name  string
		nodes []*onnxpb.NodeProto
		init  []*onnxpb.TensorProto
		opset int64
		want  string // the activation, or an error
	}{
		{name: "gelu, PyTorch", want: "gelu", nodes: []*onnxpb.NodeProto{
			scalarNode("c2", sqrt2), fnNode("Div", "d", []string{"x", "c2"}), fnNode("Erf", "e", []string{"d"}),
			scalarNode("c1", 1), fnNode("Add", "a", []string{"e", "c1"}), fnNode("Mul", "m", []string{"x", "a"}),
			scalarNode("ch", 0.5), fnNode("Mul", "y", []string{"m", "ch"})}},
		{name: "gelu, half first", want: "gelu", init: []*onnxpb.TensorProto{floats("h", 0.5), floats("r", float32(1/math.Sqrt2)), floats("one", 1)},
			nodes: []*onnxpb.NodeProto{ // not in order
				fnNode("Mul", "y", []string{"a", "xh"}), fnNode("Mul", "xh", []string{"h", "x"}),
				fnNode("Mul", "d", []string{"r", "x"}), fnNode("Erf", "e", []string{"d"}), fnNode("Add", "a", []string{"one", "e"})}},
		{name: "mish, PyTorch", want: "mish", nodes: []*onnxpb.NodeProto{
			fnNode("Softplus", "s", []string{"x"}), fnNode("Tanh", "t", []string{"s"}), fnNode("Mul", "y", []string{"x", "t"})}},
		{name: "softsign, PyTorch", want: "softsign", nodes: []*onnxpb.NodeProto{
			fnNode("Abs", "b", []string{"x"}), scalarNode("c1", 1), fnNode("Add", "a", []string{"b", "c1"}), fnNode("Div", "y", []string{"x", "a"})}},
		{name: "Gelu", want: "gelu", opset: 20, nodes: []*onnxpb.NodeProto{fnNode("Gelu", "y", []string{"x"}, attrString("approximate", "none"))}},
		{name: "Mish", want: "mish", opset: 18, nodes: []*onnxpb.NodeProto{fnNode("Mish", "y", []string{"x"})}},
		{name: "Softsign", want: "softsign", nodes: []*onnxpb.NodeProto{fnNode("Softsign", "y", []string{"x"})}},
		{name: "Softplus", want: "softplus", nodes: []*onnxpb.NodeProto{fnNode("Softplus", "y", []string{"x"})}},
		{name: "Selu", want: "selu", nodes: []*onnxpb.NodeProto{fnNode("Selu", "y", []string{"x"}, attrFloat("alpha", nn.SELUAlpha))}},

		{name: "gelu with another constant", want: `node "f/e" (Erf): operator not supported`, nodes: []*onnxpb.NodeProto{
			scalarNode("c2", sqrt2), fnNode("Div", "d", []string{"x", "c2"}), fnNode("Erf", "e", []string{"d"}),
			scalarNode("c1", 1), fnNode("Add", "a", []string{"e", "c1"}), fnNode("Mul", "m", []string{"x", "a"}),
			scalarNode("ch", 0.25), fnNode("Mul", "y", []string{"m", "ch"})}},
		{name: "gelu of another input", want: `node "f/e" (Erf): operator not supported`, nodes: []*onnxpb.NodeProto{
			fnNode("Relu", "x2", []string{"x"}),
			scalarNode("c2", sqrt2), fnNode("Div", "d", []string{"x2", "c2"}), fnNode("Erf", "e", []string{"d"}),
			scalarNode("c1", 1), fnNode("Add", "a", []string{"e", "c1"}), fnNode("Mul", "m", []string{"x", "a"}),
			scalarNode("ch", 0.5), fnNode("Mul", "y", []string{"m", "ch"})}},
		{name: "softsign read twice", want: `node "f/b" (Abs): operator not supported`, nodes: []*onnxpb.NodeProto{
			fnNode("Abs", "b", []string{"x"}), scalarNode("c1", 1), fnNode("Add", "a", []string{"b", "c1"}), fnNode("Div", "q", []string{"x", "a"}),
			fnNode("Add", "y", []string{"q", "a"})}},
		{name: "Gelu, tanh", opset: 20, want: `node "f/y" (Gelu): attribute approximate = "tanh": convnet's gelu is the exact one`,
			nodes: []*onnxpb.NodeProto{fnNode("Gelu", "y", []string{"x"}, attrString("approximate", "tanh"))}},
		{name: "Selu, other alpha", want: `node "f/y" (Selu): attributes alpha = 1, gamma = 1.050701: convnet's selu has alpha 1.6732632 and gamma 1.050701`,
			nodes: []*onnxpb.NodeProto{fnNode("Selu", "y", []string{"x"}, attrFloat("alpha", 1))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mp := tinyONNX(t)
			g := mp.Graph
			for i, n := range g.Node {
				if n.GetOpType() != "Relu" {
					continue
				}
				for _, m := range g.Node {
					for k, in := range m.Input {
						if in == n.Input[0] {
							m.Input[k] = "x"
						}
					}
				}
				g.Node[i-1].Output[0] = "x"
				for _, m := range g.Node {
					for k, in := range m.Input {
						if in == n.Output[0] {
							m.Input[k] = "y"
						}
					}
				}
				g.Node = append(g.Node[:i], append(tt.nodes, g.Node[i+1:]...)...)
				break
			}
			g.Initializer = append(g.Initializer, tt.init...)
			if tt.opset != 0 {
				mp.OpsetImport[0].Version = proto.Int64(tt.opset)
			}
			m, err := importBytes(marshal(t, mp), ONNXImportOptions{})
			if strings.Contains(tt.want, " ") {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("ImportONNX: %v, want an error containing %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c, ok := m.Layers[0].(*nn.Conv2D); !ok || c.Activation != tt.want || len(m.Layers) != 3 {
				t.Errorf("layers %s, want the Conv2D with activation %s, then Flatten and Dense", layerList(m), tt.want)
			}
		})
	}
}

// layerList names a model's layers and their activations for messages.
func layerList(m *Sequential) string {
	var s []string
	for _, l := range m.Layers {
		fn, _ := l.Config()["activation"].(string)
		s = append(s, l.Type()+" "+fn)
	}
	return strings.Join(s, ", ")
}
