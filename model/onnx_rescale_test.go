package model

import (
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
	"google.golang.org/protobuf/proto"
)

// arith is a node of op on x and a constant; first puts the constant
// first.
type arith struct {
	op    string
	c     *onnxpb.TensorProto
	first bool
}

// insertAfter puts the nodes of ops, one after the other, between the
// output of tinyONNX's node of type after and its readers.
func insertAfter(mp *onnxpb.ModelProto, after string, ops ...arith) {
	at := slices.IndexFunc(mp.Graph.Node, func(n *onnxpb.NodeProto) bool { return n.GetOpType() == after })
	var x string
	if at < 0 { // the graph's input
		x, at = mp.Graph.Input[0].GetName(), -1
	} else {
		x = mp.Graph.Node[at].Output[0]
	}
	for _, n := range mp.Graph.Node[at+1:] {
		for k, in := range n.Input {
			if in == x {
				n.Input[k] = "arith" + string(rune('0'+len(ops)-1))
			}
		}
	}
	for k, a := range ops {
		out := "arith" + string(rune('0'+k))
		in := []string{x, a.c.GetName()}
		if a.first {
			in[0], in[1] = in[1], in[0]
		}
		mp.Graph.Initializer = append(mp.Graph.Initializer, a.c)
		mp.Graph.Node = slices.Insert(mp.Graph.Node, at+1+k, &onnxpb.NodeProto{Name: proto.String("r/" + out), OpType: proto.String(a.op), Input: in, Output: []string{out}})
		x = out
	}
}

// TestImportONNXRescaling: arithmetic with one constant value on the
// output of a layer, or on the input where the model's preprocessing
// cannot take it, is a Rescaling; a Mul and the Add after it are one.
func TestImportONNXRescaling(t *testing.T) {
	one := func(name string, v float32) *onnxpb.TensorProto {
		c := floats(name, v)
		c.Dims = nil // a scalar
		return c
	}
	tests := []struct {
		name  string
		after string // the node type the arithmetic follows; "" for the input
		ops   []arith
		want  [][2]float64 // the Rescalings' scale and offset, in order
		want0 bool         // the first Rescaling is the model's first layer
	}{
		{"mul", "Relu", []arith{{op: "Mul", c: one("c", 0.5)}}, [][2]float64{{0.5, 0}}, false},
		{"div", "Relu", []arith{{op: "Div", c: one("c", 4)}}, [][2]float64{{0.25, 0}}, false},
		{"sub", "Relu", []arith{{op: "Sub", c: floats("c", 1)}}, [][2]float64{{1, -1}}, false},
		{"constant minus x", "Relu", []arith{{op: "Sub", c: one("c", 3), first: true}}, [][2]float64{{-1, 3}}, false},
		{"mul then add", "Relu", []arith{{op: "Mul", c: one("c", 2)}, {op: "Add", c: one("d", 1), first: true}}, [][2]float64{{2, 1}}, false},
		{"add then mul", "Relu", []arith{{op: "Add", c: one("c", 1)}, {op: "Mul", c: one("d", 2)}}, [][2]float64{{1, 1}, {2, 0}}, false},
		{"on the input after the preprocessing", "", []arith{{op: "Sub", c: one("c", 0.5)}, {op: "Mul", c: one("d", 2)}, {op: "Add", c: one("e", 1)}}, [][2]float64{{1, 1}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mp := tinyONNX(t)
			insertAfter(mp, tt.after, tt.ops...)
			m, err := importBytes(marshal(t, mp), ONNXImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var got [][2]float64
			first := -1
			for k, l := range m.Layers {
				if r, ok := l.(*nn.Rescaling); ok {
					got = append(got, [2]float64{r.Scale, r.Offset})
					if first < 0 {
						first = k
					}
				}
			}
			if !slices.Equal(got, tt.want) || (first == 0) != tt.want0 {
				t.Errorf("Rescalings %v (the first at layer %d), want %v", got, first, tt.want)
			}
		})
	}
	// The preprocessing took the first two steps of the last case.
	mp := tinyONNX(t)
	insertAfter(mp, "", tests[len(tests)-1].ops...)
	m, err := importBytes(marshal(t, mp), ONNXImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Standardizer; s == nil || !slices.Equal(s.Mean, []float32{0.5}) || len(s.Std) != 1 || s.Std[0]+stdEpsilon != 0.5 {
		t.Errorf("Standardizer %+v, want the mean 0.5 and the std 0.5", s)
	}

	for _, tt := range []struct {
		name string
		ops  []arith
		want string
	}{
		{"constant divided by x", []arith{{op: "Div", c: one("c", 2), first: true}}, `node "r/arith0" (Div): a constant divided by a tensor is not a convnet layer`},
		{"divided by zero", []arith{{op: "Div", c: one("c", 0)}}, `node "r/arith0" (Div): Div by 0: a Rescaling needs a finite scale other than 0 and a finite offset`},
		{"an integer", []arith{{op: "Mul", c: int64s("c", 2)}}, `(Mul): Mul by an integer constant on a float tensor`},
		{"rank", []arith{{op: "Mul", c: &onnxpb.TensorProto{Name: proto.String("c"), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: []int64{1, 1, 1, 1, 1}, FloatData: []float32{2}}}},
			`(Mul): Mul by a constant of shape [1 1 1 1 1] on a tensor of shape [N 2 8 8] changes its rank`},
	} {
		mp := tinyONNX(t)
		insertAfter(mp, "Relu", tt.ops...)
		_, err := importBytes(marshal(t, mp), ONNXImportOptions{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: ImportONNX: %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}
