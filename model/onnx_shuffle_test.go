package model

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"google.golang.org/protobuf/proto"
)

// shuffledONNX returns the ONNX graph of shuffled(t) as convnet exports it.
func shuffledONNX(t *testing.T) *onnxpb.ModelProto {
	t.Helper()
	mp, err := onnxModel(shuffled(t), ONNXExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return mp
}

// setInts sets the INT64 initializer called name, adding it if need be.
func setInts(t *testing.T, mp *onnxpb.ModelProto, name string, v ...int64) {
	t.Helper()
	for _, in := range mp.Graph.Initializer {
		if in.GetName() == name {
			in.Dims, in.Int64Data = []int64{int64(len(v))}, v
			return
		}
	}
	mp.Graph.Initializer = append(mp.Graph.Initializer, &onnxpb.TensorProto{Name: proto.String(name),
		DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Dims: []int64{int64(len(v))}, Int64Data: v})
}

// halves returns the Slice nodes of the first unit's split, the first
// half and the second.
func halves(t *testing.T, mp *onnxpb.ModelProto) (a, b *onnxpb.NodeProto) {
	t.Helper()
	a, b = onnxNode(t, mp, "channel_slice"), onnxNode(t, mp, "channel_slice_1")
	for _, in := range mp.Graph.Initializer {
		if in.GetName() == "channel_slice/starts" && in.Int64Data[0] != 0 {
			a, b = b, a
		}
	}
	return a, b
}

// TestImportONNXSplit imports the channel split of a ShuffleNet unit
// written as one Split node (as tf2onnx and torch.split write it), the
// sizes as an input (opset 13) or shared equally, and as Slices whose ends
// are computed from the channel count by Shape, Gather, Add, Div and Mul
// (as PyTorch writes x.chunk(2, dim=1)): the same predictions as the two
// Slices of convnet's export.
func TestImportONNXSplit(t *testing.T) {
	m := shuffled(t)
	x := randomPixels(m, 8)
	want := rawProbabilities(m, x)
	split := func(sizes bool) func(mp *onnxpb.ModelProto) {
		return func(mp *onnxpb.ModelProto) {
			g := mp.Graph
			a, b := halves(t, mp)
			n := &onnxpb.NodeProto{Name: proto.String("split"), OpType: proto.String("Split"), Input: []string{a.Input[0]},
				Output: []string{a.Output[0], b.Output[0]}, Attribute: []*onnxpb.AttributeProto{attrInt("axis", 1)}}
			if sizes {
				n.Input = append(n.Input, "split/sizes")
				setInts(t, mp, "split/sizes", 4, 4)
			}
			at := slices.Index(g.Node, a)
			g.Node = slices.DeleteFunc(g.Node, func(m *onnxpb.NodeProto) bool { return m == a || m == b })
			g.Node = slices.Insert(g.Node, at, n)
		}
	}
	chunk := func(mp *onnxpb.ModelProto) {
		// half = (C + 1) / 2; the slices [0, half) and [half, 2·half).
		g := mp.Graph
		a, b := halves(t, mp)
		setInts(t, mp, "c/one", 1)
		setInts(t, mp, "c/two", 2)
		setInts(t, mp, "c/zero", 0)
		op := func(op, out string, in ...string) *onnxpb.NodeProto {
			return &onnxpb.NodeProto{Name: proto.String(out), OpType: proto.String(op), Input: in, Output: []string{out}}
		}
		nodes := []*onnxpb.NodeProto{
			op("Shape", "c/shape", a.Input[0]),
			op("Gather", "c/channels", "c/shape", "c/one"),
			op("Add", "c/plus", "c/channels", "c/one"),
			op("Div", "c/half", "c/plus", "c/two"),
			op("Mul", "c/end", "c/half", "c/two"),
		}
		a.Input = []string{a.Input[0], "c/zero", "c/half", "c/one"}
		b.Input = []string{b.Input[0], "c/half", "c/end", "c/one"}
		g.Node = slices.Insert(g.Node, slices.Index(g.Node, a), nodes...)
	}
	for name, change := range map[string]func(*onnxpb.ModelProto){"split": split(true), "split-equal": split(false), "chunk": chunk} {
		mp := shuffledONNX(t)
		change(mp)
		got, err := importBytes(marshal(t, mp), ONNXImportOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if have := rawProbabilities(got, x); !slices.Equal(have.Data, want.Data) {
			t.Errorf("%s: %v, want %v", name, have.Data, want.Data)
		}
	}
}

// TestImportONNXShuffleErrors: slices, splits and shuffles convnet cannot
// run give an error naming the node and what is wrong.
func TestImportONNXShuffleErrors(t *testing.T) {
	if _, err := importBytes(marshal(t, shuffledONNX(t)), ONNXImportOptions{}); err != nil {
		t.Fatalf("the unchanged graph: %v", err)
	}
	tests := []struct {
		name   string
		change func(mp *onnxpb.ModelProto)
		want   string
	}{
		{"slice of the batch", func(mp *onnxpb.ModelProto) { setInts(t, mp, "channel_slice/axes", 0) },
			`node "channel_slice" (Slice): axis 0, step 1 on [N 8 8 8]: convnet slices the channels of an image, or the features of a vector, and crops the height and width of an image, each once, with step 1`},
		{"slice with a step", func(mp *onnxpb.ModelProto) {
			n := onnxNode(t, mp, "channel_slice")
			n.Input = append(n.Input, "channel_slice/steps")
			setInts(t, mp, "channel_slice/steps", 2)
		}, `node "channel_slice" (Slice): axis 1, step 2 on [N 8 8 8]`},
		{"empty slice", func(mp *onnxpb.ModelProto) {
			setInts(t, mp, "channel_slice/starts", 6)
			setInts(t, mp, "channel_slice/ends", 5)
		}, `node "channel_slice" (Slice): channels 6 to 5 of 8: an empty slice`},
		{"starts and ends of two lengths", func(mp *onnxpb.ModelProto) { setInts(t, mp, "channel_slice/starts", 0, 0) },
			`(Slice): input ends: want as many INT64 values as starts (2), got shape [1]`},
		{"an axis twice", func(mp *onnxpb.ModelProto) {
			setInts(t, mp, "channel_slice/starts", 0, 1)
			setInts(t, mp, "channel_slice/ends", 4, 3)
			setInts(t, mp, "channel_slice/axes", 1, -3)
		}, `node "channel_slice" (Slice): axis 1, step 1 on [N 8 8 8]`},
		{"shuffle perm", func(mp *onnxpb.ModelProto) {
			onnxNode(t, mp, "channel_shuffle/transpose").Attribute = []*onnxpb.AttributeProto{attrInts("perm", 0, 1, 2, 4, 3)}
		}, `node "channel_shuffle/transpose" (Transpose): attribute perm = [0 1 2 4 3] on channels split into groups [N 2 4 8 8]: only [0 2 1 3 4] (a channel shuffle) is supported`},
		{"relu of the groups", func(mp *onnxpb.ModelProto) {
			n := onnxNode(t, mp, "channel_shuffle/transpose")
			n.OpType, n.Attribute = proto.String("Relu"), nil
		}, `node "channel_shuffle/transpose" (Relu): input "channel_shuffle/split" is an image's channels split into groups [N 2 4 8 8]: convnet reads them only through a Transpose and a Reshape`},
		{"split of the height", func(mp *onnxpb.ModelProto) { setInts(t, mp, "channel_shuffle/split_shape", 0, 2, 8, 4, 8) },
			`node "channel_shuffle/split" (Reshape): shape [0 2 8 4 8] of [N 8 8 8]: convnet splits only the channels into groups, [N g 8/g 8 8]`},
		{"join elsewhere", func(mp *onnxpb.ModelProto) { setInts(t, mp, "channel_shuffle/shape", 0, 4, 16, 8) },
			`node "channel_shuffle" (Reshape): shape [0 4 16 8] of channels split into groups [N 4 2 8 8]: convnet joins them again only, to [N 8 8 8]`},
		{"reshape too large", func(mp *onnxpb.ModelProto) { setInts(t, mp, "channel_shuffle/split_shape", 0, 2, 4, 8, 80) },
			`(Reshape): shape [0 2 4 8 80]: more values per sample than the input's 512`},
		{"split sizes", func(mp *onnxpb.ModelProto) {
			n := onnxNode(t, mp, "channel_slice")
			n.OpType, n.Input, n.Attribute = proto.String("Split"), []string{n.Input[0]}, []*onnxpb.AttributeProto{attrInt("axis", 1)}
			n.Output = append(n.Output, "unused")
			mp.OpsetImport[0].Version = proto.Int64(11)
			n.Attribute = append(n.Attribute, attrInts("split", 3, 3))
		}, `node "channel_slice" (Split): split [3 3] into 2 outputs of 8 channels: want one size per output, adding up to 8`},
		{"split of the width", func(mp *onnxpb.ModelProto) {
			n := onnxNode(t, mp, "channel_slice")
			n.OpType, n.Input, n.Attribute = proto.String("Split"), []string{n.Input[0]}, []*onnxpb.AttributeProto{attrInt("axis", 3)}
		}, `(Split): attribute axis = 3 on [N 8 8 8]: convnet splits the channels of an image, or the features of a vector`},
		{"division by zero", func(mp *onnxpb.ModelProto) {
			setInts(t, mp, "channel_slice/starts", 0)
			mp.Graph.Node = append([]*onnxpb.NodeProto{{Name: proto.String("div"), OpType: proto.String("Div"),
				Input: []string{"channel_slice/ends", "channel_slice/starts"}, Output: []string{"quotient"}}}, mp.Graph.Node...)
		}, `node "div" (Div): divides 8 by zero`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mp := shuffledONNX(t)
			tt.change(mp)
			m, err := importBytes(marshal(t, mp), ONNXImportOptions{})
			var oe *ONNXError
			if err == nil || !errors.As(err, &oe) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ImportONNX() = %v, %v; want an *ONNXError containing %q", m, err, tt.want)
			}
		})
	}
}
