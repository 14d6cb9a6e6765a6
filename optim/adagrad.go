package optim

import (
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/nn"
)

// Adagrad divides each step by the root of the sum of all the squared
// gradients so far (Duchi, Hazan and Singer, 2011), Keras's rule:
//
//	acc += g²
//	w -= lr*g / sqrt(acc + epsilon)
//
// the accumulator starting at InitialAccumulatorValue. Zero fields mean
// Keras's defaults: LearningRate 0.001, InitialAccumulatorValue 0.1,
// Epsilon 1e-7 (PyTorch's Adagrad starts at 0 and adds its epsilon, 1e-10,
// outside the square root; a tiny InitialAccumulatorValue such as 1e-12
// comes closest to it, since 0 means the default). WeightDecay is
// decoupled.
type Adagrad struct {
	LearningRate            float64
	InitialAccumulatorValue float64
	Epsilon                 float64
	WeightDecay             float64
	Options                 // clipping, moving average, accumulation, decay exclusion: off by default
	state
	lr float64 // of the step in progress
}

func (o *Adagrad) Name() string { return "adagrad" }

func (o *Adagrad) LR() float64      { return orDefault(o.LearningRate, 0.001) }
func (o *Adagrad) SetLR(lr float64) { o.LearningRate = lr }
func (o *Adagrad) init() float64    { return orDefault(o.InitialAccumulatorValue, 0.1) }
func (o *Adagrad) eps() float64     { return orDefault(o.Epsilon, 1e-7) }

func (o *Adagrad) Config() map[string]any {
	return o.Options.config(map[string]any{
		"learning_rate": o.LR(), "initial_accumulator_value": o.init(),
		"epsilon": o.eps(), "weight_decay": o.WeightDecay,
	})
}

// SlotNames is ["accumulator"].
func (o *Adagrad) SlotNames() []string { return o.Options.slots("accumulator") }

func (o *Adagrad) SetState(iterations int, st []ParamState) error {
	return o.setState(o.Name(), o.SlotNames(), iterations, st)
}

func (o *Adagrad) Step(params []*nn.Param) {
	o.prepare(params, o.Options, 1, float32(o.init()))
	o.lr = o.LR()
	o.each(o, o.Clipping)
}

func (o *Adagrad) update(i, lo, hi int) {
	w, g := o.span(i, lo, hi, o.WeightDecay, o.lr)
	kernels.Adagrad(w, g, o.slot(i, 0, lo, hi), float32(o.lr), float32(o.eps()))
}
