package torchexport

import (
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// A per-channel Rescaling becomes a KerasRescaling, the part given as one
// value (1 for a scale left out) a number, the per-channel part a list in
// PyTorch's order; on a flattened image its features follow PyTorch's
// flattening.
func TestGenerateRescalingPerChannel(t *testing.T) {
	m := model.New(&nn.Rescaling{Offsets: []float64{1, 2}}, &nn.Conv2D{Filters: 2, KernelSize: [2]int{1, 1}},
		&nn.Flatten{}, &nn.Rescaling{Scales: []float64{1, 2, 3, 4, 5, 6, 7, 8}, Offset: 0.5}, &nn.Dense{Units: 3})
	if err := m.Build([]int{2, 2, 2}, 1); err != nil {
		t.Fatal(err)
	}
	f := files(t, Project{Model: m, Recipe: recipe()})
	holds(t, "model.py", f["model.py"],
		"self.rescaling = KerasRescaling(1.0, [1.0, 2.0], image=True)  # rescaling (Rescaling): every value times its channel's scale, plus its channel's offset",
		// convnet's features (y, x, c) = 1..8; PyTorch's order is (c, y, x).
		"self.rescaling_1 = KerasRescaling([1.0, 3.0, 5.0, 7.0, 2.0, 4.0, 6.0, 8.0], 0.5, image=False)",
		"class KerasRescaling(nn.Module):")
	compile(t, f)
}
