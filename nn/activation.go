package nn

import (
	"math"
	"math/rand/v2"

	"github.com/convnet-go/convnet/tensor"
)

// The activation layers apply one of the functions of [ActivationNames]
// elementwise (softmax: along the last axis) to an input of any shape. They
// share this machinery; each type only supplies its function and config.

// actCore holds the state shared by the activation layers.
type actCore struct {
	named
	buffers
	act   activation
	in    []int
	x, dy *tensor.Tensor // the pass's input (dy: during Backward)
	y, dx *tensor.Tensor
	split split
}

func (a *actCore) build(l Layer, act activation, in []int) ([]int, error) {
	if len(in) == 0 || !positive(in) {
		return nil, errorf(l, "input shape %v: want at least one positive axis", in)
	}
	a.act, a.in = act, append([]int(nil), in...)
	a.x, a.y, a.dx = nil, nil, nil
	return append([]int(nil), in...), nil
}

func (a *actCore) OutputShape() []int { return a.in }
func (a *actCore) Params() []*Param   { return nil }

func (a *actCore) forward(l Layer, x *tensor.Tensor) *tensor.Tensor {
	checkInput(l, "Forward", x, a.in)
	a.x = x
	a.y = resize(a.y, x.Shape...)
	cols := a.in[len(a.in)-1]
	a.split.rows(a, actForward, len(x.Data)/cols, cols)
	return a.y
}

func (a *actCore) backward(l Layer, dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, a.y)
	a.dx = a.grad(a.dx, dy.Shape...)
	a.dy = dy
	cols := a.in[len(a.in)-1]
	a.split.rows(a, actBackward, len(dy.Data)/cols, cols)
	a.dy = nil
	return a.dx
}

// The phases of an activation's pass, cut into rows of the last axis.
const (
	actForward = iota
	actBackward
)

func (a *actCore) do(phase, lo, hi int) {
	cols := a.in[len(a.in)-1]
	lo, hi = lo*cols, hi*cols
	if phase == actForward {
		a.act.forward(a.y.Data[lo:hi], a.x.Data[lo:hi], cols)
	} else {
		a.act.backward(a.dx.Data[lo:hi], a.dy.Data[lo:hi], a.y.Data[lo:hi], a.x.Data[lo:hi], cols)
	}
}

// OmitSoftmax leaves out a softmax; see [FinalSoftmax]. The layers of
// other functions report false.
func (a *actCore) OmitSoftmax(omit bool) bool { return a.act.omitSoftmax(omit) }

// Cost is zero: an activation has no weights and no weighted sums.
func (a *actCore) Cost(in []int) Cost { return Cost{} }

// ReLU is max(x, 0), or min(max(x, 0), MaxValue) when MaxValue is set
// (Keras ReLU; PyTorch's ReLU6 is MaxValue 6).
type ReLU struct {
	MaxValue float64 // zero means none; must not be negative
	actCore
}

func (l *ReLU) Type() string { return "ReLU" }
func (l *ReLU) Build(in []int, rng *rand.Rand) ([]int, error) {
	switch {
	case l.MaxValue < 0 || math.IsNaN(l.MaxValue) || math.IsInf(l.MaxValue, 0):
		return nil, errorf(l, "max_value = %v: must be a positive number, or 0 for none", l.MaxValue)
	case l.MaxValue > 0:
		return l.build(l, activation{kind: actClippedReLU, alpha: float32(l.MaxValue)}, in)
	}
	return l.build(l, activation{kind: actReLU}, in)
}
func (l *ReLU) Forward(x *tensor.Tensor, training bool) *tensor.Tensor { return l.forward(l, x) }
func (l *ReLU) Backward(dy *tensor.Tensor) *tensor.Tensor              { return l.backward(l, dy) }
func (l *ReLU) Config() map[string]any {
	var max any // Keras writes null for none
	if l.MaxValue != 0 {
		max = l.MaxValue
	}
	return map[string]any{"name": l.Name(), "max_value": max}
}

// LeakyReLU is x for x > 0 and Alpha·x otherwise (Keras LeakyReLU, whose
// negative_slope defaults to 0.3; the config key is "alpha").
type LeakyReLU struct {
	Alpha float64 // zero means 0.3; must be finite and not negative
	actCore
}

func (l *LeakyReLU) alpha() float64 {
	if l.Alpha == 0 {
		return 0.3
	}
	return l.Alpha
}

func (l *LeakyReLU) Type() string { return "LeakyReLU" }
func (l *LeakyReLU) Build(in []int, rng *rand.Rand) ([]int, error) {
	if !(l.Alpha >= 0 && l.Alpha <= math.MaxFloat32) { // NaN or infinite: every output below 0 would be
		return nil, errorf(l, "alpha = %v: must be a finite number, not negative", l.Alpha)
	}
	return l.build(l, activation{kind: actLeakyReLU, alpha: float32(l.alpha())}, in)
}
func (l *LeakyReLU) Forward(x *tensor.Tensor, training bool) *tensor.Tensor { return l.forward(l, x) }
func (l *LeakyReLU) Backward(dy *tensor.Tensor) *tensor.Tensor              { return l.backward(l, dy) }
func (l *LeakyReLU) Config() map[string]any {
	return map[string]any{"name": l.Name(), "alpha": l.alpha()}
}

// ELU is x for x > 0 and Alpha·(exp(x)-1) otherwise (Keras ELU).
type ELU struct {
	Alpha float64 // zero means 1; must be positive and finite
	actCore
}

func (l *ELU) alpha() float64 {
	if l.Alpha == 0 {
		return 1
	}
	return l.Alpha
}

func (l *ELU) Type() string { return "ELU" }
func (l *ELU) Build(in []int, rng *rand.Rand) ([]int, error) {
	if !(l.Alpha >= 0 && l.Alpha <= math.MaxFloat32) { // NaN or infinite: every output below 0 would be
		return nil, errorf(l, "alpha = %v: must be a positive finite number", l.Alpha)
	}
	return l.build(l, activation{kind: actELU, alpha: float32(l.alpha())}, in)
}
func (l *ELU) Forward(x *tensor.Tensor, training bool) *tensor.Tensor { return l.forward(l, x) }
func (l *ELU) Backward(dy *tensor.Tensor) *tensor.Tensor              { return l.backward(l, dy) }
func (l *ELU) Config() map[string]any {
	return map[string]any{"name": l.Name(), "alpha": l.alpha()}
}

// Softmax is exp(x) / Σ exp(x) along the last axis (Keras Softmax).
type Softmax struct{ actCore }

func (l *Softmax) Type() string { return "Softmax" }
func (l *Softmax) Build(in []int, rng *rand.Rand) ([]int, error) {
	return l.build(l, activation{kind: actSoftmax}, in)
}
func (l *Softmax) Forward(x *tensor.Tensor, training bool) *tensor.Tensor { return l.forward(l, x) }
func (l *Softmax) Backward(dy *tensor.Tensor) *tensor.Tensor              { return l.backward(l, dy) }
func (l *Softmax) Config() map[string]any                                 { return map[string]any{"name": l.Name()} }

// Activation applies the named function (Keras Activation): one of
// [ActivationNames].
type Activation struct {
	Func string // "" means "linear"
	actCore
}

func (l *Activation) Type() string { return "Activation" }
func (l *Activation) Build(in []int, rng *rand.Rand) ([]int, error) {
	act, err := parseActivation(l, l.Func)
	if err != nil {
		return nil, err
	}
	return l.build(l, act, in)
}
func (l *Activation) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	return l.forward(l, x)
}
func (l *Activation) Backward(dy *tensor.Tensor) *tensor.Tensor { return l.backward(l, dy) }
func (l *Activation) Config() map[string]any {
	return map[string]any{"name": l.Name(), "activation": activationName(l.Func)}
}
