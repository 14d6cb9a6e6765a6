// Package tensor holds the one array type of convnet: a dense, contiguous,
// row-major float32 tensor.
//
// # Layout
//
// Images are batch-major NHWC (batch, height, width, channels), like Keras's
// channels_last. Convolution kernels are HWIO (height, width, in, out); dense
// kernels are (in, out). The last axis varies fastest.
//
// # Aliasing
//
// A [Tensor] is a shape plus a slice. [Tensor.Reshape] returns a view that shares
// the data. Functions that write a result take the destination first and never
// modify their other arguments; the destination may not alias an input unless
// the function's comment says so.
//
// # Errors
//
// A shape mismatch inside the library is a programming error and panics with a
// message prefixed "tensor: ". Data from users (files, flags, HTTP bodies) is
// checked before it reaches a tensor and reported as an error.
package tensor
