package cli

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
)

// writeCentred writes, for each class colour, n images 48 wide and 12 tall:
// a 12x12 square of the colour in the middle, the other colour beside it.
// Resized whole to 12x12 such an image is three quarters the other colour;
// cropped to its centre square, all its own.
func writeCentred(t *testing.T, dir string, n int, rng *rand.Rand) {
	t.Helper()
	colours := map[string]color.RGBA{"blue": {20, 40, 220, 255}, "red": {220, 30, 30, 255}}
	for name, c := range colours {
		other := colours["red"]
		if name == "red" {
			other = colours["blue"]
		}
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			img := image.NewRGBA(image.Rect(0, 0, 48, 12))
			for y := range 12 {
				for x := range 48 {
					p := other
					if x >= 18 && x < 30 {
						p = c
					}
					d := uint8(rng.IntN(30))
					img.Set(x, y, color.RGBA{p.R - min(p.R, d), p.G + min(255-p.G, d), p.B - min(p.B, d), 255})
				}
			}
			writePNG(t, filepath.Join(dir, name, fmt.Sprintf("%d.png", i)), img)
		}
	}
}

// centredRecipe writes in a new folder dir the training and test folders
// of writeCentred (40 and 10 images a class, seeded by seed) and an
// architecture for them, and returns the folders and a recipe of train
// flags: 3 epochs on the images read at 12x12 in RGB, cropped to their
// centre square.
func centredRecipe(t *testing.T, seed uint64) (dir, train, test string, recipe []string) {
	t.Helper()
	dir = t.TempDir()
	rng := rand.New(rand.NewPCG(seed, seed+1))
	train, test = filepath.Join(dir, "train"), filepath.Join(dir, "test")
	writeCentred(t, train, 40, rng)
	writeCentred(t, test, 10, rng)
	arch := filepath.Join(dir, "small.json")
	if err := os.WriteFile(arch, []byte(strings.Replace(smallNet, `"units": 28`, `"units": 2`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, train, test, []string{"--images", train, "--height", "12", "--width", "12", "--color-mode", "rgb", "--center-crop", "1",
		"--model", arch, "--epochs", "3", "--batch-size", "10", "--no-augment", "--no-evaluate"}
}

// TestTrainCenterCrop trains on photographs wider than the model's input,
// cropped to their centre square as Keras's keep_aspect_ratio does: the
// model keeps the crop, and evaluate, predict and a run that starts from
// the model fit images the same way.
func TestTrainCenterCrop(t *testing.T) {
	dir, train, test, recipe := centredRecipe(t, 3)
	out := filepath.Join(dir, "colours.safetensors")
	code, _, stderr := runCLI(append([]string{"train", "--out", out}, recipe...)...)
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	if f := framingOf(t, out); f.Crop != 1 || f.Framed() {
		t.Errorf("the model's framing %+v, want the centre crop 1", f)
	}
	accuracy := func(args ...string) float64 {
		t.Helper()
		code, stdout, stderr := runCLI(append([]string{"evaluate", "--model", out, "--test-images", test, "--out-dir", dir, "--force", "--json"}, args...)...)
		var ev struct{ Accuracy float64 }
		if code != 0 || json.Unmarshal([]byte(stdout), &ev) != nil {
			t.Fatalf("evaluate %v: exit %d: %s", args, code, stderr)
		}
		return ev.Accuracy
	}
	if a := accuracy(); a != 1 {
		t.Errorf("evaluated as trained (the model's crop): accuracy %v, want 1", a)
	}
	if a := accuracy("--center-crop", "0"); a > 0.5 {
		t.Errorf("evaluated resized whole: accuracy %v, want at most 0.5 (three quarters of each image the other colour)", a)
	}
	code, stdout, stderr := runCLI("predict", "--model", out, "--output", "csv", filepath.Join(test, "red", "0.png"), filepath.Join(test, "blue", "0.png"))
	if lines := strings.Split(strings.TrimSpace(stdout), "\n"); code != 0 || len(lines) != 3 || !strings.Contains(lines[1], ",red,") || !strings.Contains(lines[2], ",blue,") {
		t.Errorf("predict: exit %d: %s%s, want red then blue", code, stdout, stderr)
	}

	// A run from the model crops as the model did.
	again := filepath.Join(dir, "again.safetensors")
	if code, _, stderr := runCLI("train", "--model", out, "--images", train, "--epochs", "1", "--batch-size", "10", "--no-augment", "--no-evaluate", "--out", again); code != 0 {
		t.Fatalf("train from the model: exit %d: %s", code, stderr)
	}
	if f := framingOf(t, again); f.Crop != 1 {
		t.Errorf("the framing of the model trained from it %+v, want the centre crop 1", f)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--data-dir", dir, "--center-crop", "1", "--out", filepath.Join(dir, "x.safetensors")}, "--center-crop goes with --images or --test-images"},
		{[]string{"train", "--images", train, "--center-crop", "1.5", "--out", filepath.Join(dir, "x.safetensors")}, `invalid value "1.5" for flag -center-crop: want a fraction from 0 to 1`},
		{[]string{"evaluate", "--model", out, "--test-images", test, "--center-crop", "x"}, `invalid value "x" for flag -center-crop`},
	} {
		if code, _, stderr := runCLI(c.args...); code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d: %s, want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}

// framingOf returns the framing of the model file at path.
func framingOf(t *testing.T, path string) data.Framing {
	t.Helper()
	m, err := model.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := m.Framing()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestExportPyTorchCenterCrop: the PyTorch project of a run with
// --center-crop crops its images as convnet does, and its model files, the
// convnet one and the ONNX one, keep the crop.
func TestExportPyTorchCenterCrop(t *testing.T) {
	skipRace(t)
	py := python(t, "torch", "numpy")
	dir, _, test, recipe := centredRecipe(t, 5)
	project := filepath.Join(dir, "project")
	exportAndTrain(t, py, project, recipe...)
	// The project's crop box is convnet's, pixel for pixel.
	cases := [][5]float64{{35, 50, 24, 32, 1}, {13, 21, 8, 8, 0.875}, {300, 256, 224, 224, 0.875}, {3, 5, 224, 224, 0.001},
		{480, 640, 224, 224, 1}, {100, 100, 32, 64, 1}, {77, 91, 12, 16, 0.6}, {91, 77, 12, 16, 0.95}}
	doc, _ := json.Marshal(cases)
	script := "import json, sys, train\nout = []\nfor h, w, sh, sw, c in json.loads(sys.argv[1]):\n" +
		"    train.CROP = c\n    out.append(train.centre_box(int(h), int(w), (int(sh), int(sw))))\nprint(json.dumps(out))"
	cmd := exec.Command(py, "-c", script, string(doc))
	cmd.Dir = project
	b, err := cmd.Output()
	var boxes [][4]int
	if err != nil || json.Unmarshal(b, &boxes) != nil || len(boxes) != len(cases) {
		t.Fatalf("the project's centre_box: %v: %s", err, b)
	}
	for i, c := range cases {
		f := data.Framing{Size: [2]int{int(c[2]), int(c[3])}, Crop: c[4]}
		want := f.CropRect(image.Rect(0, 0, int(c[1]), int(c[0])))
		if got := image.Rect(boxes[i][0], boxes[i][1], boxes[i][2], boxes[i][3]); got != want {
			t.Errorf("%vx%v image to %vx%v, crop %v: the project cuts %v, convnet %v", c[0], c[1], c[2], c[3], c[4], got, want)
		}
	}
	imported := filepath.Join(dir, "imported.safetensors")
	if code, _, stderr := runCLI("import", "--onnx", filepath.Join(project, "model.onnx"), "--out", imported); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	for _, m := range []string{filepath.Join(project, "model.safetensors"), imported} {
		if f := framingOf(t, m); f.Crop != 1 {
			t.Errorf("%s: framing %+v, want the centre crop 1", filepath.Base(m), f)
		}
		// Trained on the centre squares, each of one colour: right on
		// all the test images cut as they were.
		code, stdout, stderr := runCLI("evaluate", "--model", m, "--test-images", test, "--out-dir", dir, "--force", "--json")
		var ev struct{ Accuracy float64 }
		if code != 0 || json.Unmarshal([]byte(stdout), &ev) != nil || ev.Accuracy != 1 {
			t.Errorf("evaluate %s: exit %d, accuracy %v, want 1: %s", filepath.Base(m), code, ev.Accuracy, stderr)
		}
	}
}
