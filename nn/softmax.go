package nn

import (
	"fmt"

	"github.com/convnet-go/convnet/tensor"
)

// FinalSoftmax is implemented by the layers that can end in a softmax along
// their last axis: [Dense] and [Conv2D] with Activation "softmax",
// [Softmax], and [Activation] with Func "softmax" (the other activation
// layers have the method and report false).
//
// A classifier's final softmax belongs to its loss: [CrossEntropy] takes the
// logits, the softmax's input, and applies the softmax inside the loss,
// which keeps the loss finite for any logits and its gradient simply
// softmax(z) - target. So a model calls OmitSoftmax(true) on its last layer
// when it builds: the layer then outputs the logits in every mode, its
// Backward takes dL/dlogits, and the model applies the softmax itself
// ([SoftmaxRows]) where it wants probabilities. The layer's configuration
// still says softmax.
type FinalSoftmax interface {
	// OmitSoftmax(true) leaves out the layer's softmax and OmitSoftmax(false)
	// restores it, as Build does. It reports whether the layer has a
	// softmax to leave out.
	OmitSoftmax(omit bool) bool
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
	_ FinalSoftmax = (*Dense)(nil)
	_ FinalSoftmax = (*Conv2D)(nil)
	_ FinalSoftmax = (*Softmax)(nil)
	_ FinalSoftmax = (*Activation)(nil)
)
