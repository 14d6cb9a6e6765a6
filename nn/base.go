package nn

import (
	"fmt"
	"slices"

	"github.com/convnet-go/convnet/tensor"
)

// named holds a layer's instance name; every layer embeds it.
type named struct{ name string }

// Name returns the instance name set by SetName ("" until then).
func (n *named) Name() string { return n.name }

// SetName sets the instance name used in messages and model files.
func (n *named) SetName(s string) { n.name = s }

// label returns "name (Type)" or, for an unnamed layer, "Type".
func label(l Layer) string {
	if l.Name() == "" {
		return l.Type()
	}
	return l.Name() + " (" + l.Type() + ")"
}

// errorf returns an error prefixed with the layer's label.
func errorf(l Layer, format string, args ...any) error {
	return fmt.Errorf("%s: %s", label(l), fmt.Sprintf(format, args...))
}

// checkInput panics unless x has shape [N, in...] with N > 0: a mismatch
// between Build and Forward is a programming error.
func checkInput(l Layer, op string, x *tensor.Tensor, in []int) {
	if in == nil {
		panic(fmt.Sprintf("nn: %s.%s before Build", l.Type(), op))
	}
	if len(x.Shape) != len(in)+1 || x.Shape[0] <= 0 || !slices.Equal(x.Shape[1:], in) {
		panic(fmt.Sprintf("nn: %s.%s: shape %v, want [N %v]", label(l), op, x.Shape, in))
	}
}

// checkGrad panics unless dy has the shape of the last output y.
func checkGrad(l Layer, dy, y *tensor.Tensor) {
	if y == nil {
		panic(fmt.Sprintf("nn: %s.Backward before Forward", label(l)))
	}
	if !slices.Equal(dy.Shape, y.Shape) {
		panic(fmt.Sprintf("nn: %s.Backward: gradient shape %v, want %v", label(l), dy.Shape, y.Shape))
	}
}

// resize returns t reshaped to shape, reusing its storage when it is large
// enough (the contents are then stale) and allocating otherwise. Layers keep
// their buffers this way so that steady-state batches do not allocate.
func resize(t *tensor.Tensor, shape ...int) *tensor.Tensor {
	n := 1 // not tensor.Size, whose panic message would make shape escape
	for _, d := range shape {
		n *= d
	}
	if t == nil || cap(t.Data) < n || len(t.Shape) != len(shape) {
		s := make([]int, len(shape)) // not slices.Clone: shape must not escape
		copy(s, shape)
		return &tensor.Tensor{Shape: s, Data: make([]float32, n)}
	}
	copy(t.Shape, shape)
	t.Data = t.Data[:n]
	return t
}

// batchShape returns [n, in...] in dst's storage.
func batchShape(dst []int, n int, in []int) []int {
	dst = append(dst[:0], n)
	return append(dst, in...)
}

// newParam returns a parameter of the given shape; trainable parameters get
// a zeroed gradient tensor.
func newParam(name string, trainable bool, shape ...int) *Param {
	p := &Param{Name: name, Value: tensor.New(shape...), Trainable: trainable}
	if trainable {
		p.Grad = tensor.New(shape...)
	}
	return p
}

// positive reports whether every dimension is at least 1.
func positive(shape []int) bool {
	for _, d := range shape {
		if d < 1 {
			return false
		}
	}
	return true
}

// dims formats a height and width as "5x5".
func dims(h, w int) string { return fmt.Sprintf("%dx%d", h, w) }

// maxElems bounds the size of one parameter or one sample's tensor (2^28
// values, 1 GiB), so that a hostile config fails in Build instead of
// exhausting memory.
const maxElems = 1 << 28

// checkSize returns an error if a tensor of the given shape (what) would be
// larger than maxElems.
func checkSize(l Layer, what string, shape ...int) error {
	n := 1
	for _, d := range shape {
		if d < 1 || d > maxElems || n > maxElems/d {
			return errorf(l, "%s of shape %v is too large (at most %d values)", what, shape, maxElems)
		}
		n *= d
	}
	return nil
}

// weights lists a layer's kernel and, if it has one, its bias.
func weights(kernel, bias *Param) []*Param {
	if bias == nil {
		return []*Param{kernel}
	}
	return []*Param{kernel, bias}
}

// data returns t's values, or nil for no tensor.
func data(t *tensor.Tensor) []float32 {
	if t == nil {
		return nil
	}
	return t.Data
}
