package nn

import (
	"math/rand/v2"
	"slices"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// Dense is a fully connected layer (Keras Dense):
//
//	y[n,j] = act(b[j] + Σ_i x[n,i] · kernel[i,j])
//
// Input [N,in], output [N,Units], parameters "kernel" [in,Units] and "bias"
// [Units]. On an input of more axes, as in Keras, the kernel applies along
// the last one: an image [N,H,W,C] gives [N,H,W,Units], each pixel's C
// channels weighted as a 1×1 convolution weights them (Keras's ConvNeXt
// writes its pointwise convolutions so). A classifier needs a Flatten (or
// a global pooling) before its Dense layers: on an image, the output would
// be an image of scores.
type Dense struct {
	Units      int
	Activation string // one of ActivationNames; "" is linear
	NoBias     bool
	KernelInit string // one of InitializerNames; "" is glorot_uniform

	KernelRegularizer, BiasRegularizer Regularizer // Keras's kernel_regularizer and bias_regularizer
	KernelConstraint, BiasConstraint   Constraint  // Keras's kernel_constraint and bias_constraint

	named
	buffers
	act     activation
	in, out []int
	shape   []int // the output's shape with the batch, Forward's
	kernel  *Param
	bias    *Param
	x, y    *tensor.Tensor
	z       *tensor.Tensor // y before the activation, for those that need it
	dz, dx  *tensor.Tensor
	dy      *tensor.Tensor // the caller's, during Backward
	skipDx  bool
	skipDw  bool // see SkipParamGradients
	bf16    bool // see UseBF16
	keep    bool // see KeepPacked
	kept    *kernels.BF16Weights
	split   split // the bias and the activation, and its derivative, row by row on the cores
}

func (l *Dense) Type() string { return "Dense" }

func (l *Dense) Build(in []int, rng *rand.Rand) ([]int, error) {
	if l.Units < 1 {
		return nil, errorf(l, "units = %d: must be positive", l.Units)
	}
	if len(in) == 0 || !positive(in) {
		return nil, errorf(l, "input shape %v: want positive sizes", in)
	}
	if err := checkSize(l, "input", in...); err != nil {
		return nil, err
	}
	c := in[len(in)-1]
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
	if err := checkConstraints(l, "kernel_constraint", 2, l.KernelConstraint, l.BiasConstraint); err != nil {
		return nil, err
	}
	if err := checkSize(l, "kernel", c, l.Units); err != nil {
		return nil, err
	}
	l.act = act
	l.in, l.out = slices.Clone(in), append(slices.Clone(in[:len(in)-1]), l.Units)
	if err := checkSize(l, "output", l.out...); err != nil {
		return nil, err
	}
	l.kernel = newParam("kernel", true, c, l.Units)
	initialize(l.KernelInit, l.kernel.Value.Data, c, l.Units, rng)
	l.bias = nil
	if !l.NoBias {
		l.bias = newParam("bias", true, l.Units)
	}
	regularize(l.kernel, l.bias, l.KernelRegularizer, l.BiasRegularizer)
	constrain(l.kernel, l.bias, l.KernelConstraint, l.BiasConstraint)
	l.x, l.y, l.z, l.dz, l.dx = nil, nil, nil, nil, nil
	l.kept = new(kernels.BF16Weights)
	return slices.Clone(l.out), nil
}

// rows returns the rows of the GEMMs for n samples: one per sample, or per
// pixel of an image.
func (l *Dense) rows(n int) int {
	for _, d := range l.in[:len(l.in)-1] {
		n *= d
	}
	return n
}

func (l *Dense) OutputShape() []int { return l.out }

func (l *Dense) Params() []*Param { return weights(l.kernel, l.bias) }

// Cost counts the kernel and bias, and one multiply-add per kernel weight
// and pixel (one for a flat input).
func (l *Dense) Cost(in []int) Cost {
	if len(in) == 0 {
		return Cost{}
	}
	w := mulSat(int64(in[len(in)-1]), int64(l.Units))
	macs := w
	for _, d := range in[:len(in)-1] {
		macs = mulSat(macs, int64(d))
	}
	return Cost{Params: addSat(w, biasSize(l.NoBias, l.Units)), MACs: macs}
}

func (l *Dense) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	n, c := l.rows(x.Shape[0]), l.in[len(l.in)-1]
	l.x = x
	l.shape = batchShape(l.shape, x.Shape[0], l.out)
	l.y = resize(l.y, l.shape...)
	l.z = l.act.input(&l.z, true, l.shape...)
	if training {
		l.kept.Drop() // the weights are about to change
	}
	if l.bf16 && l.keep && !training {
		kernels.GemmBF16Kept(l.kept, false, n, l.Units, c, 1, x.Data, c, l.kernel.Value.Data, l.Units, 0, pre(l.y, l.z), l.Units)
	} else {
		l.gemm(false, false, n, l.Units, c, 1, x.Data, c, l.kernel.Value.Data, l.Units, 0, pre(l.y, l.z), l.Units)
	}
	l.split.rows(l, actForward, n, l.Units)
	return l.y
}

// do adds the bias and applies the activation to the output rows [lo, hi)
// (actForward), or sets those rows of dz from dy through the activation's
// derivative (actBackward).
func (l *Dense) do(phase, lo, hi int) {
	u := l.Units
	lo, hi = lo*u, hi*u
	var z []float32
	if l.z != nil {
		z = l.z.Data[lo:hi]
	}
	if phase == actForward {
		biasActivate(l.act, l.y.Data[lo:hi], z, l.bias, u)
	} else {
		l.act.backward(l.dz.Data[lo:hi], l.dy.Data[lo:hi], l.y.Data[lo:hi], z, u)
	}
}

// Backward sets dz = act'(dy), adds dW = xᵀ·dz and db = Σ_n dz, and returns
// dx = dz·Wᵀ.
func (l *Dense) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	n, in, u := l.rows(dy.Shape[0]), l.in[len(l.in)-1], l.Units
	l.dz = l.temp(l.dz, dy.Shape...)
	dz := l.dz.Data
	l.dy = dy
	l.split.rows(l, actBackward, n, u)
	l.dy = nil
	if !l.skipDw {
		l.gemm(true, false, in, u, n, 1, l.x.Data, in, dz, u, 1, l.kernel.Grad.Data, u)
		if l.bias != nil {
			kernels.AddColumnSums(l.bias.Grad.Data, dz)
		}
	}
	if l.skipDx {
		return nil
	}
	l.dx = l.grad(l.dx, l.x.Shape...)
	l.gemm(false, true, n, in, u, 1, dz, u, l.kernel.Value.Data, u, 0, l.dx.Data, in)
	return l.dx
}

// UseBF16 makes the layer's products multiply in bfloat16; see [BF16User].
func (l *Dense) UseBF16(on bool) { l.bf16 = on }

// gemm is kernels.Gemm, or kernels.GemmBF16 after UseBF16(true).
func (l *Dense) gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if l.bf16 {
		kernels.GemmBF16(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	kernels.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// KeepPacked keeps the kernel converted to bfloat16 from one prediction
// to the next while the layer multiplies in bfloat16 (see [PackKeeper],
// [BF16User]): in float32 the products read the kernel in place.
func (l *Dense) KeepPacked(keep bool) {
	l.keep = keep
	if l.kept != nil {
		l.kept.Drop()
	}
}

// SharePacked keeps the converted kernel in src's; see [PackKeeper].
func (l *Dense) SharePacked(src Layer) {
	s, ok := src.(*Dense)
	if !ok || s.kept == nil || l.kept == nil || !slices.Equal(s.in, l.in) || s.Units != l.Units {
		panic(errorf(l, "SharePacked: %s is not a Dense built as this one", src.Name()))
	}
	l.kept = s.kept
	l.kept.Share()
}

// SkipInputGradient makes Backward leave out dL/dx (and return nil) while
// still accumulating the parameter gradients; see [InputGradientSkipper].
func (l *Dense) SkipInputGradient(skip bool) { l.skipDx = skip }

// SkipParamGradients makes Backward leave the kernel's and the bias's
// gradients as they are; see [ParamGradientSkipper].
func (l *Dense) SkipParamGradients(skip bool) { l.skipDw = skip }

// OmitSoftmax leaves out a softmax activation; see [FinalSoftmax].
func (l *Dense) OmitSoftmax(omit bool) bool { return l.act.omitSoftmax(omit) }

func (l *Dense) Config() map[string]any {
	return constraintConfig(regularizerConfig(map[string]any{
		"name":               l.Name(),
		"units":              l.Units,
		"use_bias":           !l.NoBias,
		"activation":         activationName(l.Activation),
		"kernel_initializer": initializerName(l.KernelInit),
	}, "kernel_regularizer", l.KernelRegularizer, l.BiasRegularizer), "kernel_constraint", l.KernelConstraint, l.BiasConstraint)
}

func denseFromConfig(f *fields) *Dense {
	return &Dense{
		Units:      f.int("units"),
		NoBias:     !f.bool("use_bias", true),
		Activation: f.str("activation"),
		KernelInit: f.initializer("kernel_initializer"),

		KernelRegularizer: f.regularizer("kernel_regularizer"),
		BiasRegularizer:   f.regularizer("bias_regularizer"),
		KernelConstraint:  f.constraint("kernel_constraint"),
		BiasConstraint:    f.constraint("bias_constraint"),
	}
}
