// Package kernels holds the float32 primitives that the layers spend their
// time in: matrix multiply, convolutions ([Conv]: the forward pass and both
// gradients, planned once for a [ConvGeom]) and what they are made of
// (im2col/col2im), pooling and small vector loops.
//
// The generic Go code is always compiled and is the specification. Faster
// paths (assembly for amd64) compute the same loops and are tested against it;
// the implementation is chosen once at start-up.
//
// Every kernel that splits work across goroutines partitions its output, or
// sums fixed groups of its inputs in a fixed order, never a reduction split
// by core, so results are bit-identical whatever GOMAXPROCS is.
package kernels
