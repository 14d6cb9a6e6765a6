package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/model/pretrained"
)

// writeFolder writes n PNGs of 20x20 pixels per class in the layout of
// flow_from_directory: a bright bar across a dark noisy background, in the
// middle third of the image, horizontal for "across" and vertical for
// "down", and no bar for "blank".
func writeFolder(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, class := range []string{"across", "blank", "down"} {
		if err := os.Mkdir(filepath.Join(dir, class), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			img := image.NewGray(image.Rect(0, 0, 20, 20))
			at := 6 + rng.IntN(6)
			for y := range 20 {
				for x := range 20 {
					v := uint8(rng.IntN(50))
					if class == "across" && y >= at && y < at+3 || class == "down" && x >= at && x < at+3 {
						v = uint8(200 + rng.IntN(56))
					}
					img.Pix[y*20+x] = v
				}
			}
			var b bytes.Buffer
			if err := png.Encode(&b, img); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, class, fmt.Sprintf("%03d.png", i)), b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func TestTrainFolder(t *testing.T) {
	dir := writeFolder(t, 20)
	out := filepath.Join(t.TempDir(), "bars.safetensors")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-images", dir, "-size", "16", "-model", "lenet5", "-epochs", "6", "-batch", "8", "-out", out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("trainfolder: %v\n%s", err, stderr.String())
	}
	if want := "48 training and 12 validation images of [16 16 1] in 3 classes"; !strings.Contains(stdout.String(), want) {
		t.Errorf("trainfolder printed %q, want %q", stdout.String(), want)
	}
	if !strings.Contains(stderr.String(), "Epoch 6/6") {
		t.Errorf("trainfolder progress lacks the last epoch:\n%s", stderr.String())
	}
	m, err := model.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.ClassNames, []string{"across", "blank", "down"}) || m.Standardizer == nil || !slices.Equal(m.InputShape(), []int{16, 16, 1}) {
		t.Errorf("saved model: classes %v, preprocessing %v, input %v", m.ClassNames, m.Standardizer != nil, m.InputShape())
	}
	if f, err := m.Framing(); err != nil || f.Size != [2]int{16, 16} || f.Crop != 0 || f.Dark != true {
		t.Errorf("saved framing %+v (%v), want that of light bars on dark 16x16 images, uncropped", f, err)
	}
	h, err := m.History()
	if err != nil || h == nil || len(h.Epochs) != 6 {
		t.Fatalf("saved history %+v, %v; want 6 epochs", h, err)
	}
	if acc := h.Epochs[5].ValAccuracy; acc < 0.9 {
		t.Errorf("validation accuracy %.3f after 6 epochs on bars, want at least 0.9", acc)
	}

	// With -crop, the centre of each image: the model keeps the crop.
	cropped := filepath.Join(t.TempDir(), "centre.safetensors")
	if err := run(context.Background(), []string{"-images", dir, "-size", "16", "-crop", "0.5", "-model", "lenet5", "-epochs", "1", "-out", cropped}, &stdout, &stderr); err != nil {
		t.Fatalf("trainfolder -crop 0.5: %v", err)
	}
	if c, err := model.Load(cropped); err != nil {
		t.Fatal(err)
	} else if f, err := c.Framing(); err != nil || f.Crop != 0.5 {
		t.Errorf("framing with -crop 0.5: %+v (%v)", f, err)
	}

	// The file exists now: a second run refuses to replace it.
	if err := run(context.Background(), []string{"-images", dir, "-out", out}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("trainfolder onto an existing model file: error %v, want one saying it exists", err)
	}
	if err := run(context.Background(), []string{"-images", filepath.Join(dir, "none")}, &stdout, &stderr); err == nil {
		t.Error("trainfolder on a missing folder: no error")
	}
}

// TestTrainFolderFrom starts from the built-in AHCD model: the bars are read
// at its 32x32, a new head of 3 classes trains on its frozen base, whose
// weights come out as they went in.
func TestTrainFolderFrom(t *testing.T) {
	dir := writeFolder(t, 20)
	out := filepath.Join(t.TempDir(), "bars.safetensors")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-images", dir, "-from", "ahcd", "-epochs", "3", "-batch", "8", "-out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("trainfolder -from ahcd: %v\n%s", err, stderr.String())
	}
	if want := "48 training and 12 validation images of [32 32 1] in 3 classes"; !strings.Contains(stdout.String(), want) {
		t.Errorf("trainfolder printed %q, want %q", stdout.String(), want)
	}
	m, err := model.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	base, err := pretrained.Load("ahcd")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Params()[0].Value.Data, base.Params()[0].Value.Data) || m.NumClasses() != 3 ||
		!slices.Equal(m.Standardizer.MeanImage, base.Standardizer.MeanImage) {
		t.Errorf("saved model: first kernel changed, %d classes, or another preprocessing than the base's", m.NumClasses())
	}
	for i, l := range m.Layers {
		if m.Trainable(l) != (i == len(m.Layers)-1) {
			t.Errorf("layer %s: trainable %v", l.Name(), m.Trainable(l))
		}
	}
}
