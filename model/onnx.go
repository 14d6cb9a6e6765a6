package model

import (
	"fmt"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"google.golang.org/protobuf/proto"
)

// ONNX (https://onnx.ai) is the exchange format of the field: [ExportONNX]
// writes a model as an ONNX graph that ONNX Runtime, Triton or a browser
// runs, and [ImportONNX] turns an ONNX graph made of the operators convnet
// has (such as a CNN or a ResNet exported by torch.onnx.export) into a
// model: a stack of layers, or a graph when it has branches.
//
// The graphs ExportONNX writes follow this contract:
//
//	input           "input", float32 [N, C, H, W] (NCHW, N dynamic), raw pixel
//	                values 0..255, as convnet's commands take them; a model
//	                whose input is a vector takes [N, F]
//	preprocessing   the model's Standardizer, as the graph's first nodes
//	                (not folded into the first layer): Mul by the rescale
//	                factor; ReduceMean, Sub, Mul, ReduceMean, Sqrt, Add, Div
//	                for the per-sample centring and scaling; Sub of the mean
//	                image [1, C, H, W]; Sub of the channel mean [1, C, 1, 1];
//	                Div by the channel std + 1e-6 [1, C, 1, 1]
//	layers          one node per layer, named after it, with its activation
//	                as a second node ("conv2d/relu"); dropout is left out,
//	                batch normalization is a BatchNormalization node, Flatten
//	                is Transpose to NHWC then Flatten (convnet flattens
//	                height, width, channels), "same" padding is explicit pads
//	                (TensorFlow's: the odd cell after)
//	merge layers    each reads the tensors of the layers it is called on:
//	                Add is an Add node (Sum for three inputs or more),
//	                Multiply a chain of Mul nodes, Average a Mean node,
//	                Subtract a Sub node, ScaledAdd a Mul of its second
//	                input by the scale then an Add, Maximum a Max, Minimum a Min,
//	                Concatenate a Concat along the NCHW axis of the joined
//	                one (the channels of an image: axis 1)
//	output          "probabilities", float32 [N, classes]: a Softmax ends
//	                the graph when the last layer does not
//	metadata_props  "classes": the class names as a JSON list
//
// The opset is 13 and the IR version 7, which ONNX Runtime and onnx 1.12's
// checker accept.
const (
	onnxOpset     = 13
	onnxIRVersion = 7

	// onnxInput and onnxOutput name the graph's input and output.
	onnxInput  = "input"
	onnxOutput = "probabilities"
	// onnxClassesKey is the metadata_props key of the class names.
	onnxClassesKey = "classes"
)

// ONNXError reports an ONNX model that cannot be imported: malformed, or
// using an operator or attribute convnet cannot run. Node and Op name the
// node at fault when there is one.
type ONNXError struct {
	Node string // the node's name (or its first output when unnamed)
	Op   string // its operator type
	Msg  string
}

func (e *ONNXError) Error() string {
	if e.Op == "" {
		return "onnx: " + e.Msg
	}
	return fmt.Sprintf("onnx: node %q (%s): %s", e.Node, e.Op, e.Msg)
}

func onnxErr(format string, args ...any) error {
	return &ONNXError{Msg: fmt.Sprintf(format, args...)}
}

// nodeErr returns an error about node n.
func nodeErr(n *onnxpb.NodeProto, format string, args ...any) error {
	return &ONNXError{Node: nodeName(n), Op: n.GetOpType(), Msg: fmt.Sprintf(format, args...)}
}

// nodeName is a node's name, or its first output when it has none.
func nodeName(n *onnxpb.NodeProto) string {
	if n.GetName() != "" || len(n.GetOutput()) == 0 {
		return n.GetName()
	}
	return n.GetOutput()[0]
}

// Attribute constructors for the exporter.

func attrInts(name string, v ...int) *onnxpb.AttributeProto {
	ints := make([]int64, len(v))
	for i, x := range v {
		ints[i] = int64(x)
	}
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: ints}
}

func attrInt(name string, v int) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(int64(v))}
}

func attrFloat(name string, v float64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(float32(v))}
}

func attrString(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}
