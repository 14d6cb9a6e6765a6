package nn

import (
	"math/rand/v2"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// Conv2D is a 2-D convolution over NHWC images (Keras Conv2D):
//
//	y[n,oy,ox,f] = act(b[f] + Σ_{ky,kx,c} x[n, oy*sh-pt+ky, ox*sw-pl+kx, c] · kernel[ky,kx,c,f])
//
// with cells outside the image read as 0. Input [N,H,W,C], output
// [N,OH,OW,Filters], parameters "kernel" [kh,kw,C,Filters] (HWIO) and "bias"
// [Filters]. The convolution and its gradients are [kernels.Conv]'s; the
// layer adds the bias and the activation to each block of output rows while
// it is in cache, and takes their derivatives the same way.
//
// With Groups g > 1 (Keras's groups, ResNeXt's and RegNet's grouped
// convolutions), the channels and the filters are cut into g groups and
// filter f reads only the C/g channels of its group: the kernel is
// [kh,kw,C/g,Filters], and the sum above runs over the channels
// c = (f / (Filters/g))·(C/g) + c' for c' < C/g, with kernel[ky,kx,c',f].
//
// With DilationRate d other than 1, 1 (Keras's dilation_rate: an atrous
// convolution), the taps are d[0] rows and d[1] columns apart: the input
// cell above reads x[n, oy-pt+ky·d[0], ox-pl+kx·d[1], c], the kernel covers
// (kh-1)·d[0]+1 rows and (kw-1)·d[1]+1 columns (the sizes padding "same"
// and "valid" count with), and the strides must be 1, as in Keras.
type Conv2D struct {
	Filters    int
	KernelSize [2]int // height, width
	Strides    [2]int // zero means 1, 1
	Padding    string // "valid" (default) or "same"
	Groups     int    // zero means 1; must divide the channels and Filters
	// DilationRate is Keras's dilation_rate: zero means 1, 1.
	DilationRate [2]int
	NoBias       bool
	Activation   string // one of ActivationNames; "" is linear
	KernelInit   string // one of InitializerNames; "" is glorot_uniform

	KernelRegularizer, BiasRegularizer Regularizer // Keras's kernel_regularizer and bias_regularizer
	KernelConstraint, BiasConstraint   Constraint  // Keras's kernel_constraint and bias_constraint

	named
	buffers
	act        activation
	conv       *kernels.Conv
	in, out    []int
	kernel     *Param
	bias       *Param
	x, y       *tensor.Tensor
	z          *tensor.Tensor // y before the activation, for those that need it; nil after Predict
	zs         *tensor.Tensor // z's buffer
	dy, dz, dx *tensor.Tensor // dy is the caller's, during Backward
	skipDx     bool
	skipDw     bool // see SkipParamGradients
	keep       bool // see KeepPacked
	bf16       bool // see UseBF16
	activateFn func(lo, hi int)
	gradFn     func(lo, hi int, sum []float32)
	groups     *convGroups      // for Groups > 1
	dilated    *convDilated     // for a DilationRate other than 1, 1
	depthwise  *DepthwiseConv2D // for Groups equal to the input's channels; see planDepthwise
	padded     struct {         // for ForwardPadded
		conv *kernels.Conv
		in   []int
	}
}

func (l *Conv2D) Type() string { return "Conv2D" }

func (l *Conv2D) Build(in []int, rng *rand.Rand) ([]int, error) {
	if l.Filters < 1 {
		return nil, errorf(l, "filters = %d: must be positive", l.Filters)
	}
	d := orOne(l.DilationRate)
	g, err := dilatedGeom(l, in, l.KernelSize, orOne(l.Strides), d, l.Padding)
	if err != nil {
		return nil, err
	}
	act, err := parseActivation(l, l.Activation)
	if err != nil {
		return nil, err
	}
	if err := checkInitializer(l, l.KernelInit); err != nil {
		return nil, err
	}
	if err := checkRegularizers(l, "kernel_regularizer", l.KernelRegularizer, l.BiasRegularizer); err != nil {
		return nil, err
	}
	if err := checkConstraints(l, "kernel_constraint", 4, l.KernelConstraint, l.BiasConstraint); err != nil {
		return nil, err
	}
	groups := max(l.Groups, 1)
	if l.Groups < 0 || g.C%groups != 0 || l.Filters%groups != 0 {
		return nil, errorf(l, "groups = %d: must divide the input's %d channels and the %d filters", l.Groups, g.C, l.Filters)
	}
	if err := checkSize(l, "kernel", g.KH, g.KW, g.C/groups, l.Filters); err != nil {
		return nil, err
	}
	if err := checkSize(l, "output", g.OH, g.OW, l.Filters); err != nil {
		return nil, err
	}
	if groups > 1 && groups != g.C && d != [2]int{1, 1} {
		return nil, errorf(l, "groups = %d with dilation_rate %s: convnet dilates only convolutions of one group or of one group per input channel", groups, dims(d[0], d[1]))
	}
	l.act, l.groups, l.dilated, l.conv, l.depthwise = act, nil, nil, nil, nil
	switch {
	case groups > 1 && groups == g.C:
		if err := l.planDepthwise(in); err != nil {
			return nil, err
		}
		g.C = 1
	case groups > 1:
		g.C /= groups
		l.conv, l.groups = kernels.NewConv(g, l.Filters/groups), &convGroups{n: groups}
	case d != [2]int{1, 1}:
		l.dilated = planDilated(g, l.Filters, d)
	default:
		l.conv = kernels.NewConv(g, l.Filters)
	}
	l.in, l.out = append([]int(nil), in...), []int{g.OH, g.OW, l.Filters}
	l.kernel = newParam("kernel", true, g.KH, g.KW, g.C, l.Filters)
	initialize(l.KernelInit, l.kernel.Value.Data, g.ColWidth(), g.KH*g.KW*l.Filters, rng)
	l.bias = nil
	if !l.NoBias {
		l.bias = newParam("bias", true, l.Filters)
	}
	regularize(l.kernel, l.bias, l.KernelRegularizer, l.BiasRegularizer)
	constrain(l.kernel, l.bias, l.KernelConstraint, l.BiasConstraint)
	l.activateFn, l.gradFn = l.activate, l.activationGrad
	l.x, l.y, l.z, l.zs, l.dy, l.dz, l.dx = nil, nil, nil, nil, nil, nil, nil
	l.padded.conv, l.padded.in = nil, nil
	l.UseBF16(l.bf16)
	return append([]int(nil), l.out...), nil
}

// FusePadding plans the convolution of the input less padding, the
// padding added to the layer's own (see [PaddingFuser]).
func (l *Conv2D) FusePadding(padding [2][2]int) bool {
	in := unpadded(l.in, padding)
	if l.conv == nil || in == nil {
		return false
	}
	l.padded.conv = kernels.NewConv(unpaddedGeom(l.conv.Geom(), padding), l.Filters/max(l.Groups, 1))
	l.padded.conv.SetBF16(l.bf16)
	l.padded.in = in
	return true
}

// UseBF16 makes the convolution multiply in bfloat16; see [BF16User].
// Depthwise convolutions stay float32, and so do the forward pass over an
// odd number of input channels (it pairs the channels) and the kernel
// gradient of kernel rows of fewer than 16 values (KernelSize[1] times the
// input's channels), see internal/kernels.Conv.SetBF16.
func (l *Conv2D) UseBF16(on bool) {
	l.bf16 = on
	for _, c := range l.convs() {
		c.SetBF16(on)
	}
}

// ForwardPadded runs Forward in inference on x, the input less the padding
// given to FusePadding.
func (l *Conv2D) ForwardPadded(x *tensor.Tensor) *tensor.Tensor {
	if l.padded.conv == nil {
		panic(errorf(l, "ForwardPadded before FusePadding"))
	}
	defer func() { l.x = nil }()
	return l.forward(l.padded.conv, l.padded.in, x, false, false)
}

func (l *Conv2D) OutputShape() []int { return l.out }

func (l *Conv2D) Params() []*Param { return weights(l.kernel, l.bias) }

// Cost counts the kernel and bias, and one multiply-add per kernel weight
// and output cell.
func (l *Conv2D) Cost(in []int) Cost {
	if len(in) != 3 {
		return Cost{}
	}
	return convCost(in, l.KernelSize, orOne(l.Strides), orOne(l.DilationRate), l.Padding, mulSat(int64(in[2]/max(l.Groups, 1)), int64(l.Filters)), l.Filters, l.NoBias)
}

func (l *Conv2D) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	return l.forward(l.conv, l.in, x, training, true)
}

// Predict is Forward in inference, keeping nothing for Backward (see
// [Predictor]).
func (l *Conv2D) Predict(x *tensor.Tensor) *tensor.Tensor {
	defer func() { l.x = nil }()
	return l.forward(l.conv, l.in, x, false, false)
}

// forward is Forward with the convolution conv of inputs of shape in (the
// layer's, or those of ForwardPadded, which leaves the layer's fields as
// they are: a copy of the model may read them meanwhile, see
// SharePacked); keep says whether a Backward may follow.
func (l *Conv2D) forward(conv *kernels.Conv, in []int, x *tensor.Tensor, training, keep bool) *tensor.Tensor {
	if l.depthwise != nil {
		return l.forwardDepthwise(x, training, keep)
	}
	checkInput(l, "Forward", x, in)
	n := x.Shape[0]
	l.x = x
	l.y = resize(l.y, n, l.out[0], l.out[1], l.out[2])
	l.z = l.act.input(&l.zs, keep, n, l.out[0], l.out[1], l.out[2])
	if training && l.padded.conv != nil {
		l.padded.conv.KeepPacked(false) // the weights are about to change
	}
	if l.groups != nil {
		l.forwardGroups(conv, n)
		return l.y
	}
	if l.dilated != nil {
		l.forwardDilated(n, training)
		return l.y
	}
	// The bias and a ReLU are added as each tile is written; any other
	// activation is applied to each block of rows while it is in cache.
	var e kernels.ConvEpilogue
	if l.bias != nil {
		e.Bias = l.bias.Value.Data
	}
	finish := l.activateFn
	switch {
	case l.act.kind == actReLU:
		e.ReLU, finish = true, nil
	case l.act.identity():
		finish = nil
	}
	conv.KeepPacked(l.keep && !training)
	conv.Forward(pre(l.y, l.z), x.Data, l.kernel.Value.Data, n, e, finish)
	return l.y
}

// KeepPacked keeps the kernel packed for the convolution tiles from one
// prediction to the next; see [PackKeeper].
// A grouped convolution packs each group's kernel at every call.
func (l *Conv2D) KeepPacked(keep bool) {
	l.keep = keep
	for _, c := range l.convs() {
		c.KeepPacked(false)
	}
}

// SharePacked keeps the packed kernel in src's; see [PackKeeper].
func (l *Conv2D) SharePacked(src Layer) {
	s, ok := src.(*Conv2D)
	if ok && l.depthwise != nil && s.depthwise != nil {
		return // nothing packed
	}
	var mine, theirs []*kernels.Conv
	if ok {
		mine, theirs = l.convs(), s.convs()
	}
	if !ok || len(mine) == 0 || len(mine) != len(theirs) || (s.padded.conv == nil) != (l.padded.conv == nil) {
		panic(errorf(l, "SharePacked: %s is not a Conv2D built as this one", src.Name()))
	}
	for i, c := range mine {
		c.SharePacked(theirs[i])
	}
}

// activate applies the activation to the output cells [lo, hi) of y, in
// place or from z.
func (l *Conv2D) activate(lo, hi int) {
	y := l.y.Data[lo*l.Filters : hi*l.Filters]
	var z []float32
	if l.z != nil {
		z = l.z.Data[lo*l.Filters : hi*l.Filters]
	}
	l.act.apply(y, z, l.Filters)
}

func (l *Conv2D) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	checkKept(l, l.x)
	n := dy.Shape[0]
	var db []float32
	if l.bias != nil && !l.skipDw {
		db = l.bias.Grad.Data
	}
	if l.groups != nil {
		return l.backwardGroups(dy, db)
	}
	if l.dilated != nil {
		return l.backwardDilated(dy, db)
	}
	if l.depthwise != nil {
		l.dx = l.lend().Backward(dy)
		return l.dx
	}
	dz, grad := dy, l.gradFn // dz = dy for a linear layer
	if l.act.identity() {
		grad = nil
	} else {
		l.dy, l.dz = dy, l.temp(l.dz, dy.Shape...)
		dz = l.dz
	}
	if !l.skipDw {
		l.conv.BackwardFilter(l.kernel.Grad.Data, db, l.x.Data, dz.Data, n, grad)
	} else if grad != nil {
		l.act.backward(dz.Data, dy.Data, l.y.Data, data(l.z), l.Filters)
	}
	l.dy = nil
	if l.skipDx {
		return nil
	}
	l.dx = l.grad(l.dx, n, l.in[0], l.in[1], l.in[2])
	l.conv.BackwardData(l.dx.Data, dz.Data, l.kernel.Value.Data, n)
	return l.dx
}

// activationGrad sets the output cells [lo, hi) of dz = dL/dz from dy and
// adds their column sums, the bias gradient, to sum.
func (l *Conv2D) activationGrad(lo, hi int, sum []float32) {
	f := l.Filters
	dz, dy, y := l.dz.Data[lo*f:hi*f], l.dy.Data[lo*f:hi*f], l.y.Data[lo*f:hi*f]
	if l.act.kind == actReLU {
		kernels.ReLUGradSum(dz, dy, y, sum)
		return
	}
	var z []float32
	if l.z != nil {
		z = l.z.Data[lo*f : hi*f]
	}
	l.act.backward(dz, dy, y, z, f)
	kernels.AddColumnSums(sum, dz)
}

// SkipInputGradient makes Backward leave out dL/dx (and return nil) while
// still accumulating the parameter gradients; see [InputGradientSkipper].
func (l *Conv2D) SkipInputGradient(skip bool) { l.skipDx = skip }

// SkipParamGradients makes Backward leave the kernel's and the bias's
// gradients as they are; see [ParamGradientSkipper].
func (l *Conv2D) SkipParamGradients(skip bool) { l.skipDw = skip }

// ReleaseBackward implements [BackwardReleaser]; the convolution's own
// scratch for the gradients goes too.
func (l *Conv2D) ReleaseBackward() {
	l.buffers.ReleaseBackward()
	l.dy = nil
	for _, c := range l.convs() {
		c.ReleaseBackward()
	}
	if l.depthwise != nil {
		l.depthwise.ReleaseBackward()
	}
}

// OmitSoftmax leaves out a softmax activation; see [FinalSoftmax].
func (l *Conv2D) OmitSoftmax(omit bool) bool {
	if l.depthwise != nil {
		l.depthwise.OmitSoftmax(omit)
	}
	return l.act.omitSoftmax(omit)
}

func (l *Conv2D) Config() map[string]any {
	cfg := constraintConfig(regularizerConfig(map[string]any{
		"name":               l.Name(),
		"filters":            l.Filters,
		"kernel_size":        pairValue(l.KernelSize),
		"strides":            pairValue(orOne(l.Strides)),
		"padding":            paddingName(l.Padding),
		"groups":             max(l.Groups, 1),
		"use_bias":           !l.NoBias,
		"activation":         activationName(l.Activation),
		"kernel_initializer": initializerName(l.KernelInit),
	}, "kernel_regularizer", l.KernelRegularizer, l.BiasRegularizer), "kernel_constraint", l.KernelConstraint, l.BiasConstraint)
	if d := orOne(l.DilationRate); d != [2]int{1, 1} {
		cfg["dilation_rate"] = pairValue(d)
	}
	return cfg
}

func conv2DFromConfig(f *fields) *Conv2D {
	return &Conv2D{
		Filters:    f.int("filters"),
		KernelSize: f.pair("kernel_size"),
		Strides:    f.positive("strides"),
		Padding:    f.str("padding"),
		Groups:     f.positiveInt("groups"),
		NoBias:     !f.bool("use_bias", true),

		DilationRate: f.positive("dilation_rate"),
		Activation:   f.str("activation"),
		KernelInit:   f.initializer("kernel_initializer"),

		KernelRegularizer: f.regularizer("kernel_regularizer"),
		BiasRegularizer:   f.regularizer("bias_regularizer"),
		KernelConstraint:  f.constraint("kernel_constraint"),
		BiasConstraint:    f.constraint("bias_constraint"),
	}
}
