package model

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
	"google.golang.org/protobuf/proto"
)

// layerNorms is a stack with a LayerNormalization over each choice of
// axes an image and a vector take, with and without gamma and beta, which
// hold random values.
func layerNorms(t testing.TB) *Sequential {
	t.Helper()
	m := New(
		&nn.Conv2D{Filters: 4, KernelSize: pair(3), Padding: "same"},
		&nn.LayerNormalization{},
		&nn.LayerNormalization{Axis: []int{1, 2, 3}, Epsilon: 1e-5},
		&nn.LayerNormalization{Axis: []int{1, 2}, NoCenter: true},
		&nn.LayerNormalization{Axis: []int{-3}, NoScale: true},
		&nn.LayerNormalization{Axis: []int{2, 3}, NoScale: true, NoCenter: true},
		&nn.Flatten{},
		&nn.LayerNormalization{Epsilon: 0.01},
		&nn.Dense{Units: 3, Activation: "softmax"},
	)
	if err := m.Build([]int{5, 6, 2}, 1); err != nil {
		t.Fatal(err)
	}
	randomWeights[*nn.LayerNormalization](m, rand.New(rand.NewPCG(5, 6)))
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}
	return m
}

// TestONNXLayerNormalization exports each LayerNormalization as the nodes
// of F.layer_norm before opset 17 and imports them back as the same layers
// (gamma and beta the Mul and Add after them), the same predictions.
func TestONNXLayerNormalization(t *testing.T) {
	m := layerNorms(t)
	got := roundTrip(t, m, randomPixels(m, 16))
	sameLayers(t, m, got, func(a, b *nn.LayerNormalization) bool {
		return slices.Equal(a.Axes(), b.Axes()) && a.NoScale == b.NoScale && a.NoCenter == b.NoCenter && b.Name() == a.Name()
	})
}

// sameLayers checks that got has the layers of m, those of type T alike
// as same says, with the same parameters.
func sameLayers[T nn.Layer](t *testing.T, m, got *Sequential, same func(a, b T) bool) {
	t.Helper()
	if len(got.Layers) != len(m.Layers) {
		t.Fatalf("imported layers %s, want %d", layerList(got), len(m.Layers))
	}
	for i, l := range m.Layers {
		a, ok1 := l.(T)
		b, ok2 := got.Layers[i].(T)
		if ok1 != ok2 {
			t.Fatalf("layer %d: %s, want %s", i, got.Layers[i].Type(), l.Type())
		}
		if !ok1 {
			continue
		}
		if !same(a, b) {
			t.Errorf("layer %d: %v, want %v", i, b.Config(), a.Config())
		}
		for j, p := range l.Params() {
			if q := got.Layers[i].Params()[j]; !slices.Equal(q.Value.Data, p.Value.Data) || !slices.Equal(q.Value.Shape, p.Value.Shape) {
				t.Errorf("layer %d: %s %v %v, want %v %v", i, p.Name, q.Value.Shape, q.Value.Data, p.Value.Shape, p.Value.Data)
			}
		}
	}
}

// randomWeights draws the parameters of m's layers of type T from a
// standard normal distribution.
func randomWeights[T nn.Layer](m *Sequential, rng *rand.Rand) {
	for _, l := range m.Layers {
		if _, ok := l.(T); ok {
			for _, p := range l.Params() {
				for i := range p.Value.Data {
					p.Value.Data[i] = float32(rng.NormFloat64())
				}
			}
		}
	}
}

// opset17 replaces the nodes of the exported LayerNormalization called
// name by opset 17's LayerNormalization over the axes from axis on, on
// the image transposed to NHWC and back if nhwc; gamma and beta take the
// shape dims.
func opset17(t *testing.T, mp *onnxpb.ModelProto, name string, axis int, nhwc bool, dims []int64) {
	t.Helper()
	g := mp.Graph
	var in string
	var at int
	kept := g.Node[:0:0]
	for _, n := range g.Node {
		if n.GetName() == name || strings.HasPrefix(n.GetName(), name+"/") {
			if n.GetName() == name+"/mean" {
				in, at = n.Input[0], len(kept)
			}
			continue
		}
		kept = append(kept, n)
	}
	var nodes []*onnxpb.NodeProto
	x := in
	if nhwc {
		nodes = append(nodes, fnNode("Transpose", "to_nhwc", []string{in}, attrInts("perm", 0, 2, 3, 1)))
		x = "to_nhwc"
	}
	out := name
	if nhwc {
		out = name + "/nhwc"
	}
	nodes = append(nodes, &onnxpb.NodeProto{Name: proto.String(name), OpType: proto.String("LayerNormalization"),
		Input: []string{x, name + "/gamma", name + "/beta"}, Output: []string{out}, Attribute: []*onnxpb.AttributeProto{attrInt("axis", axis), attrFloat("epsilon", 1e-3)}})
	if nhwc {
		nodes = append(nodes, fnNode("Transpose", name, []string{out}, attrInts("perm", 0, 3, 1, 2)))
		nodes[len(nodes)-1].Name = proto.String("to_nchw")
	}
	g.Node = slices.Concat(kept[:at], nodes, kept[at:])
	for _, w := range g.Initializer {
		if w.GetName() == name+"/gamma" || w.GetName() == name+"/beta" {
			w.Dims = dims
		}
	}
	mp.OpsetImport[0].Version = proto.Int64(17)
}

// TestImportONNXLayerNormalizationOp imports opset 17's LayerNormalization
// over C, H and W of an image (axis 1), as torch.onnx.export writes
// nn.LayerNorm([C, H, W]), and over the channels of an image transposed to
// NHWC and back (axis -1), as it writes nn.LayerNorm(C) between two
// permutes: the predictions of the model exported. An axis that takes the
// batch, a graph of opset 13 and a Scale that varies along an axis not
// normalised are refused naming the node.
func TestImportONNXLayerNormalizationOp(t *testing.T) {
	for _, tt := range []struct {
		name  string
		layer *nn.LayerNormalization
		axis  int
		nhwc  bool
		dims  []int64
		edit  func(mp *onnxpb.ModelProto)
		want  string // an error
	}{
		{name: "whole image", layer: &nn.LayerNormalization{Axis: []int{1, 2, 3}}, axis: 1, dims: []int64{3, 4, 5}},
		{name: "channels, NHWC", layer: &nn.LayerNormalization{}, axis: -1, nhwc: true, dims: []int64{3}},
		{name: "rows, NCHW", layer: &nn.LayerNormalization{Axis: []int{1, 2}}, axis: 2, dims: []int64{4, 5}},
		{name: "batch", layer: &nn.LayerNormalization{Axis: []int{1, 2, 3}}, axis: 0, dims: []int64{3, 4, 5},
			want: `node "ln" (LayerNormalization): axes [0] on an input of rank 4: want distinct axes other than the batch axis 0`},
		{name: "opset 13", layer: &nn.LayerNormalization{Axis: []int{1, 2, 3}}, axis: 1, dims: []int64{3, 4, 5},
			edit: func(mp *onnxpb.ModelProto) { mp.OpsetImport[0].Version = proto.Int64(13) },
			want: `node "ln" (LayerNormalization): LayerNormalization is an operator of opset 17, the graph's opset is 13`},
		{name: "scale per channel", layer: &nn.LayerNormalization{Axis: []int{1, 2, 3}}, axis: 2, dims: []int64{3, 4, 5},
			want: `scale "ln/gamma" varies along axis 3 of convnet's input [4 5 3], which the layer normalization does not normalise`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.layer.SetName("ln")
			m := New(&nn.Conv2D{Filters: 3, KernelSize: pair(3), Padding: "same"}, tt.layer, &nn.Flatten{}, &nn.Dense{Units: 2, Activation: "softmax"})
			if err := m.Build([]int{4, 5, 1}, 2); err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.layer.Params() {
				for i := range p.Value.Data {
					p.Value.Data[i] = float32(i%7)*0.25 - 0.5
				}
			}
			mp, err := onnxModel(m, ONNXExportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			opset17(t, mp, "ln", tt.axis, tt.nhwc, tt.dims)
			if tt.edit != nil {
				tt.edit(mp)
			}
			got := importWant(t, mp, tt.want)
			if got == nil {
				return
			}
			l, ok := got.Layers[1].(*nn.LayerNormalization)
			if !ok || !slices.Equal(l.Axes(), tt.layer.Axes()) || l.NoScale || l.NoCenter {
				t.Fatalf("imported %s, want a LayerNormalization over %v with gamma and beta", layerList(got), tt.layer.Axes())
			}
			sameProbabilities(t, m, got, 8)
		})
	}
}
