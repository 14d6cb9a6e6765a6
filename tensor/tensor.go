package tensor

import (
	"fmt"
	"math"
	"slices"
)

// Tensor is a dense float32 array of the given shape, stored row-major in Data.
// len(Data) always equals the product of Shape.
type Tensor struct {
	Shape []int
	Data  []float32
}

// New returns a zeroed tensor of the given shape.
func New(shape ...int) *Tensor {
	return &Tensor{Shape: slices.Clone(shape), Data: make([]float32, Size(shape))}
}

// FromData wraps data in a tensor of the given shape without copying.
func FromData(data []float32, shape ...int) *Tensor {
	if len(data) != Size(shape) {
		panic(fmt.Sprintf("tensor: FromData: %d values for shape %v (want %d)", len(data), shape, Size(shape)))
	}
	return &Tensor{Shape: slices.Clone(shape), Data: data}
}

// Size returns the number of elements of a shape. It panics on a negative dimension.
func Size(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("tensor: negative dimension in shape %v", shape))
		}
		n *= d
	}
	return n
}

// Len returns the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// Rank returns the number of axes.
func (t *Tensor) Rank() int { return len(t.Shape) }

// Dim returns the size of axis i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.Shape)
	}
	return t.Shape[i]
}

// Reshape returns a view with a new shape sharing t's data. One dimension may
// be -1 and is then inferred.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	shape = slices.Clone(shape)
	infer, known := -1, 1
	for i, d := range shape {
		if d == -1 {
			if infer >= 0 {
				panic("tensor: Reshape: more than one -1")
			}
			infer = i
			continue
		}
		known *= d
	}
	if infer >= 0 && known > 0 {
		shape[infer] = len(t.Data) / known
	}
	if Size(shape) != len(t.Data) {
		panic(fmt.Sprintf("tensor: Reshape %v to %v: sizes differ", t.Shape, shape))
	}
	return &Tensor{Shape: shape, Data: t.Data}
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: slices.Clone(t.Shape), Data: slices.Clone(t.Data)}
}

// Zero sets every element to 0.
func (t *Tensor) Zero() { clear(t.Data) }

// Fill sets every element to v.
func (t *Tensor) Fill(v float32) {
	for i := range t.Data {
		t.Data[i] = v
	}
}

// CopyFrom copies src's data into t; the sizes must match.
func (t *Tensor) CopyFrom(src *Tensor) {
	if len(src.Data) != len(t.Data) {
		panic(fmt.Sprintf("tensor: CopyFrom: size %d into %d", len(src.Data), len(t.Data)))
	}
	copy(t.Data, src.Data)
}

// Row returns a view of element i along the first axis (sample i of a batch).
func (t *Tensor) Row(i int) *Tensor {
	n := len(t.Data) / t.Shape[0]
	return &Tensor{Shape: slices.Clone(t.Shape[1:]), Data: t.Data[i*n : (i+1)*n]}
}

// Slice returns a view of rows [lo, hi) along the first axis.
func (t *Tensor) Slice(lo, hi int) *Tensor {
	n := len(t.Data) / t.Shape[0]
	shape := slices.Clone(t.Shape)
	shape[0] = hi - lo
	return &Tensor{Shape: shape, Data: t.Data[lo*n : hi*n]}
}

// SameShape reports whether a and b have identical shapes.
func SameShape(a, b []int) bool { return slices.Equal(a, b) }

// MustShape panics unless t has the given shape (-1 matches any size).
func (t *Tensor) MustShape(op string, shape ...int) {
	ok := len(shape) == len(t.Shape)
	for i := 0; ok && i < len(shape); i++ {
		ok = shape[i] == -1 || shape[i] == t.Shape[i]
	}
	if !ok {
		panic(fmt.Sprintf("tensor: %s: shape %v, want %v", op, t.Shape, shape))
	}
}

// ArgMax returns the index of the largest element of v (the first on ties).
func ArgMax(v []float32) int {
	best := 0
	for i := 1; i < len(v); i++ {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}

// AllFinite reports whether no element is NaN or infinite.
func (t *Tensor) AllFinite() bool {
	for _, v := range t.Data {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
	}
	return true
}

// String formats the shape, for messages.
func (t *Tensor) String() string { return fmt.Sprintf("Tensor%v", t.Shape) }
