package nn

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/convnet-go/convnet/tensor"
)

// MultiInput is a layer with several inputs: the merge layers [Add],
// [Multiply], [Average] and [Concatenate], which a model calls on the
// outputs of several layers (a skip connection, two branches). The model
// calls BuildInputs, ForwardInputs and BackwardInputs in place of Build,
// Forward and Backward, whose single input such a layer refuses: Build
// returns an error and Forward and Backward panic.
//
// The rules of [Layer] hold for every input: the inputs and dy are not
// modified, the layer keeps references to the inputs until Backward, and the
// output, the gradients and the slice holding them are owned by the layer,
// valid until its next call.
type MultiInput interface {
	Layer
	// BuildInputs checks the shapes of the inputs (at least two, without the
	// batch axis), allocates any parameters (initialised from rng) and returns the output
	// shape.
	BuildInputs(in [][]int, rng *rand.Rand) (out []int, err error)
	// ForwardInputs computes the output for the batches xs, in the order of
	// BuildInputs's shapes, each of shape [N, in[k]...].
	ForwardInputs(xs []*tensor.Tensor, training bool) *tensor.Tensor
	// BackwardInputs takes dL/dy for the last ForwardInputs and returns
	// dL/dxs, one gradient per input in order.
	BackwardInputs(dy *tensor.Tensor) []*tensor.Tensor
}

// merge holds what the merge layers share: the input and output shapes, the
// inputs of the last forward pass and the buffers.
type merge struct {
	named
	in  [][]int
	out []int
	xs  []*tensor.Tensor // the inputs of the last ForwardInputs
	y   *tensor.Tensor
	dxs []*tensor.Tensor
	dst []int // scratch for shapes
}

func (m *merge) OutputShape() []int { return m.out }
func (m *merge) Params() []*Param   { return nil }

// Cost is zero: a merge has no weights and no weighted sums.
func (m *merge) Cost(in []int) Cost { return Cost{} }

// setInputs checks that there are at least two positive input shapes and
// keeps them.
func (m *merge) setInputs(l Layer, in [][]int) error {
	if len(in) < 2 {
		return errorf(l, "a merge layer takes at least 2 inputs, got %d", len(in))
	}
	for k, s := range in {
		if len(s) == 0 || !positive(s) {
			return errorf(l, "input %d has shape %v: want at least one positive axis", k+1, s)
		}
	}
	m.in = make([][]int, len(in))
	for k, s := range in {
		m.in[k] = slices.Clone(s)
	}
	m.xs = make([]*tensor.Tensor, len(in))
	m.dxs = make([]*tensor.Tensor, len(in))
	m.y = nil
	return nil
}

// buildSame is BuildInputs for the element-wise merges, whose inputs must
// all have the same shape (Keras would also broadcast axes of size 1).
func (m *merge) buildSame(l Layer, in [][]int) ([]int, error) {
	if err := m.setInputs(l, in); err != nil {
		return nil, err
	}
	for k, s := range in[1:] {
		if !slices.Equal(s, in[0]) {
			return nil, errorf(l, "input %d has shape %v but input 1 has %v: %s needs inputs of one shape", k+2, s, in[0], l.Type())
		}
	}
	m.out = slices.Clone(in[0])
	return m.out, nil
}

// forward checks the batches against the built shapes, keeps them and sizes
// the output for n samples. It returns n.
func (m *merge) forward(l Layer, xs []*tensor.Tensor) int {
	if m.in == nil {
		panic(fmt.Sprintf("nn: %s.ForwardInputs before BuildInputs", l.Type()))
	}
	if len(xs) != len(m.in) {
		panic(fmt.Sprintf("nn: %s.ForwardInputs: %d inputs, want %d", label(l), len(xs), len(m.in)))
	}
	for k, x := range xs {
		checkInput(l, "ForwardInputs", x, m.in[k])
		if x.Shape[0] != xs[0].Shape[0] {
			panic(fmt.Sprintf("nn: %s.ForwardInputs: input %d has batch %d, input 1 has %d", label(l), k+1, x.Shape[0], xs[0].Shape[0]))
		}
	}
	copy(m.xs, xs)
	n := xs[0].Shape[0]
	m.dst = batchShape(m.dst, n, m.out)
	m.y = resize(m.y, m.dst...)
	return n
}

// sum sets the output to the element-wise sum of xs, added in input order.
func (m *merge) sum(xs []*tensor.Tensor) []float32 {
	y := m.y.Data
	copy(y, xs[0].Data)
	for _, x := range xs[1:] {
		for i, v := range x.Data[:len(y)] {
			y[i] += v
		}
	}
	return y
}

// backward checks dy and sizes the input gradients like the inputs.
func (m *merge) backward(l Layer, dy *tensor.Tensor) {
	checkGrad(l, dy, m.y)
	for k, x := range m.xs {
		m.dxs[k] = resize(m.dxs[k], x.Shape...)
	}
}

// needInputs is the error of Build on a merge layer.
func needInputs(l Layer) error {
	return errorf(l, "a merge layer takes at least 2 inputs: call it on several layers' outputs")
}

// singleInput is the panic of Forward and Backward on a merge layer.
func singleInput(l Layer, op string) string {
	return fmt.Sprintf("nn: %s.%s: a merge layer takes several inputs (use %sInputs)", label(l), op, op)
}
