package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
)

func TestSummaryCommand(t *testing.T) {
	dir := t.TempDir()
	m, err := model.PresetFor("lenet5", []int{28, 28, 1}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "lenet.safetensors")
	if err := model.Save(file, m, model.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	// Photographs, their centre cut out, standardised as torchvision's Normalize.
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255, FeaturewiseStd: true, Mean: []float32{0.1307}, Std: []float32{0.3081}}
	if err := m.SetFraming(data.Framing{Size: [2]int{28, 28}, Crop: 0.875}); err != nil {
		t.Fatal(err)
	}
	photos := filepath.Join(dir, "photos.safetensors")
	if err := model.Save(photos, m, model.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.safetensors")
	os.WriteFile(garbage, []byte("garbage!"), 0o644)

	tests := []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{args: []string{"summary", "--model", "tutorial"}, code: exitOK, stdout: "Total params: 1,203,708\nTrainable params: 1,203,708\nNon-trainable params: 0\n"},
		{args: []string{"summary"}, code: exitOK, stdout: "Total params: 1,203,708\n"},
		{args: []string{"summary", "--model", "tutorial", "--input", "28x28x1", "--classes", "10"}, code: exitOK, stdout: "dense_2 (Dense)              (None, 10)"},
		{args: []string{"summary", "--model", file}, code: exitOK, stdout: "conv2d (Conv2D)              (None, 28, 28, 6)         156\n"},
		// Keras's model.to_json() of the tutorial's network and of a small ResNet.
		{args: []string{"summary", "--model", kerasDoc("tutorial_sequential.json")}, code: exitOK,
			stdout: "dense_2 (Dense)              (None, 28)                7,196\n=================================================================\nTotal params: 1,203,708\n"},
		{args: []string{"summary", "--model", kerasDoc("residual_functional.json")}, code: exitOK,
			stdout: "add_1 (Add)                     (None, 14, 14, 32)   0           batch_normalization_4[0][0]\n" +
				"                                                                 batch_normalization_5[0][0]\n"},
		{args: []string{"summary", "--model", kerasDoc("residual_keras3.json")}, code: exitOK, stdout: "Total params: 19,994\n"},
		{args: []string{"summary", "--model", "vgg16"}, code: exitUsage, stderr: `unknown model "vgg16": not a preset (convnet-bn, elsawy2017, lenet5, resnet, tutorial), a built-in model (ahcd, mnist) nor a file`},
		// The built-in models, by name.
		{args: []string{"summary", "--model", "ahcd"}, code: exitOK, stdout: "dense_1 (Dense)              (None, 28)                7,196\n=================================================================\nTotal params: 820,284\n"},
		{args: []string{"summary", "--model", "ahcd"}, code: exitOK, stdout: "Trained with: convnet train --recipe strong --seed 3 --out strong45-3.safetensors\n" +
			"History: 45 epochs, the last with loss 0.7011 and accuracy 0.9908\nTest accuracy: 0.9860 (3360 images of ahcd), loss 0.1349\n"},
		// How each takes an image.
		{args: []string{"summary", "--model", "ahcd"}, code: exitOK, stdout: "Images: light ink on a dark background, framed as the training images: cropped to the ink, " +
			"its long side scaled to 17 px, its centre of mass put at row 17.49, column 17.43 of 32x32, strokes far from 1.61 px wide thinned or thickened toward it; dark ink on light paper is inverted\n" +
			"Preprocessing: pixels 0..255 divided by 255, minus the mean training image\n"},
		{args: []string{"summary", "--model", file}, code: exitOK, stdout: "\nImages: resized whole to 28x28; light ink on a dark background, so dark ink on light paper is inverted\n"},
		{args: []string{"summary", "--model", photos}, code: exitOK, stdout: "Images: the centre of another shape cut out (0.875 of the largest region of 28x28's shape), then resized to 28x28; never inverted\n" +
			"Preprocessing: pixels 0..255 divided by 255, minus [0.1307] a channel, divided by [0.3081] a channel\n"},
		{args: []string{"summary", "--model", "mnist", "--input", "32x32x1"}, code: exitUsage, stderr: "not to model files nor built-in models"},
		{args: []string{"summary", "--model", filepath.Join(dir, "none.safetensors")}, code: exitError, stderr: "none.safetensors"},
		{args: []string{"summary", "--model", garbage}, code: exitError, stderr: "garbage.safetensors: invalid model file"},
		{args: []string{"summary", "--input", "32xx"}, code: exitUsage, stderr: `dimension ""`},
		{args: []string{"summary", "--input", "32"}, code: exitUsage, stderr: "input shape [32]"},
		{args: []string{"summary", "--input", "0x3"}, code: exitUsage, stderr: `dimension "0"`},
		{args: []string{"summary", "--model", file, "--classes", "3"}, code: exitUsage, stderr: "--input applies to presets and architecture files, --classes to presets"},
		{args: []string{"summary", "--model", kerasDoc("tutorial_sequential.json"), "--classes", "5"}, code: exitUsage, stderr: "--classes sizes a preset's last layer: the last layer of the architecture"},
		{args: []string{"summary", "extra"}, code: exitUsage, stderr: `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.stderr)
			}
		})
	}
}

func TestSummaryArchitectureFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "net.json")
	if err := os.WriteFile(path, []byte(smallNet), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := summary(SummaryOptions{Model: path}, &out); err != nil {
		t.Fatal(err)
	}
	// conv 3*3*1*8+8 = 80, dense 16*16*8*28+28 = 57,372.
	if !strings.Contains(out.String(), "Total params: 57,452") || !strings.Contains(out.String(), "(None, 16, 16, 8)") {
		t.Errorf("summary of an architecture file:\n%s", out.String())
	}
}

// kerasDoc is the path of a Keras architecture document of model's tests.
func kerasDoc(name string) string {
	return filepath.Join("..", "..", "model", "testdata", "keras", name)
}
