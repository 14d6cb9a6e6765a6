package nn

import (
	"math/rand/v2"

	"github.com/convnet-go/convnet/internal/kernels"
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
	// Name is the instance name, such as "conv2d_1". It is empty until set
	// (the model assigns Keras-style names); messages then use Type.
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
	// Cost returns, for input shape in, the weights Build would allocate and
	// the multiply-adds of Forward per sample, computed from the
	// configuration alone (before Build, without allocating). See [Cost].
	Cost(in []int) Cost

	// Forward computes the output for a batch x of shape [N, in...]. The
	// returned tensor is owned by the layer and valid until the next Forward.
	// x is not modified; the layer keeps a reference to it (and whatever else
	// Backward needs) after every Forward, in training and in inference, so x
	// must stay unchanged until Backward. training selects Keras's training
	// behaviour (dropout active, batch statistics).
	Forward(x *tensor.Tensor, training bool) *tensor.Tensor
	// Backward takes dL/dy for the last Forward, whichever mode it ran in,
	// adds the parameter gradients into Param.Grad (the caller zeroes them)
	// and returns dL/dx, owned by the layer and valid until the next Backward
	// (or, in a buffer lent by the caller, until the caller reuses it: see
	// [BufferSharer]). dy is not modified.
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
	// Regularizer is the weights' penalty, added to the loss by the model
	// (a layer's KernelRegularizer or BiasRegularizer).
	Regularizer Regularizer
	// Constraint is applied to the weights by the model after every
	// optimizer step (a layer's KernelConstraint or BiasConstraint).
	Constraint Constraint
}

// InputGradientSkipper is implemented by layers that can leave out dL/dx,
// which nothing needs for the first layer of a model in training ([Conv2D],
// [Dense]). After SkipInputGradient(true), Backward still adds the
// parameter gradients but returns nil; SkipInputGradient(false)
// restores dL/dx (needed for input saliency maps).
type InputGradientSkipper interface {
	SkipInputGradient(skip bool)
}

// ParamGradientSkipper is implemented by layers that can leave out their
// parameters' gradients, which nothing needs when only dL/dx is wanted
// (a saliency map: [BatchNormalization], [Conv2D], [DepthwiseConv2D],
// [Dense]). After
// SkipParamGradients(true), Backward returns the same dL/dx and leaves
// every Param.Grad as it is; SkipParamGradients(false) adds them again.
type ParamGradientSkipper interface {
	SkipParamGradients(skip bool)
}

// BF16User is implemented by the layers that can multiply in bfloat16
// ([Conv2D], [Dense]), as Keras's "mixed_bfloat16" policy and PyTorch's
// CPU autocast compute: after UseBF16(true), the products of the layer's
// matrix multiplications and convolutions (its forward pass, its input
// gradient and its weight gradient) take their operands rounded to
// bfloat16 (8 bits of precision; see internal/kernels.GemmBF16) and sum
// them in float32; the weights, the gradients, the outputs and everything
// else stay float32. UseBF16(false) goes back to float32 throughout.
type BF16User interface {
	UseBF16(on bool)
}

// PackKeeper is implemented by layers that can rearrange their weights
// once for many predictions instead of at every call ([Conv2D] packs its
// kernel for the convolution tiles, [Dense] converts its kernel to
// bfloat16 when it multiplies in bfloat16, as PyTorch's frozen models and
// oneDNN do). After KeepPacked(true), Forward in inference uses what it packed at
// its first such call since the last Forward in training: the weights must
// not be written in between other than by training. KeepPacked(false)
// drops the packing.
//
// SharePacked(src) makes the layer keep its packing in src's, a layer of
// the same type built with the same configuration and input whose weights
// it shares (the same tensors): copies of a model that predict in
// parallel then pack their weights once and keep one copy. It panics if
// src is not such a layer.
type PackKeeper interface {
	KeepPacked(keep bool)
	SharePacked(src Layer)
}

// BackwardReleaser is implemented by the layers that keep storage for a
// backward pass between calls: every layer of package nn that has
// [BufferSharer]'s buffers (some also keep what Forward leaves for
// Backward: the cells a [MaxPool2D] chose, a [Dropout]'s mask), and the
// merge layers ([Add], [Concatenate], ...), their input gradients.
// ReleaseBackward drops that storage, as PyTorch frees what autograd saved
// once a backward pass is done: the next Forward and Backward grow it again,
// with the same results, and a Backward needs a Forward after it.
// A model's Fit calls it on every layer when it returns, so that a trained
// model only keeps what predicting needs.
type BackwardReleaser interface {
	ReleaseBackward()
}

// Predictor is implemented by layers that keep less when no Backward
// follows ([Conv2D], [DepthwiseConv2D]: the input of an activation whose
// derivative reads it, such as silu or gelu; the activation then runs in
// place, in cache). Predict is Forward in inference, the same output; a
// Backward after it panics, as after ForwardPadded.
type Predictor interface {
	Predict(x *tensor.Tensor) *tensor.Tensor
}

// PaddingFuser is implemented by layers that can take the zero padding of a
// [ZeroPadding2D] before them into their own window ([Conv2D],
// [DepthwiseConv2D]): reading the unpadded image, the cells of that
// padding read as 0 as those of their own padding do. A model that only
// predicts then skips the copy the ZeroPadding2D makes (PyTorch's padded
// convolutions import as one).
type PaddingFuser interface {
	// FusePadding prepares ForwardPadded for the input the layer was built
	// for less padding, ((top, bottom), (left, right)), and reports
	// whether it can.
	FusePadding(padding [2][2]int) bool
	// ForwardPadded is Forward in inference on x, the input less the
	// padding: the same output, up to the sign of zeros. It keeps nothing
	// for Backward, which needs a Forward first.
	ForwardPadded(x *tensor.Tensor) *tensor.Tensor
}

// checkKept panics unless the layer kept its input x for Backward, which
// ForwardPadded and Predict do not.
func checkKept(l Layer, x *tensor.Tensor) {
	if x == nil {
		panic("nn: " + label(l) + ".Backward after ForwardPadded or Predict: Backward needs a Forward")
	}
}

// unpadded returns the shape in (height, width, channels) less padding, or
// nil when nothing would be left.
func unpadded(in []int, p [2][2]int) []int {
	if len(in) != 3 || min(p[0][0], p[0][1], p[1][0], p[1][1]) < 0 {
		return nil
	}
	h, w := in[0]-p[0][0]-p[0][1], in[1]-p[1][0]-p[1][1]
	if h < 1 || w < 1 {
		return nil
	}
	return []int{h, w, in[2]}
}

// unpaddedGeom returns g for an input less padding, the padding taken
// into the window's own: the same output cells reading the same values.
func unpaddedGeom(g kernels.ConvGeom, p [2][2]int) kernels.ConvGeom {
	g.H -= p[0][0] + p[0][1]
	g.W -= p[1][0] + p[1][1]
	g.PadTop += p[0][0]
	g.PadLeft += p[1][0]
	return g
}
