package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
)

// writeMNISTFolders writes perClass training and test images of each MNIST
// digit as 28x28 PNG files into dir/train/<digit> and dir/test/<digit>,
// the layout --images reads.
func writeMNISTFolders(t *testing.T, dir string, perClass int) {
	t.Helper()
	train, test, err := data.LoadMNIST(context.Background(), filepath.Join(dataDir(t), "mnist"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range []struct {
		name string
		d    *data.Dataset
	}{{"train", train}, {"test", test}} {
		n := make([]int, 10)
		for i := 0; i < set.d.Len() && slices.Min(n) < perClass; i++ {
			c := int(set.d.Y[i])
			if n[c] == perClass {
				continue
			}
			folder := filepath.Join(dir, set.name, set.d.ClassNames[c])
			if err := os.MkdirAll(folder, 0o755); err != nil {
				t.Fatal(err)
			}
			writeGrayPNG(t, filepath.Join(folder, fmt.Sprintf("%d.png", i)), set.d.Image(i), 28, 28)
			n[c]++
		}
	}
}

// TestTrainFromModelFile trains a model on AHCD's letters, then a new head
// for MNIST's digits on its frozen features, from PNG folders read at the
// model's 32x32: the run says what it kept and what it froze, the frozen
// weights and the preprocessing come out as they went in, the model file
// says which layers are frozen, and mistakes get errors that name them.
func TestTrainFromModelFile(t *testing.T) {
	dir := t.TempDir()
	base, arch := filepath.Join(dir, "letters.safetensors"), filepath.Join(dir, "small.json")
	if err := os.WriteFile(arch, []byte(smallNet), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI("train", "--data-dir", dataDir(t), "--model", arch, "--limit", "1000", "--epochs", "1",
		"--no-evaluate", "--out", base)
	if code != 0 {
		t.Fatalf("training the base: exit %d: %s", code, stderr)
	}
	writeMNISTFolders(t, dir, 12)
	digits := []string{"--images", filepath.Join(dir, "train"), "--test-images", filepath.Join(dir, "test"), "--epochs", "2", "--batch-size", "20"}
	tuned := filepath.Join(dir, "digits.safetensors")
	code, stdout, stderr := runCLI(append([]string{"train", "--model", base, "--freeze", "..flatten", "--out", tuned}, digits...)...)
	if code != 0 {
		t.Fatalf("transfer: exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"Starting from " + base + ": its weights and preprocessing, with a new head dense (Dense) of 10 classes for images:" + filepath.Join(dir, "train") + " in place of its 28 classes.",
		"Frozen: conv2d..flatten (4 layers); 20490 weights train, 80 do not.",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, "test accuracy") {
		t.Errorf("no evaluation on the test images:\n%s", stdout)
	}
	b, err := model.Load(base)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(tuned)
	if err != nil {
		t.Fatal(err)
	}
	pb, pm := b.Params(), m.Params()
	if !slices.Equal(pb[0].Value.Data, pm[0].Value.Data) || !slices.Equal(pb[1].Value.Data, pm[1].Value.Data) {
		t.Error("the frozen convolution's weights changed")
	}
	if !slices.Equal(m.ClassNames, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}) || m.NumClasses() != 10 {
		t.Errorf("classes %v", m.ClassNames)
	}
	if !slices.Equal(m.Standardizer.MeanImage, b.Standardizer.MeanImage) || len(b.Standardizer.MeanImage) != 32*32 {
		t.Error("the preprocessing is not the base model's")
	}
	for i, l := range m.Layers {
		if m.Trainable(l) != (i == len(m.Layers)-1) {
			t.Errorf("saved model: layer %s trainable %v", l.Name(), m.Trainable(l))
		}
	}

	// Going on from the tuned model with the same classes keeps its head,
	// its frozen layers unless --freeze says otherwise.
	again := filepath.Join(dir, "again.safetensors")
	code, _, stderr = runCLI(append([]string{"train", "--model", tuned, "--freeze", "none", "--inference-mode", "..dropout", "--lr", "1e-4", "--out", again}, digits...)...)
	if code != 0 || !strings.Contains(stderr, "its weights, preprocessing and head (the same 10 classes)") || strings.Contains(stderr, "Frozen:") ||
		!strings.Contains(stderr, "In inference mode in training too: conv2d..dropout (3 layers).") {
		t.Errorf("fine-tuning the whole: exit %d: %s", code, stderr)
	}
	if a, err := model.Load(again); err != nil {
		t.Error(err)
	} else {
		for i, l := range a.Layers {
			if a.InferenceInTraining(l) != (i < 3) || !a.Trainable(l) {
				t.Errorf("fine-tuned model: layer %s: inference in training %v, trainable %v", l.Name(), a.InferenceInTraining(l), a.Trainable(l))
			}
		}
	}

	// The built-in model, by its name.
	builtin := filepath.Join(dir, "builtin.safetensors")
	code, _, stderr = runCLI(append([]string{"train", "--model", "ahcd", "--freeze", "base", "--epochs", "1", "--no-evaluate", "--out", builtin}, digits[:4]...)...)
	if code != 0 || !strings.Contains(stderr, "Starting from ahcd: its weights and preprocessing, with a new head dense_1 (Dense) of 10 classes") ||
		!strings.Contains(stderr, "Frozen: conv2d..dropout_3 (29 layers)") {
		t.Errorf("from the built-in model: exit %d: %s", code, stderr)
	}
	if b, err := model.Load(builtin); err != nil {
		t.Error(err)
	} else if ev, err := b.Evaluation(); err != nil || ev != nil {
		t.Errorf("without a test, the model keeps an evaluation %v (%v): the built-in model's", ev, err)
	}

	// A base without a top, as Keras's include_top=False, gets one; the
	// grayscale digits are read in colour, as the base takes them.
	headless := model.New(&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Activation: "relu"}, &nn.MaxPool2D{})
	if err := headless.Build([]int{32, 32, 3}, 1); err != nil {
		t.Fatal(err)
	}
	headless.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}
	base2 := filepath.Join(dir, "headless.safetensors")
	if err := model.Save(base2, headless, model.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(append([]string{"train", "--model", base2, "--freeze", "base", "--epochs", "1", "--out", filepath.Join(dir, "topped.safetensors")}, digits[:4]...)...)
	if code != 0 || !strings.Contains(stderr, "and a top for the 10 classes of images:"+filepath.Join(dir, "train")+
		", which it had not: global_average_pooling2d (GlobalAveragePooling2D), dense (Dense).") ||
		!strings.Contains(stderr, "Frozen: conv2d..max_pooling2d (2 layers)") {
		t.Errorf("from a base without a top, its layers frozen: exit %d: %s", code, stderr)
	}

	kerasFile := filepath.Join(dir, "small.keras")
	if err := os.WriteFile(kerasFile, []byte("PK"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--freeze", "conv2d..nope"}, 2, `--freeze conv2d..nope: no layer is named "nope" (the model's: conv2d, max_pooling2d, dropout, flatten, dense)`},
		{[]string{"--freeze", "flatten..conv2d"}, 2, "--freeze flatten..conv2d: flatten runs after conv2d"},
		{[]string{"--freeze", "conv2d,,dense"}, 2, `--freeze conv2d,,dense: empty item ""`},
		{[]string{"--inference-mode", "dense..conv2d"}, 2, "--inference-mode dense..conv2d: dense runs after conv2d"},
		{[]string{"--center", "none"}, 2, "--center: " + base + " brings the preprocessing its weights were trained with"},
		{[]string{"--model", kerasFile}, 2, "import it first (convnet import --keras " + kerasFile + " --out model.safetensors)"},
		{[]string{"--width", "28", "--height", "28"}, 1, base + ": the model takes inputs of shape [32 32 1], the images of images:" + filepath.Join(dir, "train") +
			" have shape [28 28 1] (read them with --width 32 --height 32 --color-mode grayscale)"},
	} {
		out := filepath.Join(t.TempDir(), "x.safetensors")
		code, _, stderr := runCLI(append(append([]string{"train", "--model", base, "--out", out}, digits...), tt.args...)...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}

// TestLayerSpec reads --freeze's ranges and "base" on the tutorial's model,
// whose head is its last Dense, and on one without a Dense.
func TestLayerSpec(t *testing.T) {
	m, err := model.Preset("tutorial")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	names := func(ls []nn.Layer) string {
		var s []string
		for _, l := range ls {
			s = append(s, l.Name())
		}
		return strings.Join(s, " ")
	}
	for spec, want := range map[string]string{
		"base":                    "conv2d conv2d_1 max_pooling2d dropout conv2d_2 conv2d_3 max_pooling2d_1 dropout_1 flatten dense dense_1 dropout_2",
		"none":                    "",
		"dense_1..":               "dense_1 dropout_2 dense_2",
		"..conv2d_1, flatten":     "conv2d conv2d_1 flatten",
		"conv2d,conv2d..conv2d_1": "conv2d conv2d_1",
	} {
		ls, err := layerSpec(m, spec, -1)
		if err != nil || names(ls) != want {
			t.Errorf("%q: %q, %v; want %q", spec, names(ls), err, want)
		}
	}
	if ls, _ := layerSpec(m, "base", 3); names(ls) != "conv2d conv2d_1 max_pooling2d" {
		t.Errorf(`"base" with the head at layer 3: %q`, names(ls))
	}
	c := model.New(&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}})
	if err := c.Build([]int{8, 8, 1}, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := layerSpec(c, "base", -1); err == nil || !strings.Contains(err.Error(), "the model has none") {
		t.Errorf(`"base" without a Dense: %v`, err)
	}
}

// transferStep gives an imported network a new head of 3 classes, in place
// of its head of the type want, freezes every layer before it and takes a
// training step on images: the base's weights stay as they were, bit for
// bit, and the head's change.
func transferStep(t *testing.T, m *model.Sequential, images [][]float32, want string) {
	t.Helper()
	n := len(m.Layers)
	head, err := m.NewHead(3, 1)
	if err != nil {
		t.Fatalf("NewHead: %v", err)
	}
	if head.Type() != want || len(m.Layers) != n || !slices.Equal(m.OutputShape(), []int{3}) {
		t.Errorf("NewHead(3): a %s, %d layers (%d before), output %v; want a %s in place of the head", head.Type(), len(m.Layers), n, m.OutputShape(), want)
	}
	base := m.Layers[:slices.Index(m.Layers, nn.Layer(head))]
	if err := m.SetTrainable(false, base...); err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(&optim.SGD{LearningRate: 0.1}, nn.CrossEntropy{}); err != nil {
		t.Fatal(err)
	}
	var before [][]float32
	for _, p := range m.Params() {
		before = append(before, slices.Clone(p.Value.Data))
	}
	x, y := batch(m, images, []int{0, 2})
	m.TrainStep(x, y)
	frozen := 0
	for _, l := range base {
		frozen += len(l.Params())
	}
	for i, p := range m.Params() {
		if same := slices.Equal(p.Value.Data, before[i]); same != (i < frozen) {
			t.Errorf("after a step with the base frozen: %s (parameter %d) unchanged %v, want %v", p.Name, i, same, i < frozen)
		}
	}
}
