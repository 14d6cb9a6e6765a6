package nn

import (
	"math/rand/v2"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// Dense is a fully connected layer (Keras Dense):
//
//	y[n,j] = act(b[j] + Σ_i x[n,i] · kernel[i,j])
//
// Input [N,in], output [N,Units], parameters "kernel" [in,Units] and "bias"
// [Units]. Dense needs a flat input: on an image-shaped input Build returns
// an error asking for a Flatten layer before it (Keras would instead apply
// the kernel along the last axis; we refuse that silent reading).
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
	kernel  *Param
	bias    *Param
	x, y    *tensor.Tensor
	z       *tensor.Tensor // y before the activation, for those that need it
	dz, dx  *tensor.Tensor
	skipDx  bool
	skipDw  bool // see SkipParamGradients
}

func (l *Dense) Type() string { return "Dense" }

func (l *Dense) Build(in []int, rng *rand.Rand) ([]int, error) {
	if l.Units < 1 {
		return nil, errorf(l, "units = %d: must be positive", l.Units)
	}
	if len(in) != 1 {
		return nil, errorf(l, "input shape %v has rank %d: Dense needs a flat input, add a Flatten layer before it", in, len(in))
	}
	if in[0] < 1 {
		return nil, errorf(l, "input shape %v: must be positive", in)
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
	if err := checkConstraints(l, "kernel_constraint", 2, l.KernelConstraint, l.BiasConstraint); err != nil {
		return nil, err
	}
	if err := checkSize(l, "kernel", in[0], l.Units); err != nil {
		return nil, err
	}
	l.act = act
	l.in, l.out = []int{in[0]}, []int{l.Units}
	l.kernel = newParam("kernel", true, in[0], l.Units)
	initialize(l.KernelInit, l.kernel.Value.Data, in[0], l.Units, rng)
	l.bias = nil
	if !l.NoBias {
		l.bias = newParam("bias", true, l.Units)
	}
	regularize(l.kernel, l.bias, l.KernelRegularizer, l.BiasRegularizer)
	constrain(l.kernel, l.bias, l.KernelConstraint, l.BiasConstraint)
	l.x, l.y, l.z, l.dz, l.dx = nil, nil, nil, nil, nil
	return []int{l.Units}, nil
}

func (l *Dense) OutputShape() []int { return l.out }

func (l *Dense) Params() []*Param { return weights(l.kernel, l.bias) }

// Cost counts the kernel and bias, and one multiply-add per kernel weight.
func (l *Dense) Cost(in []int) Cost {
	if len(in) != 1 {
		return Cost{}
	}
	w := mulSat(int64(in[0]), int64(l.Units))
	return Cost{Params: addSat(w, biasSize(l.NoBias, l.Units)), MACs: w}
}

func (l *Dense) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	n := x.Shape[0]
	l.x = x
	l.y = resize(l.y, n, l.Units)
	l.z = l.act.input(&l.z, true, n, l.Units)
	kernels.Gemm(false, false, n, l.Units, l.in[0], 1, x.Data, l.in[0], l.kernel.Value.Data, l.Units, 0, pre(l.y, l.z), l.Units)
	biasActivate(l.act, l.y.Data, data(l.z), l.bias, l.Units)
	return l.y
}

// Backward sets dz = act'(dy), adds dW = xᵀ·dz and db = Σ_n dz, and returns
// dx = dz·Wᵀ.
func (l *Dense) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	n, in, u := dy.Shape[0], l.in[0], l.Units
	l.dz = l.temp(l.dz, dy.Shape...)
	dz := l.dz.Data
	l.act.backward(dz, dy.Data, l.y.Data, data(l.z), u)
	if !l.skipDw {
		kernels.Gemm(true, false, in, u, n, 1, l.x.Data, in, dz, u, 1, l.kernel.Grad.Data, u)
		if l.bias != nil {
			kernels.AddColumnSums(l.bias.Grad.Data, dz)
		}
	}
	if l.skipDx {
		return nil
	}
	l.dx = l.grad(l.dx, n, in)
	kernels.Gemm(false, true, n, in, u, 1, dz, u, l.kernel.Value.Data, u, 0, l.dx.Data, in)
	return l.dx
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
