package optim

import (
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/nn"
)

// Adadelta scales each step by the ratio of the moving roots of the recent
// steps and of the recent gradients (Zeiler, 2012, arXiv:1212.5701),
// Keras's rule (and PyTorch's):
//
//	ag = rho*ag + (1-rho)*g²
//	d = -sqrt(ad + epsilon)*g / sqrt(ag + epsilon)
//	ad = rho*ad + (1-rho)*d²
//	w += lr*d
//
// Zero fields mean Keras's defaults: LearningRate 0.001, Rho 0.95,
// Epsilon 1e-7 (PyTorch's are 1.0, 0.9 and 1e-6). WeightDecay is decoupled.
type Adadelta struct {
	LearningRate float64
	Rho          float64
	Epsilon      float64
	WeightDecay  float64
	Options      // clipping, moving average, accumulation, decay exclusion: off by default
	state
	lr float64 // of the step in progress
}

func (o *Adadelta) Name() string { return "adadelta" }

func (o *Adadelta) LR() float64      { return orDefault(o.LearningRate, 0.001) }
func (o *Adadelta) SetLR(lr float64) { o.LearningRate = lr }
func (o *Adadelta) rho() float64     { return orDefault(o.Rho, 0.95) }
func (o *Adadelta) eps() float64     { return orDefault(o.Epsilon, 1e-7) }

func (o *Adadelta) Config() map[string]any {
	return o.Options.config(map[string]any{
		"learning_rate": o.LR(), "rho": o.rho(), "epsilon": o.eps(), "weight_decay": o.WeightDecay,
	})
}

// SlotNames is ["accumulated_grad", "accumulated_delta_var"], Keras's names.
func (o *Adadelta) SlotNames() []string {
	return o.Options.slots("accumulated_grad", "accumulated_delta_var")
}

func (o *Adadelta) SetState(iterations int, st []ParamState) error {
	return o.setState(o.Name(), o.SlotNames(), iterations, st)
}

func (o *Adadelta) Step(params []*nn.Param) {
	o.prepare(params, o.Options, 2)
	o.lr = o.LR()
	o.each(o, o.Clipping)
}

func (o *Adadelta) update(i, lo, hi int) {
	w, g := o.span(i, lo, hi, o.WeightDecay, o.lr)
	kernels.Adadelta(w, g, o.slot(i, 0, lo, hi), o.slot(i, 1, lo, hi), float32(o.lr), float32(o.rho()), float32(o.eps()))
}
