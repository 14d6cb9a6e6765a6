package web

import "github.com/convnet-go/convnet/tensor"

// Network is what the server needs from a trained model. [FromSequential]
// adapts a *model.Sequential; tests use small hand-written networks.
//
// A Network is not safe for concurrent use: the server keeps a pool of
// clones per model and gives each request its own.
type Network interface {
	// InputShape is the shape of one input image, [H, W, C].
	InputShape() []int
	// ClassNames names the output classes, such as "alef ا" or "7".
	ClassNames() []string
	// Summary is the Keras-style summary table as text.
	Summary() string
	// Layers describes the layers in order; the parameters are shared with
	// the network and must not be modified.
	Layers() []LayerInfo
	// Meta returns the free-form metadata stored with the model ("" if absent).
	Meta(key string) string
	// Preprocess writes into dst the network input for raw pixels 0..255
	// (the standardisation used in training). dst and src have the same length.
	Preprocess(dst, src []float32)
	// Forward returns every layer's output for the batch x (inference mode).
	// The tensors are owned by the network and valid until its next call.
	Forward(x *tensor.Tensor) []*tensor.Tensor
	// Probabilities writes into dst the class probabilities for out, the
	// last layer's output from Forward (a copy when the network ends in a
	// softmax). Both have the shape [N, classes].
	Probabilities(dst, out *tensor.Tensor)
	// Saliency returns the gradient of the score of class with respect to
	// the input batch x, of x's shape.
	Saliency(x *tensor.Tensor, class int) *tensor.Tensor
	// Clone returns an independent copy sharing nothing mutable.
	Clone() Network
}

// LayerInfo describes one layer of a [Network].
type LayerInfo struct {
	Name        string
	Type        string         // Keras class name, such as "Conv2D"
	OutputShape []int          // without the batch axis
	Config      map[string]any // the layer's configuration, as saved
	Params      []Param
}

// Param is a named weight tensor of a layer, such as "kernel" or "bias".
type Param struct {
	Name  string
	Value *tensor.Tensor
}

// param returns the layer's parameter called name, or nil.
func (l *LayerInfo) param(name string) *Param {
	for i := range l.Params {
		if l.Params[i].Name == name {
			return &l.Params[i]
		}
	}
	return nil
}
