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

	named
	act        activation
	in, out    []int
	kernel     *Param
	bias       *Param
	x          *tensor.Tensor
	z, y       *tensor.Tensor // z is the pre-activation (y itself unless softmax)
	zbuf       *tensor.Tensor
	dz, dx     *tensor.Tensor
	softmaxOut bool
	skipDx     bool
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
	if err := checkSize(l, "kernel", in[0], l.Units); err != nil {
		return nil, err
	}
	l.act, l.softmaxOut = act, act.kind == actSoftmax
	l.in, l.out = []int{in[0]}, []int{l.Units}
	l.kernel = newParam("kernel", true, in[0], l.Units)
	initialize(l.KernelInit, l.kernel.Value.Data, in[0], l.Units, rng)
	l.bias = nil
	if !l.NoBias {
		l.bias = newParam("bias", true, l.Units)
	}
	l.zbuf, l.x, l.y, l.z, l.dz, l.dx = nil, nil, nil, nil, nil, nil
	return []int{l.Units}, nil
}

func (l *Dense) OutputShape() []int { return l.out }

func (l *Dense) Params() []*Param {
	if l.bias == nil {
		return []*Param{l.kernel}
	}
	return []*Param{l.kernel, l.bias}
}

func (l *Dense) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	n := x.Shape[0]
	l.x = x
	l.y = resize(l.y, n, l.Units)
	l.z = l.y
	if l.softmaxOut {
		l.zbuf = resize(l.zbuf, n, l.Units)
		l.z = l.zbuf
	}
	kernels.Gemm(false, false, n, l.Units, l.in[0], 1, x.Data, l.in[0], l.kernel.Value.Data, l.Units, 0, l.z.Data, l.Units)
	biasActivate(l.act, l.y.Data, l.z.Data, l.bias, l.Units)
	return l.y
}

func (l *Dense) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	l.dz = resize(l.dz, dy.Shape...)
	l.act.backward(l.dz.Data, dy.Data, l.y.Data, l.Units)
	return l.backwardFrom(l.dz)
}

// Logits returns the pre-activation output of the last Forward when the
// activation is softmax (nil otherwise).
func (l *Dense) Logits() *tensor.Tensor {
	if !l.softmaxOut {
		return nil
	}
	return l.z
}

// BackwardLogits is Backward for a softmax Dense given dL/dlogits.
func (l *Dense) BackwardLogits(dz *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dz, l.y)
	return l.backwardFrom(dz)
}

func (l *Dense) endsInSoftmax() bool { return l.softmaxOut }

// SkipInputGradient makes Backward leave out dL/dx (and return nil) while
// still accumulating the parameter gradients; see [InputGradientSkipper].
func (l *Dense) SkipInputGradient(skip bool) { l.skipDx = skip }

// backwardFrom adds dW = xᵀ·dz and db = Σ_n dz, and returns dx = dz·Wᵀ.
func (l *Dense) backwardFrom(dz *tensor.Tensor) *tensor.Tensor {
	n, in, u := dz.Shape[0], l.in[0], l.Units
	kernels.Gemm(true, false, in, u, n, 1, l.x.Data, in, dz.Data, u, 1, l.kernel.Grad.Data, u)
	if l.bias != nil {
		db := l.bias.Grad.Data
		for r := 0; r < n*u; r += u {
			kernels.AddTo(db, dz.Data[r:r+u])
		}
	}
	if l.skipDx {
		return nil
	}
	l.dx = resize(l.dx, n, in)
	kernels.Gemm(false, true, n, in, u, 1, dz.Data, u, l.kernel.Value.Data, u, 0, l.dx.Data, in)
	return l.dx
}

func (l *Dense) Config() map[string]any {
	return map[string]any{
		"name":               l.Name(),
		"units":              l.Units,
		"use_bias":           !l.NoBias,
		"activation":         activationName(l.Activation),
		"kernel_initializer": initializerName(l.KernelInit),
	}
}

func denseFromConfig(f *fields) *Dense {
	return &Dense{
		Units:      f.int("units"),
		NoBias:     !f.bool("use_bias", true),
		Activation: f.str("activation"),
		KernelInit: f.str("kernel_initializer"),
	}
}
