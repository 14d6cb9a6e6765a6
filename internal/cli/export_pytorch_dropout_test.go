package cli

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/internal/torchexport"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
)

// TestExportPyTorchNoiseShape runs the exported project's dropouts with a
// noise shape in training mode on inputs of ones: each must hold PyTorch's
// order of convnet's noise shape, and give 0 or 1/(1-p), the same along
// the axes of size 1 and not along the others.
func TestExportPyTorchNoiseShape(t *testing.T) {
	py := python(t, "torch", "numpy")
	m := model.New(&nn.Conv2D{Filters: 3, KernelSize: [2]int{1, 1}},
		&nn.Dropout{Rate: 0.5, NoiseShape: []int{0, 1, 1, 1}},
		&nn.Dropout{Rate: 0.5, NoiseShape: []int{0, 1, 1, 0}},
		&nn.Dropout{Rate: 0.5, NoiseShape: []int{0, 4, 5, 1}},
		&nn.Flatten{},
		&nn.Dropout{Rate: 0.5, NoiseShape: []int{1, 0}},
		&nn.Dense{Units: 2, Activation: "softmax"})
	if err := m.Build([]int{4, 5, 1}, 1); err != nil {
		t.Fatal(err)
	}
	fs, err := torchexport.Generate(torchexport.Project{Model: m, Title: "noise", Recipe: torchexport.Recipe{
		Command: "convnet export --format pytorch", Epochs: 1, BatchSize: 10, Seed: 1,
		Optimizer: &optim.Adam{}, Data: torchexport.Data{Dataset: "ahcd"}}})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "project")
	if err := writeProject(dir, false, fs); err != nil {
		t.Fatal(err)
	}
	script := `
import json, sys, torch
sys.path.insert(0, sys.argv[1])
import model
torch.manual_seed(1)
net = model.Net().train()
inputs = [(3, 4, 5), (3, 4, 5), (3, 4, 5), (60,)]
shapes = []
for m, shape in zip([m for m in net.modules() if isinstance(m, model.NoiseShapeDropout)], inputs):
    shapes.append(m.shape)
    y = m(torch.ones(64, *shape))
    assert ((y == 0) | (y == 2)).all(), "a value other than 0 and 1/(1-p)"
    for axis, s in enumerate(m.shape):
        same = (y == y.narrow(axis, 0, 1)).all().item()
        assert same == (s == 1), f"shape {m.shape}: axis {axis} shared: {same}"
print(json.dumps(shapes))
`
	out, err := exec.Command(py, "-c", script, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	var shapes [][]any
	if err := json.Unmarshal(out, &shapes); err != nil {
		t.Fatalf("python's output: %v: %s", err, out)
	}
	want := `[[null,1,1,1],[null,null,1,1],[null,1,4,5],[1,null]]`
	if got, _ := json.Marshal(shapes); string(got) != want {
		t.Errorf("the dropouts' shapes in PyTorch's order: %s, want %s", got, want)
	}
	const first = "NoiseShapeDropout(0.5, (None, 1, 1, 1))  # dropout (Dropout): rate 0.5, one draw per cell of (None, 1, 1, 1), only in training"
	if i := slices.IndexFunc(fs, func(f torchexport.File) bool { return f.Name == "model.py" }); i < 0 || !strings.Contains(string(fs[i].Data), first) {
		t.Errorf("model.py lacks %q", first)
	}
}
