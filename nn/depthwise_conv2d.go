package nn

import (
	"math/rand/v2"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// DepthwiseConv2D convolves each input channel with kernels of its own
// (Keras DepthwiseConv2D): input channel c gives the DepthMultiplier
// output channels c·M .. c·M+M-1,
//
//	y[n,oy,ox,c·M+m] = act(b[c·M+m] + Σ_{ky,kx} x[n, oy*sh-pt+ky, ox*sw-pl+kx, c] · kernel[ky,kx,c,m])
//
// with cells outside the image read as 0. Input [N,H,W,C], output
// [N,OH,OW,C·M], parameters "depthwise_kernel" [kh,kw,C,M] and "bias"
// [C·M]. Channels do not mix: it is the first half of a depthwise
// separable convolution (MobileNet's), a 1x1 Conv2D being the second, and
// what ONNX and PyTorch write as a convolution with one group per input
// channel.
//
// With DilationRate d other than 1, 1 (Keras's dilation_rate, as in
// DeepLab's atrous separable convolutions), the taps are d[0] rows and d[1]
// columns apart, x[n, oy-pt+ky·d[0], ox-pl+kx·d[1], c], as for [Conv2D]:
// the padding and output sizes count with the kernel's span, and the
// strides must be 1.
type DepthwiseConv2D struct {
	KernelSize      [2]int // height, width
	Strides         [2]int // zero means 1, 1
	Padding         string // "valid" (default) or "same"
	DepthMultiplier int    // output channels per input channel; zero means 1
	DilationRate    [2]int // Keras's dilation_rate: zero means 1, 1
	NoBias          bool
	Activation      string // one of ActivationNames; "" is linear
	KernelInit      string // one of InitializerNames; "" is glorot_uniform

	KernelRegularizer, BiasRegularizer Regularizer // Keras's depthwise_regularizer and bias_regularizer
	KernelConstraint, BiasConstraint   Constraint  // Keras's depthwise_constraint and bias_constraint

	named
	buffers
	g         kernels.ConvGeom
	m, f      int       // depth multiplier and output channels C·M
	inner     [2]int    // the output columns [lo, hi) whose windows' columns lie inside the image
	zeros     []float32 // C·M zeros: the bias of a layer without one
	flip      []float32 // the kernel turned by 180°, for gatherRow
	act       activation
	in, out   []int
	kernel    *Param
	bias      *Param
	x, y      *tensor.Tensor
	z         *tensor.Tensor // y before the activation, for those that need it; nil after Predict
	zs        *tensor.Tensor // z's buffer
	dz, dx    *tensor.Tensor
	skipDx    bool
	skipDw    bool // see SkipParamGradients
	forwardFn func(worker, i int)
	dataFn    func(worker, i int)
	filterFn  func(worker, i int)
	gatherFn  func(worker, i int)
	dzRun     *tensor.Tensor // dL/dz during Backward
	d         [2]int         // the taps' distance: DilationRate, or 1, 1
	padded    struct {       // for ForwardPadded
		g     kernels.ConvGeom
		inner [2]int
		in    []int
	}
}

func (l *DepthwiseConv2D) Type() string { return "DepthwiseConv2D" }

func (l *DepthwiseConv2D) multiplier() int {
	if l.DepthMultiplier == 0 {
		return 1
	}
	return l.DepthMultiplier
}

func (l *DepthwiseConv2D) Build(in []int, rng *rand.Rand) ([]int, error) {
	m := l.multiplier()
	if m < 1 {
		return nil, errorf(l, "depth_multiplier = %d: must be positive", l.DepthMultiplier)
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
	if err := checkRegularizers(l, "depthwise_regularizer", l.KernelRegularizer, l.BiasRegularizer); err != nil {
		return nil, err
	}
	if err := checkConstraints(l, "depthwise_constraint", 4, l.KernelConstraint, l.BiasConstraint); err != nil {
		return nil, err
	}
	if err := checkSize(l, "kernel", g.KH, g.KW, g.C, m); err != nil {
		return nil, err
	}
	if err := checkSize(l, "output", g.OH, g.OW, g.C, m); err != nil {
		return nil, err
	}
	l.g, l.m, l.f, l.d, l.act = g, m, g.C*m, d, act
	l.inner = innerColumns(&g, d[1])
	l.padded.in = nil
	l.in, l.out = append([]int(nil), in...), []int{g.OH, g.OW, g.C * m}
	l.kernel = newParam("depthwise_kernel", true, g.KH, g.KW, g.C, m)
	// Keras's fans for a [kh,kw,C,M] kernel: kh·kw·C in, kh·kw·M out.
	initialize(l.KernelInit, l.kernel.Value.Data, g.KH*g.KW*g.C, g.KH*g.KW*m, rng)
	l.bias, l.zeros, l.flip = nil, make([]float32, l.f), nil
	if !l.NoBias {
		l.bias = newParam("bias", true, l.f)
	}
	regularize(l.kernel, l.bias, l.KernelRegularizer, l.BiasRegularizer)
	constrain(l.kernel, l.bias, l.KernelConstraint, l.BiasConstraint)
	if l.gather() {
		l.flip = make([]float32, len(l.kernel.Value.Data))
	}
	l.forwardFn, l.dataFn, l.filterFn, l.gatherFn = l.forwardRow, l.dataImage, l.filterBlock, l.gatherRow
	l.x, l.y, l.z, l.zs, l.dz, l.dx = nil, nil, nil, nil, nil, nil
	return append([]int(nil), l.out...), nil
}

// innerColumns returns the output columns [lo, hi) whose windows' columns,
// KW taps d apart, lie inside the image.
func innerColumns(g *kernels.ConvGeom, d int) [2]int {
	lo := (g.PadLeft + g.SW - 1) / g.SW
	return [2]int{lo, max(lo, min(g.OW, (g.W-(g.KW-1)*d-1+g.PadLeft)/g.SW+1))}
}

// FusePadding prepares the geometry of the input less padding, the padding
// added to the layer's own (see [PaddingFuser]).
func (l *DepthwiseConv2D) FusePadding(padding [2][2]int) bool {
	in := unpadded(l.in, padding)
	if in == nil {
		return false
	}
	l.padded.g = unpaddedGeom(l.g, padding)
	l.padded.inner, l.padded.in = innerColumns(&l.padded.g, l.d[1]), in
	return true
}

// ForwardPadded runs Forward in inference on x, the input less the padding
// given to FusePadding.
func (l *DepthwiseConv2D) ForwardPadded(x *tensor.Tensor) *tensor.Tensor {
	if l.padded.in == nil {
		panic(errorf(l, "ForwardPadded before FusePadding"))
	}
	g, inner, in := l.g, l.inner, l.in
	l.g, l.inner, l.in = l.padded.g, l.padded.inner, l.padded.in
	defer func() { l.g, l.inner, l.in, l.x = g, inner, in, nil }()
	return l.forward(x, false)
}

func (l *DepthwiseConv2D) OutputShape() []int { return l.out }

func (l *DepthwiseConv2D) Params() []*Param { return weights(l.kernel, l.bias) }

// Cost counts the kernel and bias, and one multiply-add per kernel weight
// and output cell.
func (l *DepthwiseConv2D) Cost(in []int) Cost {
	if len(in) != 3 {
		return Cost{}
	}
	m := l.multiplier()
	return convCost(in, l.KernelSize, orOne(l.Strides), orOne(l.DilationRate), l.Padding, mulSat(int64(in[2]), int64(m)), in[2]*m, l.NoBias)
}

// taps returns the kernel rows [ky0, ky1) and columns [kx0, kx1) of output
// cell (oy, ox) that fall inside the image, and the input cell of tap (0, 0):
// tap (ky, kx) reads the cell (iy + ky·d[0], ix + kx·d[1]).
func (l *DepthwiseConv2D) taps(oy, ox int) (ky0, ky1, kx0, kx1, iy, ix int) {
	g := &l.g
	iy, ix = oy*g.SH-g.PadTop, ox*g.SW-g.PadLeft
	ky0, ky1 = inside(iy, l.d[0], g.KH, g.H)
	kx0, kx1 = inside(ix, l.d[1], g.KW, g.W)
	return ky0, ky1, kx0, kx1, iy, ix
}

// inside returns the taps [k0, k1) of a window of k taps d apart, the first
// at cell at, whose cells lie in [0, n); none if k1 <= k0.
func inside(at, d, k, n int) (k0, k1 int) {
	if at < 0 {
		k0 = (-at + d - 1) / d
	}
	if at < n {
		k1 = min(k, (n-1-at)/d+1)
	}
	return k0, k1
}

func (l *DepthwiseConv2D) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	return l.forward(x, true)
}

// Predict is Forward in inference, keeping nothing for Backward (see
// [Predictor]).
func (l *DepthwiseConv2D) Predict(x *tensor.Tensor) *tensor.Tensor {
	defer func() { l.x = nil }()
	return l.forward(x, false)
}

// forward is Forward (the same in training and inference); keep says
// whether a Backward may follow.
func (l *DepthwiseConv2D) forward(x *tensor.Tensor, keep bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	n := x.Shape[0]
	l.x = x
	l.y = resize(l.y, n, l.out[0], l.out[1], l.out[2])
	l.z = l.act.input(&l.zs, keep, n, l.out[0], l.out[1], l.out[2])
	rows := n * l.g.OH
	kernels.ParallelFor(rows, rows, l.forwardFn)
	return l.y
}

// biasOrZeros returns the bias, or C·M zeros for a layer without one.
func (l *DepthwiseConv2D) biasOrZeros() []float32 {
	if l.bias != nil {
		return l.bias.Value.Data
	}
	return l.zeros
}

// forwardRow computes output row r of the batch: row r%OH of image r/OH.
func (l *DepthwiseConv2D) forwardRow(_, r int) {
	g, c, m, f := &l.g, l.g.C, l.m, l.f
	i, oy := r/g.OH, r%g.OH
	x := l.x.Data[i*g.H*g.W*c : (i+1)*g.H*g.W*c]
	y := pre(l.y, l.z)[r*g.OW*f : (r+1)*g.OW*f] // the affine part; see activation.apply
	w, b := l.kernel.Value.Data, l.biasOrZeros()
	if m == 1 {
		l.rowCells(y, x, w, b, oy)
	} else {
		for ox := range g.OW {
			out := y[ox*f : (ox+1)*f]
			copy(out, b)
			ky0, ky1, kx0, kx1, iy, ix := l.taps(oy, ox)
			for ky := ky0; ky < ky1; ky++ {
				for kx := kx0; kx < kx1; kx++ {
					in := x[((iy+ky*l.d[0])*g.W+ix+kx*l.d[1])*c:][:c]
					k := w[(ky*g.KW+kx)*f:][:f]
					for ci, v := range in {
						mulAddScalar(out[ci*m:(ci+1)*m], v, k[ci*m:(ci+1)*m])
					}
				}
			}
		}
	}
	switch {
	case l.z != nil:
		l.act.apply(l.y.Data[r*g.OW*f:(r+1)*g.OW*f], y, f)
	case !l.act.identity():
		l.act.apply(y, nil, f)
	}
}

// cellRuns calls f for the cells of output row oy, with one kernel per
// channel, in runs whose windows read the same taps: the cells whose
// windows' columns lie inside the image as one run, each other cell alone.
// A run is n cells from column ox; their taps inside the image are kh×kw
// (none for windows of padding alone), the first at index kernel of the
// kernel [KH, KW, C] and, for the run's first cell, at index image of the
// image (the taps d apart from there).
func (l *DepthwiseConv2D) cellRuns(oy int, f func(ox, n, kh, kw, kernel, image int)) {
	g, c := &l.g, l.g.C
	lo, hi := l.inner[0], l.inner[1]
	for ox := range g.OW {
		if ox > lo && ox < hi {
			continue
		}
		n := 1
		if ox == lo && hi > lo {
			n = hi - lo
		}
		ky0, ky1, kx0, kx1, iy, ix := l.taps(oy, ox)
		if ky1 <= ky0 || kx1 <= kx0 {
			f(ox, n, 0, 0, 0, 0)
			continue
		}
		f(ox, n, ky1-ky0, kx1-kx0, (ky0*g.KW+kx0)*c, ((iy+ky0*l.d[0])*g.W+ix+kx0*l.d[1])*c)
	}
}

// rowCells computes output row oy of image x into y, with one kernel per
// channel, through kernels.DepthwiseCells, run by run (see cellRuns): the
// padding adds nothing.
func (l *DepthwiseConv2D) rowCells(y, x, w, b []float32, oy int) {
	g, c := &l.g, l.g.C
	l.cellRuns(oy, func(ox, n, kh, kw, kernel, image int) {
		out := y[ox*c : (ox+n)*c]
		if kh == 0 {
			for i := range n {
				copy(out[i*c:], b)
			}
			return
		}
		kernels.DepthwiseCells(out, b, x[image:], w[kernel:], n, c, g.SW*c, l.d[1]*c, kh, kw, l.d[0]*g.W*c, g.KW*c)
	})
}

// mulAdd sets y[i] += a[i]·b[i].
func mulAdd(y, a, b []float32) {
	a, b = a[:len(y)], b[:len(y)]
	for i := range y {
		y[i] += a[i] * b[i]
	}
}

// mulAddScalar sets y[i] += v·b[i].
func mulAddScalar(y []float32, v float32, b []float32) {
	b = b[:len(y)]
	for i := range y {
		y[i] += v * b[i]
	}
}

// SkipInputGradient makes Backward leave out dL/dx (and return nil) while
// still accumulating the parameter gradients; see [InputGradientSkipper].
func (l *DepthwiseConv2D) SkipInputGradient(skip bool) { l.skipDx = skip }

// SkipParamGradients makes Backward leave the kernel's and the bias's
// gradients as they are; see [ParamGradientSkipper].
func (l *DepthwiseConv2D) SkipParamGradients(skip bool) { l.skipDw = skip }

// OmitSoftmax leaves out a softmax activation; see [FinalSoftmax].
func (l *DepthwiseConv2D) OmitSoftmax(omit bool) bool { return l.act.omitSoftmax(omit) }

func (l *DepthwiseConv2D) Config() map[string]any {
	cfg := map[string]any{
		"name":                  l.Name(),
		"kernel_size":           pairValue(l.KernelSize),
		"strides":               pairValue(orOne(l.Strides)),
		"padding":               paddingName(l.Padding),
		"depth_multiplier":      l.multiplier(),
		"use_bias":              !l.NoBias,
		"activation":            activationName(l.Activation),
		"depthwise_initializer": initializerName(l.KernelInit),
	}
	if d := orOne(l.DilationRate); d != [2]int{1, 1} {
		cfg["dilation_rate"] = pairValue(d)
	}
	return constraintConfig(regularizerConfig(cfg, "depthwise_regularizer", l.KernelRegularizer, l.BiasRegularizer), "depthwise_constraint", l.KernelConstraint, l.BiasConstraint)
}

func depthwiseFromConfig(f *fields) *DepthwiseConv2D {
	return &DepthwiseConv2D{
		KernelSize:      f.pair("kernel_size"),
		Strides:         f.positive("strides"),
		Padding:         f.str("padding"),
		DepthMultiplier: f.int("depth_multiplier"),
		DilationRate:    f.positive("dilation_rate"),
		NoBias:          !f.bool("use_bias", true),
		Activation:      f.str("activation"),
		KernelInit:      f.initializer("depthwise_initializer"),

		KernelRegularizer: f.regularizer("depthwise_regularizer"),
		BiasRegularizer:   f.regularizer("bias_regularizer"),
		KernelConstraint:  f.constraint("depthwise_constraint"),
		BiasConstraint:    f.constraint("bias_constraint"),
	}
}
