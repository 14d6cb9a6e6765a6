package nn

import (
	"math/rand/v2"

	"github.com/convnet-go/convnet/tensor"
)

// A Conv2D of one group per input channel (Groups = C; Keras's ConvNeXt
// writes its 7×7 convolutions so) is a DepthwiseConv2D of depth multiplier
// Filters/C, and its kernel [kh, kw, 1, Filters] holds the depthwise
// kernel [kh, kw, C, Filters/C] value for value: filter f = c·M + m reads
// channel c alone. The layer runs it through its DepthwiseConv2D, which
// reads the layer's own kernel and bias and adds into their gradients,
// rather than as C convolutions of one channel each.

// planDepthwise builds the DepthwiseConv2D the layer runs on inputs of
// shape in.
func (l *Conv2D) planDepthwise(in []int) error {
	dw := &DepthwiseConv2D{KernelSize: l.KernelSize, Strides: l.Strides, Padding: l.Padding, DepthMultiplier: l.Filters / in[2],
		DilationRate: l.DilationRate, NoBias: l.NoBias, Activation: l.Activation}
	dw.SetName(l.Name())
	// Its own weights are never read: the draws go to a source of its own.
	if _, err := dw.Build(in, rand.New(rand.NewPCG(0, 0))); err != nil {
		return err
	}
	dw.ShareBuffers(l.buffers.dx, l.buffers.scratch)
	l.depthwise = dw
	return nil
}

// lend points the DepthwiseConv2D's weights and gradients at the layer's
// (a replica's weights are swapped in after Build) and passes on the
// layer's settings.
func (l *Conv2D) lend() *DepthwiseConv2D {
	dw := l.depthwise
	dw.kernel.Value.Data, dw.kernel.Grad.Data = l.kernel.Value.Data, l.kernel.Grad.Data
	if l.bias != nil {
		dw.bias.Value.Data, dw.bias.Grad.Data = l.bias.Value.Data, l.bias.Grad.Data
	}
	dw.skipDx, dw.skipDw = l.skipDx, l.skipDw
	return dw
}

// forwardDepthwise is forward through the DepthwiseConv2D.
func (l *Conv2D) forwardDepthwise(x *tensor.Tensor, training, keep bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	l.x = x
	if keep {
		l.y = l.lend().Forward(x, training)
	} else {
		l.y = l.lend().Predict(x)
	}
	return l.y
}

// ShareBuffers implements [BufferSharer], for the DepthwiseConv2D too.
func (l *Conv2D) ShareBuffers(dx, scratch *Buffer) {
	l.buffers.ShareBuffers(dx, scratch)
	if l.depthwise != nil {
		l.depthwise.ShareBuffers(dx, scratch)
	}
}
