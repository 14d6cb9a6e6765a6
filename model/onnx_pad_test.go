package model

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
	"google.golang.org/protobuf/proto"
)

// padded is a model whose zero paddings are what PyTorch writes as the pads
// of the window after them: a strided convolution with symmetric padding
// (not TensorFlow's "same" on this input), a max pool after a ReLU and an
// average that counts its padding cells (count_include_pad).
func padded(t testing.TB) *Sequential {
	m := New(
		&nn.ZeroPadding2D{Padding: [2][2]int{{1, 1}, {1, 1}}},
		&nn.Conv2D{Filters: 4, KernelSize: pair(3), Strides: pair(2), Activation: "relu"},
		&nn.ZeroPadding2D{Padding: [2][2]int{{1, 0}, {0, 1}}},
		&nn.MaxPool2D{PoolSize: pair(2), Strides: pair(2)},
		&nn.ZeroPadding2D{Padding: [2][2]int{{1, 1}, {1, 1}}},
		&nn.AveragePooling2D{PoolSize: pair(3), Strides: pair(1)},
		&nn.Flatten{},
		&nn.Dense{Units: 3, Activation: "softmax"},
	)
	if err := m.Build([]int{9, 8, 2}, 3); err != nil {
		t.Fatal(err)
	}
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255, FeaturewiseStd: true, Mean: []float32{0.3, 0.6}, Std: []float32{0.2, 0.4}}
	m.ClassNames = []string{"x", "y", "z"}
	return m
}

// foldPads rewrites each Pad node of mp into the pads of the node that
// reads it, as PyTorch's exporter writes a padded convolution or pooling.
func foldPads(t *testing.T, mp *onnxpb.ModelProto) {
	g := mp.Graph
	for i := 0; i < len(g.Node); i++ {
		pad := g.Node[i]
		if pad.GetOpType() != "Pad" {
			continue
		}
		at := slices.IndexFunc(g.Initializer, func(x *onnxpb.TensorProto) bool { return x.GetName() == pad.Input[1] })
		p := g.Initializer[at].Int64Data // [0 0 top left 0 0 bottom right]
		next := g.Node[i+1]
		if next.Input[0] != pad.Output[0] {
			t.Fatalf("%s does not read %s", next.GetName(), pad.GetName())
		}
		next.Input[0] = pad.Input[0]
		next.Attribute = slices.DeleteFunc(next.Attribute, func(a *onnxpb.AttributeProto) bool {
			if a.GetName() == "pads" && slices.Max(a.Ints) != 0 {
				t.Fatalf("%s has pads already", next.GetName())
			}
			return a.GetName() == "pads"
		})
		next.Attribute = append(next.Attribute, attrInts("pads", int(p[2]), int(p[3]), int(p[6]), int(p[7])))
		if next.GetOpType() == "AveragePool" {
			for k, a := range next.Attribute {
				if a.GetName() == "count_include_pad" {
					next.Attribute[k] = attrInt("count_include_pad", 1)
				}
			}
		}
		g.Node = slices.Delete(g.Node, i, i+1)
		g.Initializer = slices.Delete(g.Initializer, at, at+1)
		i--
	}
}

// TestImportONNXPads imports windows with pads that are neither "valid" nor
// TensorFlow's "same" as a ZeroPadding2D before a "valid" window: the
// imported model computes what the model with the explicit paddings does.
func TestImportONNXPads(t *testing.T) {
	m := padded(t)
	mp, err := onnxModel(m, ONNXExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	foldPads(t, mp)
	for _, n := range mp.Graph.Node {
		if n.GetOpType() == "Pad" {
			t.Fatal("a Pad node is left")
		}
	}
	got, err := importBytes(marshal(t, mp), ONNXImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, l := range got.Layers {
		types = append(types, l.Type())
	}
	want := []string{"ZeroPadding2D", "Conv2D", "ZeroPadding2D", "MaxPooling2D", "ZeroPadding2D", "AveragePooling2D", "Flatten", "Dense"}
	if !slices.Equal(types, want) {
		t.Errorf("imported layers %v, want %v", types, want)
	}
	x := randomPixels(m, 32)
	a, b := rawProbabilities(m, x), rawProbabilities(got, x)
	worst := 0.0
	for i, v := range a.Data {
		worst = max(worst, math.Abs(float64(v)-float64(b.Data[i])))
	}
	if worst > 1e-6 {
		t.Errorf("the imported model's probabilities differ by %.3g, want <= 1e-6", worst)
	}
	if pad := got.Layers[0].(*nn.ZeroPadding2D); pad.Name() != "conv2d.pad" {
		t.Errorf("the convolution's padding is called %q, want conv2d.pad", pad.Name())
	}
	roundTrip(t, m, x)
}

// TestImportONNXPadErrors: pads convnet's zero padding cannot stand for are
// refused by node.
func TestImportONNXPadErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(mp *onnxpb.ModelProto)
		want   string
	}{
		{"pad value", func(mp *onnxpb.ModelProto) {
			insertBeforeConv(mp, "Pad", nil, int64s("pads", 0, 0, 1, 1, 0, 0, 1, 1), floats("value", 1))
		}, `node "inserted" (Pad): mode "constant", value 1: convnet pads with zeros only`},
		{"reflect", func(mp *onnxpb.ModelProto) {
			insertBeforeConv(mp, "Pad", []*onnxpb.AttributeProto{attrString("mode", "reflect")}, int64s("pads", 0, 0, 1, 1, 0, 0, 1, 1))
		}, `(Pad): mode "reflect", value 0`},
		{"channels", func(mp *onnxpb.ModelProto) {
			insertBeforeConv(mp, "Pad", nil, int64s("pads", 0, 1, 0, 0, 0, 0, 0, 0))
		}, `(Pad): pads [0 1 0 0 0 0 0 0]: convnet pads the height and width of an NCHW image`},
		{"crop", func(mp *onnxpb.ModelProto) {
			insertBeforeConv(mp, "Pad", nil, int64s("pads", 0, 0, -1, 0, 0, 0, 0, 0))
		}, `none negative`},
		{"max pool of negative values", func(mp *onnxpb.ModelProto) {
			insertBeforeConv(mp, "MaxPool", []*onnxpb.AttributeProto{attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2), attrInts("pads", 1, 1, 1, 1)})
		}, `node "inserted" (MaxPool): attribute pads = [1 1 1 1]: convnet pads with zeros, the same as ONNX's max pool only after a ReLU, and this input may be negative`},
		{"huge pads", func(mp *onnxpb.ModelProto) {
			insertBeforeConv(mp, "Pad", nil, int64s("pads", 0, 0, 1<<40, 0, 0, 0, 0, 0))
		}, `(Pad): padding [[1099511627776 0] [0 0]] would make the 8x8 image 1099511627784x8, more than 131072 on a side`},
		{"huge conv pads", func(mp *onnxpb.ModelProto) {
			for _, n := range mp.Graph.Node {
				if n.GetOpType() == "Conv" {
					n.Attribute = append(slices.DeleteFunc(n.Attribute, func(a *onnxpb.AttributeProto) bool { return a.GetName() == "pads" }),
						attrInts("pads", 0, 0, 0, 1<<30))
				}
			}
		}, `node "conv2d" (Conv): padding [[0 0] [0 1073741824]] would make the 8x8 image 8x1073741832, more than 131072 on a side`},
		{"average without the padding", func(mp *onnxpb.ModelProto) {
			insertBeforeConv(mp, "AveragePool", []*onnxpb.AttributeProto{attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2), attrInts("pads", 1, 1, 1, 1)})
		}, `(AveragePool): attribute pads = [1 1 1 1] with count_include_pad = 0`},
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

// insertBeforeConv inserts a node called "inserted" between the Conv of
// tinyONNX and its input, with the given constants as its other inputs.
func insertBeforeConv(mp *onnxpb.ModelProto, op string, attrs []*onnxpb.AttributeProto, consts ...*onnxpb.TensorProto) {
	at := slices.IndexFunc(mp.Graph.Node, func(n *onnxpb.NodeProto) bool { return n.GetOpType() == "Conv" })
	conv := mp.Graph.Node[at]
	n := &onnxpb.NodeProto{Name: proto.String("inserted"), OpType: proto.String(op), Input: []string{conv.Input[0]}, Output: []string{"inserted"}, Attribute: attrs}
	for _, c := range consts {
		n.Input = append(n.Input, c.GetName())
		mp.Graph.Initializer = append(mp.Graph.Initializer, c)
	}
	conv.Input[0] = "inserted"
	mp.Graph.Node = slices.Insert(mp.Graph.Node, at, n)
}

func int64s(name string, v ...int64) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Dims: []int64{int64(len(v))}, Int64Data: v}
}

func floats(name string, v ...float32) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: []int64{int64(len(v))}, FloatData: v}
}

// torchPads returns the nodes PyTorch 1.13 writes for F.pad(x, (left,
// right, top, bottom)) on an NCHW input: the pads computed from constants
// by ConstantOfShape, Concat, Reshape, Slice, Transpose, Reshape and Cast,
// then Pad.
func torchPads(x, out string, left, right, top, bottom int64) []*onnxpb.NodeProto {
	konst := func(name string, v ...int64) *onnxpb.NodeProto {
		t := int64s("", v...)
		t.Name = nil
		return &onnxpb.NodeProto{OpType: proto.String("Constant"), Output: []string{name},
			Attribute: []*onnxpb.AttributeProto{{Name: proto.String("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: t}}}
	}
	node := func(op string, in []string, o string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
		return &onnxpb.NodeProto{OpType: proto.String(op), Input: in, Output: []string{o}, Attribute: attrs}
	}
	zero := int64s("", 0)
	zero.Name = nil
	value := floats("", 0)
	value.Name, value.Dims = nil, nil
	return []*onnxpb.NodeProto{
		konst("p/four", 4),
		konst("p/pads", left, right, top, bottom),
		node("ConstantOfShape", []string{"p/four"}, "p/zeros", &onnxpb.AttributeProto{Name: proto.String("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: zero}),
		node("Concat", []string{"p/pads", "p/zeros"}, "p/all", attrInt("axis", 0)),
		konst("p/pairs", -1, 2),
		node("Reshape", []string{"p/all", "p/pairs"}, "p/reshaped"),
		konst("p/start", -1), konst("p/end", -9223372036854775807), konst("p/axis", 0), konst("p/step", -1),
		node("Slice", []string{"p/reshaped", "p/start", "p/end", "p/axis", "p/step"}, "p/reversed"),
		node("Transpose", []string{"p/reversed"}, "p/transposed", attrInts("perm", 1, 0)),
		konst("p/flat", -1),
		node("Reshape", []string{"p/transposed", "p/flat"}, "p/onnx"),
		node("Cast", []string{"p/onnx"}, "p/cast", attrInt("to", int(onnxpb.TensorProto_INT64))),
		{OpType: proto.String("Constant"), Output: []string{"p/value"},
			Attribute: []*onnxpb.AttributeProto{{Name: proto.String("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: value}}},
		{Name: proto.String("pad"), OpType: proto.String("Pad"), Input: []string{x, "p/cast", "p/value"}, Output: []string{out},
			Attribute: []*onnxpb.AttributeProto{attrString("mode", "constant")}},
	}
}

// TestImportONNXComputedPads imports F.pad as PyTorch exports it: the
// constants computed in the graph are folded, and the Pad becomes the
// ZeroPadding2D of the model it was exported from.
func TestImportONNXComputedPads(t *testing.T) {
	m := New(
		&nn.ZeroPadding2D{Padding: [2][2]int{{0, 2}, {1, 0}}}, // top, bottom; left, right
		&nn.Conv2D{Filters: 2, KernelSize: pair(3)},
		&nn.Flatten{},
		&nn.Dense{Units: 3, Activation: "softmax"},
	)
	if err := m.Build([]int{6, 5, 1}, 2); err != nil {
		t.Fatal(err)
	}
	m.ClassNames = []string{"x", "y", "z"}
	mp, err := onnxModel(m, ONNXExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := mp.Graph
	at := slices.IndexFunc(g.Node, func(n *onnxpb.NodeProto) bool { return n.GetOpType() == "Pad" })
	pad := g.Node[at]
	g.Node = slices.Replace(g.Node, at, at+1, torchPads(pad.Input[0], pad.Output[0], 1, 0, 0, 2)...)
	got, err := importBytes(marshal(t, mp), ONNXImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := got.Layers[0].(*nn.ZeroPadding2D); !ok || p.Padding != m.Layers[0].(*nn.ZeroPadding2D).Padding {
		t.Fatalf("first layer %s %+v, want the ZeroPadding2D %v", got.Layers[0].Type(), got.Layers[0], m.Layers[0].(*nn.ZeroPadding2D).Padding)
	}
	x := randomPixels(m, 8)
	a, b := rawProbabilities(m, x), rawProbabilities(got, x)
	if !slices.Equal(a.Data, b.Data) {
		t.Errorf("probabilities %v, want %v", b.Data[:3], a.Data[:3])
	}
}

// TestImportONNXFoldErrors: computed constants that are malformed or too
// large are refused by node, before anything large is allocated.
func TestImportONNXFoldErrors(t *testing.T) {
	change := func(f func(nodes []*onnxpb.NodeProto)) func(*onnxpb.ModelProto) {
		return func(mp *onnxpb.ModelProto) { insertTorchPads(mp, 1, 1, 1, 1, f) }
	}
	byOutput := func(nodes []*onnxpb.NodeProto, out string) *onnxpb.NodeProto {
		return nodes[slices.IndexFunc(nodes, func(n *onnxpb.NodeProto) bool { return n.Output[0] == out })]
	}
	tests := []struct {
		name   string
		change func(*onnxpb.ModelProto)
		want   string
	}{
		{"huge constant", change(func(nodes []*onnxpb.NodeProto) {
			byOutput(nodes, "p/four").Attribute[0].T = int64s("", 1<<23, 1<<23)
		}), `(ConstantOfShape): computes a constant of shape [8388608 8388608]: more than 16777216 values`},
		{"more than the file justifies", change(func(nodes []*onnxpb.NodeProto) {
			byOutput(nodes, "p/four").Attribute[0].T = int64s("", 1<<20)
		}), `(ConstantOfShape): computes a constant of 1048576 values: more than the file,`},
		{"concat of another rank", change(func(nodes []*onnxpb.NodeProto) {
			byOutput(nodes, "p/four").Attribute[0].T = int64s("", 2, 2) // zeros of shape [2 2]
		}), `(Concat): input 2 does not join the first along axis 0`},
		{"reshape", change(func(nodes []*onnxpb.NodeProto) {
			byOutput(nodes, "p/pairs").Attribute[0].T.Int64Data = []int64{3, -1, 2}
			byOutput(nodes, "p/pairs").Attribute[0].T.Dims = []int64{3}
		}), `(Reshape): shape [3 -1 2] for a constant of shape [8]`},
		{"slice axis", change(func(nodes []*onnxpb.NodeProto) {
			byOutput(nodes, "p/axis").Attribute[0].T.Int64Data = []int64{5}
		}), `(Slice): axis 5, step -1 on a constant of shape [4 2]`},
		{"transpose", change(func(nodes []*onnxpb.NodeProto) {
			byOutput(nodes, "p/transposed").Attribute[0] = attrInts("perm", 1, 1)
		}), `(Transpose): attribute perm = [1 1] on a constant of shape [4 2]`},
		{"cast", change(func(nodes []*onnxpb.NodeProto) {
			byOutput(nodes, "p/cast").Attribute[0] = attrInt("to", int(onnxpb.TensorProto_DOUBLE))
		}), `(Cast): attribute to = DOUBLE: only FLOAT and INT64 constants are supported`},
		{"INT64 Div of an empty constant by zero", func(mp *onnxpb.ModelProto) {
			mp.Graph.Initializer = append(mp.Graph.Initializer, int64s("empty"), int64s("zero", 0))
			div := &onnxpb.NodeProto{Name: proto.String("bad"), OpType: proto.String("Div"), Input: []string{"empty", "zero"}, Output: []string{"q"}}
			mp.Graph.Node = append([]*onnxpb.NodeProto{div}, mp.Graph.Node...)
		}, `node "bad" (Div): divides by zero`},
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
	// With zero pads (the graph after it takes 8x8), the computed pads
	// import.
	mp := tinyONNX(t)
	insertTorchPads(mp, 0, 0, 0, 0, nil)
	if _, err := importBytes(marshal(t, mp), ONNXImportOptions{}); err != nil {
		t.Errorf("the computed pads of PyTorch: %v", err)
	}
}

// insertTorchPads puts the nodes of torchPads before the Conv of tinyONNX,
// changed by change (if not nil) first.
func insertTorchPads(mp *onnxpb.ModelProto, left, right, top, bottom int64, change func(nodes []*onnxpb.NodeProto)) {
	nodes := torchPads("input", "inserted", left, right, top, bottom)
	if change != nil {
		change(nodes)
	}
	conv := mp.Graph.Node[slices.IndexFunc(mp.Graph.Node, func(n *onnxpb.NodeProto) bool { return n.GetOpType() == "Conv" })]
	nodes[len(nodes)-1].Input[0] = conv.Input[0]
	conv.Input[0] = "inserted"
	mp.Graph.Node = append(nodes, mp.Graph.Node...)
}

// TestImportONNXCeilMode imports a max pool with ceil_mode, whose last
// window is partial, after a ReLU: the window is completed with zeros, as
// the model with the explicit padding computes; on values that may be
// negative it is refused.
func TestImportONNXCeilMode(t *testing.T) {
	build := func(act string) *Sequential {
		m := New(
			&nn.Conv2D{Filters: 3, KernelSize: pair(3), Padding: "same", Activation: act},
			&nn.ZeroPadding2D{Padding: [2][2]int{{0, 1}, {0, 1}}},
			&nn.MaxPool2D{PoolSize: pair(3), Strides: pair(2)},
			&nn.Flatten{},
			&nn.Dense{Units: 3, Activation: "softmax"},
		)
		if err := m.Build([]int{8, 8, 1}, 2); err != nil {
			t.Fatal(err)
		}
		m.ClassNames = []string{"x", "y", "z"}
		return m
	}
	// The Pad of the exported model becomes the pool's ceil_mode.
	ceil := func(m *Sequential) []byte {
		mp, err := onnxModel(m, ONNXExportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		g := mp.Graph
		at := slices.IndexFunc(g.Node, func(n *onnxpb.NodeProto) bool { return n.GetOpType() == "Pad" })
		g.Node[at+1].Input[0] = g.Node[at].Input[0]
		g.Node[at+1].Attribute = append(g.Node[at+1].Attribute, attrInt("ceil_mode", 1))
		g.Node = slices.Delete(g.Node, at, at+1)
		return marshal(t, mp)
	}
	m := build("relu")
	got, err := importBytes(ceil(m), ONNXImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := got.Layers[1].(*nn.ZeroPadding2D); !ok || p.Padding != [2][2]int{{0, 1}, {0, 1}} {
		t.Errorf("layer 2 is %s %v, want the ZeroPadding2D [[0 1] [0 1]]", got.Layers[1].Type(), got.Layers[1].Config())
	}
	x := randomPixels(m, 8)
	if a, b := rawProbabilities(m, x), rawProbabilities(got, x); !slices.Equal(a.Data, b.Data) {
		t.Errorf("probabilities %v, want %v", b.Data[:3], a.Data[:3])
	}
	_, err = importBytes(ceil(build("tanh")), ONNXImportOptions{})
	if want := "attribute ceil_mode = 1 adds a partial window here: convnet takes it only for a max pool after a ReLU"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("ceil_mode on tanh: %v, want an error containing %q", err, want)
	}
}
