package nn

import (
	"fmt"
	"math"
	"strings"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// ActivationNames lists the activation functions accepted by [Activation],
// [Dense] and [Conv2D] ("" also means "linear").
// "swish" is another name of "silu", "hard_swish" of "hard_silu", as in
// Keras; "relu6" is min(max(x, 0), 6), as in Keras 3 and PyTorch's ReLU6.
var ActivationNames = []string{"linear", "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "sigmoid", "tanh", "softmax", "softplus", "softsign", "silu", "mish", "hard_sigmoid", "hard_silu"}

type actKind uint8

const (
	actLinear actKind = iota
	actReLU
	actLeakyReLU
	actELU
	actSigmoid
	actTanh
	actSoftmax
	actOmittedSoftmax // the identity, standing for a softmax the loss applies
	actClippedReLU    // min(max(x, 0), alpha): ReLU with a max_value
	actSiLU           // x·σ(x) (Keras silu or swish, PyTorch SiLU)
	actHardSigmoid    // min(max(x+3, 0), 6)/6 (Keras 3 hard_sigmoid, PyTorch Hardsigmoid)
	actHardSiLU       // x·hard_sigmoid(x) (Keras hard_silu or hard_swish, PyTorch Hardswish)
	actSELU           // SELUScale·elu(x, SELUAlpha) (Keras and PyTorch selu)
	actGELU           // x·Φ(x), Φ the normal CDF (Keras gelu, PyTorch GELU, both exact)
	actSoftplus       // log(1 + exp(x))
	actSoftsign       // x / (1 + |x|)
	actMish           // x·tanh(softplus(x))
)

// The constants of selu (Klambauer et al. 2017), Keras's and PyTorch's:
// selu(x) = SELUScale·x for x > 0, SELUScale·SELUAlpha·(exp(x) - 1) else.
const (
	SELUAlpha = 1.6732632423543772848170429916717
	SELUScale = 1.0507009873554804934193349852946
)

// activation is an elementwise (or, for softmax, row-wise) function applied
// after a layer's affine part. Most derivatives are computed from the output
// y alone, so a layer only keeps its output for Backward; silu, hard_silu,
// gelu and mish, which are not monotonic, and softplus and softsign, whose
// outputs lose the precision their derivatives need, take theirs from the
// input z, which a layer then keeps too (see needsInput).
type activation struct {
	kind  actKind
	alpha float32 // slope for x < 0 (leaky_relu), scale (elu), the largest value (clipped ReLU)
}

// parseActivation maps a Keras activation name to its function. As in
// Keras, the string "leaky_relu" has slope 0.2 (the LeakyReLU layer's
// default is 0.3) and "elu" has alpha 1.
func parseActivation(l Layer, name string) (activation, error) {
	switch name {
	case "", "linear":
		return activation{kind: actLinear}, nil
	case "relu":
		return activation{kind: actReLU}, nil
	case "relu6":
		return activation{kind: actClippedReLU, alpha: 6}, nil
	case "leaky_relu":
		return activation{kind: actLeakyReLU, alpha: 0.2}, nil
	case "elu":
		return activation{kind: actELU, alpha: 1}, nil
	case "sigmoid":
		return activation{kind: actSigmoid}, nil
	case "tanh":
		return activation{kind: actTanh}, nil
	case "softmax":
		return activation{kind: actSoftmax}, nil
	case "silu", "swish":
		return activation{kind: actSiLU}, nil
	case "hard_sigmoid":
		return activation{kind: actHardSigmoid}, nil
	case "hard_silu", "hard_swish":
		return activation{kind: actHardSiLU}, nil
	case "selu":
		return activation{kind: actSELU}, nil
	case "gelu":
		return activation{kind: actGELU}, nil
	case "softplus":
		return activation{kind: actSoftplus}, nil
	case "softsign":
		return activation{kind: actSoftsign}, nil
	case "mish":
		return activation{kind: actMish}, nil
	}
	return activation{}, errorf(l, "unknown activation %q (valid: %s)", name, strings.Join(ActivationNames, ", "))
}

// omitSoftmax turns a softmax into the identity that stands for it while
// the loss applies it (omit), or back, and reports whether a is a softmax.
func (a *activation) omitSoftmax(omit bool) bool {
	if a.kind != actSoftmax && a.kind != actOmittedSoftmax {
		return false
	}
	a.kind = actSoftmax
	if omit {
		a.kind = actOmittedSoftmax
	}
	return true
}

// identity reports whether a leaves its input unchanged.
func (a activation) identity() bool { return a.kind == actLinear || a.kind == actOmittedSoftmax }

// needsInput reports whether a's derivative is computed from its input z
// rather than its output.
func (a activation) needsInput() bool {
	switch a.kind {
	case actSiLU, actHardSiLU, actGELU, actSoftplus, actSoftsign, actMish:
		return true
	}
	return false
}

// input returns the buffer *t, resized to shape, for the input of an
// activation that needs it (see needsInput), or nil. When no Backward
// follows (keep false) it returns nil too, and the activation runs in
// place: *t stays for the passes that keep it.
func (a activation) input(t **tensor.Tensor, keep bool, shape ...int) *tensor.Tensor {
	if !keep || !a.needsInput() {
		return nil
	}
	*t = resize(*t, shape...)
	return *t
}

// apply sets y = f(z), or y = f(y) in place when z is nil: a layer whose
// activation needs its input (see keepInput) computes its affine part into
// z, which it keeps, and the rest into y.
func (a activation) apply(y, z []float32, cols int) {
	if z == nil {
		z = y
	}
	a.forward(y, z, cols)
}

// biasActivate sets y = act(y + b) in place, row by row (rows of f values;
// bias may be nil), in one pass for ReLU; when z is not nil, the affine part
// is in z: z = z + b, y = act(z) (see apply).
func biasActivate(act activation, y, z []float32, bias *Param, f int) {
	var b []float32
	if bias != nil {
		b = bias.Value.Data
	}
	if act.kind == actReLU {
		kernels.BiasReLU(y, y, b)
		return
	}
	pre := y
	if z != nil {
		pre = z
	}
	if b != nil {
		kernels.AddBias(pre, b)
	}
	if !act.identity() {
		act.apply(y, z, f)
	}
}

// pre returns where a layer computes its affine part: z when it keeps it
// for its activation, else its output y.
func pre(y, z *tensor.Tensor) []float32 {
	if z != nil {
		return z.Data
	}
	return y.Data
}

// activationName is the Keras name of a, for configs.
func activationName(name string) string {
	if name == "" {
		return "linear"
	}
	return name
}

// forward sets y = f(z) for rows of length cols (softmax works per row).
// y may alias z.
func (a activation) forward(y, z []float32, cols int) {
	y = y[:len(z)]
	switch a.kind {
	case actLinear, actOmittedSoftmax:
		copy(y, z)
	case actReLU:
		kernels.Clamp(y, z, float32(math.Inf(1)))
	case actClippedReLU:
		kernels.Clamp(y, z, a.alpha)
	case actLeakyReLU:
		kernels.LeakyReLU(y, z, a.alpha)
	case actELU:
		kernels.ELU(y, z, a.alpha, 1)
	case actSELU:
		kernels.ELU(y, z, SELUAlpha, SELUScale)
	case actSigmoid:
		kernels.Sigmoid(y, z)
	case actTanh:
		kernels.Tanh(y, z)
	case actGELU:
		kernels.GELU(y, z)
	case actSoftplus:
		kernels.Softplus(y, z)
	case actSoftsign:
		for i, v := range z {
			y[i] = v / (1 + abs32(v))
		}
	case actMish:
		kernels.Mish(y, z)
	case actSoftmax:
		for r := 0; r < len(z); r += cols {
			softmaxRow(y[r:r+cols], z[r:r+cols])
		}
	case actSiLU:
		kernels.SiLU(y, z)
	case actHardSigmoid:
		kernels.HardSigmoid(y, z)
	case actHardSiLU:
		kernels.HardSiLU(y, z)
	default:
		panic(fmt.Sprintf("nn: activation kind %d", a.kind))
	}
}

// backward sets dz = dy·f'(z) using the output y = f(z), or for the
// functions that need it (see needsInput) the input z. dz may alias dy.
func (a activation) backward(dz, dy, y, z []float32, cols int) {
	dz, dy = dz[:len(y)], dy[:len(y)]
	switch a.kind {
	case actLinear, actOmittedSoftmax:
		copy(dz, dy)
	case actReLU:
		kernels.ReLUGrad(dz, dy, y)
	case actClippedReLU:
		kernels.ClampGrad(dz, dy, y, a.alpha)
	case actLeakyReLU:
		kernels.LeakyReLUGrad(dz, dy, y, a.alpha)
	case actELU:
		kernels.ELUGrad(dz, dy, y, a.alpha, 1)
	case actSELU:
		kernels.ELUGrad(dz, dy, y, SELUAlpha, SELUScale)
	case actSigmoid:
		for i, v := range y {
			dz[i] = dy[i] * v * (1 - v)
		}
	case actTanh:
		for i, v := range y {
			dz[i] = dy[i] * (1 - v*v)
		}
	case actHardSigmoid: // PyTorch's: the slope inside (-3, 3), 0 at and beyond
		for i, v := range y {
			if v > 0 && v < 1 {
				dz[i] = dy[i] / 6
			} else {
				dz[i] = 0
			}
		}
	case actSiLU:
		kernels.SiLUGrad(dz, dy, z[:len(y)])
	case actHardSiLU: // PyTorch's: 0 below -3, (2x+3)/6 up to 3, 1 beyond
		for i, v := range z[:len(y)] {
			switch {
			case v < -3:
				dz[i] = 0
			case v <= 3:
				dz[i] = dy[i] * (v/3 + 0.5)
			default:
				dz[i] = dy[i]
			}
		}
	case actSoftplus:
		kernels.SoftplusGrad(dz, dy, z[:len(y)])
	case actGELU:
		kernels.GELUGrad(dz, dy, z[:len(y)])
	case actMish:
		kernels.MishGrad(dz, dy, z[:len(y)])
	case actSoftsign: // 1/(1 + |x|)²
		for i, v := range z[:len(y)] {
			d := 1 + abs32(v)
			dz[i] = dy[i] / (d * d)
		}
	case actSoftmax:
		for r := 0; r < len(y); r += cols {
			yr, dr := y[r:r+cols], dy[r:r+cols]
			var dot float64
			for i, v := range yr {
				dot += float64(v) * float64(dr[i])
			}
			d := float32(dot)
			for i, v := range yr {
				dz[r+i] = v * (dr[i] - d)
			}
		}
	default:
		panic(fmt.Sprintf("nn: activation kind %d", a.kind))
	}
}

// softmaxRow sets y = exp(z - max z) / Σ exp(z - max z); y may alias z.
func softmaxRow(y, z []float32) {
	m := z[0]
	for _, v := range z[1:] {
		m = max(m, v)
	}
	var s float64
	for i, v := range z {
		e := math.Exp(float64(v) - float64(m))
		y[i] = float32(e)
		s += e
	}
	inv := 1 / s
	for i := range y {
		y[i] = float32(float64(y[i]) * inv)
	}
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }
