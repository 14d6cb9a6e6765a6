package nn

import (
	"fmt"

	"github.com/convnet-go/convnet/tensor"
)

// SoftmaxOutput is a layer whose output is a softmax of logits it keeps, so
// that a cross-entropy loss can be computed from the logits directly (stable
// for any logits, and with the simple gradient softmax - target). [Dense]
// and [Conv2D] with Activation "softmax", [Softmax] and [Activation] with
// Func "softmax" implement it; use [EndsInSoftmax] to ask whether a layer
// really ends in a softmax (Dense has the methods for every activation).
type SoftmaxOutput interface {
	Layer
	// Logits returns the pre-softmax values of the last Forward (nil if the
	// layer does not end in a softmax).
	Logits() *tensor.Tensor
	// BackwardLogits takes dL/dlogits, accumulates the parameter gradients
	// and returns dL/dx, like Backward.
	BackwardLogits(dz *tensor.Tensor) *tensor.Tensor
}

// EndsInSoftmax reports whether l applies a softmax last and implements
// [SoftmaxOutput].
func EndsInSoftmax(l Layer) bool {
	s, ok := l.(interface {
		SoftmaxOutput
		endsInSoftmax() bool
	})
	return ok && s.endsInSoftmax()
}

// SoftmaxRows sets dst to the softmax of src along the last axis:
// dst[r,i] = exp(src[r,i] - m) / Σ_j exp(src[r,j] - m) with m the row
// maximum, so it is finite for any finite input. dst may alias src.
func SoftmaxRows(dst, src *tensor.Tensor) {
	if !tensor.SameShape(dst.Shape, src.Shape) || len(src.Shape) == 0 {
		panic(fmt.Sprintf("nn: SoftmaxRows: shapes %v and %v", dst.Shape, src.Shape))
	}
	cols := src.Shape[len(src.Shape)-1]
	for r := 0; r < len(src.Data); r += cols {
		softmaxRow(dst.Data[r:r+cols], src.Data[r:r+cols])
	}
}

var (
	_ SoftmaxOutput = (*Dense)(nil)
	_ SoftmaxOutput = (*Conv2D)(nil)
	_ SoftmaxOutput = (*Softmax)(nil)
	_ SoftmaxOutput = (*Activation)(nil)
)
