package nn_test

import (
	"math/rand/v2"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// Steady-state Forward and Backward reuse the layer's buffers.
func TestNoAllocationsInSteadyState(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	tests := []struct {
		l  nn.Layer
		in []int
	}{
		{&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "relu"}, []int{8, 8, 2}},
		{&nn.Conv2D{Filters: 4, KernelSize: [2]int{1, 1}, Activation: "softmax"}, []int{5, 5, 3}},
		{&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, DilationRate: [2]int{2, 3}, Padding: "same", Activation: "elu"}, []int{8, 9, 2}},
		{&nn.Dense{Units: 6, Activation: "softmax"}, []int{10}},
		{&nn.Dense{Units: 6, Activation: "relu"}, []int{4, 5, 3}},
		{&nn.LayerScale{InitValues: 1e-6}, []int{4, 5, 3}},
		{&nn.Conv2D{Filters: 6, KernelSize: [2]int{3, 3}, Padding: "same", Groups: 3, Activation: "relu"}, []int{6, 6, 3}},
		{&nn.MaxPool2D{}, []int{8, 8, 3}},
		{&nn.MaxPool2D{}, []int{8, 8, 16}}, // the AVX-512 loops, where the CPU has them
		{&nn.AveragePooling2D{Padding: "same"}, []int{5, 5, 3}},
		{&nn.Dropout{Rate: 0.5}, []int{10}},
		{&nn.Dropout{Rate: 0.5, NoiseShape: []int{0, 1, 1, 1}}, []int{4, 4, 3}},
		{&nn.Dropout{Rate: 0.5, NoiseShape: []int{0, 64, 1, 8}}, []int{64, 64, 8}}, // several pieces
		{&nn.BatchNormalization{}, []int{4, 4, 3}},
		{&nn.Flatten{}, []int{4, 4, 3}},
		{&nn.GlobalAveragePooling2D{}, []int{4, 4, 3}},
		{&nn.GlobalMaxPooling2D{KeepDims: true}, []int{4, 4, 3}},
		{&nn.ZeroPadding2D{Padding: [2][2]int{{1, 0}, {2, 1}}}, []int{4, 4, 3}},
		{&nn.Cropping2D{Cropping: [2][2]int{{1, 0}, {2, 1}}}, []int{4, 4, 3}},
		{&nn.UpSampling2D{Size: [2]int{3, 2}}, []int{4, 4, 3}},
		{&nn.UpSampling2D{Interpolation: "bilinear"}, []int{32, 32, 16}}, // several pieces
		{&nn.Resizing{Height: 5, Width: 3, CropToAspectRatio: true}, []int{7, 4, 3}},
		{&nn.Resizing{Height: 20, Width: 30, Interpolation: "nearest"}, []int{64, 32, 8}},
		{&nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, Padding: "same", DepthMultiplier: 2, Activation: "relu"}, []int{6, 6, 20}},
		{&nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, Strides: [2]int{2, 2}, Activation: "elu"}, []int{7, 7, 3}},
		{&nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, DilationRate: [2]int{2, 3}, Padding: "same", Activation: "elu"}, []int{8, 9, 20}},
		{&nn.Conv2D{Filters: 6, KernelSize: [2]int{3, 3}, DilationRate: [2]int{2, 2}, Padding: "same", Groups: 3, Activation: "relu"}, []int{6, 6, 3}},
		{&nn.Activation{Func: "elu"}, []int{7}},
		{&nn.Activation{Func: "selu"}, []int{4, 4, 8}},
		{&nn.Activation{Func: "gelu"}, []int{4, 4, 8}},
		{&nn.Activation{Func: "softplus"}, []int{4, 4, 8}},
		{&nn.Activation{Func: "softsign"}, []int{4, 4, 8}},
		{&nn.Dense{Units: 32, Activation: "mish"}, []int{10}},
		{&nn.Conv2D{Filters: 16, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "tanh"}, []int{8, 8, 2}},
		{&nn.ChannelShuffle{Groups: 2}, []int{3, 3, 4}},
		{&nn.ChannelSlice{Start: 2, End: 4}, []int{3, 3, 4}},
		{&nn.ReLU{}, []int{7}},
		{&nn.ReLU{MaxValue: 6}, []int{7}},
		{&nn.Rescaling{Scale: 0.5, Offset: 1}, []int{3, 3, 4}},
		{&nn.Rescaling{Scale: 2}, []int{64, 64, 8}}, // in pieces on several cores
		{&nn.Rescaling{Scales: []float64{1, 2, 3, 4}, Offset: 1}, []int{3, 3, 4}},
		{&nn.SpatialDropout2D{Rate: 0.3}, []int{32, 32, 16}},
		{&nn.AlphaDropout{Rate: 0.2}, []int{8, 8, 4}},
		{&nn.PReLU{AlphaInit: 0.25}, []int{4, 4, 8}},
		{&nn.GaussianNoise{Stddev: 0.1}, []int{64, 64, 8}}, // several runs
		{&nn.GaussianDropout{Rate: 0.3}, []int{4, 4, 8}},
		{&nn.PReLU{SharedAxes: []int{1, 2}}, []int{32, 32, 16}}, // several pieces
		{&nn.Normalization{}, []int{32, 32, 16}},
		{&nn.Reshape{TargetShape: []int{1, 1, -1}}, []int{64}},
		{&nn.Normalization{Invert: true, Axis: []int{1, 2, 3}}, []int{8, 8, 4}},
		{&nn.LayerNormalization{}, []int{32, 32, 16}}, // several pieces
		{&nn.LayerNormalization{Axis: []int{1, 2}, NoScale: true}, []int{8, 8, 4}},
		{&nn.GroupNormalization{Groups: 8}, []int{32, 32, 16}}, // several pieces
		{&nn.GroupNormalization{Groups: -1, NoCenter: true}, []int{4, 4, 8}},
	}
	for _, tt := range tests {
		if _, err := tt.l.Build(tt.in, rand.New(rand.NewPCG(1, 2))); err != nil {
			t.Fatal(err)
		}
		big := tensor.New(append([]int{16}, tt.in...)...)
		small := big.Slice(0, 5)
		for i := range big.Data {
			big.Data[i] = float32(i%7) - 3
		}
		step := func(x *tensor.Tensor) {
			y := tt.l.Forward(x, true)
			tt.l.Backward(y)
			y = tt.l.Forward(x, false)
			tt.l.Backward(y)
		}
		step(big)
		step(small)
		// Alternating batch sizes (a short last batch) must not reallocate.
		if n := testing.AllocsPerRun(20, func() { step(big); step(small) }); n != 0 {
			t.Errorf("%s: Forward+Backward allocates %v times per step, want 0", tt.l.Type(), n)
		}
		if n := testing.AllocsPerRun(20, func() { tt.l.Cost(tt.in) }); n != 0 {
			t.Errorf("%s: Cost allocates %v times, want 0", tt.l.Type(), n)
		}
	}
}
