package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/convnet-go/convnet/data/augment"
	"github.com/convnet-go/convnet/internal/torchexport"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
)

// TestExportPyTorchAugment runs the exported project's Augment class with
// torch.rand returning chosen values, so that it draws known flips, stroke
// changes and brightness factors, and compares its images with the same
// Params applied by package augment: the two must agree to float32 rounding.
func TestExportPyTorchAugment(t *testing.T) {
	py := python(t, "torch", "torchvision", "numpy")
	cfg := &augment.Config{HorizontalFlip: true, VerticalFlip: true, StrokeRange: 0.5, BrightnessRange: [2]float64{0.5, 1.5},
		Erasing: 0.5, ErasingValue: 30}
	m := model.New(&nn.Flatten{}, &nn.Dense{Units: 3, Activation: "softmax"})
	if err := m.Build([]int{5, 7, 2}, 1); err != nil {
		t.Fatal(err)
	}
	fs, err := torchexport.Generate(torchexport.Project{Model: m, Title: "augment", Recipe: torchexport.Recipe{
		Command: "convnet export --format pytorch", Epochs: 1, BatchSize: 10, Seed: 1,
		Optimizer: &optim.Adam{}, Data: torchexport.Data{Dataset: "ahcd"}, Augment: cfg}})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "project")
	if err := writeProject(dir, false, fs); err != nil {
		t.Fatal(err)
	}

	const h, w, ch = 5, 7, 2
	rng := rand.New(rand.NewPCG(5, 7))
	src := make([]float32, h*w*ch) // HWC, as package augment holds images
	chw := make([][][]float32, ch) // the [C, H, W] image the project augments
	for c := range chw {
		chw[c] = make([][]float32, h)
		for y := range h {
			chw[c][y] = make([]float32, w)
		}
	}
	for i := range src {
		src[i] = float32(rng.IntN(256))
		y, x, c := i/(w*ch), i/ch%w, i%ch
		chw[c][y][x] = src[i]
	}
	// torch.rand's values for each call: the horizontal flip (< 0.5 flips),
	// the vertical flip, the stroke (t = -0.5 + r) and the brightness
	// (0.5 + r); then the erasing (< 0.5 erases), and for each try the area
	// (35 (0.02 + 0.31 r) pixels) and the ratio (exp(log 0.3 + log 11 r)),
	// and for the rectangle that fits its top row and left column.
	draws := [][]float64{{0.2, 0.7, 1, 0.75, 0.2, 1, 0.6, 0.5, 0.9}, {0.9, 0.1, 0, 0.25, 0.7}, {0.6, 0.6, 0.3, 1, 0.1, 1, 1, 0.5, 1, 0.99, 0}}
	cases := []augment.Params{
		// Area 11.55, ratio 1.26: 4 x 3 (3.82 x 3.02) at row int(0.5·2), column int(0.9·5).
		{FlipH: true, Stroke: 0.5, Brightness: 1.25, Erase: true, EraseY: 1, EraseX: 4, EraseH: 4, EraseW: 3},
		{FlipV: true, Stroke: -0.5, Brightness: 0.75},
		// Area 11.55, ratio 3.3: 6 rows, too many; then area 6.125: 4 x 1.
		{Stroke: -0.2, Brightness: 1.5, Erase: true, EraseY: 1, EraseX: 0, EraseH: 4, EraseW: 1},
	}
	in, err := json.Marshal(map[string]any{"image": chw, "draws": draws})
	if err != nil {
		t.Fatal(err)
	}
	script := `
import json, sys, torch
sys.path.insert(0, sys.argv[1])
import train
req = json.load(sys.stdin)
img = torch.tensor(req["image"], dtype=torch.float32)
aug = train.Augment(**train.AUGMENT)
out = []
for draws in req["draws"]:
    it = iter(draws)
    torch.rand = lambda *a, **k: torch.tensor(next(it))
    out.append(aug(img.clone()).tolist())
    assert next(it, None) is None, "a draw was not used"
print(json.dumps(out))
`
	cmd := exec.Command(py, "-c", script, dir)
	cmd.Stdin = bytes.NewReader(in)
	stdout, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("python: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("python: %v", err)
	}
	var got [][][][]float32
	if err := json.Unmarshal(stdout, &got); err != nil {
		t.Fatalf("python's output: %v: %s", err, stdout)
	}
	if len(got) != len(cases) {
		t.Fatalf("python returned %d images, want %d", len(got), len(cases))
	}
	dst := make([]float32, len(src))
	for k, p := range cases {
		cfg.Transform(dst, src, h, w, ch, p)
		for i, want := range dst {
			y, x, c := i/(w*ch), i/ch%w, i%ch
			if g := got[k][c][y][x]; math.Abs(float64(g-want)) > 1e-4*max(1, math.Abs(float64(want))) {
				t.Fatalf("draws %v: pixel (%d, %d) channel %d = %v in PyTorch, %v in Go (%+v)", draws[k], y, x, c, g, want, p)
			}
		}
	}
}
