package model

import (
	"context"
	"fmt"
	"math"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// Trace is what the model computes for one image.
type Trace struct {
	Input    *tensor.Tensor   // the standardised input, [1, H, W, C]
	Layers   []*tensor.Tensor // every layer's output, in order, [1, ...] each
	Saliency *Saliency        // nil unless asked for (TraceOptions.Saliency)
	CAM      *CAM             // nil unless asked for (TraceOptions.CAM)
	Result
}

// TraceOptions says what [Classifier.TraceWith] returns.
type TraceOptions struct {
	Top      int  // the k most probable classes of the result
	Saliency bool // also the saliency map (see [Classifier.Saliency])
	// CAM is the method of a class activation map to return too, one of
	// [CAMMethods] (see [Classifier.CAM]); "" for none.
	CAM string
	// Class is the class of the saliency and class activation maps; a
	// negative value means the most probable class.
	Class int
	// CAMLayer is the layer of the class activation map; a negative value
	// means the model's [Model.CAMLayer].
	CAMLayer int
}

// Trace classifies the raw image px as [Classifier.ClassifyPixels] does and
// returns with the k most probable classes the model's input and every
// layer's output, which the caller owns.
func (c *Classifier) Trace(ctx context.Context, px []float32, k int) (*Trace, error) {
	return c.TraceWith(ctx, px, TraceOptions{Top: k})
}

// TraceWith is [Classifier.Trace] with options: it runs the model once
// forward, and backward once for the saliency map and once for the class
// activation map, on one model of the pool.
func (c *Classifier) TraceWith(ctx context.Context, px []float32, opts TraceOptions) (*Trace, error) {
	if err := c.checkMap(px, opts.Class); err != nil {
		return nil, err
	}
	camLayer := opts.CAMLayer
	if opts.CAM != "" {
		var err error
		if camLayer, err = c.checkCAM(opts.CAM, camLayer); err != nil {
			return nil, err
		}
	}
	t := &Trace{}
	probs := tensor.New(1, len(c.classes))
	var stopped error // the occlusion's, when ctx ends
	err := c.run(ctx, func(m *Sequential) {
		t.Input = c.input(nil, m, px)
		for _, o := range m.ForwardAll(t.Input) {
			t.Layers = append(t.Layers, o.Clone())
		}
		// The probabilities Predict gives, from the same forward pass.
		out := t.Layers[len(t.Layers)-1]
		if m.softmax { // ForwardAll applied it
			copy(probs.Data, out.Data)
		} else {
			nn.SoftmaxRows(probs, out)
		}
		class := opts.Class
		if class < 0 {
			class = tensor.ArgMax(probs.Data)
		}
		// The layers hold the state of the forward pass just run.
		if opts.Saliency {
			t.Saliency = c.saliencyMap(m.inputGradientAfterForward(class), class)
		}
		switch opts.CAM {
		case "":
		case "occlusion": // last: it runs the model again
			win, stride, _ := c.squareSize(OcclusionOptions{})
			t.CAM, stopped = c.occlusion(ctx, m, px, class, win, stride)
		default:
			t.CAM = m.camAfterForward(opts.CAM, class, camLayer)
		}
	})
	if err != nil {
		return nil, err
	}
	if stopped != nil {
		return nil, stopped
	}
	if !allFinite(probs.Data) {
		return nil, &NonFiniteError{}
	}
	t.Result = Result{Top: c.top(probs.Data, opts.Top), Probabilities: probs.Data}
	return t, nil
}

// Saliency is where the input matters most for one class.
type Saliency struct {
	Class int            // the class whose score was differentiated
	Map   *tensor.Tensor // [H, W]: the largest |∂score/∂input| over the channels
}

// Saliency returns the saliency map of class (the most probable class if
// class is negative) for the raw image px: the gradient of the class's score
// with respect to the standardised input (see [Sequential.InputGradient]),
// its absolute value, the largest over the channels; values that are not
// finite count as 0.
func (c *Classifier) Saliency(ctx context.Context, px []float32, class int) (*Saliency, error) {
	if err := c.checkMap(px, class); err != nil {
		return nil, err
	}
	var s *Saliency
	err := c.run(ctx, func(m *Sequential) {
		logits := m.forward(c.input(nil, m, px), inferencePass)
		if class < 0 { // the most probable class, as Classify gives it
			probs := tensor.New(1, len(c.classes))
			nn.SoftmaxRows(probs, logits)
			class = tensor.ArgMax(probs.Data)
		}
		s = c.saliencyMap(m.inputGradientAfterForward(class), class)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// checkMap checks the raw image px and the class of a map of it (negative:
// the most probable class).
func (c *Classifier) checkMap(px []float32, class int) error {
	if err := c.check(px); err != nil {
		return err
	}
	if class >= len(c.classes) {
		return fmt.Errorf("class %d: the model has classes 0..%d", class, len(c.classes)-1)
	}
	return nil
}

// saliencyMap returns the saliency of class from the input gradient g of
// one image: |g|, the largest over the channels, values that are not finite
// counting as 0.
func (c *Classifier) saliencyMap(g *tensor.Tensor, class int) *Saliency {
	h, w, ch := c.shape[0], c.shape[1], c.shape[2]
	s := &Saliency{Class: class, Map: tensor.New(h, w)}
	for i := range s.Map.Data {
		for _, v := range g.Data[i*ch : (i+1)*ch] {
			v = float32(math.Abs(float64(v)))
			if v <= math.MaxFloat32 { // neither NaN nor infinite
				s.Map.Data[i] = max(s.Map.Data[i], v)
			}
		}
	}
	return s
}
