package nn

import (
	"math"
	"math/rand/v2"

	"github.com/convnet-go/convnet/tensor"
)

// Dropout is inverted dropout (Keras Dropout): in training each element is
// zeroed with probability Rate and the others are scaled by 1/(1-Rate); at
// inference it is the identity. Rate must be in [0, 1). The mask is drawn
// from the *rand.Rand given to Build, which the layer keeps: the model owns
// that source (and can save its state to resume a run).
type Dropout struct {
	Rate float64

	named
	buffers
	rng      *rand.Rand
	in       []int
	shape    []int
	mask     []float32 // 0 or 1/(1-Rate) per element, for the last training Forward
	training bool
	y, dx    *tensor.Tensor
}

func (l *Dropout) Type() string { return "Dropout" }

func (l *Dropout) Build(in []int, rng *rand.Rand) ([]int, error) {
	if !(l.Rate >= 0 && l.Rate < 1) {
		return nil, errorf(l, "rate = %v: must be in [0, 1)", l.Rate)
	}
	if len(in) == 0 || !positive(in) {
		return nil, errorf(l, "input shape %v: want at least one positive axis", in)
	}
	if rng == nil {
		return nil, errorf(l, "Build needs a random source")
	}
	l.rng, l.in = rng, append([]int(nil), in...)
	l.shape = make([]int, len(in)+1)
	l.y, l.dx = nil, nil
	return append([]int(nil), in...), nil
}

func (l *Dropout) OutputShape() []int { return l.in }
func (l *Dropout) Params() []*Param   { return nil }

// Cost is zero: Dropout has no weights.
func (l *Dropout) Cost(in []int) Cost { return Cost{} }

func (l *Dropout) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	l.y = resize(l.y, x.Shape...)
	l.training = training && l.Rate > 0
	if !l.training {
		copy(l.y.Data, x.Data)
		return l.y
	}
	if cap(l.mask) < len(x.Data) {
		l.mask = make([]float32, len(x.Data))
	}
	l.mask = l.mask[:len(x.Data)]
	// Element i is dropped when rng.Float64() < Rate, that is when the 53
	// bits Float64 would use, as an integer, are below ceil(Rate·2^53):
	// the same draws, without a float division or a branch.
	drop := uint64(math.Ceil(l.Rate * (1 << 53)))
	scale := math.Float32bits(float32(1 / (1 - l.Rate)))
	y, mask := l.y.Data[:len(x.Data)], l.mask[:len(x.Data)]
	for i, v := range x.Data {
		var m uint32
		if l.rng.Uint64()<<11>>11 >= drop {
			m = scale
		}
		mask[i] = math.Float32frombits(m)
		y[i] = v * mask[i]
	}
	return l.y
}

func (l *Dropout) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	l.dx = l.grad(l.dx, dy.Shape...)
	if !l.training {
		copy(l.dx.Data, dy.Data)
		return l.dx
	}
	for i, d := range dy.Data {
		l.dx.Data[i] = d * l.mask[i]
	}
	return l.dx
}

func (l *Dropout) Config() map[string]any {
	return map[string]any{"name": l.Name(), "rate": l.Rate}
}

func dropoutFromConfig(f *fields) *Dropout { return &Dropout{Rate: f.float("rate")} }
