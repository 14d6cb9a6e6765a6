package model

import (
	"fmt"
	"math"
)

// DefaultMaxMemory is the activation memory per sample above which [Load]
// and [Decode] refuse a model unless [LoadOptions].MaxMemory allows it:
// 512 MiB, a hundred times what the built-in models need, and less than a
// single image of the largest input shape a model file may declare.
const DefaultMaxMemory = 512 << 20

// MaxWeights bounds the number of weights of a model, all layers together
// (2^28 values, 1 GiB of float32; their gradients and the optimizer's state
// take as much again, each): Build refuses a model that would pass it
// before allocating the layer that would, so that a small hostile
// architecture document fails with an error instead of exhausting memory.
// It is about twice the weights of VGG-16 (138 million).
const MaxWeights = 1 << 28

// maxWeights is the limit Build applies: MaxWeights, lowered by tests.
var maxWeights int64 = MaxWeights

// ActivationBytes returns the memory, in bytes, that running the model on
// a batch of batch samples needs besides its weights: the input batch, its
// preprocessed copy and the input gradient that [Sequential.InputGradient]
// returns, every layer's output and the buffers it computes in, forward and
// backward, and the class scores.
//
// It is computed from the shapes, as an upper bound for the layers of
// package nn: per layer, three buffers the size of its output (the output;
// the probabilities of a final softmax, the normalised input of batch
// normalisation, a dropout mask or pooling indices; the output's gradient)
// and one the size of each input (the input's gradient), and in a graph one
// more per output used by several layers (the sum of their gradients).
// Convolutions also
// keep one block of im2col rows per core, whatever the batch (a few
// megabytes at most), which is not counted. Callers size their batches with
// it (see [Sequential.MaxBatch]). Sums saturate at math.MaxInt64.
func (m *Sequential) ActivationBytes(batch int) int64 {
	m.mustBeBuilt("ActivationBytes")
	const f32 = 4
	size := func(shape []int) int64 {
		n := int64(1)
		for _, d := range shape {
			n = mulSat(n, int64(d))
		}
		return n
	}
	sizes := []int64{size(m.input)} // per node: the input, then each layer's output
	for _, l := range m.Layers {
		sizes = append(sizes, size(l.OutputShape()))
	}
	total := mulSat(3, sizes[0])                     // input, preprocessed, input gradient
	total = addSat(total, mulSat(3, size(m.output))) // scores, their gradient, probabilities
	uses := make([]int, len(sizes))
	for i := range m.Layers {
		total = addSat(total, mulSat(3, sizes[i+1]))
		for _, j := range m.inbound(i) {
			total = addSat(total, sizes[j]) // the gradient of each input
			uses[j]++
		}
	}
	for j, n := range uses {
		if n > 1 { // a graph sums the gradients of an output several layers use
			total = addSat(total, sizes[j])
		}
	}
	return mulSat(total, f32, int64(max(batch, 0)))
}

// MaxBatch returns the largest batch whose [Sequential.ActivationBytes]
// fit in budget bytes (0 means [DefaultMaxMemory]), and at least 1.
func (m *Sequential) MaxBatch(budget int64) int {
	if budget == 0 {
		budget = DefaultMaxMemory
	}
	n := budget / max(m.ActivationBytes(1), 1)
	return int(min(max(n, 1), math.MaxInt32))
}

// MemoryError reports a model that needs more memory to run on one sample
// than [LoadOptions].MaxMemory allows.
type MemoryError struct {
	Need  Bytes // ActivationBytes(1)
	Limit Bytes // the MaxMemory it exceeds
	Input []int // the model's input shape
}

func (e *MemoryError) Error() string {
	return fmt.Sprintf("the model needs %v to run on one sample of shape %v, more than the limit of %v", e.Need, e.Input, e.Limit)
}

// checkMemory returns a *MemoryError if the model needs more than limit
// bytes for one sample (0 means DefaultMaxMemory, negative no limit).
func (m *Sequential) checkMemory(limit int64) error {
	if limit == 0 {
		limit = DefaultMaxMemory
	}
	if need := m.ActivationBytes(1); limit > 0 && need > limit {
		return &MemoryError{Need: Bytes(need), Limit: Bytes(limit), Input: m.InputShape()}
	}
	return nil
}

// Bytes is a size in bytes that prints with a binary unit: "900 B",
// "5.8 MiB", "1.5 GiB".
type Bytes int64

func (n Bytes) String() string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 || v >= 100 || v == math.Trunc(v) {
		return fmt.Sprintf("%.0f %s", v, units[i])
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
