// Package nn holds the layers, activations, initialisers and losses of
// convnet. Their names, defaults and output-shape rules are Keras's, so a
// Keras model reads the same here:
//
//	layers := []nn.Layer{
//		&nn.Conv2D{Filters: 32, KernelSize: [2]int{5, 5}, Padding: "same", Activation: "relu"},
//		&nn.MaxPool2D{},
//		&nn.Dropout{Rate: 0.25},
//		&nn.Flatten{},
//		&nn.Dense{Units: 28, Activation: "softmax"},
//	}
//
// # Lifecycle
//
// A layer is a struct literal whose zero fields mean Keras's defaults
// (strides 1, padding "valid", a bias, a linear activation, Glorot-uniform
// kernels, zero biases). [Layer.Build] receives the input shape without the
// batch axis and a seeded *rand.Rand, checks that the layer fits (positive
// filters and units, a kernel no larger than a "valid" input, a dropout rate
// in [0, 1), a known activation, the input rank), draws the initial weights
// and returns the output shape. Problems are errors that name the layer:
//
//	conv2d_1 (Conv2D): kernel 5x5 is larger than the 3x3 input with padding "valid"
//
// Layers are unnamed until the model names them (conv2d, conv2d_1, ... from
// [DefaultName]); an unnamed layer is called by its type in messages.
// [Layer.Forward] and [Layer.Backward] then run on batches [N, in...]; a
// batch that does not match Build's shape is a programming error and panics
// with a message starting "nn: ". Check user data before it gets here.
//
// [Layer.Config] returns Keras-style keys (filters, kernel_size, strides,
// padding, use_bias, activation, kernel_initializer, units, rate, pool_size,
// momentum, epsilon, alpha, name) with defaults spelled out, and
// [FromConfig] turns such a map, as decoded from JSON, back into an equal,
// unbuilt layer. Unknown types, unknown keys and wrong kinds of values are
// errors naming them.
//
// # Layers and shapes
//
//	Conv2D                 [N,H,W,C] → [N,OH,OW,Filters]   kernel [kh,kw,C/g,Filters] (HWIO), bias [Filters]; g = Groups, taps DilationRate apart
//	DepthwiseConv2D        [N,H,W,C] → [N,OH,OW,C·M]       depthwise_kernel [kh,kw,C,M], bias [C·M]; M = DepthMultiplier, taps DilationRate apart
//	MaxPool2D              [N,H,W,C] → [N,OH,OW,C]         Keras class name MaxPooling2D
//	AveragePooling2D       [N,H,W,C] → [N,OH,OW,C]
//	ZeroPadding2D          [N,H,W,C] → [N,t+H+b,l+W+r,C]  Padding ((t, b), (l, r)) of zeros
//	Cropping2D             [N,H,W,C] → [N,H-t-b,W-l-r,C]  Cropping ((t, b), (l, r)) cut off the edges
//	UpSampling2D           [N,H,W,C] → [N,H·sh,W·sw,C]     Size (sh, sw); each cell repeated ("nearest") or "bilinear" with half-pixel centres
//	Resizing               [N,H,W,C] → [N,Height,Width,C]  "bilinear" or "nearest" as tf.image.resize; CropToAspectRatio cuts a centred window first
//	GlobalAveragePooling2D [N,H,W,C] → [N,C]               [N,1,1,C] with KeepDims
//	GlobalMaxPooling2D     [N,H,W,C] → [N,C]               [N,1,1,C] with KeepDims
//	Flatten                [N,d1,d2,...] → [N,d1·d2·...]   row-major (HWC) order
//	Dense                  [N,...,in] → [N,...,Units]      kernel [in,Units], bias [Units]; along the last axis (each pixel of an image)
//	ChannelShuffle         [N,...,C] → [N,...,C]           channel i·g + k from channel k·C/g + i; g = Groups (ShuffleNet)
//	ChannelSlice           [N,...,C] → [N,...,End-Start]   the channels Start to End-1
//	Dropout                any → same                      NoiseShape (Keras's noise_shape) shares draws along its axes of size 1
//	SpatialDropout2D       [N,H,W,C] → same                drops whole channels of each image (PyTorch Dropout2d)
//	AlphaDropout           any → same                      selu's dropout: keeps the mean and variance
//	GaussianNoise          any → same                      x + N(0, Stddev²) in training
//	GaussianDropout        any → same                      x·N(1, Rate/(1-Rate)) in training
//	BatchNormalization     any → same                      over the last axis; gamma, beta, moving_mean, moving_variance
//	ReLU, LeakyReLU, ELU, Softmax, Activation   any → same
//	PReLU                  any → same                      alpha: the input's shape, 1 along SharedAxes ([1, 1, C] for [1, 2] on an image)
//	LayerNormalization     any → same                      (x - mean) / sqrt(var + Epsilon)·gamma + beta per sample over Axis (default the last); gamma, beta of Axis's sizes
//	GroupNormalization     any → same                      as LayerNormalization per sample over each of Groups runs of channels (default 32; -1: one per channel); gamma, beta [C]
//	LayerScale             any → same                      x·gamma, gamma [C] over the last axis from InitValues (ConvNeXt's)
//	Normalization          any → same                      (x - mean) / max(√variance, 1e-7), per index of Axis (default the last); mean, variance, count adapted, or given
//	Reshape                [N,s...] → [N,TargetShape...]   the same values in row-major order (one size may be -1)
//	Rescaling              any → same                      x·Scale + Offset (Keras Rescaling: Scale 1/255 takes pixels to 0..1); Scales, Offsets per channel
//	Add, Multiply, Average [N,s...] × k → [N,s...]         element-wise over k ≥ 2 inputs of one shape, or of size 1 where they differ (broadcast)
//	Subtract               [N,s...] × 2 → [N,s...]         x1 - x2, broadcast as Add
//	ScaledAdd              [N,s...] × 2 → [N,s...]         x1 + x2·Scale, broadcast as Add (Keras's InceptionResNetV2's CustomScaleLayer)
//	Maximum, Minimum       [N,s...] × k → [N,s...]         the largest (smallest) of k ≥ 2 inputs, broadcast as Add
//	Concatenate            [N,...,ci,...] × k → [N,...,Σci,...]   along Axis (default the last)
//
// The merge layers (Add, Multiply, Average, Subtract, ScaledAdd, Maximum,
// Minimum, Concatenate) take several inputs:
// they implement [MultiInput], whose BuildInputs, ForwardInputs and
// BackwardInputs a model calls when it joins the outputs of several layers
// (a residual block's shortcut, two branches). Their single-input Build
// fails and their Forward and Backward panic.
//
// For windows (convolutions and pools) with size k and stride s on an axis
// of length n, "valid" gives floor((n-k)/s)+1 and "same" gives ceil(n/s),
// padded with max((out-1)·s+k-n, 0) cells split like TensorFlow: the
// smaller half before, the odd cell after. Pools ignore padded cells: a
// max pool never picks them and an average divides by the number of cells
// inside the image, as Keras does.
//
// Dense applies its kernel along the last axis, as Keras does: on an image
// it weighs each pixel's channels (a 1×1 convolution, as Keras's ConvNeXt
// writes them), so a classifier needs a Flatten or a global pooling before
// its Dense layers; [model.Model.Compile] says so when the output is not a
// vector of class scores.
//
// Max pooling sends the gradient of each window to its first maximum in
// scan order (row by row, left to right); overlapping windows add up.
//
// BatchNormalization uses the batch statistics in training (the biased
// variance, also for the moving average, as in Keras 3) and the moving
// averages at inference. Its Momentum and Epsilon fields treat 0 as Keras's
// defaults 0.99 and 1e-3. Dropout draws its mask from the *rand.Rand given
// to Build and keeps it: the model owns that source.
//
// # Activations
//
// The functions of [ActivationNames] (linear, relu, relu6, leaky_relu, elu,
// selu, gelu, sigmoid, tanh, softmax, softplus, softsign, silu, mish,
// hard_sigmoid, hard_silu) are shared by the Activation option of [Conv2D],
// [DepthwiseConv2D] and [Dense] and by the activation layers. As in Keras,
// the string "leaky_relu" has slope 0.2 while the [LeakyReLU] layer
// defaults to 0.3, "swish" is silu (x·σ(x)) and "hard_swish" hard_silu
// (x·hard_sigmoid(x)); hard_sigmoid is Keras 3's and PyTorch's,
// relu6(x+3)/6. gelu is the exact x·Φ(x) (Φ the normal distribution
// function), Keras's default and PyTorch's, not the tanh approximation;
// selu is 1.0507·elu(x, 1.6733); mish is x·tanh(softplus(x)). Softmax works
// along the last axis (the channels of a Conv2D output).
//
// # Buffers and aliasing
//
// A layer allocates its outputs and scratch buffers on first use and reuses
// them: batches of any size up to the largest seen so far cost no
// allocation, in Forward and Backward alike. Consequently:
//
//   - the tensor returned by Forward is owned by the layer and overwritten by
//     the next Forward; the one returned by Backward, by the next Backward.
//     Clone what you keep.
//   - Forward never modifies x but keeps a reference to it, so x must stay
//     unchanged until Backward. Backward never modifies dy.
//   - A model lends its layers' Backward the buffers of their input
//     gradients and temporary values ([BufferSharer]), a few for all the
//     layers: a gradient then lives until the model has consumed it, and
//     the temporary values may take the place of a dy the model needs no
//     more.
//   - Forward keeps what Backward needs in both modes, so Backward after an
//     inference Forward differentiates the inference function (saliency
//     maps need this).
//   - Backward adds into Param.Grad; the caller zeroes the gradients.
//
// # Speed and determinism
//
// [Conv2D] runs a convolution planned at Build (internal/kernels.Conv):
// GEMM micro-kernels that read the windows straight from the image
// (convolution tiles), from im2col blocks still in cache where they cannot,
// or directly for 1×1 convolutions; the input gradient of a stride-1
// convolution is itself such a convolution. A dilated convolution runs as
// undilated ones over the phases of its input (see DilationRate); a
// dilated [DepthwiseConv2D] reads its taps in place.
// Bias and ReLU are applied as each tile is written, other activations to
// each block while it is in cache, and their derivatives likewise. Blocks are spread over the cores; the kernel
// gradient is summed per fixed group of images and the groups are added in
// order, so results are bit-identical whatever GOMAXPROCS is.
// [BatchNormalization] and the activation layers cut their passes into
// pieces for the cores in the same way: fixed pieces of rows, and sums over
// the batch per group of 16 features, each feature's sum in row order; with
// AVX-512, batch normalisation's loops are vector loops that perform the
// same float operations as the Go ones.
//
// [Conv2D] and [Dense] can multiply in bfloat16 ([BF16User], Keras's
// mixed_bfloat16 policy): their operands rounded to bfloat16, the products
// summed in float32 by AVX512-BF16's VDPBF16PS, about twice the float32
// rate; everything else stays float32.
//
// # Cost
//
// [Layer.Cost] gives, for an input shape and before Build, the weights a
// layer will allocate and its multiply-adds per sample, saturating on
// overflow: a model file is checked against it before any weight is
// allocated, and benchmarks turn it into FLOP counts.
//
// # Softmax and cross-entropy
//
// Losses take logits. [CrossEntropy.FromLogits] computes the loss
// log-sum-exp(z) - z[target], finite for any logits, and its gradient
// softmax(z) - target, where going through the probabilities would lose
// precision. A classifier written the Keras way still ends in
// Activation "softmax": the model asks that last layer to leave its softmax
// to the loss ([FinalSoftmax]), so the network computes logits in training,
// evaluation and prediction alike, and [SoftmaxRows] turns them into
// probabilities where they are wanted.
//
// # Initialisers
//
// Dense, Conv2D and DepthwiseConv2D take Keras's kernel and bias
// regularizers ([Regularizer]: L1·Σ|w| + L2·Σw²), which set their
// parameters' Regularizer, and constraints ([Constraint]: max_norm,
// min_max_norm, unit_norm, non_neg), which set their Constraint; the
// model adds the penalties to the loss and their gradients to the
// weights', and applies the constraints after every optimizer step.
//
// Kernels use Keras's initialisers ([InitializerNames]): glorot_uniform
// (the default), glorot_normal, he_uniform, he_normal, lecun_uniform,
// lecun_normal and zeros by name, and the configurable ones as calls,
// such as variance_scaling(scale=2, mode=fan_out,
// distribution=truncated_normal) (Keras's EfficientNet), random_normal,
// truncated_normal and random_uniform; Keras's initializer objects read
// as these ([InitializerText]). A convolution's fan_in is kh·kw·cin, its
// fan_out kh·kw·filters; the truncated normals redraw values beyond two
// deviations, and variance scaling's are rescaled by 1/0.8796 as in
// Keras. Biases start at zero.
//
// # Testing
//
// Every layer and the loss pass the harness of package nntest: shapes,
// parameter counts, config round trip, finite-difference gradients in
// float64 and a training step that lowers the loss.
//
// References: Keras layers (https://keras.io/api/layers/); im2col as in
// Chellapilla et al., "High Performance Convolutional Neural Networks for
// Document Processing" (2006); batch normalisation, Ioffe & Szegedy 2015.
package nn
