package cli

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/model/pretrained"
)

// ahcdClassifier returns the built-in AHCD model, a fresh copy, and its
// classifier.
func ahcdClassifier(t *testing.T) (*model.Sequential, *model.Classifier) {
	t.Helper()
	m, err := pretrained.Load("ahcd")
	if err != nil {
		t.Fatal(err)
	}
	c, err := model.NewClassifier(m, model.ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m, c
}

// TestPatterns draws the built-in AHCD model's class patterns and the
// patterns of a layer's channels: each picture is the classifier's
// pattern deprocessed, labelled with what the network reads in it; the
// PNG is written, and a second run refuses to overwrite it.
func TestPatterns(t *testing.T) {
	skipRace(t)
	m, c := ahcdClassifier(t)
	last := len(m.Layers) - 1
	cells, err := patternCells(context.Background(), c, last, PatternsOptions{Channels: 64, Steps: 30})
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) != 28 {
		t.Fatalf("%d class patterns, want 28", len(cells))
	}
	for _, k := range []int{0, 1, 27} {
		p, err := c.Pattern(context.Background(), last, k, model.PatternOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, want := cells[k].Pixels, p.Deprocess()
		same := cells[k].H == 32 && cells[k].W == 32 && cells[k].C == 1 && len(got) == len(want)
		for i := range want {
			same = same && got[i] == float32(want[i])
		}
		if !same {
			t.Errorf("class %d: the picture is not the class's pattern deprocessed", k)
		}
		name := m.ClassNames[k]
		if p.Top[0].Label == k && !strings.HasSuffix(cells[k].Label, "%") || p.Top[0].Label != k && !strings.Contains(cells[k].Label, "→ "+m.ClassNames[p.Top[0].Label]) || !strings.HasPrefix(cells[k].Label, name+"\n") {
			t.Errorf("class %d, read as %d: label %q", k, p.Top[0].Label, cells[k].Label)
		}
	}

	dir := t.TempDir()
	out := filepath.Join(dir, "re_lu_5.png")
	code, stdout, stderr := runCLI("patterns", "--model", "ahcd", "--layer", "re_lu_5", "--channels", "12", "--steps", "5", "--out", out)
	if code != 0 || stdout != "wrote "+out+" (12 patterns)\n" {
		t.Fatalf("patterns: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil || img.Bounds().Dx() < 8*96 || img.Bounds().Dy() < 2*96 {
		t.Fatalf("the PNG: %v, %v; want 2 rows of 8 pictures of 96 pixels", err, img.Bounds())
	}
	byName, err1 := layerByNameOrIndex(m, "re_lu_5")
	byIndex, err2 := layerByNameOrIndex(m, "21")
	if err1 != nil || err2 != nil || byName != 21 || byIndex != 21 {
		t.Errorf("--layer re_lu_5 and --layer 21: layers %d (%v) and %d (%v), want 21", byName, err1, byIndex, err2)
	}
	few, err := patternCells(context.Background(), c, 21, PatternsOptions{Channels: 2, Steps: 5})
	if err != nil || len(few) != 2 || !strings.HasPrefix(few[1].Label, "channel 1\n") {
		t.Errorf("the patterns of 2 channels of re_lu_5: %v, %d cells", err, len(few))
	}

	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--model", "ahcd", "--out", out}, 1, "exists"},
		{[]string{"--model", "ahcd", "--layer", "nope", "--out", filepath.Join(dir, "x.png")}, 2, `--layer "nope": the model has no such layer; its layers are conv2d, batch_normalization`},
		{[]string{"--model", "ahcd", "--layer", "30", "--out", filepath.Join(dir, "x.png")}, 2, "(or their indices 0..29)"},
		{[]string{"--model", "ahcd", "--channels", "0", "--out", filepath.Join(dir, "x.png")}, 2, "--channels 0: want a value in [1, 1024]"},
		{[]string{"--out", filepath.Join(dir, "x.png")}, 2, "--model is required"},
		{[]string{"--model", "ahcd"}, 2, "--out is required"},
		{[]string{"--model", filepath.Join(dir, "missing.safetensors"), "--out", filepath.Join(dir, "x.png")}, 1, "the built-in models are"},
	} {
		code, _, stderr := runCLI(append([]string{"patterns"}, tt.args...)...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("patterns %v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.png")); err == nil {
		t.Error("a failed run left x.png behind")
	}
}

// TestPatternPicture: a pattern of 1 or 3 channels is drawn as it is, of 2
// as its first channel in grey, of 4 as its first three in colour, as the
// demo draws them.
func TestPatternPicture(t *testing.T) {
	px := []float32{1, 2, 3, 4, 5, 6, 7, 8} // 2 pixels of 4, 4 of 2, ...
	for _, tt := range []struct {
		c, wantC int
		want     []float32
	}{
		{1, 1, px},
		{2, 1, []float32{1, 3, 5, 7}},
		{4, 3, []float32{1, 2, 3, 5, 6, 7}},
	} {
		got, c := picture(px, tt.c)
		if c != tt.wantC || !slices.Equal(got, tt.want) {
			t.Errorf("%d channels: %v of %d channels, want %v of %d", tt.c, got, c, tt.want, tt.wantC)
		}
	}
	rgb := []float32{1, 2, 3, 4, 5, 6}
	if got, c := picture(rgb, 3); c != 3 || !slices.Equal(got, rgb) {
		t.Errorf("3 channels: %v of %d, want them as they are", got, c)
	}
}
