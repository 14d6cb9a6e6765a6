package nn

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/convnet-go/convnet/tensor"
)

// Rescaling is x·Scale + Offset, elementwise, in training and inference
// alike (Keras Rescaling): Scale 1/255 takes pixels 0..255 to 0..1, Scale
// 1/127.5 with Offset -1 to -1..1. Scale must be a finite number other
// than 0 (Keras requires it; a zero scale would make every output the
// same), Offset finite.
//
// Scales and Offsets, when set, hold one scale or offset per channel (the
// last axis) in place of Scale or Offset, which must then be 0: Keras's
// scale and offset given as lists, broadcast along the channels, such as
// the per-channel scales Keras's EfficientNet puts after its Normalization.
type Rescaling struct {
	named
	buffers
	Scale, Offset   float64
	Scales, Offsets []float64
	in              []int
	scale, offset   []float32      // per channel, of the per-channel form
	x, dy           *tensor.Tensor // the pass's input (dy: during Backward)
	y, dx           *tensor.Tensor
	split           split
}

func (l *Rescaling) Type() string { return "Rescaling" }

func (l *Rescaling) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) == 0 || !positive(in) {
		return nil, errorf(l, "input shape %v: want at least one positive axis", in)
	}
	c := in[len(in)-1]
	l.scale, l.offset = nil, nil
	if l.Scales != nil || l.Offsets != nil {
		var err error
		if l.scale, err = perChannel(l, "scale", l.Scale, l.Scales, c, 1); err != nil {
			return nil, err
		}
		if l.offset, err = perChannel(l, "offset", l.Offset, l.Offsets, c, 0); err != nil {
			return nil, err
		}
	} else {
		if l.Scale == 0 || !finite32(l.Scale) {
			return nil, errorf(l, "scale = %v: must be a finite number other than 0", l.Scale)
		}
		if !finite32(l.Offset) {
			return nil, errorf(l, "offset = %v: must be a finite number", l.Offset)
		}
	}
	l.in = append([]int(nil), in...)
	l.x, l.y, l.dx = nil, nil, nil
	return append([]int(nil), in...), nil
}

// perChannel returns the c values of a per-channel scale or offset: those
// of list, or c times one (def when neither list nor one is set).
func perChannel(l Layer, what string, one float64, list []float64, c int, def float64) ([]float32, error) {
	switch {
	case list != nil && one != 0:
		return nil, errorf(l, "%s = %v and %ss = %v: give one or the other", what, one, what, list)
	case list != nil && len(list) != c:
		return nil, errorf(l, "%ss: %d values for %d channels", what, len(list), c)
	case list == nil && one == 0:
		one = def
	}
	out := make([]float32, c)
	for k := range out {
		v := one
		if list != nil {
			v = list[k]
		}
		switch {
		case what == "scale" && (v == 0 || !finite32(v)):
			return nil, errorf(l, "scale of channel %d = %v: must be a finite number other than 0", k, v)
		case !finite32(v):
			return nil, errorf(l, "offset of channel %d = %v: must be a finite number", k, v)
		}
		out[k] = float32(v)
	}
	return out, nil
}

// finite32 reports whether v is finite as a float32.
func finite32(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(float64(float32(v)), 0)
}

// PerChannel returns the scale and the offset of each channel of a built
// Rescaling of the per-channel form, or nil, nil for one scale and offset
// for every value.
func (l *Rescaling) PerChannel() (scale, offset []float32) {
	return slices.Clone(l.scale), slices.Clone(l.offset)
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
	if l.scale != nil {
		l.doChannels(phase, lo, hi)
		return
	}
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

// doChannels is do for the per-channel form.
func (l *Rescaling) doChannels(phase, lo, hi int) {
	c := len(l.scale)
	k := lo % c
	if phase == actForward {
		y, x := l.y.Data[lo:hi], l.x.Data[lo:hi]
		for i, v := range x {
			y[i] = float32(v*l.scale[k]) + l.offset[k]
			if k++; k == c {
				k = 0
			}
		}
		return
	}
	dx, dy := l.dx.Data[lo:hi], l.dy.Data[lo:hi]
	for i, v := range dy {
		dx[i] = v * l.scale[k]
		if k++; k == c {
			k = 0
		}
	}
}

func (l *Rescaling) Config() map[string]any {
	cfg := map[string]any{"name": l.Name(), "scale": l.Scale, "offset": l.Offset}
	if l.Scale == 0 && l.Scales == nil && l.Offsets != nil {
		cfg["scale"] = 1.0 // left out beside per-channel offsets: Keras's scale would be 0
	}
	if l.Scales != nil {
		cfg["scale"] = slices.Clone(l.Scales)
	}
	if l.Offsets != nil {
		cfg["offset"] = slices.Clone(l.Offsets)
	}
	return cfg
}

// rescalingFromConfig reads scale and offset, each a number or a list of
// one per channel (a list of one value is that number, as numpy
// broadcasts it).
func rescalingFromConfig(f *fields) *Rescaling {
	l := &Rescaling{}
	l.Scale, l.Scales = f.numberOrList("scale")
	l.Offset, l.Offsets = f.numberOrList("offset")
	return l
}
