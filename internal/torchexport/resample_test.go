package torchexport

import (
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// UpSampling2D becomes nn.Upsample by its factors; Resizing nn.Upsample to
// its size, after a slice for its crop, its nearest PyTorch's
// "nearest-exact" with the ONNX translation PyTorch 1.13 lacks.
func TestGenerateResample(t *testing.T) {
	m := model.New(&nn.Resizing{Height: 4, Width: 6, CropToAspectRatio: true, Interpolation: "nearest"},
		&nn.UpSampling2D{Size: [2]int{2, 3}}, &nn.UpSampling2D{Interpolation: "bilinear"}, &nn.Resizing{Height: 5, Width: 5},
		&nn.Flatten{}, &nn.Dense{Units: 3})
	if err := m.Build([]int{7, 5, 2}, 1); err != nil {
		t.Fatal(err)
	}
	f := files(t, Project{Model: m, Recipe: recipe()})
	holds(t, "model.py", f["model.py"],
		`self.resizing = nn.Upsample(size=(4, 6), mode="nearest-exact")  # resizing (Resizing): the centred 3x5 window from row 2, column 0, then: resized to 4x6, nearest`,
		"x = x[:, :, 2:5, 0:5]",
		`self.up_sampling2d = nn.Upsample(scale_factor=(2, 3), mode="nearest")  # up_sampling2d (UpSampling2D): each cell repeated 2x3`,
		`self.up_sampling2d_1 = nn.Upsample(scale_factor=(2, 2), mode="bilinear", align_corners=False)`,
		`self.resizing_1 = nn.Upsample(size=(5, 5), mode="bilinear", align_corners=False)  # resizing_1 (Resizing): resized to 5x5, bilinear`,
		`torch.onnx.register_custom_op_symbolic("aten::_upsample_nearest_exact2d", nearest_exact_onnx, 11)`)
	compile(t, f)
	m = model.New(&nn.Resizing{Height: 4, Width: 6}, &nn.Flatten{}, &nn.Dense{Units: 3})
	if err := m.Build([]int{7, 5, 2}, 1); err != nil {
		t.Fatal(err)
	}
	if f := files(t, Project{Model: m, Recipe: recipe()}); strings.Contains(f["model.py"], "nearest_exact_onnx") {
		t.Error("a model without nearest resizing registers the ONNX translation of nearest-exact")
	}
}
