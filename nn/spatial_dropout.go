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
// It is [Dropout] with the noise shape (None, 1, 1, C). The mask is drawn
// from the *rand.Rand given to Build, which the layer keeps (the model owns
// it), one number per image and channel in that order: a channel is
// dropped when the number's high 32 bits, as an integer, are below
// ceil(Rate·2^32). It is the same whatever the number of cores.
type SpatialDropout2D struct {
	Rate float64

	dropoutCore
	mask sharedMask
}

func (l *SpatialDropout2D) Type() string { return "SpatialDropout2D" }

func (l *SpatialDropout2D) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) != 3 || !positive(in) {
		return nil, errorf(l, "input shape %v: want height, width, channels (all positive)", in)
	}
	if err := l.build(l, l.Rate, in, rng); err != nil {
		return nil, err
	}
	l.mask.setup(false, in, []bool{true, true, false})
	return append([]int(nil), in...), nil
}

func (l *SpatialDropout2D) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	if !l.forward(l, x, training, l.Rate) {
		return l.y
	}
	l.mask.draw(x.Shape[0], l.Rate, l.rng)
	l.mask.apply(x.Data, l.y.Data)
	return l.y
}

func (l *SpatialDropout2D) Backward(dy *tensor.Tensor) *tensor.Tensor {
	if l.backward(l, dy) {
		l.mask.apply(dy.Data, l.dx.Data)
	}
	return l.dx
}

// ReleaseBackward implements [BackwardReleaser]; the mask goes too.
func (l *SpatialDropout2D) ReleaseBackward() {
	l.buffers.ReleaseBackward()
	l.mask.scale, l.training = nil, false
}

func (l *SpatialDropout2D) Config() map[string]any {
	return map[string]any{"name": l.Name(), "rate": l.Rate}
}
