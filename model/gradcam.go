package model

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// GradCAM is where one layer's maps point to for one class: Grad-CAM
// (Selvaraju et al. 2017, https://arxiv.org/abs/1610.02391). Each channel k
// of the layer's output A gets the weight α_k, the mean over the cells of
// ∂score/∂A_k (the score is the class's logit, before any softmax), and the
// map is ReLU(Σ_k α_k·A_k): the regions whose features raise the score.
type GradCAM struct {
	Class int            // the class whose score was differentiated
	Layer int            // the layer, an index of Layers
	Map   *tensor.Tensor // [h, w], the layer's height and width
}

// CAMLayer returns the layer whose maps Grad-CAM weighs unless told
// otherwise: the last convolution (Conv2D or DepthwiseConv2D), followed on
// through the layers that take its output and keep its height and width
// (a batch normalization, an activation, a residual Add), as Keras's
// Grad-CAM example takes the activation that ends a network's last
// convolutional block; -1 when the model has no convolution.
func (m *Model) CAMLayer() int {
	m.mustBeBuilt("CAMLayer")
	last := -1
	for i, l := range m.Layers {
		switch l.(type) {
		case *nn.Conv2D, *nn.DepthwiseConv2D:
			last = i
		}
	}
	if last < 0 {
		return -1
	}
	hw := m.Layers[last].OutputShape()[:2]
	for i := last + 1; i < len(m.Layers); i++ {
		if !slices.Contains(m.Inbound(i), last) {
			continue
		}
		out := m.Layers[i].OutputShape()
		if len(out) != 3 || !slices.Equal(out[:2], hw) {
			break
		}
		last = i
	}
	return last
}

// CheckCAMLayer returns layer, or the model's [Model.CAMLayer] if layer is
// negative, after checking that Grad-CAM can weigh its maps: that its
// output is an image.
func (m *Model) CheckCAMLayer(layer int) (int, error) {
	if layer < 0 {
		if layer = m.CAMLayer(); layer < 0 {
			return 0, fmt.Errorf("Grad-CAM: the model has no convolution; name a layer whose output is an image")
		}
		return layer, nil
	}
	if layer >= len(m.Layers) {
		return 0, fmt.Errorf("Grad-CAM: layer %d: the model has layers 0..%d", layer, len(m.Layers)-1)
	}
	if out := m.Layers[layer].OutputShape(); len(out) != 3 {
		return 0, fmt.Errorf("Grad-CAM: layer %d (%s) outputs shape %v, not an image [height width channels]", layer, m.Layers[layer].Name(), out)
	}
	return layer, nil
}

// gradCAMAfterForward is Grad-CAM of class over layer's maps for the one
// image of the forward pass in inference mode the layers hold: it runs
// backward from the class's logit down to the layer's output only.
func (m *Model) gradCAMAfterForward(class, layer int) *GradCAM {
	a := m.plan.outs[layer+1]
	logits := m.plan.outs[len(m.plan.outs)-1]
	m.onehot = reuse(m.onehot, logits.Shape)
	m.onehot.Zero()
	m.onehot.Data[class] = 1
	g := m.backwardTo(m.onehot, inputGradient, layer+1)
	h, w, c := a.Shape[1], a.Shape[2], a.Shape[3]
	alpha := make([]float64, c)
	for i, v := range g.Data[:h*w*c] {
		alpha[i%c] += float64(v)
	}
	cam := &GradCAM{Class: class, Layer: layer, Map: tensor.New(h, w)}
	for p := range cam.Map.Data {
		s := 0.0
		for k, v := range a.Data[p*c : (p+1)*c] {
			s += alpha[k] / float64(h*w) * float64(v)
		}
		if s > 0 && s <= math.MaxFloat32 { // ReLU; NaN and infinities count as 0
			cam.Map.Data[p] = float32(s)
		}
	}
	return cam
}

// GradCAM returns the Grad-CAM map of class (the most probable class if
// class is negative) over the maps of layer (the model's [Model.CAMLayer]
// if layer is negative) for the raw image px.
func (c *Classifier) GradCAM(ctx context.Context, px []float32, class, layer int) (*GradCAM, error) {
	if err := c.check(px); err != nil {
		return nil, err
	}
	if class >= len(c.classes) {
		return nil, fmt.Errorf("class %d: the model has classes 0..%d", class, len(c.classes)-1)
	}
	layer, err := c.model.CheckCAMLayer(layer)
	if err != nil {
		return nil, err
	}
	var cam *GradCAM
	err = c.run(ctx, func(m *Sequential) {
		logits := m.forward(c.input(nil, m, px), inferencePass)
		if class < 0 {
			class = tensor.ArgMax(logits.Data)
		}
		cam = m.gradCAMAfterForward(class, layer)
	})
	return cam, err
}
