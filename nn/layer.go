package nn

import (
	"math/rand/v2"

	"github.com/convnet-go/convnet/tensor"
)

// Layer is one stage of a sequential network. Its lifecycle follows Keras:
// configure (a struct literal with useful zero values), Build once the input
// shape is known, then Forward and Backward on batches.
//
// Shapes exclude the batch axis: an NHWC image layer built for []int{32, 32, 1}
// receives tensors of shape [N, 32, 32, 1].
type Layer interface {
	// Type is the Keras class name, such as "Conv2D".
	Type() string
	// Name is the instance name, such as "conv2d_1"; Build sets a default.
	Name() string
	SetName(string)

	// Build checks the input shape, allocates parameters (initialised from
	// rng) and returns the output shape. A shape that does not fit is an error
	// naming the layer and the problem.
	Build(in []int, rng *rand.Rand) (out []int, err error)
	// OutputShape returns the shape computed by Build.
	OutputShape() []int

	// Params returns the layer's parameters in a fixed order (nil if none).
	Params() []*Param

	// Forward computes the output for a batch. The returned tensor is owned by
	// the layer and valid until the next Forward; x is not modified and is
	// kept for Backward when training is true.
	Forward(x *tensor.Tensor, training bool) *tensor.Tensor
	// Backward takes dL/dy for the last training Forward, accumulates the
	// parameter gradients into Param.Grad and returns dL/dx (owned by the layer).
	Backward(dy *tensor.Tensor) *tensor.Tensor

	// Config returns the layer's configuration as a JSON-ready value that
	// [FromConfig] turns back into an equal, unbuilt layer.
	Config() map[string]any
}

// Param is a named weight tensor with its gradient.
type Param struct {
	Name      string         // "kernel", "bias", "gamma", "moving_mean", ...
	Value     *tensor.Tensor // the weights
	Grad      *tensor.Tensor // dL/dValue, accumulated by Backward; nil if not trainable
	Trainable bool
}
