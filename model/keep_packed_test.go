package model

import (
	"slices"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// TestKeepPacked: a model keeping its kernels packed predicts what the same
// model without predicts, after training steps (which drop the packing),
// after the best weights are restored and after a weight is written and
// KeepPacked called again; convolutions with their padding taken in
// included.
func TestKeepPacked(t *testing.T) {
	x := Input(12, 12, 3)
	a := Call(&nn.Conv2D{Filters: 40, KernelSize: pair(3), Activation: "relu"}, Call(&nn.ZeroPadding2D{Padding: [2][2]int{{1, 1}, {1, 1}}}, x))
	b := Call(&nn.Conv2D{Filters: 32, KernelSize: pair(3), Strides: pair(2), Padding: "same"}, a)
	c := Call(&nn.Conv2D{Filters: 32, KernelSize: pair(1), Activation: "relu"}, b)
	out := Call(&nn.Dense{Units: 5, Activation: "softmax"}, Call(&nn.GlobalAveragePooling2D{}, c))
	kept, err := NewGraph(x, out)
	if err != nil {
		t.Fatal(err)
	}
	if err := kept.Build(nil, 3); err != nil {
		t.Fatal(err)
	}
	plain := kept.Clone()
	for _, m := range []*Model{kept, plain} {
		if err := m.Compile(&optim.Adam{LearningRate: 0.01}, nn.CrossEntropy{Sparse: true}); err != nil {
			t.Fatal(err)
		}
	}
	kept.KeepPacked(true)
	px := randomPixels(kept, 4)
	for i := range px.Data {
		px.Data[i] = px.Data[i]/64 - 2
	}
	y := tensor.FromData([]float32{0, 1, 4, 2}, 4)
	same := func(when string) {
		t.Helper()
		p, q := tensor.New(4, 5), tensor.New(4, 5)
		for range 2 {
			kept.Predict(p, px)
			plain.Predict(q, px)
			if !slices.Equal(p.Data, q.Data) {
				t.Fatalf("%s: kept %v, want %v", when, p.Data[:5], q.Data[:5])
			}
		}
	}
	same("built")
	start := kept.weights(nil)
	for range 2 {
		kept.TrainStep(px, y)
		plain.TrainStep(px, y)
	}
	same("after two training steps")
	kept.setWeights(start)
	plain.setWeights(start)
	same("after the weights were restored")
	for _, m := range []*Model{kept, plain} {
		k := m.Params()[0].Value.Data
		for i := range k {
			k[i] = -k[i]
		}
	}
	kept.KeepPacked(true)
	same("after a kernel was written and KeepPacked called")
}
