package cli

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPredictCAM draws the class activation maps of three AHCD letters
// and of two CSV rows with the built-in model: one picture each, 256x256,
// named after its input, whose reddest cell is the map's largest one.
func TestPredictCAM(t *testing.T) {
	dir := t.TempDir()
	images := testImages(t, "ahcd", 3)
	if err := os.MkdirAll(filepath.Join(dir, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	var rows []string
	for i, img := range images {
		writeGrayPNG(t, filepath.Join(dir, "in", []string{"a", "b", "c"}[i]+".png"), img, 32, 32)
		if i < 2 {
			var row []string
			for _, v := range img {
				row = append(row, strconv.Itoa(int(v)))
			}
			rows = append(rows, strings.Join(row, ","))
		}
	}
	writeFile(t, filepath.Join(dir, "rows.csv"), []byte(strings.Join(rows, "\n")+"\n"))
	cams := filepath.Join(dir, "cams")
	code, _, stderr := runCLI("predict", "--model", "ahcd", "--cam", "hirescam", "--cam-dir", cams, filepath.Join(dir, "in"), filepath.Join(dir, "rows.csv"))
	if code != 0 || !strings.Contains(stderr, "Wrote 5 class activation maps (hirescam) to "+cams) {
		t.Fatalf("predict --cam: exit %d: %s", code, stderr)
	}
	m, c := ahcdClassifier(t)
	base := strings.TrimLeft(filepath.ToSlash(dir), "/")
	base = strings.ReplaceAll(base, "/", "_")
	for i, name := range []string{"in_a.png", "in_b.png", "in_c.png", "rows.csv#1", "rows.csv#2"} {
		path := filepath.Join(cams, base+"_"+name+".hirescam.png")
		f, err := os.Open(path)
		if err != nil {
			entries, _ := os.ReadDir(cams)
			t.Fatalf("%v (the folder holds %v)", err, entries)
		}
		pic, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if b := pic.Bounds(); b.Dx() != 256 || b.Dy() != 256 {
			t.Errorf("%s: %v, want 256x256", name, b)
		}
		cam, err := c.CAM(context.Background(), images[[]int{0, 1, 2, 0, 1}[i]], "hirescam", -1, -1)
		if err != nil {
			t.Fatal(err)
		}
		hot, top := hottest(pic, 8), argmax(cam.Map.Data)
		if cam.Map.Data[top] == 0 || hot != top {
			t.Errorf("%s: the reddest cell is %d, the map's largest %d", name, hot, top)
		}
	}
	// Another layer by its name: the second block's ReLU, 16x16.
	one := filepath.Join(dir, "in", "a.png")
	if code, _, stderr := runCLI("predict", "--model", "ahcd", "--cam", "gradcam", "--cam-dir", cams, "--cam-layer", "re_lu_3", one); code != 0 {
		t.Fatalf("predict --cam-layer re_lu_3: exit %d: %s", code, stderr)
	}
	f, err := os.Open(filepath.Join(cams, camFileName(one)+".gradcam.png"))
	if err != nil {
		t.Fatal(err)
	}
	pic, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	layer := -1
	for i, l := range m.Layers {
		if l.Name() == "re_lu_3" {
			layer = i
		}
	}
	cam, err := c.CAM(context.Background(), images[0], "gradcam", -1, layer)
	if err != nil {
		t.Fatal(err)
	}
	if cam.Map.Data[argmax(cam.Map.Data)] == 0 {
		t.Fatal("re_lu_3's Grad-CAM map of the first letter is empty: a test that shows nothing")
	}
	if got := hottest(pic, 16); fmt.Sprint(cam.Map.Shape) != "[16 16]" || got != argmax(cam.Map.Data) {
		t.Errorf("re_lu_3's map %v: the reddest cell %d, the largest %d", cam.Map.Shape, got, argmax(cam.Map.Data))
	}

	// The occlusion map: of the input, 32x32.
	if code, _, stderr := runCLI("predict", "--model", "ahcd", "--cam", "occlusion", "--cam-dir", cams, one); code != 0 {
		t.Fatalf("predict --cam occlusion: exit %d: %s", code, stderr)
	}
	if f, err = os.Open(filepath.Join(cams, camFileName(one)+".occlusion.png")); err != nil {
		t.Fatal(err)
	}
	pic, err = png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if cam, err = c.CAM(context.Background(), images[0], "occlusion", -1, -1); err != nil {
		t.Fatal(err)
	}
	if cam.Map.Data[argmax(cam.Map.Data)] == 0 {
		t.Fatal("the occlusion map of the first letter is empty: a test that shows nothing")
	}
	// Its squares overlap: the map is smooth, and jet's red is reddest at
	// 7/8 of the largest value (it darkens from there): the reddest pixel
	// is one of 7/8 of it or more.
	top := cam.Map.Data[argmax(cam.Map.Data)]
	if got := hottest(pic, 32); fmt.Sprint(cam.Map.Shape) != "[32 32]" || cam.Map.Data[got] < 0.85*top {
		t.Errorf("the occlusion map %v: the reddest pixel %d is %.4g, the largest %d %.4g", cam.Map.Shape, got, cam.Map.Data[got], argmax(cam.Map.Data), top)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--cam", "occlusion", "--cam-dir", cams, "--cam-layer", "conv2d"}, "--cam-layer goes with gradcam and hirescam: occlusion hides squares of the input"},
		{[]string{"--cam", "saliency", "--cam-dir", cams}, `--cam "saliency": want one of gradcam, hirescam, occlusion`},
		{[]string{"--cam", "gradcam"}, "--cam needs --cam-dir"},
		{[]string{"--cam-dir", cams}, "--cam-dir and --cam-layer go with --cam"},
		{[]string{"--cam", "gradcam", "--cam-dir", cams, "--cam-layer", "flatten"}, "(flatten) outputs shape [2048], not an image"},
		{[]string{"--cam", "gradcam", "--cam-dir", cams, "--cam-layer", "conv9"}, `--cam-layer "conv9": the model has no such layer; its layers are conv2d, batch_normalization,`},
	} {
		code, _, stderr := runCLI(append([]string{"predict", "--model", "ahcd", filepath.Join(dir, "in")}, tt.args...)...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("predict %v: exit %d, %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}

// hottest returns the reddest of the n x n cells' centres of a 256x256
// picture, by red less green.
func hottest(pic image.Image, n int) int {
	best, hot := -1<<31, -1
	size := 256 / n
	for k := range n * n {
		r, g, _, _ := pic.At(k%n*size+size/2, k/n*size+size/2).RGBA()
		if score := int(r) - int(g); score > best {
			best, hot = score, k
		}
	}
	return hot
}

// argmax returns the index of the largest value of v, the first of ties.
func argmax(v []float32) int {
	top := 0
	for k, x := range v {
		if x > v[top] {
			top = k
		}
	}
	return top
}
