package cli

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model/pretrained"
)

// makeTFJS saves the models of scripts/tfjs/make.js, built and saved by
// TensorFlow.js itself, in a new folder and returns it.
func makeTFJS(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command(tfjsNode(t), filepath.Join(tfjsScripts, "make.js"), dir).CombinedOutput(); err != nil {
		t.Fatalf("make.js: %v\n%s", err, out)
	}
	return dir
}

// zipFolder writes the files of dir into a zip archive at path, as
// Teachable Machine's download holds its model's.
func zipFolder(t *testing.T, dir, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		w, _ := zw.Create(e.Name())
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// TestImportTFJS imports models that TensorFlow.js built and saved
// (make.js): one laid out as a Teachable Machine image model, from a zip of
// its files as Teachable Machine downloads them; a Sequential of most layer
// types; a Functional model of merges; the first with its weights
// quantized to uint8, uint16 and float16. On 20 random images each gives
// TensorFlow.js's probabilities (run.js, the same files) within 1e-5; the
// Teachable Machine model takes its labels as class names and its
// library's x/127 − 1 as preprocessing.
func TestImportTFJS(t *testing.T) {
	made := makeTFJS(t)
	dir := t.TempDir()
	zipFolder(t, filepath.Join(made, "teachable"), filepath.Join(dir, "teachable.zip"))
	for _, tc := range []struct {
		name, in string
		flags    []string
	}{
		{"teachable", filepath.Join(dir, "teachable.zip"), nil},
		{"layers", filepath.Join(made, "layers", "model.json"), []string{"--rescale", "1/255"}},
		{"branches", filepath.Join(made, "branches"), []string{"--rescale", "1/255"}},
		{"uint8", filepath.Join(made, "uint8"), []string{"--rescale", "1/127", "--mean", "1,1,1"}},
		{"uint16", filepath.Join(made, "uint16"), []string{"--rescale", "1/127", "--mean", "1,1,1"}},
		{"float16", filepath.Join(made, "float16"), []string{"--rescale", "1/127", "--mean", "1,1,1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name+".safetensors")
			code, stdout, stderr := runCLI(append([]string{"import", "--tfjs", tc.in, "--out", out}, tc.flags...)...)
			if code != 0 || !strings.HasPrefix(stdout, "wrote "+out) {
				t.Fatalf("import: exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			m := load(t, out)
			images := randomImages(20, m.InputShape())
			x, _ := batch(m, images, make([]int, len(images)))
			got, a := runTFJS(t, filepath.Join(made, tc.name), x)
			if !slices.Equal(a.Shape, []int{len(images), m.NumClasses()}) {
				t.Fatalf("TensorFlow.js's output %v", a.Shape)
			}
			compareProbabilities(t, "outputs, TensorFlow.js vs convnet", got, probabilities(t, m, images), 1e-5)
			if tc.name != "teachable" {
				return
			}
			want := data.Standardizer{Rescale: 1.0 / 127, FeaturewiseCenter: true, Mean: []float32{1, 1, 1}}
			if s := m.Standardizer; s == nil || s.Rescale != want.Rescale || !s.FeaturewiseCenter || !slices.Equal(s.Mean, want.Mean) || s.FeaturewiseStd {
				t.Errorf("preprocessing %+v, want %+v (x/127 - 1)", s, want)
			}
			if !slices.Equal(m.ClassNames, []string{"Cat", "Dog", "Nothing"}) || !strings.Contains(m.Meta["source"], `Teachable Machine @teachablemachine/image model "tm-my-image-model"`) {
				t.Errorf("class names %q, source %q", m.ClassNames, m.Meta["source"])
			}
			// Its library crops the centre square: a landscape photograph
			// is classified as its centre, which is the model's 32x32.
			if f, err := m.Framing(); err != nil || f.Crop != 1 || f.Dark {
				t.Errorf("framing %+v, %v; want the centre square, photographs as they are", f, err)
			}
			photo, centre := filepath.Join(dir, "photo.png"), filepath.Join(dir, "centre.png")
			img := image.NewRGBA(image.Rect(0, 0, 48, 32))
			for i := range img.Pix { // light: a photograph is not inverted, whatever its border
				img.Pix[i] = uint8(128 + i*7919%128)
				if i%4 == 3 {
					img.Pix[i] = 255
				}
			}
			writePNG(t, photo, img)
			writePNG(t, centre, img.SubImage(image.Rect(8, 0, 40, 32)))
			code, stdout, stderr = runCLI("predict", "--model", out, "--output", "json", "--top", "3", photo, centre)
			var rows []jsonPrediction
			for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
				var r jsonPrediction
				if err := json.Unmarshal([]byte(line), &r); err != nil {
					t.Fatalf("predict: exit %d, %q: %v (%s)", code, line, err, stderr)
				}
				rows = append(rows, r)
			}
			if len(rows) != 2 || !slices.Equal(rows[0].Top, rows[1].Top) || rows[0].Inverted {
				t.Errorf("the photograph and its centre: %+v", rows)
			}
		})
	}
}

// TestImportTFJSRoundTrip exports the built-in AHCD model for TensorFlow.js
// and imports it back: the same weights, bit for bit, class names and
// preprocessing.
func TestImportTFJSRoundTrip(t *testing.T) {
	ahcd, err := pretrained.Load("ahcd")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if code, _, stderr := runCLI("export", "--model", "ahcd", "--format", "tfjs", "--out", filepath.Join(dir, "web")); code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	out := filepath.Join(dir, "back.safetensors")
	if code, _, stderr := runCLI("import", "--tfjs", filepath.Join(dir, "web"), "--out", out); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	back := load(t, out)
	if !slices.Equal(back.ClassNames, ahcd.ClassNames) || back.Standardizer == nil || !slices.Equal(back.Standardizer.Mean, ahcd.Standardizer.Mean) ||
		back.Standardizer.Rescale != ahcd.Standardizer.Rescale {
		t.Errorf("class names or preprocessing differ: %q %+v", back.ClassNames[:3], back.Standardizer)
	}
	if f, err := back.Framing(); err != nil || f != framingOf(t, filepath.Join("..", "..", "model", "pretrained", "ahcd.safetensors")) {
		t.Errorf("framing %+v (%v), want the built-in model's", f, err)
	}
	want, got := ahcd.Params(), back.Params()
	if len(got) != len(want) {
		t.Fatalf("%d weights, want %d", len(got), len(want))
	}
	for i := range want {
		if !slices.Equal(got[i].Value.Data, want[i].Value.Data) || !slices.Equal(got[i].Value.Shape, want[i].Value.Shape) {
			t.Errorf("weight %d (%s) differs", i, want[i].Name)
		}
	}
}

// TestImportTFJSRefused: two sources, --arch with --tfjs, a missing path,
// a zip archive without one model.json and a graph model are refused,
// saying why, and leave no model file.
func TestImportTFJSRefused(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.zip")
	zipFolder(t, t.TempDir(), empty)
	graph := filepath.Join(dir, "graph")
	os.Mkdir(graph, 0o755)
	os.WriteFile(filepath.Join(graph, "model.json"), []byte(`{"format": "graph-model", "modelTopology": {"node": []}}`), 0o644)
	out := filepath.Join(dir, "m.safetensors")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--tfjs", graph, "--onnx", "m.onnx"}, 2, "give one of --onnx, --keras and --tfjs, and --out"},
		{[]string{"--tfjs", graph, "--arch", "a.json"}, 2, "--arch goes with --keras"},
		{[]string{"--tfjs", graph, "--center-crop", "2"}, 2, `invalid value "2" for flag -center-crop: want a fraction from 0 to 1`},
		{[]string{"--tfjs", filepath.Join(dir, "none")}, 1, "none: no such file or directory"},
		{[]string{"--tfjs", empty}, 1, "empty.zip: a zip archive with 0 files called model.json, want one"},
		{[]string{"--tfjs", graph}, 1, "graph: tfjs: model.json: a TensorFlow.js graph model"},
	} {
		code, _, stderr := runCLI(append([]string{"import", "--out", out}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %q; want %d and %q", c.args, code, stderr, c.code, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%v left %s", c.args, out)
		}
	}
}

// writePNG writes img to path as a PNG.
func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestUnnumbered drops the numbers of Teachable Machine's labels.txt, and
// only those: every line i must begin with i and a space.
func TestUnnumbered(t *testing.T) {
	for _, c := range []struct{ in, want []string }{
		{[]string{"0 Class 1", "1 Class 2"}, []string{"Class 1", "Class 2"}},
		{[]string{"0 cat", "2 dog"}, []string{"0 cat", "2 dog"}},
		{[]string{"1 cat", "2 dog"}, []string{"1 cat", "2 dog"}},
		{[]string{"0cat", "1 dog"}, []string{"0cat", "1 dog"}},
		{[]string{"alef", "ba"}, []string{"alef", "ba"}},
	} {
		if got := unnumbered(c.in); !slices.Equal(got, c.want) {
			t.Errorf("unnumbered(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
