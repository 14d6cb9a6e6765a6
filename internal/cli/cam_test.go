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

// TestCAMPyTorch checks convnet's class activation maps, Grad-CAM's and
// HiResCAM's, against PyTorch's autograd, and the occlusion maps against
// the same test run in PyTorch, on the PyTorch projects of the
// built-in AHCD model (the maps of its last convolution's ReLU) and of the
// resnet preset with random weights (a graph: the ReLU after its last
// residual Add), for the top class of 20 test letters.
func TestCAMPyTorch(t *testing.T) {
	skipRace(t)
	py := python(t, "torch", "numpy")
	builtin, err := pretrained.Load("ahcd")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	resnet := filepath.Join(dir, "resnet.safetensors")
	if err := model.Save(resnet, resnetRandom(t), model.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	images := testImages(t, "ahcd", 20)
	var px []float32
	for _, img := range images {
		px = append(px, img...)
	}
	writeFloats(t, filepath.Join(dir, "images.f32"), px)
	t.Run("builtin-ahcd", func(t *testing.T) { checkCAMs(t, py, builtin, "ahcd", images, true) })
	m, err := model.Load(resnet)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("resnet-random", func(t *testing.T) { checkCAMs(t, py, m, resnet, images, false) })
}

// checkCAMs compares m's class activation maps of images with PyTorch's on
// the PyTorch project of the model file or built-in model spec; trained
// says whether HiResCAM's maps may not be empty.
func checkCAMs(t *testing.T, py string, m *model.Sequential, spec string, images [][]float32, trained bool) {
	layer := m.CAMLayer()
	name := m.Layers[layer].Name()
	dir := t.TempDir()
	project := filepath.Join(dir, "project")
	if code, _, errs := runCLI("export", "--format", "pytorch", "--model", spec, "--out", project); code != 0 {
		t.Fatalf("convnet export: exit %d: %s", code, errs)
	}
	var px []float32
	for _, img := range images {
		px = append(px, img...)
	}
	writeFloats(t, filepath.Join(dir, "images.f32"), px)
	if msg, err := exec.Command(py, "testdata/torch_cam.py", project, filepath.Join(dir, "images.f32"), name, dir, m.Layers[0].Name()).CombinedOutput(); err != nil {
		t.Fatalf("torch_cam.py: %v\n%s", err, msg)
	}
	classes := readFloats(t, filepath.Join(dir, "classes.f32"))
	c, err := model.NewClassifier(m, model.ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range model.CAMMethods {
		cams := readFloats(t, filepath.Join(dir, method+".f32"))
		layer, name := layer, name
		if method == "occlusion" { // a map of the input
			layer, name = -1, "the input"
		}
		worst, worstAbs, empty := 0.0, 0.0, 0
		for i, img := range images {
			cam, err := c.CAM(context.Background(), img, method, -1, -1)
			if err != nil {
				t.Fatal(err)
			}
			size := len(cam.Map.Data)
			if cam.Class != int(classes[i]) || cam.Layer != layer || len(cams) != len(images)*size {
				t.Fatalf("%s, image %d: class %d of layer %d, %d values; PyTorch: class %v of %s, %d values", method, i, cam.Class, cam.Layer, size, classes[i], name, len(cams)/len(images))
			}
			diff, top := mapDiff(cam.Map.Data, cams[i*size:(i+1)*size])
			worst, worstAbs = max(worst, diff), max(worstAbs, diff*top)
			if top == 0 {
				empty++
			}
		}
		t.Logf("%s of %s (layer %d), 20 letters: max |convnet - PyTorch| = %.3g of the map's largest value (%.3g); %d maps empty", method, name, layer, worst, worstAbs, empty)
		// Occlusion's values are falls of probabilities, whose float32
		// rounding in a deep network of random weights and statistics
		// reaches about 1e-6: they are held to 1e-5, a thousandth of a
		// percentage point, whatever the map's largest value.
		if method == "occlusion" && worstAbs > 1e-5 || method != "occlusion" && worst > 1e-4 {
			t.Errorf("%s: max |convnet - PyTorch| = %.3g of the map's largest value (%.3g), want <= 1e-4 of it (occlusion: 1e-5)", method, worst, worstAbs)
		}
		if trained && method == "hirescam" && empty > 0 {
			t.Errorf("hirescam: %d of 20 maps empty; the letters' scores are large, some cell must raise them", empty)
		}
	}
}

// torchvisionCAMs checks the class activation maps of an imported
// torchvision network, over its last convolutional block, against those
// torchvision_models.py computed in float64 with PyTorch's autograd (files
// prefix.classes.f32, prefix.gradcam.f32 and prefix.hirescam.f32).
func torchvisionCAMs(t *testing.T, m *model.Sequential, images [][]float32, prefix string) {
	t.Helper()
	c, err := model.NewClassifier(m, model.ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	classes := readFloats(t, prefix+".classes.f32")
	for _, method := range []string{"gradcam", "hirescam"} { // occlusion: TestCAMPyTorch
		want := readFloats(t, prefix+"."+method+".f32")
		worst := 0.0
		var shape []int
		for i, img := range images {
			cam, err := c.CAM(context.Background(), img, method, int(classes[i]), -1)
			if err != nil {
				t.Fatal(err)
			}
			size := len(cam.Map.Data)
			shape = cam.Map.Shape
			if len(want) != len(images)*size {
				t.Fatalf("%s of layer %d (%s): %d values an image, PyTorch's %d", method, cam.Layer, m.Layers[cam.Layer].Name(), size, len(want)/len(images))
			}
			diff, _ := mapDiff(cam.Map.Data, want[i*size:(i+1)*size])
			worst = max(worst, diff)
		}
		t.Logf("%s of %s %v: max |convnet - PyTorch in float64| = %.3g of the map's largest value", method, m.Layers[m.CAMLayer()].Name(), shape, worst)
		if worst > 1e-4 {
			t.Errorf("%s: max |convnet - PyTorch in float64| = %.3g of the map's largest value, want <= 1e-4", method, worst)
		}
	}
}

// mapDiff returns the largest |got - want| over the largest value of want,
// top (a difference from a map of zeros counts as huge).
func mapDiff(got, want []float32) (worst, top float64) {
	for _, v := range want {
		top = max(top, float64(v))
	}
	for j, v := range got {
		if d := math.Abs(float64(v) - float64(want[j])); d > 0 {
			worst = max(worst, d/max(top, 1e-30))
		}
	}
	return worst, top
}
