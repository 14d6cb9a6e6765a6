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
				if dx := b.backward(b.dlogits, false); dx == nil {
					t.Fatalf("backward(params=false) returned no input gradient")
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
