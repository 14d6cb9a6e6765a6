package cli

import (
	"math/rand/v2"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// The models the export tests write to ONNX and to PyTorch projects.

// everyLayer returns a model with every layer type and activation of nn,
// "same" padding with even kernels and strides (asymmetric pads), dilated
// convolutions (one of asymmetric pads, one depthwise), a Dense layer on
// an image and a LayerScale of random scales, resampling (Resizing cropped
// and nearest, UpSampling2D bilinear and nearest), random batch normalization
// statistics (one without gamma, one without beta), PReLUs with random
// slopes (one per channel, per pixel, per feature of a flattened image,
// one in all),
// Normalizations with random statistics (per channel, inverted per pixel,
// given per channel, per feature of a flattened image), LayerNormalizations
// with random gamma and beta (over the channels, the whole image, the
// features of a flattened image), GroupNormalizations (of four groups,
// one per channel without beta, one over a flattened image's features
// without gamma, three of a vector) and a per-channel standardizer.
func everyLayer(t *testing.T) *model.Sequential {
	m := model.New(
		&nn.Rescaling{Scale: 2, Offset: -1}, // after the standardizer: a layer when imported back
		&nn.Conv2D{Filters: 6, KernelSize: [2]int{4, 4}, Strides: [2]int{2, 2}, Padding: "same", Activation: "leaky_relu",
			KernelRegularizer: nn.Regularizer{L2: 0.01}, BiasRegularizer: nn.Regularizer{L1: 0.001},
			KernelConstraint: nn.Constraint{Kind: "max_norm", Max: 0.5, Axis: []int{0, 1, 2}}, BiasConstraint: nn.Constraint{Kind: "non_neg"}},
		// 8x7 cropped to 8x5, resized to 9x6, then 9x12, 18x24 and 8x8 (no
		// ties between two nearest inputs: floor((o+0.5)·in/out) never whole).
		&nn.Resizing{Height: 9, Width: 6, CropToAspectRatio: true},
		&nn.UpSampling2D{Size: [2]int{1, 2}, Interpolation: "bilinear"},
		&nn.UpSampling2D{},
		&nn.Resizing{Height: 8, Width: 8, Interpolation: "nearest"},
		&nn.BatchNormalization{NoScale: true},
		&nn.ELU{Alpha: 0.5},
		&nn.Normalization{},
		&nn.LayerNormalization{},
		&nn.PReLU{SharedAxes: []int{1, 2}, AlphaInit: 0.25},
		&nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, Padding: "same", DepthMultiplier: 2, Activation: "relu", KernelRegularizer: nn.Regularizer{L1: 0.002},
			KernelConstraint: nn.Constraint{Kind: "unit_norm", Axis: []int{0, 1}}},
		&nn.ZeroPadding2D{Padding: [2][2]int{{1, 0}, {2, 1}}},
		&nn.Cropping2D{Cropping: [2][2]int{{0, 1}, {2, 0}}},
		&nn.MaxPool2D{PoolSize: [2]int{2, 2}, Strides: [2]int{1, 1}, Padding: "same"},
		&nn.Conv2D{Filters: 12, KernelSize: [2]int{3, 3}, DilationRate: [2]int{2, 2}, Padding: "same", Activation: "relu"},
		&nn.Conv2D{Filters: 12, KernelSize: [2]int{2, 3}, DilationRate: [2]int{3, 2}, Padding: "same"},
		&nn.DepthwiseConv2D{KernelSize: [2]int{3, 2}, DilationRate: [2]int{2, 3}, Padding: "same", Activation: "relu"},
		&nn.Dense{Units: 12, Activation: "gelu"}, // at each pixel
		&nn.GroupNormalization{Groups: 4},
		&nn.LayerScale{InitValues: 1e-6},
		&nn.PReLU{SharedAxes: []int{3}},
		&nn.Normalization{Axis: []int{1, 2}, Invert: true},
		&nn.Rescaling{Scales: []float64{0.5, 2, -1, 1.5, 0.25, -0.75, 1, 3, 0.125, 1, 2, -2}, Offset: 0.25},
		&nn.GaussianNoise{Stddev: 0.2},
		&nn.Conv2D{Filters: 5, KernelSize: [2]int{3, 2}, Activation: "elu"},
		&nn.LayerNormalization{Axis: []int{1, 2, 3}, Epsilon: 1e-5},
		&nn.GroupNormalization{Groups: -1, NoCenter: true},
		&nn.LeakyReLU{Alpha: 0.1},
		&nn.Normalization{Mean: []float64{0.1, -0.2, 0.3, 0, 0.5}, Variance: []float64{1.5, 0.5, 2, 1, 0.25}},
		&nn.ReLU{MaxValue: 0.8},
		&nn.AveragePooling2D{PoolSize: [2]int{3, 2}, Strides: [2]int{2, 2}, Padding: "same"},
		&nn.SpatialDropout2D{Rate: 0.2},
		&nn.Dropout{Rate: 0.2, NoiseShape: []int{0, 1, 1, 1}},
		&nn.Activation{Func: "sigmoid"},
		&nn.Dropout{Rate: 0.1, NoiseShape: []int{0, 0, 1, 0}},
		&nn.Conv2D{Filters: 4, KernelSize: [2]int{1, 1}, Activation: "tanh", NoBias: true},
		&nn.DepthwiseConv2D{KernelSize: [2]int{2, 2}, Strides: [2]int{2, 1}, NoBias: true},
		&nn.Dropout{Rate: 0.3},
		&nn.Flatten{},
		&nn.Rescaling{Scale: 0.75},
		&nn.Rescaling{Scale: 1.25, Offsets: []float64{-0.5, 0, 0.5, 1, 0.25, 0.5, 0.75, 1, 0.5, -1, 2, 0.5}},
		&nn.Normalization{},
		&nn.LayerNormalization{Axis: []int{-1}, NoCenter: true},
		&nn.GroupNormalization{Groups: 1, NoScale: true},
		&nn.PReLU{},
		&nn.GaussianDropout{Rate: 0.1},
		&nn.Dense{Units: 12, Activation: "relu", KernelRegularizer: nn.Regularizer{L1: 0.001, L2: 0.005},
			KernelConstraint: nn.Constraint{Kind: "min_max_norm", Min: 0.2, Max: 0.8, Rate: 0.5, Axis: []int{0}}},
		&nn.BatchNormalization{NoCenter: true},
		&nn.GroupNormalization{Groups: 3, Epsilon: 1e-5},
		&nn.PReLU{SharedAxes: []int{1}, AlphaInit: 0.1},
		&nn.Activation{Func: "tanh"},
		&nn.ReLU{},
		&nn.Dense{Units: 7, Activation: "sigmoid", NoBias: true},
		&nn.Softmax{},
		&nn.Dense{Units: 5},
	)
	if err := m.Build([]int{15, 14, 3}, 5); err != nil {
		t.Fatal(err)
	}
	randomStats(m)
	randomSlopes(m)
	// The last layers squash the values (a sigmoid, a softmax): large
	// weights in the last Dense spread the logits, so that a layer computed
	// another way upstream shows in the probabilities.
	last := m.Layers[len(m.Layers)-1].Params()[0].Value
	for i := range last.Data {
		last.Data[i] *= 40
	}
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255, FeaturewiseStd: true, Mean: []float32{0.4, 0.5, 0.6}, Std: []float32{0.2, 0.3, 0.25}}
	m.ClassNames = []string{"a", "b", "c", "d", "e"}
	return m
}

// randomSlopes gives the PReLU and LayerScale layers of m slopes and
// scales between -0.5 and 0.5, as training would: different from each
// other.
func randomSlopes(m *model.Sequential) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, l := range m.Layers {
		switch l.(type) {
		case *nn.PReLU, *nn.LayerScale:
			for i := range l.Params()[0].Value.Data {
				l.Params()[0].Value.Data[i] = float32(rng.Float64() - 0.5)
			}
		}
	}
}

// globalPool is a model ending in global average pooling, with a softmax
// over channels and a mean image.
func globalPool(t *testing.T) *model.Sequential {
	m := model.New(
		&nn.Conv2D{Filters: 8, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "softmax"},
		&nn.GlobalAveragePooling2D{},
		&nn.Dense{Units: 4, Activation: "softmax"},
	)
	if err := m.Build([]int{8, 9, 3}, 6); err != nil {
		t.Fatal(err)
	}
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255, ImageCenter: true, SamplewiseCenter: true, SamplewiseStd: true, MeanImage: make([]float32, 8*9*3)}
	for i := range m.Standardizer.MeanImage {
		m.Standardizer.MeanImage[i] = float32(i%7) / 10
	}
	return m
}

// resnetRandom is the resnet preset with random weights and batch
// normalization statistics, on pixels rescaled to 0..1.
func resnetRandom(t *testing.T) *model.Sequential {
	m, err := model.Preset("resnet")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 7); err != nil {
		t.Fatal(err)
	}
	randomStats(m)
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}
	return m
}

// randomStats gives every batch normalization layer random statistics.
func randomStats(m *model.Sequential) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, l := range m.Layers {
		for _, p := range l.Params() {
			switch p.Name {
			case "moving_mean", "beta", "mean":
				for i := range p.Value.Data {
					p.Value.Data[i] = float32(rng.NormFloat64() * 0.3)
				}
			case "moving_variance", "gamma", "variance":
				for i := range p.Value.Data {
					p.Value.Data[i] = float32(0.5 + rng.Float64())
				}
			}
		}
	}
}
