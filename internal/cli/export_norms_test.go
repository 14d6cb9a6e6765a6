package cli

import (
	"math/rand/v2"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// groupNormalizations is a model of group normalizations of each kind
// between convolutions, gamma and beta drawn at random, with a Dense
// layer of large weights, so that ONNX Runtime's and PyTorch's
// predictions and gradients show a normalization computed another way:
// two groups of 3 channels, one group per channel (without beta), one
// group of a flattened image's features (without gamma, in the PyTorch
// project a layer norm) and two groups of a Dense layer's 8 units.
func groupNormalizations(t *testing.T) *model.Sequential {
	m := model.New(
		&nn.Conv2D{Filters: 6, KernelSize: [2]int{3, 3}, Activation: "relu"},
		&nn.GroupNormalization{Groups: 2},
		&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Strides: [2]int{2, 2}},
		&nn.GroupNormalization{Groups: -1, Epsilon: 1e-5, NoCenter: true},
		&nn.Flatten{},
		&nn.GroupNormalization{Groups: 1, NoScale: true},
		&nn.Dense{Units: 8, Activation: "tanh"},
		&nn.GroupNormalization{Groups: 2},
		&nn.Dense{Units: 5},
	)
	if err := m.Build([]int{14, 12, 1}, 4); err != nil {
		t.Fatal(err)
	}
	randomStats(m)
	spread(m, 4)
	return m
}

// randomBatch returns 100 random images for m and labels drawn from rng.
func randomBatch(rng *rand.Rand, m *model.Sequential) ([][]float32, []int) {
	labels := make([]int, 100)
	for i := range labels {
		labels[i] = rng.IntN(m.NumClasses())
	}
	return randomImages(100, m.InputShape()), labels
}

// normalizations is a model of the other normalizations and per-channel
// layers between convolutions (batch norms without gamma or without beta,
// layer norms over the channels, the whole image and a flattened image's
// features, an adapted Normalization, PReLU and LayerScale of random
// values, a per-channel Rescaling), their weights drawn at random, with a
// Dense layer of large weights: the every-layer model's outputs pass
// through a sigmoid and a softmax, where a normalization computed another
// way barely shows.
func normalizations(t *testing.T) *model.Sequential {
	m := model.New(
		&nn.Conv2D{Filters: 6, KernelSize: [2]int{3, 3}, Activation: "relu"},
		&nn.BatchNormalization{NoScale: true},
		&nn.LayerNormalization{},
		&nn.PReLU{SharedAxes: []int{1, 2}},
		&nn.Normalization{},
		&nn.LayerScale{InitValues: 0.5},
		&nn.Rescaling{Scales: []float64{0.5, 2, -1, 1.5, 0.25, -0.75}, Offset: 0.25},
		&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Strides: [2]int{2, 2}},
		&nn.LayerNormalization{Axis: []int{1, 2, 3}, Epsilon: 1e-5},
		&nn.BatchNormalization{NoCenter: true},
		&nn.Flatten{},
		&nn.LayerNormalization{NoCenter: true},
		&nn.Dense{Units: 8, Activation: "tanh"},
		&nn.BatchNormalization{},
		&nn.Dense{Units: 5},
	)
	if err := m.Build([]int{14, 12, 1}, 5); err != nil {
		t.Fatal(err)
	}
	randomStats(m)
	randomSlopes(m)
	spread(m, 4)
	return m
}

// spread multiplies the weights of m's last layer, a Dense of 5 units, by
// k, so that its logits spread and a layer computed another way upstream
// shows in the probabilities; the model takes pixels divided by 255 and
// names its classes a to e.
func spread(m *model.Sequential, k float32) {
	dense := m.Layers[len(m.Layers)-1].Params()[0].Value
	for i := range dense.Data {
		dense.Data[i] *= k
	}
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}
	m.ClassNames = []string{"a", "b", "c", "d", "e"}
}
