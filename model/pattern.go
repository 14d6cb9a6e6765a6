package model

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// Pattern is an input that one channel of a layer responds to strongly,
// found by gradient ascent (Erhan et al. 2009, "Visualizing higher-layer
// features of a deep network"; the method of Keras's "Visualizing what
// convnets learn"): from faint noise, each step moves the input along the
// gradient of the channel's mean value, the gradient scaled to a fixed
// length. For a layer whose output is an image the mean leaves out a
// border of 2 cells when the map is larger than 4x4, as Keras's example
// does; for the last layer the channel is a class and its value the
// class's logit: what the network takes that class to look like. A
// channel behind a ReLU that the noise leaves at zero has no gradient to
// climb: the noise is made louder (up to ±2), and then the values below
// the ReLU are climbed until the channel comes alive: the input of an
// activation layer, or, at the centre cell, a layer's values before its
// own activation (Conv2D(activation="relu")), through any pooling or
// dropout between.
type Pattern struct {
	Layer, Channel int
	Input          *tensor.Tensor // [H, W, C], standardised: what the network takes
	Start, End     float64        // the channel's mean value for the first input and for Input
	// Top is what the model makes of Input: its three most probable
	// classes (for a class's pattern, whether the network takes it for
	// that class); nil when a probability is not finite.
	Top []Prediction
}

// Deprocess returns the pattern as an image, as Keras's "Visualizing what
// convnets learn" shows its patterns: the input less its mean, divided by
// its standard deviation, times 0.15, plus 0.5, clipped to 0..1, as bytes
// (H*W*C, channels last).
func (p *Pattern) Deprocess() []byte {
	x := p.Input.Data
	mean, sq := 0.0, 0.0
	for _, v := range x {
		mean += float64(v)
	}
	mean /= float64(len(x))
	for _, v := range x {
		sq += (float64(v) - mean) * (float64(v) - mean)
	}
	std := math.Sqrt(sq / float64(len(x)))
	b := make([]byte, len(x))
	for i, v := range x {
		u := (float64(v)-mean)/(std+1e-5)*0.15 + 0.5
		b[i] = uint8(math.Round(255 * min(max(u, 0), 1)))
	}
	return b
}

// PatternOptions are the settings of [Classifier.Pattern]; zero values
// mean Keras's example's.
type PatternOptions struct {
	Steps int // steps of gradient ascent (0: 30)
	// Step is how far each step moves the input, as the root mean square
	// of its change per value (0: 0.04, Keras's example's 10 over the
	// 150·150·3 values of its input).
	Step float64
	Seed uint64 // of the first input's noise, uniform in ±0.125 (louder for a channel it leaves at zero)
}

// Pattern returns an input that channel of layer's output responds to
// strongly (see [Pattern]). Its cost is Steps forward passes and backward
// passes down to the input from that layer; it stops between two steps
// when ctx ends. An input that is no longer finite (a step too large, a
// model whose values overflow) is an error that wraps a [*NonFiniteError].
func (c *Classifier) Pattern(ctx context.Context, layer, channel int, opts PatternOptions) (*Pattern, error) {
	layers := c.model.Layers
	if layer < 0 || layer >= len(layers) {
		return nil, fmt.Errorf("pattern: layer %d: the model has layers 0..%d", layer, len(layers)-1)
	}
	out := layers[layer].OutputShape()
	if n := out[len(out)-1]; channel < 0 || channel >= n {
		return nil, fmt.Errorf("pattern: channel %d of layer %d (%s): it has channels 0..%d", channel, layer, layers[layer].Name(), n-1)
	}
	steps, step := opts.Steps, opts.Step
	if steps == 0 {
		steps = 30
	}
	if step == 0 {
		step = 0.04
	}
	if steps < 0 || !(step > 0) || math.IsInf(step, 0) {
		return nil, fmt.Errorf("pattern: %d steps of %v: want a positive number of each", steps, step)
	}
	x := tensor.New(append([]int{1}, c.shape...)...)
	rng := rand.New(rand.NewPCG(opts.Seed, uint64(layer)<<32|uint64(channel)))
	p := &Pattern{Layer: layer, Channel: channel}
	var stopped error
	err := c.run(ctx, func(m *Sequential) {
		// A channel that faint noise leaves at zero everywhere (behind a
		// ReLU) has no gradient to climb: louder noise then, up to ±2.
		for _, amp := range []float64{0.125, 0.5, 1, 2} {
			for i := range x.Data {
				x.Data[i] = float32((rng.Float64()*2 - 1) * amp)
			}
			m.forward(x, inferencePass)
			if v, _ := m.channelMean(layer, channel); v != 0 {
				break
			}
		}
		lr := step * math.Sqrt(float64(len(x.Data)))
		for s := 0; ; s++ {
			logits := m.forward(x, inferencePass)
			v, dy := m.channelMean(layer, channel)
			if s == 0 {
				p.Start = v
			}
			if s == steps {
				p.End = v
				probs := tensor.New(1, len(c.classes))
				nn.SoftmaxRows(probs, logits)
				if allFinite(probs.Data) {
					p.Top = c.top(probs.Data, 3)
				}
				return
			}
			if stopped = ctx.Err(); stopped != nil {
				return // the caller has gone: no more steps
			}
			from, want := layer, inputGradient
			if v == 0 { // still at zero: climb below the ReLU
				from, want = m.climb(layer, channel)
				if want&preActivation != 0 {
					// The values before a layer's own ReLU: the centre
					// cell's alone, whose climb the whole step serves
					// (their mean climbs slowly).
					dy = m.centreCell(from, channel)
				} else {
					_, dy = m.channelMean(from, channel)
				}
			}
			g := m.backwardSpan(from+1, dy, want, 0)
			norm := 0.0
			for _, v := range g.Data {
				norm += float64(v) * float64(v)
			}
			scale := lr / math.Sqrt(max(norm, 1e-12))
			for i, v := range g.Data {
				x.Data[i] += float32(scale * float64(v))
			}
		}
	})
	if err := cmp.Or(err, stopped); err != nil {
		return nil, err
	}
	if !allFinite(x.Data) {
		return nil, fmt.Errorf("pattern: the input is no longer finite after steps of %v (the step is too large, or the model's values overflow): %w", step, &NonFiniteError{})
	}
	p.Input = x.Reshape(c.shape...)
	return p, nil
}

// climb returns where to climb channel ch of layer when the last forward
// pass left it at zero: down the layers that keep the channels (each the
// only input of the next, without parameters: activations, pooling,
// dropout, padding), the first whose channel is not zero, or before one a
// layer with an activation of its own, to climb its values before the
// activation (preActivation). Without either, layer itself: it stays.
func (m *Model) climb(layer, ch int) (int, gradients) {
	for j := layer; ; {
		if j != layer {
			if v, _ := m.channelMean(j, ch); v != 0 {
				return j, inputGradient
			}
		}
		if l, ok := m.Layers[j].(nn.PreActivation); ok && l.Activated() {
			return j, inputGradient | preActivation
		}
		in := m.Inbound(j)
		if len(in) != 1 || in[0] < 0 || m.Layers[j].Params() != nil || !sameChannels(m.Layers[in[0]].OutputShape(), m.Layers[j].OutputShape()) {
			return layer, inputGradient
		}
		j = in[0]
	}
}

// centreCell returns the gradient of channel ch of layer's output at its
// centre cell (of its only cell for a vector) with respect to that output.
func (m *Model) centreCell(layer, ch int) *tensor.Tensor {
	m.dpattern = reuse(m.dpattern, m.plan.outs[layer+1].Shape)
	d := m.dpattern
	d.Zero()
	c, i := d.Shape[len(d.Shape)-1], 0
	if len(d.Shape) == 4 {
		i = (d.Shape[1]/2)*d.Shape[2] + d.Shape[2]/2
	}
	d.Data[i*c+ch] = 1
	return d
}

// sameChannels reports whether two outputs are both images or both
// vectors, of as many channels.
func sameChannels(a, b []int) bool {
	return len(a) == len(b) && a[len(a)-1] == b[len(b)-1]
}

// channelMean returns the mean of channel ch of layer's output for the one
// input of the last forward pass (an image's inner cells, 2 from each edge
// when it has more than 4 rows and columns) and its gradient with respect
// to that output.
func (m *Model) channelMean(layer, ch int) (float64, *tensor.Tensor) {
	a := m.plan.outs[layer+1]
	m.dpattern = reuse(m.dpattern, a.Shape)
	m.dpattern.Zero()
	c := a.Shape[len(a.Shape)-1]
	h, w, b := 1, 1, 0
	if len(a.Shape) == 4 {
		h, w = a.Shape[1], a.Shape[2]
		if h > 4 && w > 4 {
			b = 2
		}
	}
	n := (h - 2*b) * (w - 2*b)
	sum := 0.0
	for y := b; y < h-b; y++ {
		for x := b; x < w-b; x++ {
			i := (y*w+x)*c + ch
			sum += float64(a.Data[i])
			m.dpattern.Data[i] = 1 / float32(n)
		}
	}
	return sum / float64(n), m.dpattern
}
