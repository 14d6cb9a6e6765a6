package model

import (
	"math"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
)

// importActivation turns an activation node into the activation of the
// Conv2D or Dense before it when that layer has none and the function is
// one it takes by name, else into an activation layer.
func importActivation(b *onnxBuilder, n *onnxpb.NodeProto) error {
	var known []string
	switch n.GetOpType() {
	case "LeakyRelu", "Elu":
		known = []string{"alpha"}
	case "Softmax", "LogSoftmax":
		known = []string{"axis"}
	case "HardSigmoid":
		known = []string{"alpha", "beta"}
	case "Selu":
		known = []string{"alpha", "gamma"}
	case "Gelu":
		known = []string{"approximate"}
	}
	a, err := attrs(n, known...)
	if err != nil {
		return err
	}
	x, err := b.computed(n)
	if err != nil {
		return err
	}
	var fn string
	var alpha float32
	var l nn.Layer
	switch n.GetOpType() {
	case "Relu":
		fn, l = "relu", &nn.ReLU{}
	case "LeakyRelu":
		fn, alpha = "leaky_relu", a.float("alpha", 0.01)
		l = &nn.LeakyReLU{Alpha: decimal(alpha)}
	case "Elu":
		fn, alpha = "elu", a.float("alpha", 1)
		l = &nn.ELU{Alpha: decimal(alpha)}
	case "Sigmoid":
		fn, l = "sigmoid", &nn.Activation{Func: "sigmoid"}
	case "Tanh":
		fn, l = "tanh", &nn.Activation{Func: "tanh"}
	case "HardSigmoid":
		// convnet's is PyTorch's Hardsigmoid: alpha 1/6, beta 1/2.
		if al, be := a.float("alpha", 0.2), a.float("beta", 0.5); math.Abs(float64(al)-1.0/6) > 1e-6 || be != 0.5 {
			if a.err != nil {
				return a.err
			}
			return nodeErr(n, "attributes alpha = %v, beta = %v: convnet's hard_sigmoid is max(0, min(1, x/6 + 1/2)) (alpha 1/6, beta 0.5, as PyTorch's Hardsigmoid exports)", al, be)
		}
		fn, l = "hard_sigmoid", &nn.Activation{Func: "hard_sigmoid"}
	case "HardSwish":
		fn, l = "hard_silu", &nn.Activation{Func: "hard_silu"}
	case "Selu":
		al, ga := a.float("alpha", nn.SELUAlpha), a.float("gamma", nn.SELUScale)
		if a.err == nil && (!near(al, nn.SELUAlpha) || !near(ga, nn.SELUScale)) {
			return nodeErr(n, "attributes alpha = %v, gamma = %v: convnet's selu has alpha %.8g and gamma %.8g (ONNX's defaults, Keras's and PyTorch's)", al, ga, float32(nn.SELUAlpha), float32(nn.SELUScale))
		}
		fn = "selu"
	case "Gelu":
		if ap := a.str("approximate", "none"); a.err == nil && ap != "none" {
			return nodeErr(n, "attribute approximate = %q: convnet's gelu is the exact one (approximate = \"none\")", ap)
		}
		fn = "gelu"
	case "Softplus", "Softsign", "Mish":
		fn = strings.ToLower(n.GetOpType())
	case "Softmax", "LogSoftmax":
		// The log of the probabilities, as PyTorch's classifiers trained
		// with NLLLoss end: convnet gives the probabilities themselves,
		// whose order it keeps.
		if n.GetOpType() == "LogSoftmax" && (len(n.GetOutput()) == 0 || n.GetOutput()[0] != b.out) {
			return nodeErr(n, "a LogSoftmax is only taken as the graph's output (convnet gives the probabilities, not their log)")
		}
		fn, l = "softmax", &nn.Softmax{}
		if err := b.softmaxAxis(n, a, x); err != nil {
			return err
		}
	}
	if a.err != nil {
		return a.err
	}
	if l == nil {
		l = &nn.Activation{Func: fn}
	}
	if (fn == "leaky_relu" || fn == "elu") && alpha == 0 {
		fn, l = "relu", &nn.ReLU{} // convnet reads a zero alpha as its default
	}
	if !(alpha >= 0) || math.IsInf(float64(alpha), 1) {
		return nodeErr(n, "attribute alpha = %v: must be a finite number, not negative", alpha)
	}
	// The activation functions convnet's layers take by name fix alpha.
	byName := fn != "leaky_relu" && fn != "elu" || fn == "leaky_relu" && alpha == float32(0.2) || fn == "elu" && alpha == 1
	nonneg := fn == "relu" || fn == "sigmoid" || fn == "softmax" || fn == "hard_sigmoid" || fn == "softplus"
	if byName && b.soleReader(n.GetInput()[0]) && setActivation(x.fold, fn) {
		return b.output(n, x.after(x.node).nonNegative(nonneg))
	}
	return b.output(n, x.after(b.add(n, l, x)).nonNegative(nonneg))
}

// setActivation gives l, when it is a layer that ends in an activation
// function (Conv2D, DepthwiseConv2D, Dense), the function fn and reports
// true, or reports false.
func setActivation(l nn.Layer, fn string) bool {
	switch l := l.(type) {
	case *nn.Conv2D:
		l.Activation = fn
	case *nn.DepthwiseConv2D:
		l.Activation = fn
	case *nn.Dense:
		l.Activation = fn
	default:
		return false
	}
	return true
}

// softmaxAxis checks that a Softmax runs along the axis convnet's does:
// the features of a vector, the channels of an image.
func (b *onnxBuilder) softmaxAxis(n *onnxpb.NodeProto, a *onnxAttrs, x *onnxValue) error {
	def := -1
	if b.opset < 13 {
		def = 1 // and the input is seen as 2-D from that axis on
	}
	rank := len(x.shape) + 1
	axis := a.int("axis", def)
	if axis < 0 {
		axis += rank
	}
	ok := axis == 1 && !x.nhwc && (rank == 2 || x.flat || b.opset >= 13)
	if !ok {
		return nodeErr(n, "attribute axis = %d on a tensor of shape [N %v] (opset %d): convnet's softmax runs along the features of a vector or the channels of an image", a.int("axis", def), x.shape, b.opset)
	}
	return nil
}

// vector returns the node's input, which must be a vector.
func (b *onnxBuilder) vector(n *onnxpb.NodeProto) (*onnxValue, error) {
	x, err := b.computed(n)
	if err != nil {
		return nil, err
	}
	if !x.vector() {
		return nil, nodeErr(n, "input of shape %v per sample, want a vector: flatten it first", x.shape)
	}
	return x, nil
}

func importGemm(b *onnxBuilder, n *onnxpb.NodeProto) error {
	a, err := attrs(n, "alpha", "beta", "transA", "transB")
	if err != nil {
		return err
	}
	x, err := b.vector(n)
	if err != nil {
		return err
	}
	w, err := b.weight(n, 1, false, "weights", 2)
	if err != nil {
		return err
	}
	c, err := b.constant(n, 2, true)
	if err != nil {
		return err
	}
	alpha, beta := a.float("alpha", 1), a.float("beta", 1)
	transA, transB := a.int("transA", 0), a.int("transB", 0)
	if a.err != nil {
		return a.err
	}
	if transA != 0 {
		return nodeErr(n, "attribute transA = %d: only 0 is supported", transA)
	}
	k, units := w.dims[0], w.dims[1]
	if transB != 0 {
		k, units = units, k
	}
	if k != x.shape[0] {
		return nodeErr(n, "weights of shape %v (transB = %d) for a vector of %d values", w.dims, transB, x.shape[0])
	}
	kernel := &onnxConst{dims: []int{k, units}, f: make([]float32, k*units)}
	for i := range k {
		row := i
		if x.order != nil {
			row = x.order[i]
		}
		for j := range units {
			v := w.f[i*units+j]
			if transB != 0 {
				v = w.f[j*k+i]
			}
			if alpha != 1 {
				v *= alpha
			}
			kernel.f[row*units+j] = v
		}
	}
	l := &nn.Dense{Units: units, NoBias: c == nil || beta == 0}
	weights := []*onnxConst{kernel}
	if !l.NoBias {
		bias, err := b.bias(n, c, units, beta)
		if err != nil {
			return err
		}
		weights = append(weights, bias)
	}
	nd := b.add(n, l, x, weights...)
	return b.output(n, &onnxValue{node: nd, shape: []int{units}, fold: l})
}

// bias returns c, a float constant broadcast to [units], times beta.
func (b *onnxBuilder) bias(n *onnxpb.NodeProto, c *onnxConst, units int, beta float32) (*onnxConst, error) {
	shape := slices.DeleteFunc(slices.Clone(c.dims), func(d int) bool { return d == 1 })
	if c.f == nil || len(shape) > 1 || len(shape) == 1 && shape[0] != units || len(c.f) != 1 && len(c.f) != units {
		return nil, nodeErr(n, "bias of shape %v for %d units", c.dims, units)
	}
	bias := &onnxConst{dims: []int{units}, f: make([]float32, units)}
	for j := range bias.f {
		v := c.f[0]
		if len(c.f) == units {
			v = c.f[j]
		}
		if beta != 1 {
			v *= beta
		}
		bias.f[j] = v
	}
	return bias, nil
}

// importMatMul turns x·W, x a vector or an image transposed to NHWC (see
// matMulPixels), into a Dense without bias; an Add right after it gives it
// one.
func importMatMul(b *onnxBuilder, n *onnxpb.NodeProto) error {
	if _, err := attrs(n); err != nil {
		return err
	}
	x, err := b.computed(n)
	if err != nil {
		return err
	}
	if x.nhwc {
		return b.matMulPixels(n, x)
	}
	if !x.vector() {
		return nodeErr(n, "input of shape %v per sample, want a vector (flatten it first) or an image transposed to NHWC", x.shape)
	}
	w, err := b.weight(n, 1, false, "weights", 2)
	if err != nil {
		return err
	}
	if w.dims[0] != x.shape[0] {
		return nodeErr(n, "weights of shape %v for a vector of %d values", w.dims, x.shape[0])
	}
	kernel := w
	if x.order != nil {
		units := w.dims[1]
		kernel = &onnxConst{dims: w.dims, f: make([]float32, len(w.f))}
		for i, row := range x.order {
			copy(kernel.f[row*units:(row+1)*units], w.f[i*units:(i+1)*units])
		}
	}
	l := &nn.Dense{Units: w.dims[1], NoBias: true}
	nd := b.add(n, l, x, kernel)
	return b.output(n, &onnxValue{node: nd, shape: []int{w.dims[1]}, fold: l, dense: true})
}

// addBias gives the Dense of a MatMul, x.fold, the bias c.
func (b *onnxBuilder) addBias(n *onnxpb.NodeProto, x *onnxValue, c *onnxConst) error {
	if err := pixelBias(n, x, c); err != nil {
		return err
	}
	bias, err := b.bias(n, c, x.shape[0], 1)
	if err != nil {
		return err
	}
	x.fold.(*nn.Dense).NoBias = false
	b.weights[x.fold] = append(b.weights[x.fold], bias)
	v := x.after(x.node)
	v.fold = x.fold
	return b.output(n, v)
}

// importFlatten turns Flatten (axis 1) into convnet's Flatten.
func importFlatten(b *onnxBuilder, n *onnxpb.NodeProto) error {
	x, err := b.computed(n)
	if err != nil {
		return err
	}
	a, err := attrs(n, "axis")
	if err != nil {
		return err
	}
	if axis := a.int("axis", 1); axis != 1 && axis != -len(x.shape) || a.err != nil {
		if a.err != nil {
			return a.err
		}
		return nodeErr(n, "attribute axis = %d: only 1 (keep the batch axis) is supported", axis)
	}
	return b.flatten(n, x)
}

// flatten returns x flattened by node n (Flatten, or Reshape to [N,
// features]). ONNX flattens an NCHW image channel-first, convnet
// channel-last: the vector remembers the order so that the next Dense or
// BatchNormalization reorders its weights.
func (b *onnxBuilder) flatten(n *onnxpb.NodeProto, x *onnxValue) error {
	size := boundedSize(x.shape)
	if x.vector() {
		v := b.same(n, x)
		v.shape, v.flat = []int{size}, false
		return b.output(n, v)
	}
	v := &onnxValue{shape: []int{size}}
	if !x.nhwc && x.shape[0] > 1 && x.shape[1]*x.shape[2] > 1 {
		c, h, w := x.shape[0], x.shape[1], x.shape[2]
		var err error
		if v.order, err = b.newOrder(n, size); err != nil {
			return err
		}
		for ch := range c {
			for y := range h {
				for xx := range w {
					v.order[(ch*h+y)*w+xx] = (y*w+xx)*c + ch
				}
			}
		}
	}
	v.node = b.add(n, &nn.Flatten{}, x)
	return b.output(n, v)
}

// importTranspose accepts the NCHW to NHWC transpose, which makes ONNX
// flatten in convnet's order and read the channels as the last axis, and
// the transpose back.
func importTranspose(b *onnxBuilder, n *onnxpb.NodeProto) error {
	a, err := attrs(n, "perm")
	if err != nil {
		return err
	}
	x, err := b.computed(n)
	if err != nil {
		return err
	}
	perm := a.ints("perm")
	if a.err != nil {
		return a.err
	}
	if x.grouping != 0 {
		return b.shuffleTranspose(n, x, perm)
	}
	v := b.same(n, x)
	v.nhwc = false
	switch {
	case x.vector() && slices.Equal(perm, []int{0, 1}):
	case len(x.shape) == 3 && !x.nhwc && slices.Equal(perm, []int{0, 2, 3, 1}):
		v.nhwc = true // a flat [C 1 1] stays the vector it is in convnet
	case x.nhwc && slices.Equal(perm, []int{0, 3, 1, 2}):
	default:
		return nodeErr(n, "attribute perm = %v on a tensor of shape [N %v]: only NCHW to NHWC and back are supported", perm, x.shape)
	}
	return b.output(n, v)
}

// newOrder returns the order of a vector of size features, charged to what
// the orders may hold.
func (b *onnxBuilder) newOrder(n *onnxpb.NodeProto, size int) ([]int, error) {
	if size > b.orders {
		return nil, nodeErr(n, "reorders %d features: more than the file, of which each needs a weight, justifies", size)
	}
	b.orders -= size
	return make([]int, size), nil
}

// importClip turns a Clip between 0 and a positive maximum (PyTorch's
// ReLU6 and Hardtanh(0, m)) into a ReLU with that MaxValue, and a Clip from
// 0 without a maximum into a ReLU; a Clip from 0 to 6 that alone reads the
// output of a layer without an activation becomes that layer's relu6.
func importClip(b *onnxBuilder, n *onnxpb.NodeProto) error {
	a, err := attrs(n, "min", "max")
	if err != nil {
		return err
	}
	x, err := b.computed(n)
	if err != nil {
		return err
	}
	lo, hi := a.float("min", float32(math.Inf(-1))), a.float("max", float32(math.Inf(1)))
	if a.err != nil {
		return a.err
	}
	if b.opset >= 11 {
		// min and max are inputs.
		for i, v := range []*float32{&lo, &hi} {
			c, err := b.constant(n, i+1, true)
			if err != nil {
				return err
			}
			if c != nil {
				if len(c.f) != 1 {
					return nodeErr(n, "input %d: want one float value", i+2)
				}
				*v = c.f[0]
			}
		}
	}
	if lo != 0 || !(hi > 0) {
		return nodeErr(n, "clips to [%v, %v]: convnet clips from 0 to a positive maximum or none (a ReLU, ReLU6)", lo, hi)
	}
	if hi == 6 && b.soleReader(n.GetInput()[0]) && setActivation(x.fold, "relu6") {
		return b.output(n, x.after(x.node).nonNegative(true))
	}
	l := &nn.ReLU{}
	if !math.IsInf(float64(hi), 1) && float64(hi) < math.MaxFloat32 {
		l.MaxValue = decimal(hi)
	}
	return b.output(n, x.after(b.add(n, l, x)).nonNegative(true))
}

// near reports whether an attribute v is c rounded to float32, give or take
// a few units in the last place.
func near(v float32, c float64) bool { return math.Abs(float64(v)-c) <= 1e-6*math.Abs(c) }
