package cli

import (
	"context"
	"math"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/model/pretrained"
)

// TestGradCAMPyTorch checks convnet's Grad-CAM maps against PyTorch's
// autograd on the built-in AHCD model's PyTorch project (the maps of its
// last convolution's ReLU, for the top class of 20 test letters).
func TestGradCAMPyTorch(t *testing.T) {
	skipRace(t)
	py := python(t, "torch", "numpy")
	m, err := pretrained.Load("ahcd")
	if err != nil {
		t.Fatal(err)
	}
	layer := m.CAMLayer()
	name := m.Layers[layer].Name()
	dir := t.TempDir()
	project := filepath.Join(dir, "project")
	if code, _, errs := runCLI("export", "--format", "pytorch", "--model", "ahcd", "--out", project); code != 0 {
		t.Fatalf("convnet export: exit %d: %s", code, errs)
	}
	images := testImages(t, "ahcd", 100)[:20] // classes 0, 16, 5, ...
	var px []float32
	for _, img := range images {
		px = append(px, img...)
	}
	writeFloats(t, filepath.Join(dir, "images.f32"), px)
	if msg, err := exec.Command(py, "testdata/torch_gradcam.py", project, filepath.Join(dir, "images.f32"), name, dir).CombinedOutput(); err != nil {
		t.Fatalf("torch_gradcam.py: %v\n%s", err, msg)
	}
	classes, cams := readFloats(t, filepath.Join(dir, "classes.f32")), readFloats(t, filepath.Join(dir, "cams.f32"))
	c, err := model.NewClassifier(m, model.ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for i, img := range images {
		cam, err := c.GradCAM(context.Background(), img, -1, -1)
		if err != nil {
			t.Fatal(err)
		}
		size := len(cam.Map.Data)
		want := cams[i*size : (i+1)*size]
		if cam.Class != int(classes[i]) || cam.Layer != layer || len(cams) != len(images)*size {
			t.Fatalf("image %d: class %d of layer %d, %d values; PyTorch: class %v of %s, %d values", i, cam.Class, cam.Layer, size, classes[i], name, len(cams)/len(images))
		}
		top := 0.0
		for _, v := range want {
			top = max(top, float64(v))
		}
		got := 0.0
		for _, v := range cam.Map.Data {
			got = max(got, float64(v))
		}
		t.Logf("image %d class %d: max %g (PyTorch %g)", i, cam.Class, got, top)
		if top == 0 {
			continue
		}
		for j, v := range cam.Map.Data {
			worst = max(worst, math.Abs(float64(v)-float64(want[j]))/top)
		}
	}
	t.Logf("%s (layer %d) of 20 letters: max |convnet - PyTorch| = %.3g of the map's largest value", name, layer, worst)
	if worst > 1e-4 {
		t.Errorf("Grad-CAM: max |convnet - PyTorch| = %.3g of the map's largest value, want <= 1e-4", worst)
	}
}
