package model

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
	"google.golang.org/protobuf/proto"
)

// tinyONNX returns the ONNX graph of a small model: Conv (3x3, same) +
// Relu, Transpose + Flatten, Gemm, Softmax, on [N 1 8 8].
func tinyONNX(t testing.TB) *onnxpb.ModelProto {
	t.Helper()
	m := New(
		&nn.Conv2D{Filters: 2, KernelSize: pair(3), Padding: "same", Activation: "relu"},
		&nn.Flatten{},
		&nn.Dense{Units: 3, Activation: "softmax"},
	)
	if err := m.Build([]int{8, 8, 1}, 1); err != nil {
		t.Fatal(err)
	}
	mp, err := onnxModel(m, ONNXExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return mp
}

// setMetadata sets the metadata entry key of mp to value.
func setMetadata(mp *onnxpb.ModelProto, key, value string) {
	for _, p := range mp.MetadataProps {
		if p.GetKey() == key {
			p.Value = proto.String(value)
			return
		}
	}
	mp.MetadataProps = append(mp.MetadataProps, &onnxpb.StringStringEntryProto{Key: proto.String(key), Value: proto.String(value)})
}

func marshal(t testing.TB, mp *onnxpb.ModelProto) []byte {
	t.Helper()
	b, err := proto.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestImportONNXErrors: malformed files and graphs convnet cannot run give
// an error naming the node, its operator and what is wrong.
func TestImportONNXErrors(t *testing.T) {
	good := marshal(t, tinyONNX(t))
	if _, err := importBytes(good, ONNXImportOptions{}); err != nil {
		t.Fatalf("the unchanged graph: %v", err)
	}
	node := func(mp *onnxpb.ModelProto, op string) *onnxpb.NodeProto {
		for _, n := range mp.Graph.Node {
			if n.GetOpType() == op {
				return n
			}
		}
		t.Fatalf("no %s node", op)
		return nil
	}
	setAttr := func(op string, a *onnxpb.AttributeProto) func(*onnxpb.ModelProto) {
		return func(mp *onnxpb.ModelProto) {
			n := node(mp, op)
			for i, old := range n.Attribute {
				if old.GetName() == a.GetName() {
					n.Attribute[i] = a
					return
				}
			}
			n.Attribute = append(n.Attribute, a)
		}
	}
	tests := []struct {
		name   string
		bytes  []byte
		change func(mp *onnxpb.ModelProto)
		want   string
	}{
		{name: "empty", bytes: []byte{}, want: "no ir_version or no graph"},
		{name: "truncated", bytes: good[:len(good)/2], want: "not an ONNX model"},
		{name: "text", bytes: []byte("name,label\nx,1\n"), want: "not an ONNX model"},
		{name: "cycle", change: func(mp *onnxpb.ModelProto) {
			node(mp, "Conv").Input[0] = node(mp, "Relu").Output[0]
		}, want: `node "conv2d" (Conv): the graph has a cycle: "conv2d" -> "conv2d/relu" -> "conv2d"`},
		{name: "dangling input", change: func(mp *onnxpb.ModelProto) {
			node(mp, "Gemm").Input[1] = "nowhere"
		}, want: `node "dense" (Gemm): input "nowhere" is not produced`},
		{name: "initializer size", change: func(mp *onnxpb.ModelProto) {
			mp.Graph.Initializer[0].Dims[0] = 1
		}, want: `initializer "conv2d/kernel": shape [1 1 3 3] needs 9 values, it holds 18`},
		{name: "absurd dims", change: func(mp *onnxpb.ModelProto) {
			mp.Graph.Initializer[0].Dims = []int64{1 << 20, 1 << 20, 1, 1}
		}, want: "needs more than the 18 values"},
		{name: "absurd input", change: func(mp *onnxpb.ModelProto) {
			mp.Graph.Input[0].Type.GetTensorType().Shape.Dim[2].Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 1 << 40}
		}, want: "dimension 2 of size 1099511627776"},
		{name: "unsupported op", change: func(mp *onnxpb.ModelProto) {
			node(mp, "Relu").OpType = proto.String("Erf")
		}, want: `node "conv2d/relu" (Erf): operator not supported`},
		{name: "custom domain", change: func(mp *onnxpb.ModelProto) {
			node(mp, "Relu").Domain = proto.String("com.example")
		}, want: `(Relu): operator of domain "com.example"`},
		{name: "dilations", change: setAttr("Conv", attrInts("dilations", 0, 2)), want: `node "conv2d" (Conv): attribute dilations = [0 2]: want two positive values`},
		{name: "dilations with strides", change: func(mp *onnxpb.ModelProto) {
			setAttr("Conv", attrInts("dilations", 2, 2))(mp)
			setAttr("Conv", attrInts("strides", 2, 2))(mp)
		}, want: `node "conv2d" (Conv): attribute dilations = [2 2] with strides [2 2]: convnet, as Keras, dilates only convolutions of strides 1`},
		{name: "groups", change: setAttr("Conv", attrInt("group", 2)), want: `(Conv): weights of shape [2 1 3 3] in 2 groups for an input of 1 channels`},
		{name: "unknown attribute", change: setAttr("Relu", attrInt("inplace", 1)), want: `(Relu): attribute "inplace" is not supported`},
		{name: "wrong attribute type", change: setAttr("Conv", attrInt("strides", 1)), want: `attribute "strides" is of type INT, want INTS`},
		{name: "external data", change: func(mp *onnxpb.ModelProto) {
			mp.Graph.Initializer[0].DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
		}, want: "external file"},
		{name: "double weights", change: func(mp *onnxpb.ModelProto) {
			mp.Graph.Initializer[0].DataType = proto.Int32(int32(onnxpb.TensorProto_DOUBLE))
		}, want: "data type DOUBLE"},
		{name: "framing json", change: func(mp *onnxpb.ModelProto) {
			setMetadata(mp, framingKey, `{"size": [8, 8], "box": `)
		}, want: `metadata "framing": unexpected end of JSON input`},
		{name: "framing size", change: func(mp *onnxpb.ModelProto) {
			setMetadata(mp, framingKey, `{"size": [28, 28], "box": 20, "center": "mass", "at": [14, 14]}`)
		}, want: `metadata "framing": framing of images of size [28 28], the model's input is [8 8 1]`},
		{name: "framing box", change: func(mp *onnxpb.ModelProto) {
			setMetadata(mp, framingKey, `{"size": [8, 8], "box": 9, "center": "mass", "at": [4, 4]}`)
		}, want: `metadata "framing": framing: box 9, want at most the image's long side 8`},
		{name: "framing crop", change: func(mp *onnxpb.ModelProto) {
			setMetadata(mp, framingKey, `{"size": [8, 8], "crop": -1}`)
		}, want: `metadata "framing": framing: crop -1, want 0 (none) or a fraction in (0, 1]`},
		{name: "opset", change: func(mp *onnxpb.ModelProto) {
			mp.OpsetImport[0].Version = proto.Int64(99)
		}, want: "opset 99"},
		{name: "add with broadcasting", change: func(mp *onnxpb.ModelProto) {
			node(mp, "Gemm").OpType = proto.String("Add")
			node(mp, "Add").Input = []string{"flatten", "conv2d/relu"}
		}, want: `node "dense" (Add): input "conv2d/relu" is [N 2 8 8], input "flatten" [N 128]: convnet's merge layers join tensors of one shape, or images of size 1 along the axes where they differ`},
		{name: "mul of other sizes", change: func(mp *onnxpb.ModelProto) {
			mp.Graph.Node = append(mp.Graph.Node,
				&onnxpb.NodeProto{Name: proto.String("pool"), OpType: proto.String("MaxPool"), Input: []string{"conv2d/relu"}, Output: []string{"pooled"},
					Attribute: []*onnxpb.AttributeProto{attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2)}},
				&onnxpb.NodeProto{Name: proto.String("gate"), OpType: proto.String("Mul"), Input: []string{"conv2d/relu", "pooled"}, Output: []string{"gated"}})
		}, want: `node "gate" (Mul): input "pooled" is [N 2 4 4], input "conv2d/relu" [N 2 8 8]: convnet's merge layers join tensors of one shape, or images of size 1 along the axes where they differ`},
		{name: "dilated pool", change: func(mp *onnxpb.ModelProto) {
			mp.Graph.Node = append(mp.Graph.Node,
				&onnxpb.NodeProto{Name: proto.String("pool"), OpType: proto.String("MaxPool"), Input: []string{"conv2d/relu"}, Output: []string{"pooled"},
					Attribute: []*onnxpb.AttributeProto{attrInts("kernel_shape", 2, 2), attrInts("dilations", 2, 2)}})
		}, want: `node "pool" (MaxPool): attribute dilations = [2 2]: only 1, 1 is supported`},
		{name: "keras 2 hard sigmoid", change: func(mp *onnxpb.ModelProto) {
			node(mp, "Relu").OpType = proto.String("HardSigmoid")
			node(mp, "HardSigmoid").Attribute = []*onnxpb.AttributeProto{attrFloat("alpha", 0.2)}
		}, want: `(HardSigmoid): attributes alpha = 0.2, beta = 0.5: convnet's hard_sigmoid is max(0, min(1, x/6 + 1/2))`},
		{name: "leaky relu of slope NaN", change: func(mp *onnxpb.ModelProto) {
			node(mp, "Relu").OpType = proto.String("LeakyRelu")
			node(mp, "LeakyRelu").Attribute = []*onnxpb.AttributeProto{attrFloat("alpha", math.NaN())}
		}, want: `(LeakyRelu): attribute alpha = NaN: must be a finite number, not negative`},
		{name: "elu of infinite alpha", change: func(mp *onnxpb.ModelProto) {
			node(mp, "Relu").OpType = proto.String("Elu")
			node(mp, "Elu").Attribute = []*onnxpb.AttributeProto{attrFloat("alpha", math.Inf(1))}
		}, want: `(Elu): attribute alpha = +Inf: must be a finite number, not negative`},
		{name: "div of computed tensors", change: func(mp *onnxpb.ModelProto) {
			node(mp, "Gemm").OpType = proto.String("Div")
			node(mp, "Div").Input = []string{"flatten", "flatten"}
		}, want: `(Div): Div of two computed tensors is not a convnet layer (Add, Sum, Sub, Mul, Mean, Max, Min and Concat join tensors)`},
		{name: "concat without axis", change: func(mp *onnxpb.ModelProto) {
			node(mp, "Relu").OpType = proto.String("Concat")
		}, want: `(Concat): attribute axis is missing`},
		{name: "concat along the batch", change: func(mp *onnxpb.ModelProto) {
			node(mp, "Relu").OpType = proto.String("Concat")
			node(mp, "Concat").Attribute = []*onnxpb.AttributeProto{attrInt("axis", -4)}
		}, want: `(Concat): attribute axis = -4 on [N 2 8 8]`},
		{name: "concat of other sizes", change: func(mp *onnxpb.ModelProto) {
			node(mp, "Relu").OpType = proto.String("Concat")
			node(mp, "Concat").Input = []string{"conv2d", "input"}
			node(mp, "Concat").Attribute = []*onnxpb.AttributeProto{attrInt("axis", 2)}
		}, want: `(Concat): input "input" is [N 1 8 8], input "conv2d" [N 2 8 8]: all axes but axis 2 must agree`},
		{name: "concat beyond the size of an input", change: func(mp *onnxpb.ModelProto) {
			// Each node doubles the height: 2^21 x 8 x 8 values at the last.
			x := "input"
			for k := range 21 {
				out := fmt.Sprintf("c%d", k+1)
				mp.Graph.Node = append(mp.Graph.Node, &onnxpb.NodeProto{Name: proto.String(out), OpType: proto.String("Concat"),
					Input: []string{x, x}, Output: []string{out}, Attribute: []*onnxpb.AttributeProto{attrInt("axis", 2)}})
				x = out
			}
		}, want: `node "c21" (Concat): joins more than 67108864 values per sample`},
		{name: "reducemean over channels", change: func(mp *onnxpb.ModelProto) {
			node(mp, "Relu").OpType = proto.String("ReduceMean")
			node(mp, "ReduceMean").Attribute = []*onnxpb.AttributeProto{attrInts("axes", 1)}
		}, want: `(ReduceMean): axes [1], keepdims 1: only the mean over the height and width`},
		{name: "preprocessing of a shared input", change: func(mp *onnxpb.ModelProto) {
			mp.Graph.Node = append(mp.Graph.Node, &onnxpb.NodeProto{Name: proto.String("scale"), OpType: proto.String("Mul"), Input: []string{"input", "conv2d/bias"}, Output: []string{"scaled"}})
		}, want: `node "scale" (Mul): preprocesses "input", which other nodes also read`},
		{name: "output not class scores", change: func(mp *onnxpb.ModelProto) {
			mp.Graph.Output[0].Name = proto.String("conv2d/relu")
		}, want: `graph output "conv2d/relu" has shape [2 8 8] per sample, want a vector of class scores`},
		{name: "softmax axis", change: setAttr("Softmax", attrInt("axis", 0)), want: `(Softmax): attribute axis = 0`},
		{name: "arithmetic between layers", change: func(mp *onnxpb.ModelProto) {
			node(mp, "Relu").OpType = proto.String("Mul")
			node(mp, "Mul").Input = append(node(mp, "Mul").Input, "conv2d/bias")
		}, want: `(Mul): constant "conv2d/bias" of shape [2] does not broadcast to the input [N 2 8 8]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.bytes
			if tt.change != nil {
				mp := tinyONNX(t)
				tt.change(mp)
				b = marshal(t, mp)
			}
			m, err := importBytes(b, ONNXImportOptions{})
			var oe *ONNXError
			if err == nil || !errors.As(err, &oe) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ImportONNX() = %v, %v; want an *ONNXError containing %q", m, err, tt.want)
			}
		})
	}
}
