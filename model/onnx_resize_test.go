package model

import (
	"slices"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
	"google.golang.org/protobuf/proto"
)

// resampled is a model with every kind of UpSampling2D and Resizing:
// whole factors nearest and bilinear, Resizing down and up, nearest, and
// cropped to an aspect ratio.
func resampled(t testing.TB) *Sequential {
	m := New(
		&nn.Resizing{Height: 6, Width: 8, CropToAspectRatio: true},
		&nn.Conv2D{Filters: 3, KernelSize: pair(3), Activation: "relu"},
		&nn.UpSampling2D{Size: [2]int{3, 2}},
		&nn.Resizing{Height: 7, Width: 5},
		&nn.UpSampling2D{Interpolation: "bilinear"},
		&nn.Resizing{Height: 9, Width: 4, Interpolation: "nearest"},
		&nn.Flatten{},
		&nn.Dense{Units: 3, Activation: "softmax"},
	)
	if err := m.Build([]int{9, 7, 2}, 3); err != nil {
		t.Fatal(err)
	}
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}
	m.ClassNames = []string{"x", "y", "z"}
	return m
}

// resizeNodes returns the Resize nodes of mp.
func resizeNodes(mp *onnxpb.ModelProto) []*onnxpb.NodeProto {
	var rs []*onnxpb.NodeProto
	for _, n := range mp.Graph.Node {
		if n.GetOpType() == "Resize" {
			rs = append(rs, n)
		}
	}
	return rs
}

// setAttr sets attribute name of n to the string v.
func setAttr(n *onnxpb.NodeProto, name, v string) {
	n.Attribute = slices.DeleteFunc(n.Attribute, func(a *onnxpb.AttributeProto) bool { return a.GetName() == name })
	n.Attribute = append(n.Attribute, attrString(name, v))
}

// TestONNXResize exports the resampling layers as Resize nodes (a Slice
// first for the crop), imports them back as the same layers, and reads
// PyTorch's way of writing F.interpolate(size=...) (sizes from the input's
// Shape, a Slice of its batch size and channels and a Concat); what Keras
// does not compute is refused naming the node and attribute.
func TestONNXResize(t *testing.T) {
	m := resampled(t)
	got := roundTrip(t, m, randomPixels(m, 5))
	var types []string
	for _, l := range got.Layers {
		types = append(types, l.Type())
	}
	want := []string{"Cropping2D", "Resizing", "Conv2D", "UpSampling2D", "Resizing", "UpSampling2D", "Resizing", "Flatten", "Dense"}
	if !slices.Equal(types, want) {
		t.Errorf("imported %v, want %v", types, want)
	}
	mp, err := onnxModel(m, ONNXExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rs := resizeNodes(mp); len(rs) != 5 {
		t.Fatalf("%d Resize nodes, want 5", len(rs))
	}

	// PyTorch's sizes: Concat(Slice(Shape(x), 0, 2), [7, 5]).
	sized := proto.Clone(mp).(*onnxpb.ModelProto)
	r := resizeNodes(sized)[2]
	g := sized.Graph
	g.Initializer = append(g.Initializer,
		&onnxpb.TensorProto{Name: proto.String("s0"), DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Dims: []int64{1}, Int64Data: []int64{0}},
		&onnxpb.TensorProto{Name: proto.String("s2"), DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Dims: []int64{1}, Int64Data: []int64{2}},
		&onnxpb.TensorProto{Name: proto.String("hw"), DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Dims: []int64{2}, Int64Data: []int64{7, 5}})
	at := slices.Index(g.Node, r)
	g.Node = slices.Insert(g.Node, at,
		&onnxpb.NodeProto{Name: proto.String("shape"), OpType: proto.String("Shape"), Input: []string{r.Input[0]}, Output: []string{"shape"}},
		&onnxpb.NodeProto{Name: proto.String("nc"), OpType: proto.String("Slice"), Input: []string{"shape", "s0", "s2", "s0"}, Output: []string{"nc"}},
		&onnxpb.NodeProto{Name: proto.String("sizes"), OpType: proto.String("Concat"), Input: []string{"nc", "hw"}, Output: []string{"sizes"},
			Attribute: []*onnxpb.AttributeProto{attrInt("axis", 0)}})
	r.Input = []string{r.Input[0], "", "", "sizes"}
	sameProbabilities(t, m, importWant(t, sized, ""), 5)

	for _, tt := range []struct {
		node    int
		attr, v string
		want    string
		scales  []float32
	}{
		{node: 2, attr: "coordinate_transformation_mode", v: "align_corners",
			want: `linear with coordinate_transformation_mode "align_corners": convnet supports only half_pixel`},
		{node: 2, attr: "mode", v: "cubic", want: `mode "cubic": convnet supports "nearest" and "linear"`},
		{node: 4, attr: "nearest_mode", v: "round_prefer_floor",
			want: `nearest with coordinate_transformation_mode "half_pixel" and nearest_mode "round_prefer_floor"`},
		{node: 1, scales: []float32{1, 1, 1.5, 2}, want: `nearest with asymmetric coordinates (PyTorch's mode "nearest") at scales [1.5 2]`},
		{node: 1, scales: []float32{1, 2, 3, 2}, want: `scales [1 2 3 2]: convnet resizes only the height and width`},
		{node: 0, scales: []float32{1, 1, 0.7, 0.7}, want: `scales [1 1 0.7 0.7] on 5x7: convnet resizes to whole sizes, by in/out, and this scale makes 3.5`},
	} {
		bad := proto.Clone(mp).(*onnxpb.ModelProto)
		r := resizeNodes(bad)[tt.node]
		if tt.attr != "" {
			setAttr(r, tt.attr, tt.v)
		}
		if tt.scales != nil {
			for _, w := range bad.Graph.Initializer {
				if w.GetName() == r.Input[2] {
					w.RawData = nil
					w.FloatData = tt.scales
				}
			}
		}
		importWant(t, bad, tt.want)
	}
}
