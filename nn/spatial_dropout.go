package nn

import (
	"math/rand/v2"

	"github.com/convnet-go/convnet/tensor"
)

// SpatialDropout2D is dropout of whole channels (Keras SpatialDropout2D,
// PyTorch Dropout2d): in training each channel of each image is zeroed
// with probability Rate, everywhere in the image, and the others are
// scaled by 1/(1-Rate); at inference it is the identity. Neighbouring
// pixels of a map are strongly correlated, so dropping single pixels, as
// Dropout does, hardly regularises a convolution's output; dropping maps
// does. Input [N,H,W,C]; Rate must be in [0, 1).
//
// The mask is drawn from the *rand.Rand given to Build, which the layer
// keeps (the model owns it), one number per image and channel in that
// order: a channel is dropped when the number's high 32 bits, as an
// integer, are below ceil(Rate·2^32). It is the same whatever the number
// of cores.
type SpatialDropout2D struct {
	Rate float64

	dropoutCore
	scale  []float32 // per image and channel of the last training Forward: 0 or 1/(1-Rate)
	x, out []float32 // the pass's input and output, during a call
	split  split
}

func (l *SpatialDropout2D) Type() string { return "SpatialDropout2D" }

func (l *SpatialDropout2D) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) != 3 || !positive(in) {
		return nil, errorf(l, "input shape %v: want height, width, channels (all positive)", in)
	}
	if err := l.build(l, l.Rate, in, rng); err != nil {
		return nil, err
	}
	return append([]int(nil), in...), nil
}

func (l *SpatialDropout2D) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	if !l.forward(l, x, training, l.Rate) {
		return l.y
	}
	n, c := x.Shape[0], l.in[2]
	if cap(l.scale) < n*c {
		l.scale = make([]float32, n*c)
	}
	l.scale = l.scale[:n*c]
	drop, keep := dropThreshold(l.Rate), float32(1/(1-l.Rate))
	for i := range l.scale {
		l.scale[i] = 0
		if l.rng.Uint64()>>32 >= drop {
			l.scale[i] = keep
		}
	}
	l.x, l.out = x.Data, l.y.Data
	l.split.rows(l, 0, len(x.Data)/c, c)
	l.x, l.out = nil, nil
	return l.y
}

func (l *SpatialDropout2D) Backward(dy *tensor.Tensor) *tensor.Tensor {
	if !l.backward(l, dy) {
		return l.dx
	}
	l.x, l.out = dy.Data, l.dx.Data
	l.split.rows(l, 0, len(dy.Data)/l.in[2], l.in[2])
	l.x, l.out = nil, nil
	return l.dx
}

// do sets the pixels lo..hi-1 (of all images) of out to those of x times
// their image's channel scales.
func (l *SpatialDropout2D) do(_, lo, hi int) {
	c, hw := l.in[2], l.in[0]*l.in[1]
	for p := lo; p < hi; p++ {
		s := l.scale[p/hw*c : p/hw*c+c]
		x, out := l.x[p*c:p*c+c], l.out[p*c:p*c+c]
		for k, v := range x {
			out[k] = v * s[k]
		}
	}
}

// ReleaseBackward implements [BackwardReleaser]; the mask goes too.
func (l *SpatialDropout2D) ReleaseBackward() {
	l.buffers.ReleaseBackward()
	l.scale, l.training = nil, false
}

func (l *SpatialDropout2D) Config() map[string]any {
	return map[string]any{"name": l.Name(), "rate": l.Rate}
}
