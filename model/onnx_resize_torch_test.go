package model

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// TestImportTorchResize imports PyTorch's nn.Upsample (nearest and bilinear
// by whole factors) and F.interpolate(size=...) as torch.onnx exports them
// (testdata/onnx/torch_resize.py wrote the file), as UpSampling2D and
// Resizing layers, and predicts what PyTorch did, within 1e-6.
func TestImportTorchResize(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "onnx", "torch_resize.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := importBytes(b, ONNXImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, l := range m.Layers {
		types = append(types, l.Type())
	}
	if want := []string{"Conv2D", "UpSampling2D", "UpSampling2D", "Resizing", "Flatten", "Dense"}; !slices.Equal(types, want) {
		t.Fatalf("imported %v, want %v", types, want)
	}
	if c := m.Layers[2].Config(); c["interpolation"] != "bilinear" || !slices.Equal(c["size"].([]int), []int{3, 2}) {
		t.Errorf("layer 2: %v, want bilinear by 3x2", c)
	}
	j, err := os.ReadFile(filepath.Join("testdata", "onnx", "torch_resize.json"))
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		NCHW []int
		X, Y []float32
	}
	if err := json.Unmarshal(j, &golden); err != nil {
		t.Fatal(err)
	}
	n, c, h, w := golden.NCHW[0], golden.NCHW[1], golden.NCHW[2], golden.NCHW[3]
	x := tensor.New(n, h, w, c)
	for i := range golden.X { // NCHW to NHWC
		s, ch, y, xx := i/(c*h*w), i/(h*w)%c, i/w%h, i%w
		x.Data[((s*h+y)*w+xx)*c+ch] = golden.X[i]
	}
	p := rawProbabilities(m, x)
	worst := 0.0
	for i, v := range golden.Y {
		worst = max(worst, math.Abs(float64(v-p.Data[i])))
	}
	t.Logf("max |difference| from PyTorch: %.3g", worst)
	if worst > 1e-6 {
		t.Errorf("probabilities differ from PyTorch's by %.3g, want at most 1e-6", worst)
	}
}
