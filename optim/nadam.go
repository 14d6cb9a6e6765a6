package optim

import (
	"math"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/nn"
)

// Nadam is Adam with Nesterov momentum (Dozat, 2016, "Incorporating
// Nesterov Momentum into Adam"), Keras's rule: at step t = iterations+1,
// with the momentum schedule u(s) = beta1*(1 - 0.5*0.96^s) and P(s) its
// product over steps 1 to s,
//
//	m += (g - m)*(1-beta1)
//	v += (g² - v)*(1-beta2)
//	m̂ = u(t+1)*m/(1 - P(t+1)) + (1 - u(t))*g/(1 - P(t))
//	w -= m̂*lr / (sqrt(v/(1-beta2^t)) + epsilon)
//
// P(t) is computed from the iteration count, so that a resumed run needs
// no more state than Adam's. Zero fields mean Keras's defaults:
// LearningRate 0.001, Beta1 0.9, Beta2 0.999, Epsilon 1e-7 (PyTorch's NAdam
// decays the schedule as 0.96^(0.004·s) and adds 1e-8). WeightDecay is
// decoupled.
type Nadam struct {
	LearningRate float64
	Beta1        float64
	Beta2        float64
	Epsilon      float64
	WeightDecay  float64
	Options      // clipping, moving average, accumulation, decay exclusion: off by default
	state
	k nadamStep

	// The product P(s) of the momentum schedule at step s, kept from the
	// last step (s = 0: none yet).
	s int
	p float64
}

// nadamStep holds the constants of the step in progress.
type nadamStep struct {
	lr                         float64
	lr32, c1, c2, a, b, k, eps float32
}

func (o *Nadam) Name() string { return "nadam" }

func (o *Nadam) LR() float64      { return orDefault(o.LearningRate, 0.001) }
func (o *Nadam) SetLR(lr float64) { o.LearningRate = lr }
func (o *Nadam) beta1() float64   { return orDefault(o.Beta1, 0.9) }
func (o *Nadam) beta2() float64   { return orDefault(o.Beta2, 0.999) }
func (o *Nadam) eps() float64     { return orDefault(o.Epsilon, 1e-7) }

func (o *Nadam) Config() map[string]any {
	return o.Options.config(map[string]any{
		"learning_rate": o.LR(), "beta_1": o.beta1(), "beta_2": o.beta2(),
		"epsilon": o.eps(), "weight_decay": o.WeightDecay,
	})
}

// SlotNames is ["momentum", "velocity"], Keras's names.
func (o *Nadam) SlotNames() []string { return o.Options.slots("momentum", "velocity") }

func (o *Nadam) SetState(iterations int, st []ParamState) error {
	return o.setState(o.Name(), o.SlotNames(), iterations, st)
}

// u is the momentum schedule at step s.
func (o *Nadam) u(s int) float64 { return o.beta1() * (1 - 0.5*math.Pow(0.96, float64(s))) }

// product returns P(s), going on from the one kept unless that is of a
// later step (a run restored to an earlier one) or of none.
func (o *Nadam) product(s int) float64 {
	if o.s == 0 || o.s > s {
		o.s, o.p = 0, 1
	}
	for o.s < s {
		o.s++
		o.p *= o.u(o.s)
	}
	return o.p
}

func (o *Nadam) Step(params []*nn.Param) {
	o.prepare(params, o.Options, 2)
	lr, t := o.LR(), o.updates()+1
	pt := o.product(t)
	pt1 := pt * o.u(t+1)
	o.k = nadamStep{
		lr: lr, lr32: float32(lr), c1: float32(1 - o.beta1()), c2: float32(1 - o.beta2()),
		a: float32(o.u(t+1) / (1 - pt1)), b: float32((1 - o.u(t)) / (1 - pt)),
		k: float32(1 - math.Pow(o.beta2(), float64(t))), eps: float32(o.eps()),
	}
	o.each(o, o.Clipping)
}

func (o *Nadam) update(i, lo, hi int) {
	k := &o.k
	w, g := o.span(i, lo, hi, o.WeightDecay, k.lr)
	kernels.Nadam(w, g, o.slot(i, 0, lo, hi), o.slot(i, 1, lo, hi), k.lr32, k.c1, k.c2, k.a, k.b, k.k, k.eps)
}
