package model

import (
	"slices"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
	"google.golang.org/protobuf/proto"
)

// TestONNXScaledAdd exports Inception-ResNet blocks, x + up·0.17 with up a
// 1×1 convolution of x and x + gap(y)·-1.5 with the branch one value per
// channel, as a Mul of the branch by the scale and an Add of the shortcut,
// and imports them back as a Rescaling and an Add whose predictions are
// the same bits.
func TestONNXScaledAdd(t *testing.T) {
	in := Input(6, 5, 2)
	x := Call(&nn.Conv2D{Filters: 4, KernelSize: pair(3), Padding: "same", Activation: "relu"}, in)
	up := Call(&nn.Conv2D{Filters: 4, KernelSize: pair(1)}, x)
	y := Call(&nn.ReLU{}, Call(&nn.ScaledAdd{Scale: 0.17}, x, up))
	y = Call(&nn.ScaledAdd{Scale: -1.5}, y, Call(&nn.GlobalAveragePooling2D{KeepDims: true}, up))
	m, err := NewGraph(in, Call(&nn.Dense{Units: 3, Activation: "softmax"}, Call(&nn.Flatten{}, y)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 4); err != nil {
		t.Fatal(err)
	}
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}

	var mp onnxpb.ModelProto
	if err := proto.Unmarshal(exportBytes(t, m), &mp); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, x, up string }{
		{"custom_scale_layer", "conv2d/relu", "conv2d_1"},
		{"custom_scale_layer_1", "re_lu", "global_average_pooling2d"},
	} {
		mul, add := onnxNode(t, &mp, tt.name+"/mul"), onnxNode(t, &mp, tt.name)
		if mul.GetOpType() != "Mul" || !slices.Equal(mul.GetInput(), []string{tt.up, tt.name + "/scale"}) ||
			add.GetOpType() != "Add" || !slices.Equal(add.GetInput(), []string{tt.x, tt.name + "/mul"}) {
			t.Errorf("%s: %s%v then %s%v, want Mul[%s %s/scale] then Add[%s %s/mul]", tt.name, mul.GetOpType(), mul.GetInput(),
				add.GetOpType(), add.GetInput(), tt.up, tt.name, tt.x, tt.name)
		}
	}
	pixels := randomPixels(m, 16)
	got := roundTrip(t, m, pixels)
	if want, have := rawProbabilities(m, pixels), rawProbabilities(got, pixels); !slices.Equal(want.Data, have.Data) {
		t.Errorf("imported, the predictions differ in their bits:\n%v\nwant\n%v", have.Data[:6], want.Data[:6])
	}
	var rescalings, adds int
	for _, l := range got.Layers {
		switch l.(type) {
		case *nn.Rescaling:
			rescalings++
		case *nn.Add:
			adds++
		}
	}
	if rescalings != 2 || adds != 2 {
		t.Errorf("imported: %d Rescaling and %d Add layers, want 2 and 2", rescalings, adds)
	}
}
