package nn

import (
	"math"
	"math/rand/v2"

	"github.com/convnet-go/convnet/tensor"
)

// Rescaling is x·Scale + Offset, elementwise, in training and inference
// alike (Keras Rescaling): Scale 1/255 takes pixels 0..255 to 0..1, Scale
// 1/127.5 with Offset -1 to -1..1. Scale must be a finite number other
// than 0 (Keras requires it; a zero scale would make every output the
// same), Offset finite.
type Rescaling struct {
	named
	buffers
	Scale, Offset float64
	in            []int
	x, dy         *tensor.Tensor // the pass's input (dy: during Backward)
	y, dx         *tensor.Tensor
	split         split
}

func (l *Rescaling) Type() string { return "Rescaling" }

func (l *Rescaling) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) == 0 || !positive(in) {
		return nil, errorf(l, "input shape %v: want at least one positive axis", in)
	}
	if l.Scale == 0 || !finite32(l.Scale) {
		return nil, errorf(l, "scale = %v: must be a finite number other than 0", l.Scale)
	}
	if !finite32(l.Offset) {
		return nil, errorf(l, "offset = %v: must be a finite number", l.Offset)
	}
	l.in = append([]int(nil), in...)
	l.x, l.y, l.dx = nil, nil, nil
	return append([]int(nil), in...), nil
}

// finite32 reports whether v is finite as a float32.
func finite32(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(float64(float32(v)), 0)
}

func (l *Rescaling) OutputShape() []int { return append([]int(nil), l.in...) }
func (l *Rescaling) Params() []*Param   { return nil }

// Cost is zero: a rescaling has no weights and no weighted sums.
func (l *Rescaling) Cost(in []int) Cost { return Cost{} }

func (l *Rescaling) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	l.x = x
	l.y = resize(l.y, x.Shape...)
	l.split.rows(l, actForward, len(x.Data), 1)
	l.x = nil
	return l.y
}

// Backward is dy·Scale.
func (l *Rescaling) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	l.dx = l.grad(l.dx, dy.Shape...)
	l.dy = dy
	l.split.rows(l, actBackward, len(dy.Data), 1)
	l.dy = nil
	return l.dx
}

func (l *Rescaling) do(phase, lo, hi int) {
	s, o := float32(l.Scale), float32(l.Offset)
	if phase == actForward {
		y, x := l.y.Data[lo:hi], l.x.Data[lo:hi]
		for i, v := range x {
			y[i] = float32(v*s) + o // rounded as a Mul then an Add, not fused
		}
		return
	}
	dx, dy := l.dx.Data[lo:hi], l.dy.Data[lo:hi]
	for i, v := range dy {
		dx[i] = v * s
	}
}

func (l *Rescaling) Config() map[string]any {
	return map[string]any{"name": l.Name(), "scale": l.Scale, "offset": l.Offset}
}
