package model

import (
	"strings"
	"testing"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"google.golang.org/protobuf/proto"
)

// TestImportONNXNoPanic: malformed graphs that once made ImportONNX panic
// are errors naming the node.
func TestImportONNXNoPanic(t *testing.T) {
	// extra adds the initializers and, first in the graph, the nodes to
	// tinyONNX's graph.
	extra := func(inits []*onnxpb.TensorProto, nodes ...*onnxpb.NodeProto) func(*onnxpb.ModelProto) {
		return func(mp *onnxpb.ModelProto) {
			mp.Graph.Initializer = append(mp.Graph.Initializer, inits...)
			mp.Graph.Node = append(nodes, mp.Graph.Node...)
		}
	}
	node := func(op string, in []string, out string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
		return &onnxpb.NodeProto{Name: proto.String("bad"), OpType: proto.String(op), Input: in, Output: []string{out}, Attribute: attrs}
	}
	tests := []struct {
		name   string
		change func(*onnxpb.ModelProto)
		want   string
	}{
		{"INT64 Div of an empty constant by zero", extra(
			[]*onnxpb.TensorProto{int64s("empty"), int64s("zero", 0)},
			node("Div", []string{"empty", "zero"}, "q")),
			`node "bad" (Div): divides by zero`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mp := tinyONNX(t)
			tt.change(mp)
			_, err := importBytes(marshal(t, mp), ONNXImportOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ImportONNX: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
