package model

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// CAM is a class activation map: where one layer's maps raise the score
// of one class (its logit, before any softmax), from the gradient G of
// the score with respect to the layer's output A, a map of the layer's
// height and width, by one of two methods:
//
//   - "gradcam", Grad-CAM (Selvaraju et al. 2017,
//     https://arxiv.org/abs/1610.02391): ReLU(Σ_k α_k·A_k), each channel
//     weighed by α_k, the mean of G_k over the cells;
//   - "hirescam", HiResCAM (Draelos and Carin 2020,
//     https://arxiv.org/abs/2011.08891): ReLU(Σ_k G_k⊙A_k), each cell
//     weighed by its own gradient. After a global average pool both are
//     the same map; where a Dense layer weighs every position on its own
//     (a Flatten), HiResCAM shows the cells whose features the score adds
//     up, where Grad-CAM's averages may cancel out.
//
// [Classifier.Occlusion] gives its map as a CAM of method "occlusion", of
// the input (layer -1).
type CAM struct {
	Method string         // "gradcam", "hirescam" or "occlusion"
	Class  int            // the class whose score was differentiated
	Layer  int            // the layer, an index of Layers; -1: the input
	Map    *tensor.Tensor // [h, w], the layer's height and width
}

// CAMMethods are the methods of [CAM]: the two above, and "occlusion", the
// map of the input that [Classifier.Occlusion] makes with its default
// squares.
var CAMMethods = []string{"gradcam", "hirescam", "occlusion"}

// CAMLayer returns the layer whose maps a [CAM] weighs unless told
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
// negative, after checking that a [CAM] can weigh its maps: that its
// output is an image.
func (m *Model) CheckCAMLayer(layer int) (int, error) {
	if layer < 0 {
		if layer = m.CAMLayer(); layer < 0 {
			return 0, fmt.Errorf("class activation map: the model has no convolution; name a layer whose output is an image")
		}
		return layer, nil
	}
	if layer >= len(m.Layers) {
		return 0, fmt.Errorf("class activation map: layer %d: the model has layers 0..%d", layer, len(m.Layers)-1)
	}
	if out := m.Layers[layer].OutputShape(); len(out) != 3 {
		return 0, fmt.Errorf("class activation map: layer %d (%s) outputs shape %v, not an image [height width channels]", layer, m.Layers[layer].Name(), out)
	}
	return layer, nil
}

// camAfterForward is the map of method (one of [CAMMethods]) of class
// over layer's maps for the one image of the forward pass in inference
// mode the layers hold: it runs backward from the class's logit down to the
// layer's output only (every layer has a path to the logits: NewGraph walks
// back from the output).
func (m *Model) camAfterForward(method string, class, layer int) *CAM {
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
	cam := &CAM{Method: method, Class: class, Layer: layer, Map: tensor.New(h, w)}
	for p := range cam.Map.Data {
		s := 0.0
		for k, v := range a.Data[p*c : (p+1)*c] {
			if method == "hirescam" {
				s += float64(g.Data[p*c+k]) * float64(v)
			} else {
				s += alpha[k] / float64(h*w) * float64(v)
			}
		}
		if s > 0 && s <= math.MaxFloat32 { // ReLU; NaN and infinities count as 0
			cam.Map.Data[p] = float32(s)
		}
	}
	return cam
}

// checkCAM checks method and returns the layer of a [CAM] (see
// [Model.CheckCAMLayer]); occlusion's is -1, the input.
func (c *Classifier) checkCAM(method string, layer int) (int, error) {
	if !slices.Contains(CAMMethods, method) {
		return 0, fmt.Errorf("class activation map %q: want one of %v", method, CAMMethods)
	}
	if method == "occlusion" {
		if layer >= 0 {
			return 0, fmt.Errorf("occlusion hides squares of the input: it weighs no layer's maps (layer %d)", layer)
		}
		return -1, nil
	}
	return c.model.CheckCAMLayer(layer)
}

// CAM returns the class activation map of method (one of [CAMMethods]) of
// class (the most probable class if class is negative) over the maps of
// layer (the model's [Model.CAMLayer] if layer is negative; occlusion
// takes none) for the raw image px.
func (c *Classifier) CAM(ctx context.Context, px []float32, method string, class, layer int) (*CAM, error) {
	if err := c.checkMap(px, class); err != nil {
		return nil, err
	}
	layer, err := c.checkCAM(method, layer)
	if err != nil {
		return nil, err
	}
	if method == "occlusion" {
		return c.Occlusion(ctx, px, class, OcclusionOptions{})
	}
	var cam *CAM
	err = c.run(ctx, func(m *Sequential) {
		logits := m.forward(c.input(nil, m, px), inferencePass)
		if class < 0 {
			class = tensor.ArgMax(logits.Data)
		}
		cam = m.camAfterForward(method, class, layer)
	})
	return cam, err
}
