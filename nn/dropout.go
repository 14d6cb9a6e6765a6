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
	kept     []uint64 // bit j of word w set where the last training Forward kept element 64w+j
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
	n := len(x.Data)
	if words := (n + 63) / 64; cap(l.kept) < words {
		l.kept = make([]uint64, words)
	} else {
		l.kept = l.kept[:words]
	}
	// Element i is dropped when rng.Float64() < Rate, that is when the 53
	// bits Float64 would use, as an integer, are below ceil(Rate·2^53):
	// the same draws, without a float division or a branch.
	drop := uint64(math.Ceil(l.Rate * (1 << 53)))
	scale := l.scaleBits()
	rng := l.rng
	var factor [64]uint32 // per element of a word, the bits of 0 or the scale
	for w := range l.kept {
		xs := x.Data[w*64 : min(w*64+64, n)]
		ys := l.y.Data[w*64 : w*64+len(xs)]
		f := factor[:len(xs)]
		for j := range f { // the draws alone: nothing carried across the calls
			f[j] = scale & -b2u(rng.Uint64()<<11>>11 >= drop)
		}
		var kept uint64
		for j, v := range xs {
			ys[j] = v * math.Float32frombits(f[j])
			kept |= uint64(b2u(f[j] != 0)) << (j & 63)
		}
		l.kept[w] = kept
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
	n, scale := len(dy.Data), l.scaleBits()
	for w, kept := range l.kept {
		dx := l.dx.Data[w*64 : min(w*64+64, n)]
		ds := dy.Data[w*64 : w*64+len(dx)]
		for j := range dx {
			dx[j] = ds[j] * math.Float32frombits(scale&-uint32(kept&1))
			kept >>= 1
		}
	}
	return l.dx
}

// ReleaseBackward implements [BackwardReleaser]; the mask goes too.
func (l *Dropout) ReleaseBackward() {
	l.buffers.ReleaseBackward()
	l.kept, l.training = nil, false
}

// scaleBits returns the bits of float32(1/(1-Rate)), what a kept element
// is multiplied by.
func (l *Dropout) scaleBits() uint32 { return math.Float32bits(float32(1 / (1 - l.Rate))) }

// b2u returns 1 for true and 0 for false.
func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

func (l *Dropout) Config() map[string]any {
	return map[string]any{"name": l.Name(), "rate": l.Rate}
}

func dropoutFromConfig(f *fields) *Dropout { return &Dropout{Rate: f.float("rate")} }
