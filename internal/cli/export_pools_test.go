package cli

import (
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// poolsAndPads is a model of the paddings, pools and piecewise activations
// between convolutions, with a Dense layer of large weights, so that ONNX
// Runtime's and PyTorch's predictions and gradients show a window or an
// activation computed another way (the every-layer model's outputs pass
// through a sigmoid and a softmax): an even kernel's "same" padding with
// stride 2 (one more row and column after than before), zero padding and
// cropping of different sides, "same" max pools padded evenly and not
// (with -inf), a dilated convolution of 2, "same" average pools padded
// evenly and not (the padding not counted), a depthwise convolution
// dilated 2x3 of an even kernel, "valid" pools of uneven windows and
// strides, and leaky ReLUs, ELUs, a clipped ReLU, relu6, hard_sigmoid and
// hard_silu whose inputs reach both sides of their bends. No max pool
// follows an activation that clips: its ties would send the gradient to a
// cell chosen by order.
func poolsAndPads(t *testing.T) *model.Sequential {
	m := model.New(
		&nn.Conv2D{Filters: 4, KernelSize: [2]int{4, 4}, Strides: [2]int{2, 2}, Padding: "same", Activation: "leaky_relu"},
		&nn.ZeroPadding2D{Padding: [2][2]int{{1, 0}, {2, 1}}},
		&nn.Cropping2D{Cropping: [2][2]int{{0, 1}, {2, 0}}},
		&nn.MaxPool2D{PoolSize: [2]int{3, 3}, Strides: [2]int{1, 1}, Padding: "same"},
		&nn.Conv2D{Filters: 6, KernelSize: [2]int{3, 3}, DilationRate: [2]int{2, 2}, Padding: "same"},
		&nn.ELU{Alpha: 0.5},
		&nn.AveragePooling2D{PoolSize: [2]int{3, 2}, Strides: [2]int{2, 2}, Padding: "same"},
		&nn.Rescaling{Scale: 12, Offset: -1},
		&nn.DepthwiseConv2D{KernelSize: [2]int{3, 2}, DilationRate: [2]int{2, 3}, Padding: "same", Activation: "hard_silu"},
		&nn.Conv2D{Filters: 8, KernelSize: [2]int{1, 1}, Activation: "elu"},
		&nn.MaxPool2D{PoolSize: [2]int{2, 2}, Strides: [2]int{1, 1}, Padding: "same"},
		&nn.AveragePooling2D{PoolSize: [2]int{3, 3}, Strides: [2]int{1, 1}, Padding: "same"},
		&nn.MaxPool2D{PoolSize: [2]int{2, 3}, Strides: [2]int{1, 2}},
		&nn.LeakyReLU{Alpha: 0.1},
		&nn.Rescaling{Scale: 2},
		&nn.ReLU{MaxValue: 0.8},
		&nn.AveragePooling2D{PoolSize: [2]int{2, 1}, Strides: [2]int{1, 1}},
		&nn.Rescaling{Scale: 10, Offset: -4},
		&nn.Conv2D{Filters: 6, KernelSize: [2]int{1, 1}, Activation: "hard_sigmoid"},
		&nn.Rescaling{Scale: 8, Offset: -1},
		&nn.Activation{Func: "relu6"},
		&nn.Flatten{},
		&nn.Dense{Units: 5},
	)
	if err := m.Build([]int{17, 15, 3}, 6); err != nil {
		t.Fatal(err)
	}
	spread(m, 1)
	return m
}
