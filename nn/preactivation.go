package nn

import "github.com/convnet-go/convnet/tensor"

// PreActivation is a layer with an activation of its own, Keras's
// activation argument: y = act(z) (Conv2D, DepthwiseConv2D, Dense).
type PreActivation interface {
	Layer
	// Activated reports whether act is other than the identity.
	Activated() bool
	// BackwardPreActivation is Backward for dz = dL/dz, the gradient with
	// respect to the values before the activation: act's derivative is
	// left out. A channel that a ReLU holds at zero for an input has no
	// gradient through Backward; it has one through this.
	BackwardPreActivation(dz *tensor.Tensor) *tensor.Tensor
}

// linear makes *a the identity until the function it returns puts it back.
func linear(a *activation) (restore func()) {
	saved := *a
	*a = activation{kind: actLinear}
	return func() { *a = saved }
}

func (l *Conv2D) Activated() bool { return !l.act.identity() }

func (l *Conv2D) BackwardPreActivation(dz *tensor.Tensor) *tensor.Tensor {
	defer linear(&l.act)()
	if l.depthwise != nil {
		defer linear(&l.depthwise.act)()
	}
	return l.Backward(dz)
}

func (l *DepthwiseConv2D) Activated() bool { return !l.act.identity() }

func (l *DepthwiseConv2D) BackwardPreActivation(dz *tensor.Tensor) *tensor.Tensor {
	defer linear(&l.act)()
	return l.Backward(dz)
}

func (l *Dense) Activated() bool { return !l.act.identity() }

func (l *Dense) BackwardPreActivation(dz *tensor.Tensor) *tensor.Tensor {
	defer linear(&l.act)()
	return l.Backward(dz)
}
