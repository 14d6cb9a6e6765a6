package model

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
	"google.golang.org/protobuf/proto"
)

// ONNXExportOptions controls [ExportONNX].
type ONNXExportOptions struct {
	// ProducerVersion is recorded as the file's producer_version, such as
	// the version of the program that exports.
	ProducerVersion string
}

// ExportONNX writes m to w as an ONNX model (see the package documentation
// for the graph's contract): the same computation as [Sequential.Predict]
// after the model's Standardizer, from raw pixels to class probabilities.
// Every layer type and activation of package nn exports; a model whose input
// is not an image or a vector, or whose output is not a vector of class
// scores, is an error. A graph exports as the same graph, each merge layer
// a node (Add or Sum, Mul, Mean, Concat) reading the tensors of the layers
// it is called on.
func ExportONNX(w io.Writer, m *Sequential, opts ONNXExportOptions) error {
	mp, err := onnxModel(m, opts)
	if err != nil {
		return err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(mp)
	if err != nil {
		return fmt.Errorf("export onnx: %w", err)
	}
	_, err = w.Write(b)
	return err
}

// onnxModel builds the ONNX model of m.
func onnxModel(m *Sequential, opts ONNXExportOptions) (*onnxpb.ModelProto, error) {
	if !m.Built() {
		return nil, errors.New("export onnx: the model is not built")
	}
	if err := m.checkMetadata(); err != nil {
		return nil, fmt.Errorf("export onnx: %w", err)
	}
	in := m.InputShape()
	if len(in) != 3 && len(in) != 1 {
		return nil, fmt.Errorf("export onnx: input shape %v: only images [H W C] and vectors [F] export", in)
	}
	if m.NumClasses() == 0 {
		return nil, fmt.Errorf("export onnx: output shape %v is not a vector of class scores", m.OutputShape())
	}
	e := &onnxWriter{g: &onnxpb.GraphProto{Name: proto.String(m.graphName())}, cur: onnxInput, shape: in}
	e.g.Input = []*onnxpb.ValueInfoProto{valueInfo(onnxInput, nchw(in))}
	if m.Standardizer != nil {
		if err := e.preprocess(m.Standardizer); err != nil {
			return nil, err
		}
	}
	// The tensor and convnet shape of each node of the model: 0 is the
	// input after preprocessing, i+1 the output of Layers[i].
	tensors, shapes := []string{e.cur}, [][]int{in}
	for i, l := range m.Layers {
		from := m.inbound(i)
		e.cur, e.shape = tensors[from[0]], shapes[from[0]]
		var err error
		if _, ok := l.(nn.MultiInput); ok {
			var names []string
			for _, j := range from {
				names = append(names, tensors[j])
			}
			err = e.merge(l, names)
		} else {
			err = e.layer(l)
		}
		if err != nil {
			return nil, fmt.Errorf("export onnx: %s (%s): %w", l.Name(), l.Type(), err)
		}
		tensors, shapes = append(tensors, e.cur), append(shapes, e.shape)
	}
	// As Predict does: probabilities unless the last layer gives them.
	if fn, _ := layerActivation(m.Layers[len(m.Layers)-1]); fn != "softmax" {
		e.activation("softmax", "output/softmax", 0) // no layer name holds a /
	}
	// The last layer's tensor is the output. Nothing else reads it, and the
	// layers run in order, so the last node makes it, unless no node does.
	if last := len(e.g.Node) - 1; last >= 0 && e.g.Node[last].Output[0] == e.cur {
		e.g.Node[last].Output[0] = onnxOutput
	} else {
		e.g.Node = append(e.g.Node, &onnxpb.NodeProto{Name: proto.String("output"), OpType: proto.String("Identity"), Input: []string{e.cur}, Output: []string{onnxOutput}})
	}
	e.g.Output = []*onnxpb.ValueInfoProto{valueInfo(onnxOutput, []int{m.NumClasses()})}

	mp := &onnxpb.ModelProto{
		IrVersion:       proto.Int64(onnxIRVersion),
		OpsetImport:     []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(onnxOpset)}},
		ProducerName:    proto.String("convnet"),
		ProducerVersion: proto.String(opts.ProducerVersion),
		DocString:       proto.String("Input: raw pixel values 0..255, NCHW. Output: class probabilities."),
		Graph:           e.g,
	}
	if len(m.ClassNames) > 0 {
		b, err := json.Marshal(m.ClassNames)
		if err != nil {
			return nil, fmt.Errorf("export onnx: class names: %w", err)
		}
		mp.MetadataProps = append(mp.MetadataProps, &onnxpb.StringStringEntryProto{Key: proto.String(onnxClassesKey), Value: proto.String(string(b))})
	}
	// How the images it learnt from were framed, for the classifier.
	if f, err := m.framingJSON(); err != nil {
		return nil, fmt.Errorf("export onnx: %w", err)
	} else if f != "" {
		mp.MetadataProps = append(mp.MetadataProps, &onnxpb.StringStringEntryProto{Key: proto.String(framingKey), Value: proto.String(f)})
	}
	return mp, nil
}

func (m *Sequential) graphName() string {
	switch {
	case m.Name != "":
		return m.Name
	case m.graph != nil:
		return "model"
	}
	return "sequential"
}

// nchw returns the ONNX per-sample shape of a convnet shape: [C H W] for an
// image [H W C], the same for a vector.
func nchw(s []int) []int {
	if len(s) == 3 {
		return []int{s[2], s[0], s[1]}
	}
	return s
}

// valueInfo describes a float32 tensor of shape [N, sample...] with a
// dynamic batch axis N.
func valueInfo(name string, sample []int) *onnxpb.ValueInfoProto {
	dims := []*onnxpb.TensorShapeProto_Dimension{{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}}}
	for _, d := range sample {
		dims = append(dims, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
	}
	return &onnxpb.ValueInfoProto{
		Name: proto.String(name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
			Shape:    &onnxpb.TensorShapeProto{Dim: dims},
		}}},
	}
}

// onnxWriter appends nodes to a graph, each reading the output of the one
// before.
type onnxWriter struct {
	g     *onnxpb.GraphProto
	cur   string          // the tensor the next node reads
	shape []int           // its convnet shape per sample: [H W C] or [F]
	pads  map[string]bool // the tensors Pad nodes write
}

// apply appends a node named name computing op on the current tensor and
// the extra inputs; its output, also called name (unless that is the
// graph's input or output name), becomes the current one.
func (e *onnxWriter) apply(op, name string, extra []string, attrs ...*onnxpb.AttributeProto) {
	out := name
	if out == onnxInput || out == onnxOutput {
		out += "/out"
	}
	e.g.Node = append(e.g.Node, &onnxpb.NodeProto{
		Name:      proto.String(name),
		OpType:    proto.String(op),
		Input:     append([]string{e.cur}, extra...),
		Output:    []string{out},
		Attribute: attrs,
	})
	e.cur = out
}

// weight adds an initializer and returns its name.
func (e *onnxWriter) weight(name string, dims []int, data []float32) string {
	t := &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT))}
	for _, d := range dims {
		t.Dims = append(t.Dims, int64(d))
	}
	t.RawData = make([]byte, 0, 4*len(data))
	for _, v := range data {
		t.RawData = binary.LittleEndian.AppendUint32(t.RawData, math.Float32bits(v))
	}
	e.g.Initializer = append(e.g.Initializer, t)
	return name
}

// ints adds an INT64 list as an initializer and returns its name.
func (e *onnxWriter) ints(name string, v []int64) string {
	e.g.Initializer = append(e.g.Initializer, &onnxpb.TensorProto{Name: proto.String(name),
		DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Dims: []int64{int64(len(v))}, Int64Data: v})
	return name
}

func ints64(s []int) []int64 {
	out := make([]int64, len(s))
	for k, v := range s {
		out[k] = int64(v)
	}
	return out
}

// layer appends the nodes of one layer.
func (e *onnxWriter) layer(l nn.Layer) error {
	cfg, name := l.Config(), l.Name()
	params := map[string][]float32{}
	for _, p := range l.Params() {
		params[p.Name] = p.Value.Data
	}
	out := l.OutputShape()
	switch l.Type() {
	case "Conv2D":
		k, s, pads, err := e.window(cfg, "kernel_size")
		if err != nil {
			return err
		}
		// A grouped kernel [kh, kw, C/g, F] is the weights [F, C/g, kh, kw].
		g := max(l.(*nn.Conv2D).Groups, 1)
		c, f := e.shape[2]/g, out[2]
		inputs := []string{e.weight(name+"/kernel", []int{f, c, k[0], k[1]}, hwioToOIHW(params["kernel"], k[0], k[1], c, f))}
		if b, ok := params["bias"]; ok {
			inputs = append(inputs, e.weight(name+"/bias", []int{f}, b))
		}
		d := orOnes(cfg["dilation_rate"])
		e.apply("Conv", name, inputs, attrInts("kernel_shape", k[:]...), attrInts("strides", s[:]...),
			attrInts("pads", pads...), attrInts("dilations", d[:]...), attrInt("group", g))
	case "DepthwiseConv2D":
		// A convolution with one group per input channel, whose weights
		// [C·M, 1, kh, kw] are the kernel [kh, kw, C, M] with C·M filters
		// of one channel.
		k, s, pads, err := e.window(cfg, "kernel_size")
		if err != nil {
			return err
		}
		c, f := e.shape[2], out[2]
		inputs := []string{e.weight(name+"/kernel", []int{f, 1, k[0], k[1]}, hwioToOIHW(params["depthwise_kernel"], k[0], k[1], 1, f))}
		if b, ok := params["bias"]; ok {
			inputs = append(inputs, e.weight(name+"/bias", []int{f}, b))
		}
		d := orOnes(cfg["dilation_rate"])
		e.apply("Conv", name, inputs, attrInts("kernel_shape", k[:]...), attrInts("strides", s[:]...),
			attrInts("pads", pads...), attrInts("dilations", d[:]...), attrInt("group", c))
	case "Dense":
		if len(e.shape) == 3 {
			// On an image, a 1×1 convolution: the kernel [C, U] is the
			// weights [U, C, 1, 1].
			c, u := e.shape[2], out[2]
			inputs := []string{e.weight(name+"/kernel", []int{u, c, 1, 1}, hwioToOIHW(params["kernel"], 1, 1, c, u))}
			if b, ok := params["bias"]; ok {
				inputs = append(inputs, e.weight(name+"/bias", []int{u}, b))
			}
			e.apply("Conv", name, inputs, attrInts("kernel_shape", 1, 1))
			break
		}
		if len(e.shape) != 1 {
			return fmt.Errorf("input shape %v is neither flat nor an image", e.shape)
		}
		inputs := []string{e.weight(name+"/kernel", []int{e.shape[0], out[0]}, params["kernel"])}
		if b, ok := params["bias"]; ok {
			inputs = append(inputs, e.weight(name+"/bias", []int{out[0]}, b))
		}
		e.apply("Gemm", name, inputs)
	case "MaxPooling2D", "AveragePooling2D":
		k, s, pads, err := e.window(cfg, "pool_size")
		if err != nil {
			return err
		}
		attrs := []*onnxpb.AttributeProto{attrInts("kernel_shape", k[:]...), attrInts("strides", s[:]...)}
		// ONNX Runtime merges a zero Pad into the pooling node after it,
		// which changes a max pool's result (its padding is -inf) and can
		// make pads larger than the window, which it then refuses. It
		// leaves alone a node without pads or with auto_pad set: zero
		// padding is the default, TensorFlow's "same" is SAME_UPPER.
		switch {
		case slices.Max(pads) == 0:
		case e.pads[e.cur]:
			attrs = append(attrs, attrString("auto_pad", "SAME_UPPER"))
		default:
			attrs = append(attrs, attrInts("pads", pads...))
		}
		op := "MaxPool"
		if l.Type() == "AveragePooling2D" {
			op = "AveragePool"
			attrs = append(attrs, attrInt("count_include_pad", 0))
		}
		e.apply(op, name, nil, attrs...)
	case "ZeroPadding2D":
		p := l.(*nn.ZeroPadding2D).Padding
		pads := e.ints(name+"/pads", []int64{0, 0, int64(p[0][0]), int64(p[1][0]), 0, 0, int64(p[0][1]), int64(p[1][1])})
		e.apply("Pad", name, []string{pads})
		if e.pads == nil {
			e.pads = map[string]bool{}
		}
		e.pads[e.cur], e.shape = true, out
		return nil
	case "Cropping2D":
		c, in := l.(*nn.Cropping2D).Cropping, e.shape // in: H, W, C
		e.apply("Slice", name, []string{
			e.ints(name+"/starts", []int64{int64(c[0][0]), int64(c[1][0])}),
			e.ints(name+"/ends", []int64{int64(in[0] - c[0][1]), int64(in[1] - c[1][1])}),
			e.ints(name+"/axes", []int64{2, 3}),
		})
	case "UpSampling2D":
		e.upSampling(l.(*nn.UpSampling2D), name)
	case "Resizing":
		e.resizing(l.(*nn.Resizing), name)
	case "GlobalAveragePooling2D", "GlobalMaxPooling2D":
		op, keep := "GlobalAveragePool", false
		switch l := l.(type) {
		case *nn.GlobalAveragePooling2D:
			keep = l.KeepDims
		case *nn.GlobalMaxPooling2D:
			op, keep = "GlobalMaxPool", l.KeepDims
		}
		e.apply(op, name, nil)
		if !keep {
			e.apply("Flatten", name+"/flatten", nil, attrInt("axis", 1))
		}
	case "Reshape":
		if err := e.reshape(l.(*nn.Reshape), out); err != nil {
			return err
		}
	case "Flatten":
		if len(e.shape) == 3 {
			// convnet flattens height, width, channels: back to NHWC first.
			e.apply("Transpose", name+"/nhwc", nil, attrInts("perm", 0, 2, 3, 1))
			e.apply("Flatten", name, nil, attrInt("axis", 1))
		}
	case "BatchNormalization":
		e.batchNorm(l.(*nn.BatchNormalization))
	case "ChannelShuffle":
		e.channelShuffle(l.(*nn.ChannelShuffle))
	case "ChannelSlice":
		c := l.(*nn.ChannelSlice)
		e.apply("Slice", name, []string{
			e.ints(name+"/starts", []int64{int64(c.Start)}), e.ints(name+"/ends", []int64{int64(c.End)}), e.ints(name+"/axes", []int64{1}),
		})
	case "Rescaling":
		e.rescaling(l.(*nn.Rescaling))
	case "PReLU":
		e.prelu(l.(*nn.PReLU))
	case "Normalization":
		e.normalization(l.(*nn.Normalization))
	case "LayerNormalization":
		e.layerNorm(l.(*nn.LayerNormalization))
	case "GroupNormalization":
		e.groupNorm(l.(*nn.GroupNormalization))
	case "LayerScale":
		// A Mul by gamma, of shape (C, 1, 1) on an image.
		dims := []int{out[len(out)-1]}
		if len(out) == 3 {
			dims = append(dims, 1, 1)
		}
		e.apply("Mul", name, []string{e.weight(name+"/gamma", dims, params["gamma"])})
	case "Dropout", "SpatialDropout2D", "AlphaDropout", "GaussianNoise", "GaussianDropout":
		// Inference: the identity.
	case "ReLU", "LeakyReLU", "ELU", "Softmax", "Activation":
		// The activation below is the whole layer.
	default:
		return errors.New("no ONNX form for this layer type")
	}
	e.shape = out
	if fn, alpha := layerActivation(l); fn != "" && fn != "linear" {
		an := name
		if !isActivationLayer(l) {
			an = name + "/" + fn
		}
		return e.activation(fn, an, alpha)
	}
	return nil
}

// window returns a convolution's or a pooling layer's window size, strides
// and ONNX pads [top left bottom right] for the current input.
func (e *onnxWriter) window(cfg map[string]any, sizeKey string) (k, s [2]int, pads []int, err error) {
	var ok1, ok2 bool
	k, ok1 = pairOf(cfg[sizeKey])
	s, ok2 = pairOf(cfg["strides"])
	if !ok1 || !ok2 || len(e.shape) != 3 {
		return k, s, nil, fmt.Errorf("config %v on input %v: want two sizes, two strides and an image", cfg, e.shape)
	}
	pads = []int{0, 0, 0, 0}
	d := orOnes(cfg["dilation_rate"])
	if cfg["padding"] == "same" {
		for i := range 2 {
			span := (k[i]-1)*d[i] + 1 // a dilated kernel's
			out, before := kernels.SamePadding(e.shape[i], span, s[i])
			total := max((out-1)*s[i]+span-e.shape[i], 0)
			pads[i], pads[i+2] = before, total-before
		}
	}
	return k, s, pads, nil
}

// orOnes reads a config's dilation_rate: absent means 1, 1.
func orOnes(v any) [2]int {
	if p, ok := pairOf(v); ok {
		return p
	}
	return [2]int{1, 1}
}

func pairOf(v any) ([2]int, bool) {
	p, ok := v.([]int)
	if !ok || len(p) != 2 {
		return [2]int{}, false
	}
	return [2]int{p[0], p[1]}, true
}

// hwioToOIHW reorders a convolution kernel from convnet's [kh kw c f] to
// ONNX's [f c kh kw].
func hwioToOIHW(k []float32, kh, kw, c, f int) []float32 {
	out := make([]float32, len(k))
	for y := range kh {
		for x := range kw {
			for i := range c {
				for o := range f {
					out[((o*c+i)*kh+y)*kw+x] = k[((y*kw+x)*c+i)*f+o]
				}
			}
		}
	}
	return out
}
