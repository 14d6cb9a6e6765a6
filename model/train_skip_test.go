package model

import (
	"slices"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
)

// TrainStep leaves out the input gradient of the first trainable layer; the
// weights it reaches are those of a step that computes it, and saliency
// maps (which need it) still work after training.
func TestTrainStepSkipsInputGradient(t *testing.T) {
	tests := []struct {
		name  string
		first int
		mk    func() []nn.Layer
	}{
		{"conv first", 0, func() []nn.Layer {
			return []nn.Layer{
				&nn.Conv2D{Filters: 3, KernelSize: pair(3), Padding: "same", Activation: "relu"},
				&nn.MaxPool2D{},
				&nn.Flatten{},
				&nn.Dense{Units: 4, Activation: "softmax"},
			}
		}},
		{"dropout first", 1, func() []nn.Layer {
			return []nn.Layer{
				&nn.Dropout{Rate: 0.2},
				&nn.Conv2D{Filters: 3, KernelSize: pair(3), Activation: "tanh"},
				&nn.Flatten{},
				&nn.Dense{Units: 4, Activation: "softmax"},
			}
		}},
		{"batchnorm first", 0, func() []nn.Layer {
			return []nn.Layer{
				&nn.BatchNormalization{},
				&nn.Conv2D{Filters: 3, KernelSize: pair(3)},
				&nn.Flatten{},
				&nn.Dense{Units: 4, Activation: "softmax"},
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			build := func() *Sequential {
				m := New(tt.mk()...)
				if err := m.Build([]int{6, 6, 2}, 3); err != nil {
					t.Fatal(err)
				}
				if err := m.Compile(&optim.SGD{LearningRate: 0.1}, nn.CrossEntropy{Sparse: true}); err != nil {
					t.Fatal(err)
				}
				return m
			}
			a, b := build(), build()
			if got := firstTrained(a); got != tt.first {
				t.Errorf("the first layer backward reaches is %d, want %d", got, tt.first)
			}
			x, y := randomBatch(a, 5, 4)
			for range 3 {
				a.TrainStep(x, y)
				// The same step, computing every input gradient.
				for _, p := range b.params {
					if p.Grad != nil {
						p.Grad.Zero()
					}
				}
				logits := b.forward(x, trainingPass)
				b.dlogits = reuse(b.dlogits, logits.Shape)
				b.loss.FromLogits(b.dlogits, logits, y)
				if dx := b.backward(b.dlogits, paramGradients|inputGradient); dx == nil {
					t.Fatalf("backward(paramGradients|inputGradient) returned no input gradient")
				}
				b.opt.Step(b.params)
			}
			if !equalWeights(weights(a), weights(b)) {
				t.Errorf("weights after TrainStep differ from a step computing every input gradient")
			}
			ga, gb := a.InputGradient(x, 1), b.InputGradient(x, 1)
			if !slices.Equal(ga.Data, gb.Data) || !slices.Equal(ga.Shape, x.Shape) {
				t.Errorf("InputGradient after TrainStep differs from a model that never skipped")
			}
		})
	}
}

// firstTrained returns the index of the first layer whose backward pass
// TrainStep runs: the first with trainable parameters.
func firstTrained(m *Model) int {
	for i := range m.Layers {
		if m.plan.trains[i+1] {
			return i
		}
	}
	return -1
}

// TestInputGradientSkipsParamGradients checks that InputGradient leaves
// every parameter's gradient as it was and gives, bit for bit, the input
// gradient of a backward pass that computes the parameters' gradients too.
func TestInputGradientSkipsParamGradients(t *testing.T) {
	m := New(
		&nn.Conv2D{Filters: 4, KernelSize: pair(3), Padding: "same", Activation: "relu"},
		&nn.BatchNormalization{},
		&nn.DepthwiseConv2D{KernelSize: pair(3), Activation: "relu6"},
		&nn.MaxPool2D{PoolSize: pair(2)},
		&nn.Flatten{},
		&nn.Dense{Units: 8, Activation: "relu"},
		&nn.Dense{Units: 3, Activation: "softmax"},
	)
	if err := m.Build([]int{8, 8, 2}, 5); err != nil {
		t.Fatal(err)
	}
	x, _ := randomBatch(m, 3, 6)
	const sentinel = 7
	for _, p := range m.params {
		if p.Grad != nil {
			p.Grad.Fill(sentinel)
		}
	}
	g := m.InputGradient(x, 1)
	for _, p := range m.params {
		if p.Grad != nil && slices.ContainsFunc(p.Grad.Data, func(v float32) bool { return v != sentinel }) {
			t.Errorf("InputGradient changed the gradient of %s", p.Name)
		}
	}
	m.forward(x, inferencePass)
	m.onehot.Zero()
	for i := range x.Shape[0] {
		m.onehot.Data[i*3+1] = 1
	}
	all := m.backward(m.onehot, paramGradients|inputGradient)
	if !slices.Equal(g.Data, all.Data) {
		t.Errorf("InputGradient differs from the input gradient of a pass computing the parameters' gradients too")
	}
	changed := false
	for _, p := range m.params {
		changed = changed || p.Grad != nil && slices.ContainsFunc(p.Grad.Data, func(v float32) bool { return v != sentinel })
	}
	if !changed {
		t.Errorf("a backward pass with the parameters' gradients left them all as they were")
	}
}
