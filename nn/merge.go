package nn

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/convnet-go/convnet/internal/kernels"
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
	dxs []*tensor.Tensor // the gradients of xs; of a broadcast input, at the output's shape
	dst []int            // scratch for shapes

	elementwise bool // built by buildSame: inputs may be broadcast
	// For the inputs broadcast along axes of size 1 (nil for the others):
	wide  []*tensor.Tensor // the input repeated to the output's shape (see wideInput)
	grads []*tensor.Tensor // what BackwardInputs returns: dxs summed back to the inputs' shapes
	sums  []*tensor.Tensor // the summed gradients
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
	m.elementwise = false
	m.xs = make([]*tensor.Tensor, len(in))
	m.dxs = make([]*tensor.Tensor, len(in))
	m.wide = make([]*tensor.Tensor, len(in))
	m.grads = make([]*tensor.Tensor, len(in))
	m.sums = make([]*tensor.Tensor, len(in))
	m.y = nil
	return nil
}

// buildSame is BuildInputs for the element-wise merges. As in Keras, the
// inputs have one rank and, along each axis, one size or size 1: an input
// of size 1 is repeated along that axis (broadcast), as a squeeze-and-
// excitation block scales an [H,W,C] map by [1,1,C] channel weights.
func (m *merge) buildSame(l Layer, in [][]int) ([]int, error) {
	if err := m.setInputs(l, in); err != nil {
		return nil, err
	}
	out := slices.Clone(in[0])
	for k, s := range in[1:] {
		ok := len(s) == len(out)
		for ax := 0; ok && ax < len(s); ax++ {
			ok = s[ax] == out[ax] || s[ax] == 1 || out[ax] == 1
			out[ax] = max(out[ax], s[ax])
		}
		if !ok {
			return nil, errorf(l, "input %d has shape %v but input 1 has %v: %s needs inputs of one shape, or of size 1 along the axes where they differ", k+2, s, in[0], l.Type())
		}
	}
	m.out, m.elementwise = out, true
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

// repeated reports whether input k is broadcast along axes of size 1.
func (m *merge) repeated(k int) bool { return m.elementwise && !slices.Equal(m.in[k], m.out) }

// perChannel returns the channels of input k when it is broadcast from one
// value per channel (its shape all ones but the output's last axis), or 0.
func (m *merge) perChannel(k int) int {
	in := m.in[k]
	if !m.repeated(k) || len(in) == 0 || in[len(in)-1] != m.out[len(m.out)-1] {
		return 0
	}
	for _, v := range in[:len(in)-1] {
		if v != 1 {
			return 0
		}
	}
	return in[len(in)-1]
}

// combine sets the output to the element-wise sum (or product, mul) of the
// inputs, taken in input order, each broadcast to the output's shape.
func (m *merge) combine(mul bool) []float32 {
	y := m.y.Data
	op := rowOp(mul)
	if len(m.xs) == 2 {
		if !m.repeated(0) && !m.repeated(1) {
			op(y, m.xs[0].Data[:len(y)], m.xs[1].Data[:len(y)])
			return y
		}
		// One value per channel for the other input's every cell (a
		// squeeze-and-excitation block's scales): image by image, a row
		// operation (a+b and a·b are b+a and b·a exactly).
		for k := range 2 {
			if c := m.perChannel(k); c > 0 && !m.repeated(1-k) {
				n := m.y.Shape[0]
				size, x, g := len(y)/n, m.xs[1-k].Data, m.xs[k].Data
				for i := range n {
					op(y[i*size:(i+1)*size], x[i*size:(i+1)*size], g[i*c:(i+1)*c])
				}
				return y
			}
		}
	}
	if m.repeated(0) {
		broadcast(y, m.xs[0].Data, m.y.Shape, m.xs[0].Shape)
	} else {
		copy(y, m.xs[0].Data)
	}
	for k, x := range m.xs[1:] {
		if m.repeated(k + 1) {
			combineBroadcast(y, x.Data, m.y.Shape, x.Shape, mul)
		} else {
			op(y, y, x.Data[:len(y)])
		}
	}
	return y
}

// rowOp returns the sum (or product, mul) of rows and a vector,
// kernels.AddRows or kernels.MulRows: with a vector as long as the rows,
// the element-wise sum or product.
func rowOp(mul bool) func(y, z, b []float32) {
	if mul {
		return kernels.MulRows
	}
	return kernels.AddRows
}

// combineBroadcast sets y[i] += x[i], or y[i] *= x[i] (mul), with x, of
// shape in, repeated along the axes where in has size 1 to y's shape out.
func combineBroadcast(y, x []float32, out, in []int, mul bool) {
	if len(out) == 1 {
		if in[0] == out[0] {
			rowOp(mul)(y, y, x[:len(y)])
			return
		}
		v := x[0]
		if mul {
			for i := range y {
				y[i] *= v
			}
			return
		}
		for i := range y {
			y[i] += v
		}
		return
	}
	ys, xs := tensor.Size(out[1:]), tensor.Size(in[1:])
	for i := range out[0] {
		j := i
		if in[0] == 1 {
			j = 0
		}
		combineBroadcast(y[i*ys:(i+1)*ys], x[j*xs:(j+1)*xs], out[1:], in[1:], mul)
	}
}

// wideInput returns the values of input k at the output's shape: the input
// itself, or for a broadcast one its repetition, written on each call
// (Multiply's gradients need it; the forward pass broadcasts as it goes).
func (m *merge) wideInput(k int) []float32 {
	if !m.repeated(k) {
		return m.xs[k].Data
	}
	m.wide[k] = resize(m.wide[k], m.y.Shape...)
	broadcast(m.wide[k].Data, m.xs[k].Data, m.y.Shape, m.xs[k].Shape)
	return m.wide[k].Data
}

// broadcast sets y, of shape out, to x, of shape in, repeated along the
// axes where in has size 1.
func broadcast(y, x []float32, out, in []int) {
	if len(out) == 1 {
		if in[0] == out[0] {
			copy(y, x)
			return
		}
		for i := range y {
			y[i] = x[0]
		}
		return
	}
	ys, xs := tensor.Size(out[1:]), tensor.Size(in[1:])
	for i := range out[0] {
		j := i
		if in[0] == 1 {
			j = 0
		}
		broadcast(y[i*ys:(i+1)*ys], x[j*xs:(j+1)*xs], out[1:], in[1:])
	}
}

// sumBroadcast adds dy, of shape out, to dx, of shape in, summing along the
// axes where in has size 1, in index order: the gradient of broadcast.
func sumBroadcast(dx, dy []float32, out, in []int) {
	if len(out) == 1 {
		if in[0] == out[0] {
			for i, v := range dy[:len(dx)] {
				dx[i] += v
			}
			return
		}
		for _, v := range dy {
			dx[0] += v
		}
		return
	}
	ys, xs := tensor.Size(out[1:]), tensor.Size(in[1:])
	for i := range out[0] {
		j := i
		if in[0] == 1 {
			j = 0
		}
		sumBroadcast(dx[j*xs:(j+1)*xs], dy[i*ys:(i+1)*ys], out[1:], in[1:])
	}
}

// sum sets the output to the element-wise sum of the inputs, added in
// input order.
func (m *merge) sum() []float32 { return m.combine(false) }

// backward checks dy and sizes the input gradients like the inputs at the
// output's shape.
func (m *merge) backward(l Layer, dy *tensor.Tensor) {
	checkGrad(l, dy, m.y)
	for k, x := range m.xs {
		if m.repeated(k) {
			m.dxs[k] = resize(m.dxs[k], m.y.Shape...)
		} else {
			m.dxs[k] = resize(m.dxs[k], x.Shape...)
		}
	}
}

// ReleaseBackward implements [BackwardReleaser]: the input gradients and
// their sums go.
func (m *merge) ReleaseBackward() {
	clear(m.dxs)
	clear(m.grads)
	clear(m.sums)
}

// gradients returns the input gradients: dxs, with those of broadcast
// inputs summed back to their shapes.
func (m *merge) gradients() []*tensor.Tensor {
	copy(m.grads, m.dxs)
	for k, x := range m.xs {
		if !m.repeated(k) {
			continue
		}
		m.sums[k] = resize(m.sums[k], x.Shape...)
		clear(m.sums[k].Data)
		sumBroadcast(m.sums[k].Data, m.dxs[k].Data, m.dxs[k].Shape, x.Shape)
		m.grads[k] = m.sums[k]
	}
	return m.grads
}

// needInputs is the error of Build on a merge layer.
func needInputs(l Layer) error {
	return errorf(l, "a merge layer takes at least 2 inputs: call it on several layers' outputs")
}

// singleInput is the panic of Forward and Backward on a merge layer.
func singleInput(l Layer, op string) string {
	return fmt.Sprintf("nn: %s.%s: a merge layer takes several inputs (use %sInputs)", label(l), op, op)
}
