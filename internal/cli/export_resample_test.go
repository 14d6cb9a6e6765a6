package cli

import (
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// resampling is a model of every kind of resampling between convolutions,
// with a Dense layer of large weights, so that ONNX Runtime's and
// PyTorch's predictions and gradients show a resampling computed another
// way: 20x16 maps cropped to 13x16 and resized to 20x24 (bilinear), 40x24
// by a bilinear UpSampling2D, 16x8 by Resizing's nearest (from no tie
// between two inputs: floor((o+0.5)·in/out) is never whole), 32x24 by
// repetition, then 15x11 resized down to 9x7.
func resampling(t *testing.T) *model.Sequential {
	m := model.New(
		&nn.Conv2D{Filters: 3, KernelSize: [2]int{3, 3}, Activation: "tanh"},
		&nn.Resizing{Height: 20, Width: 24, CropToAspectRatio: true},
		&nn.UpSampling2D{Size: [2]int{2, 1}, Interpolation: "bilinear"},
		&nn.Resizing{Height: 16, Width: 8, Interpolation: "nearest"},
		&nn.UpSampling2D{Size: [2]int{2, 3}},
		&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Strides: [2]int{2, 2}, Activation: "relu"},
		&nn.Resizing{Height: 9, Width: 7},
		&nn.Flatten{},
		&nn.Dense{Units: 5},
	)
	if err := m.Build([]int{22, 18, 1}, 4); err != nil {
		t.Fatal(err)
	}
	spread(m, 8)
	return m
}
