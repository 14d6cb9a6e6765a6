package nn

import "github.com/convnet-go/convnet/tensor"

// Buffer is float32 storage that a [BufferSharer] layer's Backward writes
// into. It grows to the largest size asked of it and shrinks only when
// released; its contents are stale between uses. The zero value is an empty
// buffer.
//
// A model lends one Buffer to several layers whose values are never needed
// at the same time: a layer's input gradient is read only until the
// previous layer's Backward has consumed it, so a stack of layers needs a
// couple of activation-sized buffers for its whole backward pass instead of
// one per layer.
type Buffer struct{ data []float32 }

// Cap returns the number of values the buffer holds.
func (b *Buffer) Cap() int { return cap(b.data) }

// Reserve grows b to hold at least n values at once, so that a pass that
// asks for ever larger sizes does not leave each smaller storage behind.
func (b *Buffer) Reserve(n int) {
	if cap(b.data) < n {
		b.data = make([]float32, n)
	}
}

// Release drops b's storage: the next use grows it again. The tensors over
// it that were handed out keep the old storage alive until they are
// dropped or given other storage.
func (b *Buffer) Release() { b.data = nil }

// Tensor returns a new tensor of the given shape over the first values of
// b, growing b if needed: how a caller puts dy in the buffer it lends a
// layer as scratch (see [BufferSharer]).
func (b *Buffer) Tensor(shape ...int) *tensor.Tensor { return b.tensor(nil, shape...) }

// tensor returns t reshaped to shape over the first values of b, growing b
// if needed; t's shape storage is reused when it has the right length.
func (b *Buffer) tensor(t *tensor.Tensor, shape ...int) *tensor.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	b.Reserve(n)
	if t == nil || len(t.Shape) != len(shape) {
		s := make([]int, len(shape)) // not slices.Clone: shape must not escape
		copy(s, shape)
		t = &tensor.Tensor{Shape: s}
	}
	copy(t.Shape, shape)
	t.Data = b.data[:n]
	return t
}

// BufferSharer is implemented by the layers of one input whose Backward can
// compute in storage lent by the caller: every such layer of package nn.
//
// After ShareBuffers(dx, scratch), Backward writes dL/dx into dx and keeps
// the values it needs only while it runs in scratch (such as a
// convolution's gradient through its activation), instead of buffers of its
// own. The returned dL/dx then stays valid until dx is next written, by
// this layer or another: the caller must not lend dx to another layer
// before it has consumed the gradient. dx and scratch must differ.
//
// scratch may be the buffer that holds dy, from its first value (see
// [Buffer.Tensor]), when the caller needs dy no more after Backward: the
// layer then overwrites dy with its temporary values, each computed from
// the values of dy at the same place, and reads dy no more, which saves a
// buffer the size of dy. Otherwise dy is not modified. dx must never hold
// dy.
//
// ShareBuffers(nil, nil) gives the layer buffers of its own again. Forward
// and the values Backward keeps between calls are unaffected, and so are
// the results, bit for bit.
type BufferSharer interface {
	ShareBuffers(dx, scratch *Buffer)
}

// buffers is the storage of a layer's input gradient and of its Backward's
// temporary values: its own, or lent (see [BufferSharer]). Layers embed it.
type buffers struct {
	own         [2]Buffer
	dx, scratch *Buffer           // lent; nil for the layer's own
	handed      [2]*tensor.Tensor // the tensors grad and temp last returned
}

// ShareBuffers implements [BufferSharer]; the layer's own storage is
// released while it borrows.
func (b *buffers) ShareBuffers(dx, scratch *Buffer) {
	if (dx == nil) != (scratch == nil) || dx != nil && dx == scratch {
		panic("nn: ShareBuffers: dx and scratch must be two buffers, or both nil")
	}
	b.dx, b.scratch = dx, scratch
	b.own = [2]Buffer{}
}

// grad returns t reshaped to shape in the input gradient's storage.
func (b *buffers) grad(t *tensor.Tensor, shape ...int) *tensor.Tensor {
	if b.dx == nil {
		b.handed[0] = b.own[0].tensor(t, shape...)
	} else {
		b.handed[0] = b.dx.tensor(t, shape...)
	}
	return b.handed[0]
}

// temp returns t reshaped to shape in the storage of Backward's temporary
// values.
func (b *buffers) temp(t *tensor.Tensor, shape ...int) *tensor.Tensor {
	if b.scratch == nil {
		b.handed[1] = b.own[1].tensor(t, shape...)
	} else {
		b.handed[1] = b.scratch.tensor(t, shape...)
	}
	return b.handed[1]
}

// ReleaseBackward implements [BackwardReleaser] for the storage of the
// input gradient and the temporary values: the layer's own is dropped, and
// the tensors handed out over its own or lent storage let go of it (their
// Data is nil until the next Backward), so that the lender can release its
// buffers too.
func (b *buffers) ReleaseBackward() {
	b.own = [2]Buffer{}
	for _, t := range b.handed {
		if t != nil {
			t.Data = nil
		}
	}
}
