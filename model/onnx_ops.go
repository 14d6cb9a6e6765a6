package model

import (
	"slices"
	"sort"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
)

// onnxOps maps each ONNX operator ImportONNX runs to the function that
// turns a node of it into layers (or preprocessing, or nothing).
var onnxOps map[string]func(b *onnxBuilder, n *onnxpb.NodeProto) error

func init() {
	onnxOps = map[string]func(*onnxBuilder, *onnxpb.NodeProto) error{
		"Conv":                  importConv,
		"MaxPool":               importPool,
		"AveragePool":           importPool,
		"GlobalAveragePool":     importGlobalPool,
		"GlobalMaxPool":         importGlobalPool,
		"BatchNormalization":    importBatchNorm,
		"LayerNormalization":    importLayerNorm,
		"GroupNormalization":    importGroupNorm,
		"InstanceNormalization": importInstanceNorm,
		"Relu":                  importActivation,
		"Clip":                  importClip,
		"LeakyRelu":             importActivation,
		"Elu":                   importActivation,
		"Sigmoid":               importActivation,
		"HardSigmoid":           importActivation,
		"HardSwish":             importActivation,
		"Tanh":                  importActivation,
		"Selu":                  importActivation,
		"Gelu":                  importActivation,
		"Softplus":              importActivation,
		"Softsign":              importActivation,
		"Mish":                  importActivation,
		"PRelu":                 importPReLU,
		"Softmax":               importActivation,
		"LogSoftmax":            importActivation,
		"Gemm":                  importGemm,
		"MatMul":                importMatMul,
		"Flatten":               importFlatten,
		"Reshape":               importReshape,
		"Slice":                 importSlice,
		"Resize":                importResize,
		"Upsample":              importResize,
		"Split":                 importSplit,
		"Transpose":             importTranspose,
		"Dropout":               importIdentity,
		"Identity":              importIdentity,
		"Constant":              importConstant,
		"Pad":                   importPad,
		"Shape":                 importShape,
		"Add":                   importArithmetic,
		"Sub":                   importArithmetic,
		"Mul":                   importArithmetic,
		"Div":                   importArithmetic,
		"Sum":                   importMerge,
		"Mean":                  importMerge,
		"Max":                   importMerge,
		"Min":                   importMerge,
		"Concat":                importConcat,
		"ReduceMean":            importReduce,
		"ReduceMax":             importReduce,
	}
}

func onnxOpNames() []string {
	names := make([]string, 0, len(onnxOps))
	for k := range onnxOps {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func importConv(b *onnxBuilder, n *onnxpb.NodeProto) error {
	a, err := attrs(n, "kernel_shape", "strides", "pads", "dilations", "group", "auto_pad")
	if err != nil {
		return err
	}
	x, err := b.image(n)
	if err != nil {
		return err
	}
	w, err := b.weight(n, 1, false, "weights", 4)
	if err != nil {
		return err
	}
	f, c, kh, kw := w.dims[0], w.dims[1], w.dims[2], w.dims[3]
	bias, err := b.weight(n, 2, true, "bias", 1)
	if err != nil {
		return err
	}
	if bias != nil && bias.dims[0] != f {
		return nodeErr(n, "bias of %d values for %d filters", bias.dims[0], f)
	}
	g := a.int("group", 1)
	if g < 1 || a.err != nil {
		if a.err != nil {
			return a.err
		}
		return nodeErr(n, "attribute group = %d: must be positive", g)
	}
	if c*g != x.shape[0] || f%g != 0 {
		return nodeErr(n, "weights of shape %v in %d groups for an input of %d channels", w.dims, g, x.shape[0])
	}
	if ks := a.ints("kernel_shape"); ks != nil && !slices.Equal(ks, []int{kh, kw}) {
		return nodeErr(n, "attribute kernel_shape = %v, the weights are %dx%d", ks, kh, kw)
	}
	win, err := b.window(n, a, x, [2]int{kh, kw}, false, false)
	if err != nil {
		return err
	}
	x = b.zeroPad(n, x, win.pad)
	// A grouped kernel [kh, kw, C/g, F] keeps ONNX's order of the filters
	// (group by group); a depthwise kernel [kh, kw, C, M] lists its C·M
	// filters of one channel in that order too.
	kernel := &onnxConst{dims: []int{kh, kw, c, f}, f: oihwToHWIO(w.f, f, c, kh, kw)}
	var l nn.Layer = &nn.Conv2D{Filters: f, KernelSize: [2]int{kh, kw}, Strides: win.strides, DilationRate: win.dilation, Padding: win.padding, Groups: g, NoBias: bias == nil}
	if g > 1 && win.dilation != [2]int{1, 1} && g != x.shape[0] {
		return nodeErr(n, "attribute dilations = %v with group = %d: convnet dilates only convolutions of one group or of one group per input channel", win.dilation, g)
	}
	if g > 1 && g == x.shape[0] {
		kernel.dims = []int{kh, kw, g, f / g}
		l = &nn.DepthwiseConv2D{KernelSize: [2]int{kh, kw}, Strides: win.strides, DilationRate: win.dilation, Padding: win.padding, DepthMultiplier: f / g, NoBias: bias == nil}
	}
	weights := []*onnxConst{kernel}
	if bias != nil {
		weights = append(weights, bias)
	}
	nd := b.add(n, l, x, weights...)
	return b.output(n, &onnxValue{node: nd, shape: []int{f, win.out[0], win.out[1]}, fold: l})
}

// image returns the node's input, which must be an NCHW image.
func (b *onnxBuilder) image(n *onnxpb.NodeProto) (*onnxValue, error) {
	x, err := b.computed(n)
	if err != nil {
		return nil, err
	}
	if len(x.shape) != 3 || x.flat || x.nhwc {
		return nil, nodeErr(n, "input of shape %v per sample, want an NCHW image", x.shape)
	}
	return x, nil
}

// onnxWindow is the geometry of a convolution or pooling node.
type onnxWindow struct {
	padding  string    // convnet's: "valid" or "same"
	pad      [2][2]int // a ZeroPadding2D before a "valid" window, for other pads
	strides  [2]int
	dilation [2]int // a convolution's taps' distance
	out      [2]int // output height and width
	padded   bool   // some padding cells of a "same" window are used
}

// window reads the strides and padding of a convolution or pooling node
// with kernel k over input x: "valid", TensorFlow's "same", or other pads
// given as a padding before a "valid" window. With zeros (an average that
// counts the padding cells), pads are always given as a padding. With
// ceilZeros (a max pool of values none negative), the partial window of
// ceil_mode is completed with zero padding below and to the right.
func (b *onnxBuilder) window(n *onnxpb.NodeProto, a *onnxAttrs, x *onnxValue, k [2]int, zeros, ceilZeros bool) (onnxWindow, error) {
	var s, out [2]int
	fail := func(err error) (onnxWindow, error) { return onnxWindow{}, err }
	strides := a.ints("strides", 1, 1)
	pads := a.ints("pads", 0, 0, 0, 0)
	dil := a.ints("dilations", 1, 1)
	autoPad := a.str("auto_pad", "NOTSET")
	ceil := a.int("ceil_mode", 0)
	if a.err != nil {
		return fail(a.err)
	}
	if len(strides) != 2 || strides[0] < 1 || strides[1] < 1 {
		return fail(nodeErr(n, "attribute strides = %v: want two positive values", strides))
	}
	switch {
	case slices.Equal(dil, []int{1, 1}):
	case n.GetOpType() != "Conv":
		return fail(nodeErr(n, "attribute dilations = %v: only 1, 1 is supported", dil))
	case len(dil) != 2 || slices.Min(dil) < 1 || slices.Max(dil) > 1<<20:
		return fail(nodeErr(n, "attribute dilations = %v: want two positive values", dil))
	case !slices.Equal(strides, []int{1, 1}):
		return fail(nodeErr(n, "attribute dilations = %v with strides %v: convnet, as Keras, dilates only convolutions of strides 1", dil, strides))
	}
	if len(pads) != 4 || slices.Min(pads) < 0 {
		return fail(nodeErr(n, "attribute pads = %v: want four non-negative values", pads))
	}
	if k[0] < 1 || k[1] < 1 {
		return fail(nodeErr(n, "kernel %dx%d: must be positive", k[0], k[1]))
	}
	// A dilated kernel covers (k-1)·d+1 cells, which the padding and the
	// output sizes count with.
	d := [2]int{dil[0], dil[1]}
	k = [2]int{(k[0]-1)*d[0] + 1, (k[1]-1)*d[1] + 1}
	s = [2]int{strides[0], strides[1]}
	hw := [2]int{x.shape[1], x.shape[2]}
	var pad [2][2]int
	same := make([]int, 4)
	for i := range 2 {
		o, before := kernels.SamePadding(hw[i], k[i], s[i])
		same[i], same[i+2] = before, max((o-1)*s[i]+k[i]-hw[i], 0)-before
	}
	padding := ""
	switch autoPad {
	case "VALID":
		padding = "valid"
	case "SAME_UPPER":
		padding = "same"
	case "SAME_LOWER":
		if same[0] != same[2] || same[1] != same[3] {
			return fail(nodeErr(n, "attribute auto_pad = SAME_LOWER pads %v here (the odd cell first); convnet pads the odd cell after", same))
		}
		padding = "same"
	case "NOTSET":
		switch {
		case slices.Equal(pads, []int{0, 0, 0, 0}) && k[0] <= hw[0] && k[1] <= hw[1]:
			padding = "valid"
		case slices.Equal(pads, same) && !zeros:
			padding = "same"
		default:
			padding, pad = "valid", [2][2]int{{pads[0], pads[2]}, {pads[1], pads[3]}}
			if err := checkPadded(n, x, pad); err != nil {
				return fail(err)
			}
			for i := range 2 {
				hw[i] += pad[i][0] + pad[i][1]
			}
		}
	default:
		return fail(nodeErr(n, "attribute auto_pad = %q: want NOTSET, VALID, SAME_UPPER or SAME_LOWER", autoPad))
	}
	for i := range 2 {
		if padding == "same" {
			out[i] = (hw[i] + s[i] - 1) / s[i]
			continue
		}
		if k[i] > hw[i] {
			return fail(nodeErr(n, "kernel %dx%d is larger than the %dx%d input (padded)", k[0], k[1], hw[0], hw[1]))
		}
		out[i] = kernels.ValidOutput(hw[i], k[i], s[i])
	}
	if ceil != 0 {
		// ceil_mode only matters when the last window does not fit.
		partial := false
		for i := range 2 {
			p := same[i] + same[i+2]
			if padding == "valid" {
				p = 0
			}
			partial = partial || (hw[i]+p-k[i])%s[i] != 0
		}
		if partial {
			if !ceilZeros || autoPad != "NOTSET" {
				return fail(nodeErr(n, "attribute ceil_mode = 1 adds a partial window here: convnet takes it only for a max pool after a ReLU, whose window it completes with zeros"))
			}
			if padding == "same" {
				padding, pad = "valid", [2][2]int{{same[0], same[2]}, {same[1], same[3]}}
				for i := range 2 {
					hw[i] += pad[i][0] + pad[i][1]
				}
			}
			for i := range 2 {
				o := (hw[i]-k[i]+s[i]-1)/s[i] + 1
				if (o-1)*s[i] >= hw[i]-pad[i][1] {
					return fail(nodeErr(n, "attribute ceil_mode = 1: the last window would start in the padding"))
				}
				extra := (o-1)*s[i] + k[i] - hw[i]
				pad[i][1] += extra
				hw[i] += extra
				out[i] = o
			}
			if err := checkPadded(n, x, pad); err != nil {
				return fail(err)
			}
		}
	}
	padded := padding == "same" && slices.Max(same) > 0
	return onnxWindow{padding: padding, pad: pad, strides: s, dilation: d, out: out, padded: padded}, nil
}

func importPool(b *onnxBuilder, n *onnxpb.NodeProto) error {
	maxPool := n.GetOpType() == "MaxPool"
	known := []string{"kernel_shape", "strides", "pads", "auto_pad", "ceil_mode", "dilations"}
	if maxPool {
		known = append(known, "storage_order")
	} else {
		known = append(known, "count_include_pad")
	}
	a, err := attrs(n, known...)
	if err != nil {
		return err
	}
	x, err := b.image(n)
	if err != nil {
		return err
	}
	ks := a.ints("kernel_shape")
	if a.err != nil {
		return a.err
	}
	if len(ks) != 2 {
		return nodeErr(n, "attribute kernel_shape = %v: want two sizes", ks)
	}
	k := [2]int{ks[0], ks[1]}
	include := !maxPool && a.int("count_include_pad", 0) != 0
	win, err := b.window(n, a, x, k, include, maxPool && x.nonneg)
	if err != nil {
		return err
	}
	var l nn.Layer = &nn.MaxPool2D{PoolSize: k, Strides: win.strides, Padding: win.padding}
	explicit := win.pad != [2][2]int{}
	if maxPool && explicit && !x.nonneg {
		// ONNX pads a max pool with -inf: zeros are the same only when no
		// value is negative.
		return nodeErr(n, "attribute pads = %v: convnet pads with zeros, the same as ONNX's max pool only after a ReLU, and this input may be negative", a.ints("pads"))
	}
	if !maxPool {
		if include && win.padded {
			return nodeErr(n, "attribute count_include_pad = 1: convnet's average leaves the padding cells out")
		}
		if explicit && !include {
			return nodeErr(n, "attribute pads = %v with count_include_pad = 0: convnet averages such pads in (count_include_pad = 1) or pads as TensorFlow's \"same\"", a.ints("pads"))
		}
		l = &nn.AveragePooling2D{PoolSize: k, Strides: win.strides, Padding: win.padding}
	}
	if a.err != nil {
		return a.err
	}
	x = b.zeroPad(n, x, win.pad)
	nd := b.add(n, l, x)
	return b.output(n, &onnxValue{node: nd, shape: []int{x.shape[0], win.out[0], win.out[1]}, nonneg: maxPool && x.nonneg})
}

func importGlobalPool(b *onnxBuilder, n *onnxpb.NodeProto) error {
	if _, err := attrs(n); err != nil {
		return err
	}
	x, err := b.image(n)
	if err != nil {
		return err
	}
	return b.globalPool(n, x, true, n.GetOpType() == "GlobalMaxPool")
}

// globalPool adds the GlobalAveragePooling2D (or with maximum
// the GlobalMaxPooling2D) of node n's image x and records its output, [C 1 1]
// in ONNX when keep is set, else [C]. convnet holds a kept [C 1 1] as a
// vector, as flatten and the dense layers read it, unless a convolution or
// an element-wise merge reads it (a squeeze-and-excitation block's
// product, a map less its mean): then as an image of one cell.
func (b *onnxBuilder) globalPool(n *onnxpb.NodeProto, x *onnxValue, keep, maximum bool) error {
	image := false
	if keep {
		for _, op := range b.readers[b.outName(n)] {
			image = image || op == "Conv" || op == "Mul" || op == "Add" || op == "Sum" || op == "Sub" || op == "Mean" || op == "Max" || op == "Min"
		}
	}
	var l nn.Layer = &nn.GlobalAveragePooling2D{KeepDims: image}
	if maximum {
		l = &nn.GlobalMaxPooling2D{KeepDims: image}
	}
	nd := b.add(n, l, x)
	v := &onnxValue{node: nd, shape: []int{x.shape[0]}, nonneg: maximum && x.nonneg}
	if keep {
		v.shape, v.flat = []int{x.shape[0], 1, 1}, !image
	}
	return b.output(n, v)
}

func importBatchNorm(b *onnxBuilder, n *onnxpb.NodeProto) error {
	a, err := attrs(n, "epsilon", "momentum", "spatial", "training_mode")
	if err != nil {
		return err
	}
	x, err := b.computed(n)
	if err != nil {
		return err
	}
	if x.nhwc {
		return nodeErr(n, "input is transposed: the channel axis is not axis 1")
	}
	eps, mom := a.float("epsilon", 1e-5), a.float("momentum", 0.9)
	if a.int("spatial", 1) != 1 || a.int("training_mode", 0) != 0 || a.err != nil {
		if a.err != nil {
			return a.err
		}
		return nodeErr(n, "attributes spatial = 0 or training_mode = 1 are not supported")
	}
	if !(eps > 0) || !(mom >= 0 && mom <= 1) {
		return nodeErr(n, "attributes epsilon = %v, momentum = %v: want epsilon > 0 and momentum in [0, 1]", eps, mom)
	}
	c := x.shape[0]
	ps := make([]*onnxConst, 4)
	for i, what := range []string{"scale", "bias", "mean", "variance"} {
		if ps[i], err = b.weight(n, i+1, false, what, 1); err != nil {
			return err
		}
		if ps[i].dims[0] != c {
			return nodeErr(n, "%s of %d values for %d channels", what, ps[i].dims[0], c)
		}
		ps[i] = permuted(ps[i], x.order)
	}
	nd := b.add(n, &nn.BatchNormalization{Epsilon: decimal(eps), Momentum: decimal(mom)}, x, ps...)
	return b.output(n, x.after(nd))
}

// permuted returns the per-feature values c in convnet's order.
func permuted(c *onnxConst, order []int) *onnxConst {
	if order == nil {
		return c
	}
	p := &onnxConst{dims: c.dims, f: make([]float32, len(c.f))}
	for i, v := range c.f {
		p.f[order[i]] = v
	}
	return p
}

// oihwToHWIO reorders a convolution kernel from ONNX's [f c kh kw] to
// convnet's [kh kw c f]; the inverse of hwioToOIHW.
func oihwToHWIO(w []float32, f, c, kh, kw int) []float32 {
	out := make([]float32, len(w))
	for o := range f {
		for i := range c {
			for y := range kh {
				for x := range kw {
					out[((y*kw+x)*c+i)*f+o] = w[((o*c+i)*kh+y)*kw+x]
				}
			}
		}
	}
	return out
}
