package model

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
	"google.golang.org/protobuf/proto"
)

// groupNorms is a stack with group normalizations of several kinds, their
// gamma and beta drawn at random.
func groupNorms(t testing.TB) *Sequential {
	t.Helper()
	m := New(
		&nn.Conv2D{Filters: 6, KernelSize: pair(3), Padding: "same"},
		&nn.GroupNormalization{Groups: 3},
		&nn.GroupNormalization{Groups: -1, Epsilon: 1e-5, NoCenter: true},
		&nn.GroupNormalization{Groups: 1, NoScale: true},
		&nn.GroupNormalization{Groups: 2, NoScale: true, NoCenter: true},
		&nn.Flatten{},
		&nn.Dense{Units: 8, Activation: "relu"},
		&nn.GroupNormalization{Groups: 4},
		&nn.Dense{Units: 3, Activation: "softmax"},
	)
	if err := m.Build([]int{5, 4, 2}, 1); err != nil {
		t.Fatal(err)
	}
	randomWeights[*nn.GroupNormalization](m, rand.New(rand.NewPCG(7, 8)))
	return m
}

// TestONNXGroupNormalization exports each GroupNormalization as the nodes
// of PyTorch's nn.GroupNorm and imports them back as the same layers
// (gamma and beta the Mul and Add after them), the same predictions.
func TestONNXGroupNormalization(t *testing.T) {
	m := groupNorms(t)
	got := roundTrip(t, m, randomPixels(m, 16))
	sameLayers(t, m, got, func(a, b *nn.GroupNormalization) bool { return jsonText(a.Config()) == jsonText(b.Config()) })
}

// asOneNode replaces the exported nodes of the layer called name (those
// named name or name/...) by the one node made of them by with(in, out),
// where the first of them was.
func asOneNode(mp *onnxpb.ModelProto, name string, with func(in, out string) *onnxpb.NodeProto) {
	g := mp.Graph
	var in string
	at := -1
	kept := g.Node[:0:0]
	for _, n := range g.Node {
		if n.GetName() == name || strings.HasPrefix(n.GetName(), name+"/") {
			if at < 0 {
				in, at = n.Input[0], len(kept)
			}
			continue
		}
		kept = append(kept, n)
	}
	g.Node = slices.Concat(kept[:at], []*onnxpb.NodeProto{with(in, name)}, kept[at:])
}

// TestImportONNXGroupNormalizationOp imports opset 18's and 21's
// GroupNormalization (scale and bias per group, then per channel) and
// InstanceNormalization with a scale and bias per channel, and the
// decomposed form with the shape PyTorch reads with Shape: the predictions
// of the model exported. What does not fit is refused naming the node.
func TestImportONNXGroupNormalizationOp(t *testing.T) {
	gn := func(opset int64, scale, bias string, at ...*onnxpb.AttributeProto) func(*onnxpb.ModelProto) {
		return func(mp *onnxpb.ModelProto) {
			asOneNode(mp, "gn", func(in, out string) *onnxpb.NodeProto {
				return fnNode("GroupNormalization", out, []string{in, scale, bias}, at...)
			})
			mp.OpsetImport[0].Version = proto.Int64(opset)
		}
	}
	perGroup := func(mp *onnxpb.ModelProto) {
		mp.Graph.Initializer = append(mp.Graph.Initializer, floats("g2", 0.5, -1.5), floats("b2", 0.25, 2))
	}
	for _, tt := range []struct {
		name   string
		layer  *nn.GroupNormalization
		values func(gamma, beta []float32) // the layer's
		edit   []func(mp *onnxpb.ModelProto)
		want   string
	}{
		{name: "opset 21", layer: &nn.GroupNormalization{Groups: 2, Epsilon: 1e-5},
			edit: []func(*onnxpb.ModelProto){gn(21, "gn/gamma_c", "gn/beta_c", attrInt("num_groups", 2), attrFloat("epsilon", 1e-5))}},
		{name: "opset 18, per group", layer: &nn.GroupNormalization{Groups: 2, Epsilon: 1e-5},
			values: func(g, b []float32) {
				copy(g, []float32{0.5, 0.5, 0.5, -1.5, -1.5, -1.5})
				copy(b, []float32{0.25, 0.25, 0.25, 2, 2, 2})
			},
			edit: []func(*onnxpb.ModelProto){perGroup, gn(18, "g2", "b2", attrInt("num_groups", 2), attrFloat("epsilon", 1e-5))}},
		{name: "instance", layer: &nn.GroupNormalization{Groups: -1, Epsilon: 1e-5},
			edit: []func(*onnxpb.ModelProto){func(mp *onnxpb.ModelProto) {
				asOneNode(mp, "gn", func(in, out string) *onnxpb.NodeProto {
					return fnNode("InstanceNormalization", out, []string{in, "gn/gamma_c", "gn/beta_c"}, attrFloat("epsilon", 1e-5))
				})
			}}},
		{name: "Shape", layer: &nn.GroupNormalization{Groups: 3},
			edit: []func(*onnxpb.ModelProto){func(mp *onnxpb.ModelProto) {
				for _, n := range mp.Graph.Node {
					if n.GetName() == "gn/ungroup" {
						n.Input[1] = "gn/x_shape"
						mp.Graph.Node = append(mp.Graph.Node, nil)
						i := slices.Index(mp.Graph.Node, n)
						copy(mp.Graph.Node[i+1:], mp.Graph.Node[i:])
						mp.Graph.Node[i] = fnNode("Shape", "gn/x_shape", []string{"conv"})
						break
					}
				}
			}}},
		{name: "Shape of nothing", layer: &nn.GroupNormalization{Groups: 3},
			edit: []func(*onnxpb.ModelProto){func(mp *onnxpb.ModelProto) {
				for i, n := range mp.Graph.Node {
					if n.GetName() == "gn/ungroup" {
						n.Input[1] = "gn/x_shape"
						mp.Graph.Node = slices.Insert(mp.Graph.Node, i, fnNode("Shape", "gn/x_shape", nil))
						break
					}
				}
			}},
			want: `node "f/gn/x_shape" (Shape)`},
		{name: "sizes given", layer: &nn.GroupNormalization{Groups: 3},
			edit: []func(*onnxpb.ModelProto){ints("gn/groups_shape", -1, 3, 40), ints("gn/shape", -1, 6, 4, 5)}},
		{name: "group size", layer: &nn.GroupNormalization{Groups: 3},
			edit: []func(*onnxpb.ModelProto){ints("gn/groups_shape", -1, 3, 7)},
			want: `node "gn/ungroup" (GroupNormalization): groups of 7 values: the input [N 6 4 5] has 40 in each of 3 groups`},
		{name: "opset 17", layer: &nn.GroupNormalization{Groups: 2},
			edit: []func(*onnxpb.ModelProto){gn(17, "gn/gamma_c", "gn/beta_c", attrInt("num_groups", 2))},
			want: `node "f/gn" (GroupNormalization): GroupNormalization is an operator of opset 18, the graph's opset is 17`},
		{name: "groups", layer: &nn.GroupNormalization{Groups: 2},
			edit: []func(*onnxpb.ModelProto){gn(21, "gn/gamma_c", "gn/beta_c", attrInt("num_groups", 4))},
			want: `node "f/gn" (GroupNormalization): num_groups = 4: want a divisor of the input's 6 channels`},
		{name: "per group at 21", layer: &nn.GroupNormalization{Groups: 2},
			edit: []func(*onnxpb.ModelProto){perGroup, gn(21, "g2", "b2", attrInt("num_groups", 2))},
			want: `scale "g2" has 2 values: want one per channel (6), or per group (2) before opset 21`},
		{name: "shape back", layer: &nn.GroupNormalization{Groups: 3, NoScale: true, NoCenter: true},
			edit: []func(*onnxpb.ModelProto){ints("gn/shape", 0, 6, 2, 10)},
			want: `shape [0 6 2 10]: the groups go back to a shape other than the input's [N 6 4 5]`},
		{name: "shape back empty", layer: &nn.GroupNormalization{Groups: 3, NoScale: true, NoCenter: true},
			edit: []func(*onnxpb.ModelProto){ints("gn/shape")},
			want: `shape []: the groups go back to a shape other than the input's [N 6 4 5]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.layer.SetName("gn")
			conv := &nn.Conv2D{Filters: 6, KernelSize: pair(3), Padding: "same"}
			conv.SetName("conv")
			m := New(conv, tt.layer, &nn.Flatten{}, &nn.Dense{Units: 2, Activation: "softmax"})
			if err := m.Build([]int{4, 5, 1}, 2); err != nil {
				t.Fatal(err)
			}
			ps := tt.layer.Params()
			for _, p := range ps {
				for i := range p.Value.Data {
					p.Value.Data[i] = float32(i%7)*0.25 - 0.5
				}
			}
			if tt.values != nil {
				tt.values(ps[0].Value.Data, ps[1].Value.Data)
			}
			mp, err := onnxModel(m, ONNXExportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) == 2 {
				mp.Graph.Initializer = append(mp.Graph.Initializer, floats("gn/gamma_c", ps[0].Value.Data...), floats("gn/beta_c", ps[1].Value.Data...))
			}
			for _, e := range tt.edit {
				e(mp)
			}
			got := importWant(t, mp, tt.want)
			if got == nil {
				return
			}
			l, ok := got.Layers[1].(*nn.GroupNormalization)
			if !ok || l.GroupCount() != tt.layer.GroupCount() || l.NoScale != tt.layer.NoScale || l.NoCenter != tt.layer.NoCenter {
				t.Fatalf("imported %s, want a GroupNormalization of %d groups", layerList(got), tt.layer.GroupCount())
			}
			sameProbabilities(t, m, got, 8)
		})
	}
}

// ints is an edit that sets the INT64 initializer called name to v.
func ints(name string, v ...int64) func(*onnxpb.ModelProto) {
	return func(mp *onnxpb.ModelProto) {
		for _, w := range mp.Graph.Initializer {
			if w.GetName() == name {
				w.Int64Data, w.Dims = v, []int64{int64(len(v))}
			}
		}
	}
}
