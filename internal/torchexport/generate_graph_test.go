package torchexport

import (
	"errors"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// TestGenerateGraph checks the Python of a graph's merges: each layer's
// output is a variable named after it, and merges read their inputs' variables.
func TestGenerateGraph(t *testing.T) {
	in := model.Input(8, 6, 3)
	a := model.Call(&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "relu"}, in)
	b := model.Call(&nn.Conv2D{Filters: 2, KernelSize: [2]int{1, 1}}, in)
	x := model.Call(&nn.Concatenate{}, a, b)
	x = model.Call(&nn.Concatenate{Axis: 1}, x, model.Call(&nn.Multiply{}, x, x))
	x = model.Call(&nn.Flatten{}, x)
	d := model.Call(&nn.Dense{Units: 4}, x)
	x = model.Call(&nn.Add{}, d, model.Call(&nn.Average{}, d, d))
	x = model.Call(&nn.ScaledAdd{Scale: 0.17}, x, d)
	m, err := model.NewGraph(in, model.Call(&nn.Softmax{}, x))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	f := files(t, Project{Model: m, Title: "a graph", Recipe: recipe()})
	py := f["model.py"]
	holds(t, "model.py", py,
		"conv2d = torch.relu(self.conv2d(x))",
		"conv2d_1 = self.conv2d_1(x)",
		"concatenate = torch.cat([conv2d, conv2d_1], dim=1)",
		"multiply = concatenate * concatenate",
		"concatenate_1 = torch.cat([concatenate, multiply], dim=2)", // Keras's axis 1, the height
		"flatten = self.flatten(concatenate_1)",
		`tensors["dense/kernel"] = to_hwc(net.dense.weight.t(), 6, 16, 6)`,
		"average = (dense + dense) / 2",
		"add = dense + average",
		"custom_scale_layer = add + dense * 0.17",
		"softmax = custom_scale_layer\n        return softmax",
	)
	if !strings.Contains(f["train.py"], "convnet import --onnx") || !strings.Contains(f["README.md"], "convnet import --onnx") {
		t.Error("train.py and README.md do not offer convnet import for a graph, which it takes")
	}
	compile(t, f)

	// A concatenation of flattened images' features is refused.
	in = model.Input(4, 4, 2)
	x = model.Call(&nn.Flatten{}, in)
	m, err = model.NewGraph(in, model.Call(&nn.Dense{Units: 2}, model.Call(&nn.Concatenate{}, x, x)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	var ue *UnsupportedError
	if _, err := Generate(Project{Model: m, Recipe: recipe()}); !errors.As(err, &ue) || !strings.Contains(err.Error(), "concatenate (Concatenate)") {
		t.Errorf("Generate of a concatenation of flattened images: %v; want an UnsupportedError naming it", err)
	}
}

// TestGenerateSqueezeExcitation checks the Python of a squeeze-and-excitation
// block and of the activations silu, hard_sigmoid and hard_silu (and their
// aliases), as layers and as those of Conv2D and Dense: the channel means
// stay an image of one cell, which the products and sums broadcast, and a
// merge's output has the layer's shape, not its first input's.
func TestGenerateSqueezeExcitation(t *testing.T) {
	in := model.Input(8, 6, 3)
	x := model.Call(&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "hard_swish"}, in)
	x = model.Call(&nn.Activation{Func: "swish"}, x)
	g := model.Call(&nn.GlobalAveragePooling2D{KeepDims: true}, x)
	g = model.Call(&nn.Conv2D{Filters: 2, KernelSize: [2]int{1, 1}, Activation: "silu"}, g)
	g = model.Call(&nn.Conv2D{Filters: 4, KernelSize: [2]int{1, 1}, Activation: "hard_sigmoid"}, g)
	x = model.Call(&nn.Multiply{}, x, g)
	x = model.Call(&nn.Add{}, g, x) // the broadcast input first
	x = model.Call(&nn.Activation{Func: "hard_silu"}, x)
	x = model.Call(&nn.Activation{Func: "hard_sigmoid"}, x)
	x = model.Call(&nn.Activation{Func: "silu"}, x)
	x = model.Call(&nn.Flatten{}, x)
	gate := model.Call(&nn.Dense{Units: 1, Activation: "hard_swish"}, x)
	x = model.Call(&nn.Multiply{}, gate, x) // one value times the flattened features
	m, err := model.NewGraph(in, model.Call(&nn.Dense{Units: 3, Activation: "softmax"}, x))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	f := files(t, Project{Model: m, Title: "squeeze and excitation", Recipe: recipe()})
	py := f["model.py"]
	holds(t, "model.py", py,
		"conv2d = F.hardswish(self.conv2d(x))",
		"self.activation = nn.SiLU()",
		"self.global_average_pooling2d = nn.AdaptiveAvgPool2d(1)  #",
		"global_average_pooling2d = self.global_average_pooling2d(activation)",
		"conv2d_1 = F.silu(self.conv2d_1(global_average_pooling2d))",
		"self.conv2d_1 = nn.Conv2d(4, 2, (1, 1))",
		"conv2d_2 = F.hardsigmoid(self.conv2d_2(conv2d_1))",
		"multiply = activation * conv2d_2",
		"add = conv2d_2 + multiply",
		"self.activation_1 = nn.Hardswish()",
		"self.activation_2 = nn.Hardsigmoid()",
		"self.activation_3 = nn.SiLU()",
		"dense = F.hardswish(self.dense(flatten))",
		"multiply_1 = dense * flatten",
		// The flattened [8, 6, 4] of the Add, not its first input's [1, 1, 4]:
		// the rows of the Dense after the product follow it.
		`net.dense.weight.copy_(from_hwc(tensor("dense/kernel", 192, 1), 4, 8, 6).t())`,
		`net.dense_1.weight.copy_(from_hwc(tensor("dense_1/kernel", 192, 3), 4, 8, 6).t())`,
	)
	compile(t, f)

	// The channel means without KeepDims are a vector.
	s := model.New(&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Activation: "hard_silu"}, &nn.GlobalAveragePooling2D{}, &nn.Dense{Units: 2, Activation: "swish"}, &nn.Dense{Units: 2})
	if err := s.Build([]int{5, 5, 1}, 1); err != nil {
		t.Fatal(err)
	}
	py = files(t, Project{Model: s, Recipe: recipe()})["model.py"]
	holds(t, "model.py", py,
		"self.global_average_pooling2d = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())",
		"x = F.silu(self.dense(x))",
		`net.dense.weight.copy_(tensor("dense/kernel", 4, 2).t())`,
	)
}

// TestGenerateGroups checks the Python of grouped convolutions: PyTorch's
// groups argument, on nn.Conv2d and on SameConv2d for an uneven "same"
// padding, and the kernel [kh, kw, C/g, F] read into the weight
// [F, C/g, kh, kw] and written back.
func TestGenerateGroups(t *testing.T) {
	m := model.New(
		&nn.Conv2D{Filters: 8, KernelSize: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: "same", Groups: 2, Activation: "relu"},
		&nn.Conv2D{Filters: 4, KernelSize: [2]int{1, 1}, Groups: 4, NoBias: true},
		&nn.Conv2D{Filters: 6, KernelSize: [2]int{3, 2}, Padding: "same", Groups: 2},
		&nn.Conv2D{Filters: 3, KernelSize: [2]int{1, 1}, Groups: 1},
		&nn.Flatten{},
		&nn.Dense{Units: 2, Activation: "softmax"},
	)
	if err := m.Build([]int{8, 8, 4}, 1); err != nil {
		t.Fatal(err)
	}
	f := files(t, Project{Model: m, Title: "groups", Recipe: recipe()})
	py := f["model.py"]
	holds(t, "model.py", py,
		// 8x8 by 3x3 with stride 2: out 4, 3*2+3-8 = 1, the odd cell after.
		"self.conv2d = SameConv2d(4, 8, (3, 3), (2, 2), (0, 1, 0, 1), groups=2)",
		"conv2d (Conv2D): 8 filters in 2 groups of 2 channels, 3x3 stride 2x2, same padding",
		`net.conv2d.weight.copy_(tensor("conv2d/kernel", 3, 3, 2, 8).permute(3, 2, 0, 1))`,
		`tensors["conv2d/kernel"] = net.conv2d.weight.permute(2, 3, 1, 0)`,
		"self.conv2d_1 = nn.Conv2d(8, 4, (1, 1), groups=4, bias=False)",
		`net.conv2d_1.weight.copy_(tensor("conv2d_1/kernel", 1, 1, 2, 4).permute(3, 2, 0, 1))`,
		"self.conv2d_2 = SameConv2d(4, 6, (3, 2), (1, 1), (1, 1, 0, 1), groups=2)",
		`net.conv2d_2.weight.copy_(tensor("conv2d_2/kernel", 3, 2, 2, 6).permute(3, 2, 0, 1))`,
		"self.conv2d_3 = nn.Conv2d(6, 3, (1, 1))",
		`net.conv2d_3.weight.copy_(tensor("conv2d_3/kernel", 1, 1, 6, 3).permute(3, 2, 0, 1))`,
	)
	for _, line := range strings.Split(py, "\n") {
		if strings.Contains(line, "self.conv2d") && strings.Contains(line, "groups=1") {
			t.Errorf("model.py writes PyTorch's default groups=1: %s", line)
		}
	}
	compile(t, f)
}

// TestGenerateChannels checks the Python of ChannelSlice and ChannelShuffle:
// a slice of axis 1, of an image as of a vector, and the ChannelShuffle
// module; on the features of a flattened image, in another order in
// PyTorch, both are refused.
func TestGenerateChannels(t *testing.T) {
	in := model.Input(6, 5, 3)
	x := model.Call(&nn.Conv2D{Filters: 8, KernelSize: [2]int{1, 1}}, in)
	a := model.Call(&nn.ChannelSlice{Start: 0, End: 4}, x)
	b := model.Call(&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Padding: "same"}, model.Call(&nn.ChannelSlice{Start: 4, End: 8}, x))
	x = model.Call(&nn.ChannelShuffle{Groups: 2}, model.Call(&nn.Concatenate{}, a, b))
	v := model.Call(&nn.GlobalAveragePooling2D{}, x)
	v = model.Call(&nn.ChannelShuffle{Groups: 2}, model.Call(&nn.ChannelSlice{Start: 1, End: 5}, v))
	m, err := model.NewGraph(in, model.Call(&nn.Dense{Units: 2, Activation: "softmax"}, v))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	f := files(t, Project{Model: m, Title: "a shuffle unit", Recipe: recipe()})
	py := f["model.py"]
	holds(t, "model.py", py,
		"channel_slice = conv2d[:, 4:8]",
		"channel_slice_1 = conv2d[:, 0:4]",
		"conv2d_1 = self.conv2d_1(channel_slice)",
		"concatenate = torch.cat([channel_slice_1, conv2d_1], dim=1)",
		"self.channel_shuffle = ChannelShuffle(2)  # channel_shuffle (ChannelShuffle): 8 channels in 2 groups, interleaved",
		"channel_shuffle = self.channel_shuffle(concatenate)",
		"channel_slice_2 = global_average_pooling2d[:, 1:5]",
		"channel_shuffle_1 = self.channel_shuffle_1(channel_slice_2)",
		"class ChannelShuffle(nn.Module):",
		`"channel_shuffle": "channel_shuffle",`,
	)
	compile(t, f)

	for _, l := range []nn.Layer{&nn.ChannelSlice{Start: 0, End: 2}, &nn.ChannelShuffle{Groups: 2}} {
		m := model.New(&nn.Flatten{}, l, &nn.Dense{Units: 2})
		if err := m.Build([]int{2, 2, 2}, 1); err != nil {
			t.Fatal(err)
		}
		var ue *UnsupportedError
		if _, err := Generate(Project{Model: m, Recipe: recipe()}); !errors.As(err, &ue) || !strings.Contains(err.Error(), "("+l.Type()+")") {
			t.Errorf("Generate of a %s on flattened features: %v; want an UnsupportedError naming it", l.Type(), err)
		}
	}
	s := model.New(&nn.ChannelSlice{Start: 1, End: 3}, &nn.Flatten{}, &nn.Dense{Units: 2})
	if err := s.Build([]int{4, 4, 3}, 1); err != nil {
		t.Fatal(err)
	}
	if py := files(t, Project{Model: s, Recipe: recipe()})["model.py"]; !strings.Contains(py, "x = x[:, 1:3]") || strings.Contains(py, "class ChannelShuffle") {
		t.Errorf("model.py of a chain with a ChannelSlice: want x = x[:, 1:3] and no ChannelShuffle class:\n%s", py)
	}
}

// TestGenerateRescaling checks the Python of Rescaling: x times the scale
// plus the offset, each left out when it changes nothing, and the weights
// of the Dense after it still reordered for the flattened image; and that
// of SpatialDropout2D, PyTorch's Dropout2d.
func TestGenerateRescaling(t *testing.T) {
	m := model.New(&nn.Rescaling{Scale: 1.0 / 127.5, Offset: -1}, &nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}}, &nn.SpatialDropout2D{Rate: 0.2},
		&nn.Rescaling{Scale: 0.5}, &nn.Flatten{}, &nn.Rescaling{Scale: 1, Offset: 0.25}, &nn.Dense{Units: 3})
	if err := m.Build([]int{5, 5, 1}, 1); err != nil {
		t.Fatal(err)
	}
	f := files(t, Project{Model: m, Recipe: recipe()})
	py := f["model.py"]
	holds(t, "model.py", py,
		"# rescaling (Rescaling): every value times the scale, plus the offset\n        x = x * 0.00784313725490196 - 1.0\n",
		"x = x * 0.5\n",
		"x = x + 0.25\n",
		"# dense (Dense): 3 units; its rows follow the flattened image",
		"self.spatial_dropout2d = nn.Dropout2d(0.2)  # spatial_dropout2d (SpatialDropout2D): whole channels at rate 0.2, only in training",
	)
	compile(t, f)
}
