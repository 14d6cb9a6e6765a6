package optim

import (
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/nn"
)

// Lion steps every weight by the learning rate, in the direction of the
// sign of a blend of its momentum and its gradient (Chen et al., 2023,
// "Symbolic Discovery of Optimization Algorithms", arXiv:2302.06675),
// Keras's rule:
//
//	w -= lr*sign(beta1*m + (1-beta1)*g)
//	m = beta2*m + (1-beta2)*g
//
// Its steps are larger than Adam's for the same rate: the paper uses 3 to
// 10 times smaller rates. Zero fields mean Keras's defaults: LearningRate
// 0.001, Beta1 0.9, Beta2 0.99. WeightDecay is decoupled.
type Lion struct {
	LearningRate float64
	Beta1        float64 // in (0, 1]
	Beta2        float64
	WeightDecay  float64
	Options      // clipping, moving average, accumulation, decay exclusion: off by default
	state
	lr float64 // of the step in progress
}

func (o *Lion) Name() string { return "lion" }

func (o *Lion) LR() float64      { return orDefault(o.LearningRate, 0.001) }
func (o *Lion) SetLR(lr float64) { o.LearningRate = lr }
func (o *Lion) beta1() float64   { return orDefault(o.Beta1, 0.9) }
func (o *Lion) beta2() float64   { return orDefault(o.Beta2, 0.99) }

func (o *Lion) Config() map[string]any {
	return o.Options.config(map[string]any{
		"learning_rate": o.LR(), "beta_1": o.beta1(), "beta_2": o.beta2(), "weight_decay": o.WeightDecay,
	})
}

// SlotNames is ["momentum"].
func (o *Lion) SlotNames() []string { return o.Options.slots("momentum") }

func (o *Lion) SetState(iterations int, st []ParamState) error {
	return o.setState(o.Name(), o.SlotNames(), iterations, st)
}

func (o *Lion) Step(params []*nn.Param) {
	o.prepare(params, o.Options, 1)
	o.lr = o.LR()
	o.each(o, o.Clipping)
}

func (o *Lion) update(i, lo, hi int) {
	w, g := o.span(i, lo, hi, o.WeightDecay, o.lr)
	kernels.Lion(w, g, o.slot(i, 0, lo, hi), float32(o.lr), float32(o.beta1()), float32(o.beta2()))
}
