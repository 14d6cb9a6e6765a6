package cli

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
)

// swaNet is smallNet with a batch normalization, whose statistics SWA
// computes again at the end.
var swaNet = strings.Replace(smallNet, `{"class_name": "MaxPooling2D"`, `{"class_name": "BatchNormalization", "config": {}},
    {"class_name": "MaxPooling2D"`, 1)

// TestTrainSWA trains 3 epochs averaging epochs 2 and 3: the model ends on
// the mean of the weights the checkpoints of those epochs hold, and a run
// interrupted in its third epoch, once averaging has begun, resumes to the
// same weights bit for bit (the checkpoint carries the average).
func TestTrainSWA(t *testing.T) {
	f := writeCSVSet(t, smallSet)
	dir := t.TempDir()
	arch := filepath.Join(dir, "swa.json")
	if err := os.WriteFile(arch, []byte(strings.Replace(swaNet, `"units": 28`, fmt.Sprintf(`"units": %d`, smallSet.Classes), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	args := func(out string, extra ...string) []string {
		a := trainArgs(t, f, out)
		a[slices.Index(a, "--model")+1] = arch
		return append(a, append([]string{"--epochs", "3", "--swa-start", "2", "--swa-lr", "0.0005", "--swa-anneal-epochs", "1", "--no-evaluate"}, extra...)...)
	}
	whole := filepath.Join(dir, "whole.safetensors")
	code, _, stderr := runCLI(args(whole, "--checkpoint", filepath.Join(dir, "ck-{epoch}.safetensors"))...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"weights averaged from epoch 2 (the rate to 0.0005 over 1 epochs, cos)", "lr: 5.0000e-04",
		"The weights are the average of epochs 2 to 3's (stochastic weight averaging), the batch normalizations' statistics computed again over the training data."} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	final := load(t, whole)
	ck2, ck3 := load(t, filepath.Join(dir, "ck-2.safetensors")), load(t, filepath.Join(dir, "ck-3.safetensors"))
	for i, p := range final.Params() {
		a, b := ck2.Params()[i].Value.Data, ck3.Params()[i].Value.Data
		if !p.Trainable {
			if p.Name == "moving_mean" && (slices.Equal(p.Value.Data, b)) {
				t.Errorf("%s: the last epoch's, not computed again", p.Name)
			}
			continue
		}
		for j, w := range p.Value.Data {
			if mean := (float64(a[j]) + float64(b[j])) / 2; math.Abs(float64(w)-mean) > 1e-6*(1+math.Abs(mean)) {
				t.Fatalf("parameter %d (%s) value %d: %v, want the mean of epochs 2 and 3's, %v", i, p.Name, j, w, mean)
			}
		}
	}

	split := filepath.Join(dir, "split.safetensors")
	ckpt := interruptedRun(t, args(split), 2, 3)
	if code, _, stderr := runCLI("train", "--resume", ckpt); code != 0 {
		t.Fatalf("resumed run: exit %d: %s", code, stderr)
	}
	resumed := load(t, split)
	for i, p := range final.Params() {
		if !slices.Equal(p.Value.Data, resumed.Params()[i].Value.Data) {
			t.Fatalf("parameter %d (%s) differs between the uninterrupted and the resumed run", i, p.Name)
		}
	}
}

func load(t *testing.T, path string) *model.Sequential {
	t.Helper()
	m, err := model.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
