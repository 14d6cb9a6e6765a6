// Package kernels holds the float32 primitives that the layers spend their
// time in: matrix multiply, im2col/col2im and small vector loops.
//
// The generic Go code is always compiled and is the specification. Faster
// paths (assembly for amd64) compute the same loops and are tested against it;
// the implementation is chosen once at start-up.
//
// Every kernel that splits work across goroutines partitions its output, never
// a reduction, so results are bit-identical whatever GOMAXPROCS is.
package kernels
