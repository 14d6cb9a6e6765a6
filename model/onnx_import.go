package model

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
	"google.golang.org/protobuf/proto"
)

// ONNXImportOptions controls [ImportONNX].
type ONNXImportOptions struct {
	// InputShape is the shape of one input sample in convnet's order,
	// [H W C] for an image or [F] for a vector, needed when the graph
	// leaves the image size symbolic; it must agree with the sizes the
	// graph does give.
	InputShape []int
	// ClassNames names the outputs, in place of the graph's "classes"
	// metadata.
	ClassNames []string
	// Rescale, Mean and Std are the preprocessing that turns raw pixels
	// 0..255 into the graph's input, (x·Rescale - Mean) / Std with one Mean
	// and Std per channel as torchvision's Normalize, for graphs that leave
	// it out: a PyTorch model trained on ToTensor's x/255 needs Rescale
	// 1/255. Zero values leave a step out. Giving them for a graph that
	// begins with preprocessing nodes of its own is an error.
	Rescale   float32
	Mean, Std []float32
	// MaxBytes bounds the size of the file; 0 means 1 GiB.
	MaxBytes int64
}

// Bounds on imported graphs.
const (
	defaultMaxImportBytes = 1 << 30
	minONNXOpset          = 7
	maxONNXOpset          = 21
	maxONNXIRVersion      = 10
)

// ImportONNX reads an ONNX model from r and returns the equivalent built
// model, with its weights, class names and preprocessing.
//
// The graph must be made of the operators convnet runs (see onnxOps), from
// one float input, [N C H W] or [N F], to one output of class scores;
// leading Mul, Div, Sub or Add nodes with constants become the model's
// Standardizer. A chain of layers becomes a stack ([New]); a graph with
// branches, where Add, Sum, Mul, Mean or Concat join computed tensors,
// becomes a graph ([NewGraph]) with the merge layers [nn.Add],
// [nn.Multiply], [nn.Average] and [nn.Concatenate]; the nodes may come in
// any order. Pads other than "valid" or TensorFlow's "same" (PyTorch's
// own) become an [nn.ZeroPadding2D] before a "valid" window where that is
// exact; constants the graph computes (the pads of F.pad, the shape of
// x.view(x.size(0), -1)) are folded. An operator, attribute or value convnet cannot run exactly is
// an [*ONNXError] naming the node, its operator type and what is wrong,
// never a silently different model. So is a malformed file: not a
// protobuf, no graph, a cycle (the error lists its nodes), an input
// nothing produces, an initializer whose data does not match its shape.
// Memory use is bounded by a multiple of the file's size: shapes are checked against the bytes that hold the data
// before anything is allocated for them.
func ImportONNX(r io.Reader, opts ONNXImportOptions) (*Sequential, error) {
	limit := opts.MaxBytes
	if limit <= 0 {
		limit = defaultMaxImportBytes
	}
	limit = min(limit, math.MaxInt64-1) // room for the byte that tells a larger file
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, onnxErr("the file is larger than %d bytes", limit)
	}
	mp := new(onnxpb.ModelProto)
	if err := proto.Unmarshal(b, mp); err != nil {
		return nil, onnxErr("not an ONNX model (%v)", err)
	}
	size := len(b)
	b = nil
	return importModel(mp, opts, size)
}

// importModel imports mp, read from a file of size bytes.
func importModel(mp *onnxpb.ModelProto, opts ONNXImportOptions, size int) (*Sequential, error) {
	if mp.IrVersion == nil || mp.Graph == nil {
		return nil, onnxErr("no ir_version or no graph: not an ONNX model")
	}
	if v := mp.GetIrVersion(); v < 3 || v > maxONNXIRVersion {
		return nil, onnxErr("IR version %d, want 3 to %d", v, maxONNXIRVersion)
	}
	opset := 0
	for _, o := range mp.GetOpsetImport() {
		if d := o.GetDomain(); d == "" || d == "ai.onnx" {
			opset = int(min(max(o.GetVersion(), 0), 1<<20))
		}
	}
	if opset < minONNXOpset || opset > maxONNXOpset {
		return nil, onnxErr("opset %d of the default domain, want %d to %d", opset, minONNXOpset, maxONNXOpset)
	}
	g := mp.Graph
	if len(g.GetSparseInitializer()) > 0 {
		return nil, onnxErr("graph %q: sparse initializers are not supported", g.GetName())
	}
	b := &onnxBuilder{
		opset: opset, values: map[string]*onnxValue{}, weights: map[nn.Layer][]*onnxConst{}, names: map[string]bool{},
		stdFromFlags: opts.Rescale != 0 || opts.Mean != nil || opts.Std != nil, orders: size, folds: size + 1<<16,
	}
	if err := b.readInitializers(g); err != nil {
		return nil, err
	}
	in, err := b.readInput(g, opts.InputShape)
	if err != nil {
		return nil, err
	}
	if len(g.GetOutput()) != 1 {
		return nil, onnxErr("graph has %d outputs, want 1 (the class scores)", len(g.GetOutput()))
	}
	b.out = g.GetOutput()[0].GetName()
	nodes, err := b.sortNodes(b.fuseFunctions(g.GetNode(), b.out), b.out)
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		if d := n.GetDomain(); d != "" && d != "ai.onnx" {
			return nil, nodeErr(n, "operator of domain %q: only the default ONNX domain is supported", d)
		}
		if folded, err := b.fold(n); err != nil {
			return nil, err
		} else if folded {
			continue
		}
		op, ok := onnxOps[n.GetOpType()]
		if !ok {
			return nil, nodeErr(n, "operator not supported (supported: %s)", strings.Join(onnxOpNames(), ", "))
		}
		if err := op(b, n); err != nil {
			return nil, err
		}
	}
	m, err := b.model(in, g.GetOutput()[0].GetName())
	if err != nil {
		return nil, err
	}
	if err := m.setImportedInfo(mp, b, opts); err != nil {
		return nil, err
	}
	return m, nil
}

// onnxValue is a tensor of the graph: a constant, or a computed tensor whose
// shape per sample (without the batch axis) is known.
type onnxValue struct {
	konst *onnxConst // nil for a computed tensor
	// node is the model node that computes the tensor: the model's input
	// (which preprocessing nodes leave as it is), or a layer's output.
	node *Node
	// shape is the ONNX shape of one sample: [C H W] or [F].
	shape []int
	// flat marks a tensor convnet holds as a vector although ONNX sees it
	// as [C 1 1]: the output of GlobalAveragePool or GlobalMaxPool.
	flat bool
	// nhwc marks an image transposed to [H W C], which convnet flattens as
	// it is.
	nhwc bool
	// order maps the features of a vector to convnet's order: ONNX feature
	// i is convnet feature order[i]. It is nil when they agree; it is not
	// when ONNX flattened an image channel-first and convnet flattens it
	// channel-last.
	order []int
	// fold is the layer whose output this is, as it is, when the next node
	// may fold into it: an activation into a Conv2D or Dense without one, a
	// bias Add into the Dense of a MatMul, a Div into an Add that makes it
	// an Average.
	fold nn.Layer
	// dense marks the output of a MatMul, to which an Add may give a bias.
	dense bool
	// grouping marks an image whose channels a Reshape split into groups
	// (see importReshape).
	grouping grouping
	// nonneg marks a tensor known to hold no negative value (the output of
	// a ReLU, say), which a max pool may pad with zeros.
	nonneg bool
}

// vector reports whether convnet holds v as a vector.
func (v *onnxValue) vector() bool { return len(v.shape) == 1 || v.flat }

// onnxBuilder turns the nodes, in order, into the layers of a graph.
type onnxBuilder struct {
	opset   int
	values  map[string]*onnxValue
	inputs  map[string]int      // readers of each value
	readers map[string][]string // their operators
	in      *Node               // the model's input
	out     string              // the graph's output
	// weights holds each layer's parameters in the order of Params.
	weights      map[nn.Layer][]*onnxConst
	names        map[string]bool
	std          *data.Standardizer // from the graph's preprocessing nodes
	stage        int                // the last preprocessing step seen
	stdFromFlags bool
	// orders is how many more feature indices the vectors' orders may
	// hold: as many as the file has bytes, since a Dense that reads a
	// reordered vector has a weight per feature.
	orders int
	// folds is how many more values the constants computed in the graph
	// may hold together: as many as the file has bytes, and 65,536 more.
	folds int
	// fused holds the LayerNormalization and GroupNormalization nodes
	// fuseFunctions made of decomposed ones.
	fused map[*onnxpb.NodeProto]bool
}

// model builds the model that computes output, as a stack of layers when
// each reads the one before, else as a graph, and loads the weights.
func (b *onnxBuilder) model(in []int, output string) (*Sequential, error) {
	v := b.values[output]
	switch {
	case v == nil:
		return nil, onnxErr("graph output %q is not the first output of its node, which convnet computes", output)
	case v.konst != nil:
		return nil, onnxErr("graph output %q is a constant", output)
	case !v.vector() || v.order != nil:
		return nil, onnxErr("graph output %q has shape %v per sample, want a vector of class scores", output, v.shape)
	case v.node == b.in:
		return nil, onnxErr("the graph has no layers")
	}
	m, err := NewGraph(b.in, v.node)
	if err != nil {
		return nil, onnxErr("%v", err)
	}
	if m.isChain() {
		m = New(m.Layers...)
	}
	if err := m.Build(in, 0); err != nil {
		return nil, onnxErr("%v", err)
	}
	for _, l := range m.Layers {
		ps, ws := l.Params(), b.weights[l]
		if len(ps) != len(ws) {
			return nil, onnxErr("%s (%s): %d parameters, the graph gives %d", l.Name(), l.Type(), len(ps), len(ws))
		}
		for j, p := range ps {
			if len(ws[j].f) != p.Value.Len() {
				return nil, onnxErr("%s (%s): %s has %d values, the graph gives %d", l.Name(), l.Type(), p.Name, p.Value.Len(), len(ws[j].f))
			}
			copy(p.Value.Data, ws[j].f)
		}
	}
	if got := m.OutputShape(); !slices.Equal(got, []int{v.shape[0]}) {
		return nil, onnxErr("the layers give %v per sample, the graph %v", got, v.shape)
	}
	return m, nil
}

// standardizerFrom is the preprocessing (x·rescale - mean) / std given to
// an import, with one mean and std per channel; nil when none is given.
func standardizerFrom(rescale float32, mean, std []float32) (*data.Standardizer, error) {
	if rescale == 0 && mean == nil && std == nil {
		return nil, nil
	}
	s := &data.Standardizer{Rescale: rescale, Mean: mean, FeaturewiseCenter: mean != nil}
	if std != nil {
		s.FeaturewiseStd = true
		if mean == nil {
			s.Mean = make([]float32, len(std))
		}
		for _, v := range std {
			if !(v > 0) {
				return nil, fmt.Errorf("std %v: must be positive", v)
			}
			s.Std = append(s.Std, stdFor(v))
		}
	}
	return s, nil
}

// setImportedInfo sets the class names, the preprocessing and where the
// model came from.
func (m *Sequential) setImportedInfo(mp *onnxpb.ModelProto, b *onnxBuilder, opts ONNXImportOptions) error {
	m.ClassNames = opts.ClassNames
	if m.ClassNames == nil {
		for _, p := range mp.GetMetadataProps() {
			if p.GetKey() == onnxClassesKey {
				if err := json.Unmarshal([]byte(p.GetValue()), &m.ClassNames); err != nil {
					return onnxErr("metadata %q: %v", onnxClassesKey, err)
				}
			}
		}
	}
	if len(m.ClassNames) > 0 && len(m.ClassNames) != m.NumClasses() {
		return onnxErr("%d class names for %d outputs", len(m.ClassNames), m.NumClasses())
	}
	m.Standardizer = b.std
	if b.stdFromFlags {
		std, err := standardizerFrom(opts.Rescale, opts.Mean, opts.Std)
		if err != nil {
			return onnxErr("%v", err)
		}
		m.Standardizer = std
	}
	if m.Standardizer != nil {
		if err := m.Standardizer.Check(m.InputShape()); err != nil {
			return onnxErr("preprocessing: %v", err)
		}
	}
	producer := strings.TrimSpace(mp.GetProducerName() + " " + mp.GetProducerVersion())
	m.Meta = map[string]string{"source": fmt.Sprintf("ONNX (IR version %d, opset %d, producer %q)", mp.GetIrVersion(), b.opset, producer)}
	for _, p := range mp.GetMetadataProps() {
		if p.GetKey() == framingKey {
			if err := m.setFramingJSON(p.GetValue()); err != nil {
				return onnxErr("metadata %q: %v", framingKey, err)
			}
		}
	}
	return nil
}
