package optim

import (
	"math"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/nn"
)

// Adam keeps moving averages of the gradient and its square (Kingma and Ba,
// 2014, arXiv:1412.6980), with Keras's formulation at step t = iterations+1:
//
//	m += (g - m)*(1-beta1)
//	v += (g² - v)*(1-beta2)
//	w -= lr*sqrt(1-beta2^t)/(1-beta1^t) * m / (sqrt(v) + epsilon)
//
// Epsilon is the paper's "epsilon hat", added outside the bias correction.
// WeightDecay is decoupled: w -= w*weight_decay*lr before the update.
// Zero fields mean Keras's defaults: LearningRate 0.001, Beta1 0.9,
// Beta2 0.999, Epsilon 1e-7.
type Adam struct {
	LearningRate float64
	Beta1        float64
	Beta2        float64
	Epsilon      float64
	WeightDecay  float64
	Options      // clipping, moving average, accumulation, decay exclusion: off by default
	state
	k adamStep
}

func (o *Adam) Name() string { return "adam" }

func (o *Adam) LR() float64      { return orDefault(o.LearningRate, 0.001) }
func (o *Adam) SetLR(lr float64) { o.LearningRate = lr }
func (o *Adam) beta1() float64   { return orDefault(o.Beta1, 0.9) }
func (o *Adam) beta2() float64   { return orDefault(o.Beta2, 0.999) }
func (o *Adam) eps() float64     { return orDefault(o.Epsilon, 1e-7) }

func (o *Adam) Config() map[string]any {
	return o.Options.config(map[string]any{
		"learning_rate": o.LR(), "beta_1": o.beta1(), "beta_2": o.beta2(),
		"epsilon": o.eps(), "weight_decay": o.WeightDecay,
	})
}

// SlotNames is ["m", "v"].
func (o *Adam) SlotNames() []string { return o.Options.slots("m", "v") }

func (o *Adam) SetState(iterations int, st []ParamState) error {
	return o.setState(o.Name(), o.SlotNames(), iterations, st)
}

func (o *Adam) Step(params []*nn.Param) { o.step(params, o.WeightDecay) }

func (o *Adam) step(params []*nn.Param, wd float64) {
	o.prepare(params, o.Options, 2)
	lr, b1, b2 := o.LR(), o.beta1(), o.beta2()
	t := float64(o.updates() + 1)
	o.k = adamStep{
		lr: lr, wd: wd,
		alpha: float32(lr * math.Sqrt(1-math.Pow(b2, t)) / (1 - math.Pow(b1, t))),
		c1:    float32(1 - b1), c2: float32(1 - b2), eps: float32(o.eps()),
	}
	o.each(o, o.Clipping)
}

// adamStep holds the constants of the step in progress.
type adamStep struct {
	lr, wd             float64
	alpha, c1, c2, eps float32
}

func (o *Adam) update(i, lo, hi int) {
	k := &o.k
	w, g := o.span(i, lo, hi, k.wd, k.lr)
	kernels.Adam(w, g, o.slot(i, 0, lo, hi), o.slot(i, 1, lo, hi), k.alpha, k.c1, k.c2, k.eps)
}

// AdamW is [Adam] with decoupled weight decay on by default (Loshchilov and
// Hutter, 2017, arXiv:1711.05101): the zero WeightDecay means Keras's 0.004.
type AdamW struct {
	Adam
}

func (o *AdamW) Name() string { return "adamw" }

func (o *AdamW) wd() float64 { return orDefault(o.WeightDecay, 0.004) }

func (o *AdamW) Config() map[string]any {
	c := o.Adam.Config()
	c["weight_decay"] = o.wd()
	return c
}

func (o *AdamW) SetState(iterations int, st []ParamState) error {
	return o.setState(o.Name(), o.SlotNames(), iterations, st)
}

func (o *AdamW) Step(params []*nn.Param) { o.step(params, o.wd()) }
