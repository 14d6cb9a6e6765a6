package nn

import (
	"math/rand/v2"

	"github.com/convnet-go/convnet/tensor"
)

// AlphaDropout is the dropout of self-normalising networks (Keras's
// AlphaDropout, PyTorch's), which goes with the selu activation: in
// training each element is dropped with probability Rate and set to selu's
// limit below, α' = -SELUScale·SELUAlpha, instead of 0; then every element
// becomes a·x + b, a = ((1 - Rate)(1 + Rate·α'²))^(-1/2), b = -a·α'·Rate,
// which keeps the mean and variance of inputs of mean 0 and variance 1. At
// inference it is the identity. Rate must be in [0, 1). The mask is
// drawn as [Dropout] draws its own, from the model's source.
type AlphaDropout struct {
	Rate float64
	Dropout
}

func (l *AlphaDropout) Type() string { return "AlphaDropout" }

func (l *AlphaDropout) Build(in []int, rng *rand.Rand) ([]int, error) {
	l.Dropout.Rate, l.alpha = l.Rate, true
	return l.buildAs(l, in, rng)
}

// Forward takes Rate as it is now, as Dropout's does.
func (l *AlphaDropout) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	l.Dropout.Rate = l.Rate
	return l.Dropout.Forward(x, training)
}

func (l *AlphaDropout) Config() map[string]any {
	return map[string]any{"name": l.Name(), "rate": l.Rate}
}
