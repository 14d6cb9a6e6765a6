package model

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
	"google.golang.org/protobuf/proto"
)

// merges is a graph with every merge layer: Add, Multiply and Average of
// three tensors (one the output of a convolution read by several layers),
// Subtract of two, Maximum of three, Minimum of two, Concatenate along the
// channels, height and width of
// images and along the features of vectors (a global average, a global
// maximum and a flattened pool of one image).
func merges(t testing.TB) *Sequential {
	t.Helper()
	in := Input(9, 8, 2)
	conv := func(x *Node, act string) *Node {
		return Call(&nn.Conv2D{Filters: 3, KernelSize: pair(3), Padding: "same", Activation: act}, x)
	}
	a, b, c := conv(in, "tanh"), conv(in, "sigmoid"), conv(in, "")
	sum := Call(&nn.Add{}, a, b, Call(&nn.ReLU{}, c)) // the ReLU must not fold into c's Conv2D
	avg := Call(&nn.Average{}, sum, Call(&nn.Multiply{}, a, b, c), Call(&nn.Subtract{}, c, a))
	peak := Call(&nn.Maximum{}, sum, avg, Call(&nn.Minimum{}, a, b))
	x := Call(&nn.Concatenate{}, peak, avg)   // channels: [9 8 6]
	x = Call(&nn.Concatenate{Axis: -3}, x, x) // height: [18 8 6]
	y := Call(&nn.Conv2D{Filters: 6, KernelSize: [2]int{1, 3}}, x)
	x = Call(&nn.Concatenate{Axis: 2}, x, y)    // width: [18 14 6]
	v1 := Call(&nn.GlobalAveragePooling2D{}, x) // [6]
	v2 := Call(&nn.Flatten{}, Call(&nn.AveragePooling2D{PoolSize: pair(6)}, x))
	v3 := Call(&nn.GlobalMaxPooling2D{}, x) // [6]
	v := Call(&nn.BatchNormalization{}, Call(&nn.Concatenate{Axis: 1}, v1, v2, v3))
	m, err := NewGraph(in, Call(&nn.Dense{Units: 4, Activation: "softmax"}, v))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 3); err != nil {
		t.Fatal(err)
	}
	randomStats(m, 3)
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}
	return m
}

// shuffled returns a built graph of ShuffleNet v2's units: a channel
// split, a branch of 1x1, depthwise 3x3 and 1x1 convolutions on one half,
// the halves joined and shuffled; then the features of a global average
// pool shuffled and sliced before the classifier.
func shuffled(t testing.TB) *Sequential {
	t.Helper()
	in := Input(8, 8, 3)
	x := Call(&nn.Conv2D{Filters: 8, KernelSize: pair(3), Padding: "same", Activation: "relu"}, in)
	for range 2 {
		keep := Call(&nn.ChannelSlice{Start: 0, End: 4}, x)
		y := Call(&nn.ChannelSlice{Start: 4, End: 8}, x)
		y = Call(&nn.Conv2D{Filters: 4, KernelSize: pair(1), Activation: "relu"}, y)
		y = Call(&nn.DepthwiseConv2D{KernelSize: pair(3), Padding: "same"}, y)
		y = Call(&nn.Conv2D{Filters: 4, KernelSize: pair(1), Activation: "relu"}, y)
		x = Call(&nn.ChannelShuffle{Groups: 2}, Call(&nn.Concatenate{}, keep, y))
	}
	v := Call(&nn.ChannelShuffle{Groups: 4}, Call(&nn.GlobalAveragePooling2D{}, x))
	m, err := NewGraph(in, Call(&nn.Dense{Units: 3, Activation: "softmax"}, Call(&nn.ChannelSlice{Start: 1, End: 7}, v)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 5); err != nil {
		t.Fatal(err)
	}
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}
	return m
}

// builtGraph returns branchy (graph_test.go) built, with batch
// normalization statistics.
func builtGraph(t testing.TB) *Sequential {
	t.Helper()
	m := branchy(t, "relu", "softmax", true)
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	randomStats(m, 4)
	return m
}

// structure lists each layer's type and inbound layers, leaving dropout
// out, as "Add<-conv2d_1,re_lu".
func structure(m *Sequential) []string {
	var out []string
	for i, l := range m.Layers {
		if l.Type() == "Dropout" {
			continue
		}
		s := l.Type() + "<-"
		for _, j := range m.Inbound(i) {
			for j >= 0 && m.Layers[j].Type() == "Dropout" {
				j = m.Inbound(j)[0]
			}
			if j >= 0 {
				s += m.Layers[j].Type() + ","
			}
		}
		out = append(out, s)
	}
	return out
}

// TestONNXRoundTripGraphs exports graphs, imports them back and compares the
// predictions and the graph's structure: every merge layer, branches and
// skip connections, the resnet preset. A graph that is a chain comes back
// as a stack.
func TestONNXRoundTripGraphs(t *testing.T) {
	resnet, err := Preset("resnet")
	if err != nil {
		t.Fatal(err)
	}
	if err := resnet.Build(nil, 2); err != nil {
		t.Fatal(err)
	}
	randomStats(resnet, 5)
	resnet.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}
	images := randomPixels(resnet, 8)
	// Real images when the data is here, as TestONNXRoundTrip.
	if dir := os.Getenv("CONVNET_DATA"); dir != "" && !raceEnabled && !puregoBuild {
		_, test, err := data.LoadAHCD(context.Background(), filepath.Join(dir, "ahcd", "ahcd_csv.zip"), nil)
		if err != nil {
			t.Fatal(err)
		}
		idx := make([]int, 100)
		for i := range idx {
			idx[i] = i * test.Len() / len(idx)
		}
		images = test.Subset(idx).Tensor()
	}
	in := Input(8, 8, 1)
	chain, err := NewGraph(in, Call(&nn.Dense{Units: 3}, Call(&nn.Flatten{}, Call(&nn.Conv2D{Filters: 2, KernelSize: pair(3)}, in))))
	if err != nil {
		t.Fatal(err)
	}
	if err := chain.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	mg, br, sh := merges(t), builtGraph(t), shuffled(t)
	for _, tc := range []struct {
		name  string
		m     *Sequential
		x     *tensor.Tensor
		graph bool // comes back as a graph
	}{
		{"branchy", br, randomPixels(br, 16), true},
		{"merges", mg, randomPixels(mg, 16), true},
		{"resnet", resnet, images, true},
		{"shuffled", sh, randomPixels(sh, 16), true},
		{"chain", chain, randomPixels(chain, 4), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := roundTrip(t, tc.m, tc.x)
			if got.IsGraph() != tc.graph {
				t.Errorf("imported IsGraph() = %v, want %v", got.IsGraph(), tc.graph)
			}
			// Multiply of three is two Mul nodes, two layers after import.
			if want, have := structure(tc.m), structure(got); tc.name != "merges" && !slices.Equal(want, have) {
				t.Errorf("imported layers:\n%v\nwant\n%v", have, want)
			}
		})
	}
}

// onnxNode returns the node of mp called name.
func onnxNode(t *testing.T, mp *onnxpb.ModelProto, name string) *onnxpb.NodeProto {
	t.Helper()
	for _, n := range mp.Graph.Node {
		if n.GetName() == name {
			return n
		}
	}
	t.Fatalf("no node %q", name)
	return nil
}

// reorderInitializer sets initializer name, a float tensor whose first axis
// runs over features in convnet's order, to ONNX's order: row i is the old
// row order[i].
func reorderInitializer(t *testing.T, mp *onnxpb.ModelProto, name string, order []int) {
	t.Helper()
	for _, in := range mp.Graph.Initializer {
		if in.GetName() != name {
			continue
		}
		c, err := parseTensor(in)
		if err != nil {
			t.Fatal(err)
		}
		row := len(c.f) / len(order)
		in.RawData = in.RawData[:0]
		for _, j := range order {
			for _, v := range c.f[j*row : (j+1)*row] {
				in.RawData = binary.LittleEndian.AppendUint32(in.RawData, math.Float32bits(v))
			}
		}
		return
	}
	t.Fatalf("no initializer %q", name)
}

// TestONNXGraphImport imports graphs written the ways other exporters write
// them, each computing what a convnet graph computes: nodes in any order,
// a Div by 2 after an Add for the average, ReduceMean and ReduceMax for the global average
// and maximum pooling (axes as an attribute, or as an input since opset 18), images flattened
// channel-first and then concatenated.
func TestONNXGraphImport(t *testing.T) {
	in := Input(5, 4, 2)
	a := Call(&nn.Flatten{}, Call(&nn.Conv2D{Filters: 3, KernelSize: pair(3), Padding: "same", Activation: "relu"}, in))
	b := Call(&nn.Flatten{}, Call(&nn.Conv2D{Filters: 2, KernelSize: pair(3)}, in))
	flat, err := NewGraph(in, Call(&nn.Dense{Units: 5}, Call(&nn.BatchNormalization{}, Call(&nn.Concatenate{}, a, b))))
	if err != nil {
		t.Fatal(err)
	}
	if err := flat.Build(nil, 6); err != nil {
		t.Fatal(err)
	}
	randomStats(flat, 6)
	// The order of the joined vector when each image is flattened
	// channel-first: ONNX feature i is convnet feature order[i].
	var order []int
	for _, s := range [][3]int{{5, 4, 3}, {3, 2, 2}} {
		off := len(order)
		for ch := range s[2] {
			for y := range s[0] {
				for x := range s[1] {
					order = append(order, off+(y*s[1]+x)*s[2]+ch)
				}
			}
		}
	}
	gap := merges(t)
	tests := []struct {
		name   string
		m      *Sequential
		change func(mp *onnxpb.ModelProto)
	}{
		{"add and div", builtGraph(t), func(mp *onnxpb.ModelProto) {
			n := onnxNode(t, mp, "average")
			n.OpType, n.Output = proto.String("Add"), []string{"average/sum"}
			mp.Graph.Initializer = append(mp.Graph.Initializer, &onnxpb.TensorProto{Name: proto.String("two"), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), FloatData: []float32{2}})
			mp.Graph.Node = append(mp.Graph.Node, &onnxpb.NodeProto{Name: proto.String("average/div"), OpType: proto.String("Div"), Input: []string{"average/sum", "two"}, Output: []string{"average"}})
		}},
		{"nodes in reverse order", builtGraph(t), func(mp *onnxpb.ModelProto) {
			slices.Reverse(mp.Graph.Node)
		}},
		{"reducemean", gap, func(mp *onnxpb.ModelProto) {
			n := onnxNode(t, mp, "global_average_pooling2d")
			n.OpType, n.Attribute = proto.String("ReduceMean"), []*onnxpb.AttributeProto{attrInts("axes", 3, -2), attrInt("keepdims", 0)}
			onnxNode(t, mp, "global_average_pooling2d/flatten").OpType = proto.String("Identity")
			onnxNode(t, mp, "global_average_pooling2d/flatten").Attribute = nil
		}},
		{"reducemean keepdims, axes input", gap, func(mp *onnxpb.ModelProto) {
			mp.OpsetImport[0].Version = proto.Int64(18)
			n := onnxNode(t, mp, "global_average_pooling2d")
			n.OpType, n.Input = proto.String("ReduceMean"), append(n.Input, "axes")
			mp.Graph.Initializer = append(mp.Graph.Initializer, &onnxpb.TensorProto{Name: proto.String("axes"), Dims: []int64{2}, DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Int64Data: []int64{2, 3}})
		}},
		{"reducemax", gap, func(mp *onnxpb.ModelProto) {
			n := onnxNode(t, mp, "global_max_pooling2d")
			n.OpType, n.Attribute = proto.String("ReduceMax"), []*onnxpb.AttributeProto{attrInts("axes", -1, 2), attrInt("keepdims", 0)}
			onnxNode(t, mp, "global_max_pooling2d/flatten").OpType = proto.String("Identity")
			onnxNode(t, mp, "global_max_pooling2d/flatten").Attribute = nil
		}},
		{"reducemax keepdims, axes input", gap, func(mp *onnxpb.ModelProto) {
			mp.OpsetImport[0].Version = proto.Int64(18)
			n := onnxNode(t, mp, "global_max_pooling2d")
			n.OpType, n.Input = proto.String("ReduceMax"), append(n.Input, "axes")
			mp.Graph.Initializer = append(mp.Graph.Initializer, &onnxpb.TensorProto{Name: proto.String("axes"), Dims: []int64{2}, DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Int64Data: []int64{3, 2}})
		}},
		{"channel-first flatten and concat", flat, func(mp *onnxpb.ModelProto) {
			for _, name := range []string{"flatten", "flatten_1"} {
				onnxNode(t, mp, name).Input = onnxNode(t, mp, name+"/nhwc").Input
			}
			reorderInitializer(t, mp, "dense/kernel", order)
			for _, p := range []string{"gamma", "beta", "moving_mean", "moving_variance"} {
				reorderInitializer(t, mp, "batch_normalization/"+p, order)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mp, err := onnxModel(tt.m, ONNXExportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			tt.change(mp)
			got, err := importBytes(marshal(t, mp), ONNXImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			x := randomPixels(tt.m, 16)
			want, have := rawProbabilities(tt.m, x), rawProbabilities(got, x)
			for i, v := range want.Data {
				if d := math.Abs(float64(v - have.Data[i])); d > 1e-6 {
					t.Fatalf("probability %d: %v, want %v (layers %v)", i, have.Data[i], v, structure(got))
				}
			}
			if want, have := structure(tt.m), structure(got); !slices.Equal(want, have) {
				t.Errorf("imported layers:\n%v\nwant\n%v", have, want)
			}
		})
	}
}

// TestONNXGraphErrors: a graph whose values do not flow from the input to
// the output is an error naming a node where they do not.
func TestONNXGraphErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(mp *onnxpb.ModelProto)
		want   string
	}{
		// The dense layer, first in the file, waits on the cycle but is
		// not on it.
		{"cycle through a merge layer", func(mp *onnxpb.ModelProto) {
			onnxNode(t, mp, "add").Input[1] = "re_lu_1"
			n := len(mp.Graph.Node)
			mp.Graph.Node = slices.Concat(mp.Graph.Node[n-2:], mp.Graph.Node[:n-2])
		}, `node "add" (Add): the graph has a cycle: "add" -> "re_lu_1" -> "add"`},
		{"longer cycle", func(mp *onnxpb.ModelProto) {
			onnxNode(t, mp, "conv2d_1").Input[0] = "conv2d_3/tanh"
		}, `node "conv2d_1" (Conv): the graph has a cycle: "conv2d_1" -> "conv2d_1/relu" -> "conv2d_2" -> "add" -> "re_lu_1" -> "conv2d_3" -> "conv2d_3/tanh" -> "conv2d_1"`},
		{"self-loop", func(mp *onnxpb.ModelProto) {
			onnxNode(t, mp, "multiply").Input[1] = "multiply"
		}, `node "multiply" (Mul): the graph has a cycle: "multiply" -> "multiply"`},
		{"dangling input of a merge layer", func(mp *onnxpb.ModelProto) {
			onnxNode(t, mp, "concatenate").Input[1] = "nowhere"
		}, `node "concatenate" (Concat): input "nowhere" is not produced by any node, initializer or graph input`},
		{"two producers", func(mp *onnxpb.ModelProto) {
			onnxNode(t, mp, "conv2d_3/tanh").Output[0] = "re_lu_1"
		}, `node "conv2d_3/tanh" (Tanh): output "re_lu_1" is also produced by another node`},
		{"output of no node", func(mp *onnxpb.ModelProto) {
			mp.Graph.Output[0].Name = proto.String("nowhere")
		}, `graph output "nowhere" is not produced by any node`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mp, err := onnxModel(builtGraph(t), ONNXExportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			tt.change(mp)
			m, err := importBytes(marshal(t, mp), ONNXImportOptions{})
			var oe *ONNXError
			if err == nil || !errors.As(err, &oe) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ImportONNX() = %v, %v; want an *ONNXError containing %q", m, err, tt.want)
			}
		})
	}
}

// TestImportONNXIdentityOfWeights: PyTorch writes an Identity node that
// copies an initializer read by several nodes; the copy is the weights.
func TestImportONNXIdentityOfWeights(t *testing.T) {
	mp := tinyONNX(t)
	want, err := importBytes(marshal(t, mp), ONNXImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	conv := mp.Graph.Node[slices.IndexFunc(mp.Graph.Node, func(n *onnxpb.NodeProto) bool { return n.GetOpType() == "Conv" })]
	mp.Graph.Node = append([]*onnxpb.NodeProto{{Name: proto.String("Identity_0"), OpType: proto.String("Identity"),
		Input: []string{conv.Input[1]}, Output: []string{"onnx::Conv_7"}}}, mp.Graph.Node...)
	conv.Input[1] = "onnx::Conv_7"
	got, err := importBytes(marshal(t, mp), ONNXImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x := randomPixels(want, 4)
	if a, b := rawProbabilities(want, x), rawProbabilities(got, x); !slices.Equal(a.Data, b.Data) {
		t.Errorf("with the Identity of the kernel: %v, want %v", b.Data, a.Data)
	}
}

// TestImportONNXLogSoftmax: a graph that ends in LogSoftmax, as PyTorch's
// classifiers trained with NLLLoss do, imports with the Softmax whose log
// it is; a LogSoftmax elsewhere is refused.
func TestImportONNXLogSoftmax(t *testing.T) {
	mp := tinyONNX(t)
	want, err := importBytes(marshal(t, mp), ONNXImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	last := mp.Graph.Node[len(mp.Graph.Node)-1]
	if last.GetOpType() != "Softmax" {
		t.Fatalf("tinyONNX ends in %s", last.GetOpType())
	}
	last.OpType = proto.String("LogSoftmax")
	got, err := importBytes(marshal(t, mp), ONNXImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x := randomPixels(want, 4)
	if a, b := rawProbabilities(want, x), rawProbabilities(got, x); !slices.Equal(a.Data, b.Data) {
		t.Errorf("ending in LogSoftmax: %v, want %v", b.Data, a.Data)
	}
	for _, n := range mp.Graph.Node {
		if n.GetOpType() == "Relu" {
			n.OpType = proto.String("LogSoftmax")
		}
	}
	_, err = importBytes(marshal(t, mp), ONNXImportOptions{})
	if want := `(LogSoftmax): a LogSoftmax is only taken as the graph's output`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a LogSoftmax inside the graph: %v, want an error containing %q", err, want)
	}
}
