package model

import (
	"math"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// TestGradientAccumulation: four steps of 16 images with
// gradient_accumulation_steps 4 make the update one step of the 64 makes
// (the mean loss of the 64 is the mean of the four batches' mean losses),
// with an L2 penalty on a kernel, which each of the four steps adds; twice,
// so that the momentum carries over. The weights may differ by the rounding
// of the sums, not more.
func TestGradientAccumulation(t *testing.T) {
	build := func() *Sequential {
		m := New(
			&nn.Conv2D{Filters: 4, KernelSize: pair(3), Padding: "same", Activation: "relu", KernelRegularizer: nn.Regularizer{L2: 0.01}},
			&nn.MaxPool2D{PoolSize: pair(2)},
			&nn.Flatten{},
			&nn.Dense{Units: 5, Activation: "softmax"},
		)
		if err := m.Build([]int{8, 8, 1}, 7); err != nil {
			t.Fatal(err)
		}
		return m
	}
	whole, parts := build(), build()
	if err := whole.Compile(&optim.SGD{LearningRate: 0.1, Momentum: 0.9}, nn.CrossEntropy{Sparse: true}); err != nil {
		t.Fatal(err)
	}
	if err := parts.Compile(&optim.SGD{LearningRate: 0.1, Momentum: 0.9, Options: optim.Options{Accumulation: optim.Accumulation{GradientAccumulationSteps: 4}}},
		nn.CrossEntropy{Sparse: true}); err != nil {
		t.Fatal(err)
	}
	before := whole.Params()[0].Value.Clone()
	for round := range 2 {
		x, y := randomBatch(whole, 64, uint64(10+round))
		whole.TrainStep(x, y)
		for k := range 4 {
			xs := tensor.FromData(x.Data[k*16*64:(k+1)*16*64], 16, 8, 8, 1)
			ys := tensor.FromData(y.Data[k*16:(k+1)*16], 16)
			parts.TrainStep(xs, ys)
		}
	}
	for i, p := range whole.Params() {
		q := parts.Params()[i]
		var diff, moved float64
		for j, w := range p.Value.Data {
			diff = max(diff, math.Abs(float64(w-q.Value.Data[j])))
			if i == 0 {
				moved = max(moved, math.Abs(float64(w-before.Data[j])))
			}
		}
		if diff > 1e-6 {
			t.Errorf("%s: the accumulated steps' weights differ from the whole batch's by %g, want <= 1e-6", p.Name, diff)
		}
		if i == 0 && moved < 1e-3 {
			t.Errorf("%s: the weights moved by %g at most: no update to compare", p.Name, moved)
		}
	}
}
