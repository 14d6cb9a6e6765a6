package model

import (
	"strings"
	"testing"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/tensor"
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

// TestParseArchitectureRuns: architectures that once made a model read by
// ParseArchitecture panic build and run one sample, as FuzzParseArchitecture
// requires.
func TestParseArchitectureRuns(t *testing.T) {
	tests := []struct {
		name  string
		layer string
	}{
		// Keras's strides default to the pool size: one window, padded
		// with about 2^30 cells on each side, over the 8x8 image.
		{"max pool far larger than the image", `{"class_name": "MaxPooling2D", "config": {"pool_size": [2147483648, 2147483648], "padding": "same"}}`},
		// One output cell: the stride spaced the cells of tiles running
		// over the row, and sized a buffer of 2^31 times the channels.
		{"conv stride far larger than the image", `{"class_name": "Conv2D", "config": {"filters": 2, "kernel_size": [3, 3], "strides": [2147483648, 2147483648]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := `{"input_shape": [8, 8, 2], "layers": [` + tt.layer + `,
				{"class_name": "Flatten", "config": {}}, {"class_name": "Dense", "config": {"units": 2}}]}`
			m, err := ParseArchitecture([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Build(nil, 1); err != nil {
				t.Fatal(err)
			}
			x := tensor.New(append([]int{1}, m.InputShape()...)...)
			p := tensor.New(append([]int{1}, m.OutputShape()...)...)
			m.Predict(p, x)
		})
	}
}
