package optim

import (
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/nn"
)

// RMSprop divides each gradient by a moving root mean square of recent
// gradients (Tieleman and Hinton, 2012, Coursera lecture 6.5). By default it
// follows Keras 2's rule, the one published Keras tutorials trained with:
//
//	a = rho*a + (1-rho)*g²
//	w -= lr*g / (sqrt(a) + epsilon)
//
// With EpsilonInsideSqrt the denominator is sqrt(a + epsilon), Keras 3's rule.
// Centered subtracts the squared moving mean of the gradients from a inside
// the square root. Momentum accumulates the step: m = momentum*m + step; w -= m.
// WeightDecay is decoupled: w -= w*weight_decay*lr before the update.
//
// Zero LearningRate, Rho and Epsilon mean 0.001, 0.9 and 1e-8.
type RMSprop struct {
	LearningRate      float64 // default 0.001
	Rho               float64 // default 0.9
	Epsilon           float64 // default 1e-8
	Momentum          float64
	Centered          bool
	EpsilonInsideSqrt bool
	WeightDecay       float64
	Options           // clipping, moving average, accumulation, decay exclusion: off by default
	state
	k rmspropStep
}

func (o *RMSprop) Name() string { return "rmsprop" }

func (o *RMSprop) LR() float64      { return orDefault(o.LearningRate, 0.001) }
func (o *RMSprop) SetLR(lr float64) { o.LearningRate = lr }
func (o *RMSprop) rho() float64     { return orDefault(o.Rho, 0.9) }
func (o *RMSprop) eps() float64     { return orDefault(o.Epsilon, 1e-8) }

func (o *RMSprop) Config() map[string]any {
	return o.Options.config(map[string]any{
		"learning_rate": o.LR(), "rho": o.rho(), "epsilon": o.eps(),
		"momentum": o.Momentum, "centered": o.Centered,
		"epsilon_inside_sqrt": o.EpsilonInsideSqrt, "weight_decay": o.WeightDecay,
	})
}

// SlotNames is ["velocity"], then "momentum" if Momentum is set and
// "average_gradient" if Centered (Keras's variable names).
func (o *RMSprop) SlotNames() []string {
	s := []string{"velocity"}
	if o.Momentum != 0 {
		s = append(s, "momentum")
	}
	if o.Centered {
		s = append(s, "average_gradient")
	}
	return o.Options.slots(s...)
}

func (o *RMSprop) SetState(iterations int, st []ParamState) error {
	return o.setState(o.Name(), o.SlotNames(), iterations, st)
}

func (o *RMSprop) Step(params []*nn.Param) {
	nslots := 1
	if o.Momentum != 0 {
		nslots++
	}
	if o.Centered {
		nslots++
	}
	o.prepare(params, o.Options, nslots)
	lr := o.LR()
	o.k = rmspropStep{lr: lr, lr32: float32(lr), rho: float32(o.rho()), eps: float32(o.eps()), mu: float32(o.Momentum)}
	o.each(o, o.Clipping)
}

// rmspropStep holds the constants of the step in progress.
type rmspropStep struct {
	lr                 float64
	lr32, rho, eps, mu float32
}

func (o *RMSprop) update(i, lo, hi int) {
	k := &o.k
	w, g := o.span(i, lo, hi, o.WeightDecay, k.lr)
	var m, ag []float32
	n := 1
	if o.Momentum != 0 {
		m = o.slot(i, n, lo, hi)
		n++
	}
	if o.Centered {
		ag = o.slot(i, n, lo, hi)
	}
	kernels.RMSprop(w, g, o.slot(i, 0, lo, hi), m, ag, k.rho, k.lr32, k.eps, k.mu, o.EpsilonInsideSqrt)
}
