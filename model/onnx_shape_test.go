package model

import (
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"google.golang.org/protobuf/proto"
)

// viewNodes returns the nodes PyTorch writes for x.view(x.size(0), -1) of
// the tensor x, with the list of the view's shape given by its parts:
// "batch" (Shape, Gather of index 0, Unsqueeze) or a number (Constant).
func viewNodes(x, out string, parts ...any) []*onnxpb.NodeProto {
	konst := func(name string, dims []int64, v ...int64) *onnxpb.NodeProto {
		t := int64s("", v...)
		t.Name, t.Dims = nil, dims
		return &onnxpb.NodeProto{OpType: proto.String("Constant"), Output: []string{name},
			Attribute: []*onnxpb.AttributeProto{{Name: proto.String("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: t}}}
	}
	node := func(op string, in []string, o string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
		return &onnxpb.NodeProto{Name: proto.String(o), OpType: proto.String(op), Input: in, Output: []string{o}, Attribute: attrs}
	}
	nodes := []*onnxpb.NodeProto{node("Shape", []string{x}, "v/shape")}
	var list []string
	for k, p := range parts {
		name := "v/part" + string(rune('0'+k))
		switch p := p.(type) {
		case string: // "batch" or "channels": index 0 or 1 of the shape
			index := int64(0)
			if p == "channels" {
				index = 1
			}
			nodes = append(nodes, konst(name+"/index", nil, index), node("Gather", []string{"v/shape", name + "/index"}, name+"/scalar", attrInt("axis", 0)),
				konst(name+"/axes", []int64{1}, 0), node("Unsqueeze", []string{name + "/scalar", name + "/axes"}, name))
		case int:
			nodes = append(nodes, konst(name, []int64{1}, int64(p)))
		}
		list = append(list, name)
	}
	return append(nodes, node("Concat", list, "v/list", attrInt("axis", 0)), node("Reshape", []string{x, "v/list"}, out))
}

// withView replaces tinyONNX's Flatten with the nodes of viewNodes.
func withView(t testing.TB, parts ...any) *onnxpb.ModelProto {
	mp := tinyONNX(t)
	g := mp.Graph
	at := slices.IndexFunc(g.Node, func(n *onnxpb.NodeProto) bool { return n.GetOpType() == "Flatten" })
	flat := g.Node[at]
	g.Node = slices.Replace(g.Node, at, at+1, viewNodes(flat.Input[0], flat.Output[0], parts...)...)
	return mp
}

// TestImportONNXView imports x.view(x.size(0), -1) as PyTorch exports it:
// the batch size read with Shape comes to the first axis of the Reshape.
func TestImportONNXView(t *testing.T) {
	want, err := importBytes(marshal(t, tinyONNX(t)), ONNXImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, parts := range [][]any{{"batch", -1}, {"batch", 128}} {
		got, err := importBytes(marshal(t, withView(t, parts...)), ONNXImportOptions{})
		if err != nil {
			t.Fatalf("view %v: %v", parts, err)
		}
		x := randomPixels(want, 4)
		if a, b := rawProbabilities(want, x), rawProbabilities(got, x); !slices.Equal(a.Data, b.Data) {
			t.Errorf("view %v: %v, want %v", parts, b.Data, a.Data)
		}
	}
	tests := []struct {
		parts []any
		want  string
	}{
		{[]any{-1, "batch"}, `node "flatten" (Reshape): input "v/list" is computed from the batch size`},
		{[]any{"channels", -1}, `(Reshape): shape [2 -1]: only a reshape to [N, 128]`},
	}
	for _, tt := range tests {
		_, err := importBytes(marshal(t, withView(t, tt.parts...)), ONNXImportOptions{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("view %v: %v, want an error containing %q", tt.parts, err, tt.want)
		}
	}
	// The batch size anywhere else is refused by the node that reads it.
	mp := withView(t, "batch", -1)
	for _, n := range mp.Graph.Node {
		if n.GetOpType() == "Unsqueeze" {
			n.OpType = proto.String("ConstantOfShape")
			n.Input = n.Input[:1]
		}
	}
	want2 := `(ConstantOfShape): input "v/part0/scalar" is computed from the batch size`
	if _, err := importBytes(marshal(t, mp), ONNXImportOptions{}); err == nil || !strings.Contains(err.Error(), want2) {
		t.Errorf("ConstantOfShape of the batch size: %v, want an error containing %q", err, want2)
	}
}
