package optim

import (
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/nn"
)

// SGD is stochastic gradient descent with optional momentum, Keras's rule:
//
//	m = momentum*m - lr*g
//	w += m                      (or, with Nesterov, w += momentum*m - lr*g)
//
// and w -= lr*g without momentum. The zero LearningRate means Keras's 0.01.
// WeightDecay is decoupled: w -= w*weight_decay*lr before the update.
type SGD struct {
	LearningRate float64 // default 0.01
	Momentum     float64 // in [0, 1)
	Nesterov     bool
	WeightDecay  float64
	Options      // clipping, moving average, accumulation, decay exclusion: off by default
	state
	lr float64 // of the step in progress
}

func (o *SGD) Name() string { return "sgd" }

func (o *SGD) LR() float64      { return orDefault(o.LearningRate, 0.01) }
func (o *SGD) SetLR(lr float64) { o.LearningRate = lr }

func (o *SGD) Config() map[string]any {
	return o.Options.config(map[string]any{
		"learning_rate": o.LR(), "momentum": o.Momentum,
		"nesterov": o.Nesterov, "weight_decay": o.WeightDecay,
	})
}

// SlotNames is ["momentum"] when Momentum is set, else empty.
func (o *SGD) SlotNames() []string {
	if o.Momentum != 0 {
		return o.Options.slots("momentum")
	}
	return o.Options.slots()
}

func (o *SGD) SetState(iterations int, st []ParamState) error {
	return o.setState(o.Name(), o.SlotNames(), iterations, st)
}

func (o *SGD) Step(params []*nn.Param) {
	nslots := 0
	if o.Momentum != 0 {
		nslots = 1
	}
	o.prepare(params, o.Options, nslots)
	o.lr = o.LR()
	o.each(o, o.Clipping)
}

func (o *SGD) update(i, lo, hi int) {
	w, g := o.span(i, lo, hi, o.WeightDecay, o.lr)
	var m []float32
	if o.Momentum != 0 {
		m = o.slot(i, 0, lo, hi)[:len(w)]
	}
	kernels.SGD(w, g, m, float32(o.lr), float32(o.Momentum), o.Nesterov)
}
