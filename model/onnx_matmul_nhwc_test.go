package model

import (
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
	"google.golang.org/protobuf/proto"
)

// TestImportONNXMatMulPixels imports PyTorch's nn.Linear on an image
// permuted channel-last (Transpose to NHWC, MatMul, Add of the bias,
// Transpose back, as ConvNeXt's blocks write it) as a Dense on the image:
// the predictions of the model whose exported 1x1 Conv the nodes replace.
// A bias that varies along another axis than the channels, and a MatMul
// on an image left in NCHW, are refused naming the node.
func TestImportONNXMatMulPixels(t *testing.T) {
	for _, tt := range []struct {
		name string
		bias []int64 // the bias's dims
		nchw bool    // leave out the Transposes
		want string  // an error
	}{
		{name: "linear", bias: []int64{4}},
		{name: "bias of rank 3", bias: []int64{1, 1, 4}},
		{name: "bias per row", bias: []int64{4, 1}, want: `node "pix/add" (Add): bias of shape [4 1] on an image`},
		{name: "NCHW", bias: []int64{4}, nchw: true, want: `node "pix/matmul" (MatMul): input of shape [3 5 6] per sample, want a vector (flatten it first) or an image transposed to NHWC`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pix := &nn.Dense{Units: 4}
			pix.SetName("pix")
			m := New(&nn.Conv2D{Filters: 3, KernelSize: pair(3), Padding: "same"}, pix, &nn.Activation{Func: "tanh"}, &nn.Flatten{}, &nn.Dense{Units: 2, Activation: "softmax"})
			if err := m.Build([]int{5, 6, 1}, 3); err != nil {
				t.Fatal(err)
			}
			for i := range pix.Params()[1].Value.Data {
				pix.Params()[1].Value.Data[i] = float32(i)*0.3 - 0.4
			}
			mp, err := onnxModel(m, ONNXExportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// Replace the 1x1 Conv named pix by the nodes of nn.Linear on
			// the permuted image.
			g := mp.Graph
			at := slices.IndexFunc(g.Node, func(n *onnxpb.NodeProto) bool { return n.GetName() == "pix" })
			conv := g.Node[at]
			x := conv.Input[0]
			w := floats("pix/w", pix.Params()[0].Value.Data...)
			w.Dims = []int64{3, 4}
			b := floats("pix/b", pix.Params()[1].Value.Data...)
			b.Dims = tt.bias
			g.Initializer = append(g.Initializer, w, b)
			nodes := []*onnxpb.NodeProto{
				fnNode("Transpose", "pix/nhwc", []string{x}, attrInts("perm", 0, 2, 3, 1)),
				fnNode("MatMul", "pix/matmul", []string{"pix/nhwc", "pix/w"}),
				fnNode("Add", "pix/add", []string{"pix/matmul", "pix/b"}),
				fnNode("Transpose", conv.Output[0], []string{"pix/add"}, attrInts("perm", 0, 3, 1, 2)),
			}
			if tt.nchw {
				nodes = []*onnxpb.NodeProto{fnNode("MatMul", "pix/matmul", []string{x, "pix/w"}), fnNode("Add", conv.Output[0], []string{"pix/matmul", "pix/b"})}
			}
			for _, n := range nodes {
				n.Name = proto.String(strings.TrimPrefix(n.GetName(), "f/"))
			}
			g.Node = slices.Concat(g.Node[:at], nodes, g.Node[at+1:])
			got := importWant(t, mp, tt.want)
			if got == nil {
				return
			}
			d, ok := got.Layers[1].(*nn.Dense)
			if !ok || d.Units != 4 || d.NoBias || !slices.Equal(d.OutputShape(), []int{5, 6, 4}) {
				t.Fatalf("imported %s, want a Dense of 4 units with a bias on the 5x6 image", layerList(got))
			}
			sameProbabilities(t, m, got, 8)
		})
	}
}
