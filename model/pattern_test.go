package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// TestChannelMeanGradient checks the gradient Pattern climbs, a layer's
// channel mean differentiated from that layer down to the input, against
// central finite differences, at an inner convolution (its border left
// out), at a Dense layer and at the logits, in a model of smooth
// functions.
func TestChannelMeanGradient(t *testing.T) {
	m := New(
		&nn.Conv2D{Filters: 4, KernelSize: pair(3), Padding: "same", Activation: "tanh"},
		&nn.Conv2D{Filters: 3, KernelSize: pair(3), Padding: "same", Activation: "tanh"},
		&nn.AveragePooling2D{},
		&nn.Flatten{},
		&nn.Dense{Units: 6, Activation: "tanh"},
		&nn.Dense{Units: 3, Activation: "softmax"},
	)
	if err := m.Build([]int{10, 9, 1}, 4); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := tensor.New(1, 10, 9, 1)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	f := func(layer, ch int) float64 {
		m.forward(x, inferencePass)
		v, _ := m.channelMean(layer, ch)
		return v
	}
	for _, tt := range []struct{ layer, ch int }{{1, 2}, {4, 5}, {5, 1}} {
		m.forward(x, inferencePass)
		_, dy := m.channelMean(tt.layer, tt.ch)
		g := m.backwardSpan(tt.layer+1, dy, inputGradient, 0).Clone()
		top := 0.0
		for _, v := range g.Data {
			top = max(top, math.Abs(float64(v)))
		}
		worst := 0.0
		for i := range x.Data {
			const h = 1e-2
			v := x.Data[i]
			x.Data[i] = v + h
			up := f(tt.layer, tt.ch)
			x.Data[i] = v - h
			down := f(tt.layer, tt.ch)
			x.Data[i] = v
			worst = max(worst, math.Abs((up-down)/(2*h)-float64(g.Data[i])))
		}
		t.Logf("layer %d, channel %d: max |finite difference - gradient| %.3g of the largest %.3g", tt.layer, tt.ch, worst, top)
		if top == 0 || worst > 5e-4*top {
			t.Errorf("layer %d, channel %d: max |finite difference - gradient| %.3g, want <= 5e-4 of the largest, %.3g", tt.layer, tt.ch, worst, top)
		}
	}
}

// TestPreActivationGradient checks the gradient Pattern climbs below a
// layer's own ReLU (a channel it holds at zero) against central finite
// differences of its twin without the ReLU, the same weights (but that
// channel's bias, which moves no gradient).
func TestPreActivationGradient(t *testing.T) {
	build := func(act string) *Model {
		m := New(
			&nn.Conv2D{Filters: 4, KernelSize: pair(3), Padding: "same", Activation: "tanh"},
			&nn.Conv2D{Filters: 3, KernelSize: pair(3), Padding: "same", Activation: act},
			&nn.Flatten{},
			&nn.Dense{Units: 3, Activation: "softmax"},
		)
		if err := m.Build([]int{10, 9, 1}, 4); err != nil {
			t.Fatal(err)
		}
		return m
	}
	m, twin := build("relu"), build("linear")
	bias := m.Layers[1].Params()[1].Value.Data
	bias[2] = -20 // channel 2 is zero for any input near this one
	for i, p := range m.params {
		copy(twin.params[i].Value.Data, p.Value.Data)
	}
	twin.Layers[1].Params()[1].Value.Data[2] = 0 // the same gradient, and values that float32 holds finely
	rng := rand.New(rand.NewPCG(1, 2))
	x := tensor.New(1, 10, 9, 1)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	m.forward(x, inferencePass)
	if v, _ := m.channelMean(1, 2); v != 0 {
		t.Fatalf("channel 2 of the ReLU: mean %v, want 0", v)
	}
	if from, want := m.climb(1, 2); from != 1 || want != inputGradient|preActivation {
		t.Fatalf("climb(1, 2) = %d, %b: want layer 1 before its activation", from, want)
	}
	_, dy := m.channelMean(1, 2)
	g := m.backwardSpan(2, dy, inputGradient|preActivation, 0).Clone()
	f := func() float64 {
		twin.forward(x, inferencePass)
		v, _ := twin.channelMean(1, 2)
		return v
	}
	top, worst := 0.0, 0.0
	for i := range x.Data {
		const h = 1e-2
		v := x.Data[i]
		x.Data[i] = v + h
		up := f()
		x.Data[i] = v - h
		down := f()
		x.Data[i] = v
		top = max(top, math.Abs(float64(g.Data[i])))
		worst = max(worst, math.Abs((up-down)/(2*h)-float64(g.Data[i])))
	}
	t.Logf("max |finite difference - gradient| %.3g of the largest %.3g", worst, top)
	if top == 0 || worst > 5e-4*top {
		t.Errorf("max |finite difference - gradient| %.3g, want <= 5e-4 of the largest, %.3g", worst, top)
	}
}
