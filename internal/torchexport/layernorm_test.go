package torchexport

import (
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// TestGenerateLayerNorm checks the Python of LayerNormalization layers:
// nn.LayerNorm over a whole image or vector, KerasLayerNorm over the
// channels or some axes, the weights copied in PyTorch's order (c, h, w)
// and, after a Flatten, in the order of PyTorch's flattening.
func TestGenerateLayerNorm(t *testing.T) {
	m := model.New(
		&nn.Conv2D{Filters: 3, KernelSize: [2]int{3, 3}, Padding: "same"},
		&nn.LayerNormalization{},
		&nn.LayerNormalization{Axis: []int{1, 2, 3}, Epsilon: 1e-5},
		&nn.LayerNormalization{Axis: []int{1, 2}, NoCenter: true},
		&nn.LayerNormalization{Axis: []int{2, 3}, NoScale: true, NoCenter: true},
		&nn.Flatten{},
		&nn.LayerNormalization{NoCenter: true},
		&nn.Dense{Units: 2, Activation: "softmax"},
	)
	if err := m.Build([]int{5, 4, 1}, 1); err != nil {
		t.Fatal(err)
	}
	f := files(t, Project{Model: m, Title: "layer norms", Recipe: recipe()})
	holds(t, "model.py", f["model.py"],
		"class KerasLayerNorm(nn.Module):",
		"self.layer_normalization = KerasLayerNorm((3, 1, 1), (1,), eps=0.001)",
		`net.layer_normalization.weight.copy_(tensor("layer_normalization/gamma", 3).reshape(1, 1, 3).permute(2, 0, 1))`,
		`tensors["layer_normalization/gamma"] = net.layer_normalization.weight.permute(1, 2, 0).reshape(3,)`,
		"self.layer_normalization_1 = nn.LayerNorm((3, 5, 4), eps=1e-05)",
		`net.layer_normalization_1.bias.copy_(tensor("layer_normalization_1/beta", 5, 4, 3).reshape(5, 4, 3).permute(2, 0, 1))`,
		"self.layer_normalization_2 = KerasLayerNorm((1, 5, 4), (2, 3), eps=0.001, center=False)",
		"self.layer_normalization_3 = KerasLayerNorm((3, 1, 4), (1, 3), eps=0.001, scale=False, center=False)",
		"self.layer_normalization_4 = KerasLayerNorm((60,), (1,), eps=0.001, center=False)",
		`net.layer_normalization_4.weight.copy_(from_hwc(tensor("layer_normalization_4/gamma", 60), 3, 5, 4))`,
		"x = self.layer_normalization_4(x)",
	)
	compile(t, f)
}

// TestGenerateGroupNorm checks the Python of GroupNormalization layers:
// nn.GroupNorm on an image with gamma and beta, KerasGroupNorm without
// one and on a vector, one group over a flattened image with its weights
// in PyTorch's order; more groups there are refused.
func TestGenerateGroupNorm(t *testing.T) {
	m := model.New(
		&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Padding: "same"},
		&nn.GroupNormalization{Groups: 2},
		&nn.GroupNormalization{Groups: -1, Epsilon: 1e-5, NoCenter: true},
		&nn.Flatten{},
		&nn.GroupNormalization{Groups: 1, NoScale: true},
		&nn.Dense{Units: 6},
		&nn.GroupNormalization{Groups: 3},
		&nn.Dense{Units: 2, Activation: "softmax"},
	)
	if err := m.Build([]int{5, 4, 1}, 1); err != nil {
		t.Fatal(err)
	}
	f := files(t, Project{Model: m, Title: "group norms", Recipe: recipe()})
	holds(t, "model.py", f["model.py"],
		"class KerasGroupNorm(nn.GroupNorm):",
		"self.group_normalization = nn.GroupNorm(2, 4, eps=0.001)",
		`net.group_normalization.weight.copy_(tensor("group_normalization/gamma", 4))`,
		"self.group_normalization_1 = KerasGroupNorm(4, 4, eps=1e-05, center=False)",
		"self.group_normalization_2 = KerasGroupNorm(1, 80, eps=0.001, scale=False)",
		`net.group_normalization_2.bias.copy_(from_hwc(tensor("group_normalization_2/beta", 80), 4, 5, 4))`,
		"self.group_normalization_3 = KerasGroupNorm(3, 6, eps=0.001)",
	)
	compile(t, f)

	bad := model.New(&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}}, &nn.Flatten{}, &nn.GroupNormalization{Groups: 2}, &nn.Dense{Units: 2})
	if err := bad.Build([]int{5, 4, 1}, 1); err != nil {
		t.Fatal(err)
	}
	_, err := Generate(Project{Model: bad, Title: "bad", Recipe: recipe()})
	if want := "group_normalization (GroupNormalization): 2 groups of the features of a flattened image"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Generate: %v, want an error containing %q", err, want)
	}
}
