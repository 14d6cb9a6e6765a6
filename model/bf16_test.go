package model

import (
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
)

// With bfloat16 on, a training step still lowers the loss and allocates
// nothing: the pairs of images, kernels and gradients are kept from one
// step to the next. The second convolution runs every bfloat16 pass:
// forward and input gradient on pairs of its 8 channels, the kernel
// gradient on pairs of cells.
func TestTrainStepBF16DoesNotAllocate(t *testing.T) {
	m := New(
		&nn.Conv2D{Filters: 8, KernelSize: pair(3), Padding: "same", Activation: "relu"},
		&nn.Conv2D{Filters: 8, KernelSize: pair(3), Padding: "same", Activation: "relu"},
		&nn.MaxPool2D{PoolSize: pair(2)},
		&nn.Flatten{},
		&nn.Dense{Units: 16, Activation: "relu"},
		&nn.Dense{Units: 5, Activation: "softmax"},
	)
	if err := m.Build([]int{8, 8, 1}, 3); err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(&optim.Adam{LearningRate: 0.01}, nn.CrossEntropy{Sparse: true}); err != nil {
		t.Fatal(err)
	}
	m.UseBF16(true)
	stepLowersLossWithoutAllocating(t, m, "TrainStep in bfloat16")
}
