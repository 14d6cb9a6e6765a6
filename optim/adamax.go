package optim

import (
	"math"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/nn"
)

// Adamax is Adam with the infinity norm in place of the root mean square
// (Kingma and Ba, 2014, section 7), Keras's rule at step t = iterations+1:
//
//	m += (g - m)*(1-beta1)
//	u = max(beta2*u, |g|)
//	w -= lr*m / ((1-beta1^t)*(u + epsilon))
//
// Zero fields mean Keras's defaults: LearningRate 0.001, Beta1 0.9, Beta2
// 0.999, Epsilon 1e-7 (PyTorch's Adamax adds its epsilon, 1e-8, to |g|
// inside the maximum). WeightDecay is decoupled.
type Adamax struct {
	LearningRate float64
	Beta1        float64
	Beta2        float64
	Epsilon      float64
	WeightDecay  float64
	Options      // clipping, moving average, accumulation, decay exclusion: off by default
	state
	lr float64 // of the step in progress
	k  float32 // 1 - beta1^t
}

func (o *Adamax) Name() string { return "adamax" }

func (o *Adamax) LR() float64      { return orDefault(o.LearningRate, 0.001) }
func (o *Adamax) SetLR(lr float64) { o.LearningRate = lr }
func (o *Adamax) beta1() float64   { return orDefault(o.Beta1, 0.9) }
func (o *Adamax) beta2() float64   { return orDefault(o.Beta2, 0.999) }
func (o *Adamax) eps() float64     { return orDefault(o.Epsilon, 1e-7) }

func (o *Adamax) Config() map[string]any {
	return o.Options.config(map[string]any{
		"learning_rate": o.LR(), "beta_1": o.beta1(), "beta_2": o.beta2(),
		"epsilon": o.eps(), "weight_decay": o.WeightDecay,
	})
}

// SlotNames is ["momentum", "norm"], Keras's names.
func (o *Adamax) SlotNames() []string { return o.Options.slots("momentum", "norm") }

func (o *Adamax) SetState(iterations int, st []ParamState) error {
	return o.setState(o.Name(), o.SlotNames(), iterations, st)
}

func (o *Adamax) Step(params []*nn.Param) {
	o.prepare(params, o.Options, 2)
	o.lr = o.LR()
	o.k = float32(1 - math.Pow(o.beta1(), float64(o.updates()+1)))
	o.each(o, o.Clipping)
}

func (o *Adamax) update(i, lo, hi int) {
	w, g := o.span(i, lo, hi, o.WeightDecay, o.lr)
	kernels.Adamax(w, g, o.slot(i, 0, lo, hi), o.slot(i, 1, lo, hi), float32(o.lr), float32(1-o.beta1()), float32(o.beta2()), o.k, float32(o.eps()))
}
