package cli

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// The PyTorch project's checks run Debian's python3-torch and
// python3-torchvision on the projects convnet export --format pytorch
// writes (skipped without them, failing in CI: see missingRuntime).

// torchProject runs testdata/torch_project.py on a project with images
// (raw, convnet's HWC order) and their labels, and returns its output folder.
func torchProject(t *testing.T, project string, images [][]float32, labels []int, extra ...string) string {
	t.Helper()
	py := python(t, "torch", "torchvision", "numpy")
	out := t.TempDir()
	var px, ys []float32
	for i, img := range images {
		px = append(px, img...)
		ys = append(ys, float32(labels[i]))
	}
	writeFloats(t, filepath.Join(out, "images.f32"), px)
	writeFloats(t, filepath.Join(out, "labels.f32"), ys)
	args := append([]string{"testdata/torch_project.py", project, filepath.Join(out, "images.f32"), filepath.Join(out, "labels.f32"), out}, extra...)
	msg, err := exec.Command(py, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("torch_project.py %s: %v\n%s", strings.Join(extra, " "), err, msg)
	}
	return out
}

// batch returns the images standardised as m's preprocessing does, and the
// one-hot labels.
func batch(m *model.Sequential, images [][]float32, labels []int) (x, y *tensor.Tensor) {
	shape := append([]int{len(images)}, m.InputShape()...)
	x = tensor.New(shape...)
	for i, img := range images {
		copy(x.Data[i*len(img):], img)
	}
	if m.Standardizer != nil {
		m.Standardizer.Apply(x, x)
	}
	y = tensor.New(len(images), m.NumClasses())
	data.OneHot(y, labels, m.NumClasses())
	return x, y
}

// logits returns convnet's logits for x: the input of the final softmax,
// or the output of a model that ends in logits.
func logits(m *model.Sequential, x *tensor.Tensor) []float32 {
	outs := m.ForwardAll(x)
	last := m.Layers[len(m.Layers)-1]
	if nn.EndsInSoftmax(last) {
		return last.(nn.SoftmaxOutput).Logits().Clone().Data
	}
	return outs[len(outs)-1].Clone().Data
}

// maxDiff returns the largest |a-b| and the largest |b|.
func maxDiff(a, b []float32) (diff, scale float64) {
	for i := range b {
		diff = max(diff, math.Abs(float64(a[i])-float64(b[i])))
		scale = max(scale, math.Abs(float64(b[i])))
	}
	return diff, scale
}

// noDropout sets the rate of every dropout layer of m to 0.
func noDropout(m *model.Sequential) {
	for _, l := range m.Layers {
		if d, ok := l.(*nn.Dropout); ok {
			d.Rate = 0
		}
	}
}

// ahcdBatch returns n AHCD test images, spread over the classes, and their
// labels.
func ahcdBatch(t *testing.T, n int) (train *data.Dataset, images [][]float32, labels []int) {
	t.Helper()
	train, test, err := data.LoadAHCD(context.Background(), filepath.Join(dataDir(t), "ahcd", "ahcd_csv.zip"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		k := i * test.Len() / n
		images = append(images, test.Image(k))
		labels = append(labels, test.Y[k])
	}
	return train, images, labels
}

// TestExportPyTorchNumerics exports networks as PyTorch projects and runs
// them on the same batch as convnet: the logits and probabilities must
// agree within 1e-5, and one training step (dropout off) with the
// project's optimizer and loss must give the weights of convnet's step
// within 1e-5 of each tensor's largest weight. The weights after PyTorch's
// step come back through the project's ONNX export and convnet import, so
// the round trip is checked as well.
func TestExportPyTorchNumerics(t *testing.T) {
	skipRace(t)
	python(t, "torch", "torchvision", "numpy")
	train, images, labels := ahcdBatch(t, 100)
	dir := t.TempDir()
	save := func(name string, m *model.Sequential) string {
		path := filepath.Join(dir, name+".safetensors")
		if err := model.Save(path, m, model.SaveOptions{}); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tutorial, err := model.Preset("tutorial")
	if err != nil {
		t.Fatal(err)
	}
	if err := tutorial.Build(nil, 7); err != nil {
		t.Fatal(err)
	}
	noDropout(tutorial)
	tutorial.ClassNames = data.AHCDClassNames()
	tutorial.Standardizer = &data.Standardizer{Rescale: 1.0 / 255, ImageCenter: true}
	tutorial.Standardizer.Fit(train.X)
	tutorialFile := save("tutorial", tutorial)
	every := everyLayer(t)
	noDropout(every)
	rng := rand.New(rand.NewPCG(5, 6))
	everyImages := randomImages(100, every.InputShape())
	everyLabels := make([]int, 100)
	for i := range everyLabels {
		everyLabels[i] = rng.IntN(every.NumClasses())
	}
	tests := []struct {
		name, model string
		flags       []string // the recipe; nil: no training step
		images      [][]float32
		labels      []int
	}{
		{"builtin-ahcd", "../../web/models/ahcd.safetensors", nil, images, labels},
		{"tutorial-rmsprop", tutorialFile, []string{}, images, labels},
		{"tutorial-adam", tutorialFile, []string{"--optimizer", "adam"}, images, labels},
		{"tutorial-sgd", tutorialFile, []string{"--optimizer", "sgd", "--momentum", "0.9", "--nesterov", "--lr", "0.05"}, images, labels},
		{"every-layer", save("every", every), []string{"--momentum", "0.9", "--label-smoothing", "0.1", "--weight-decay", "0.01"}, everyImages, everyLabels},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			project := filepath.Join(t.TempDir(), "project")
			args := append([]string{"export", "--format", "pytorch", "--model", tc.model, "--out", project}, tc.flags...)
			if code, _, errs := runCLI(args...); code != 0 {
				t.Fatalf("convnet %s: exit %d: %s", strings.Join(args, " "), code, errs)
			}
			m, err := model.Load(tc.model)
			if err != nil {
				t.Fatal(err)
			}
			var extra []string
			if tc.flags != nil {
				extra = []string{"--step"}
			}
			out := torchProject(t, project, tc.images, tc.labels, extra...)
			x, y := batch(m, tc.images, tc.labels)
			diff, scale := maxDiff(readFloats(t, filepath.Join(out, "logits.f32")), logits(m, x))
			t.Logf("logits: max |PyTorch - convnet| = %.3g (largest logit %.3g)", diff, scale)
			if diff > 1e-5*max(scale, 1) {
				t.Errorf("logits: max |PyTorch - convnet| = %.3g, want <= 1e-5 x max(1, largest logit %.3g)", diff, scale)
			}
			var want [][]float32
			for _, p := range probabilities(m, tc.images) {
				want = append(want, p)
			}
			compareProbabilities(t, "probabilities, PyTorch vs convnet", readFloats(t, filepath.Join(out, "probs.f32")), want, 1e-5)
			if tc.flags == nil {
				return
			}
			step(t, m, tc.flags, out, x, y)
		})
	}
}

// minGrad is the smallest gradient for which a weight's update is compared.
// Below it, the first step of RMSprop or Adam, about lr·g/(c·|g| + ε),
// turns the float32 rounding of the gradient (summed in another order by
// PyTorch) into a visible change of the update: a gradient that is zero but
// for rounding, such as a bias's before batch normalization, gets a step of
// a random sign.
const minGrad = 1e-4

// step takes convnet's training step on (x, y) with the recipe of flags and
// compares the weights with those after PyTorch's step, imported from
// out/step.onnx.
func step(t *testing.T, m *model.Sequential, flags []string, out string, x, y *tensor.Tensor) {
	t.Helper()
	o, err := parseTrain(flags, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(o.opt, nn.CrossEntropy{LabelSmoothing: o.LabelSmoothing}); err != nil {
		t.Fatal(err)
	}
	loss, _ := m.TrainStep(x, y)
	torchLoss := readFloats(t, filepath.Join(out, "loss.f32"))[0]
	t.Logf("%s step: loss %.6f (convnet) %.6f (PyTorch)", o.opt.Name(), loss, torchLoss)
	if math.Abs(loss-float64(torchLoss)) > 1e-5*max(1, loss) {
		t.Errorf("loss: convnet %.7g, PyTorch %.7g", loss, torchLoss)
	}
	f, err := os.Open(filepath.Join(out, "step.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := model.ImportONNX(f, model.ONNXImportOptions{})
	if err != nil {
		t.Fatalf("convnet import of the project's ONNX: %v", err)
	}
	var gp, wp []*nn.Param
	for _, l := range got.Layers {
		gp = append(gp, l.Params()...)
	}
	for _, l := range m.Layers {
		wp = append(wp, l.Params()...)
	}
	if len(gp) != len(wp) {
		t.Fatalf("imported %d parameters, the model has %d", len(gp), len(wp))
	}
	var worstAll, worstNorm, worstElem float64
	noisy := 0
	for i, p := range wp {
		a, b := gp[i].Value.Data, p.Value.Data
		conditioned := func(j int) bool { return p.Grad == nil || math.Abs(float64(p.Grad.Data[j])) >= minGrad }
		var all, num, den, scale [2]float64 // over every weight, over the well-conditioned ones
		for j := range b {
			d, w := float64(a[j])-float64(b[j]), float64(b[j])
			all[0], all[1] = all[0]+d*d, all[1]+w*w
			if conditioned(j) {
				num[0], den[0] = num[0]+d*d, den[0]+w*w
			}
			scale[0] = max(scale[0], math.Abs(w))
		}
		var elem float64
		for j := range b {
			d := math.Abs(float64(a[j])-float64(b[j])) / scale[0]
			if conditioned(j) {
				elem = max(elem, d)
			} else if d > 1e-5 {
				noisy++
			}
		}
		norm := math.Sqrt(num[0] / max(den[0], 1e-300))
		worstAll = max(worstAll, math.Sqrt(all[0]/max(all[1], 1e-300)))
		worstNorm, worstElem = max(worstNorm, norm), max(worstElem, elem)
		if norm > 1e-5 || elem > 1e-5 {
			t.Errorf("%s %s %v after one step, where |gradient| >= %g: |PyTorch - convnet| is %.3g of |convnet| (norms) and up to %.3g of its largest weight; want <= 1e-5",
				o.opt.Name(), p.Name, p.Value.Shape, minGrad, norm, elem)
		}
	}
	t.Logf("%s step, %d tensors: where |gradient| >= %g, |PyTorch - convnet| <= %.3g of |convnet| (norms of each tensor) and each weight within %.3g of its tensor's largest; "+
		"over every weight, the norms are within %.3g, and %d weights with smaller gradients differ by more than 1e-5 of it",
		o.opt.Name(), len(wp), minGrad, worstNorm, worstElem, worstAll, noisy)
}

// TestExportPyTorchDDP trains the tutorial network for one epoch on 1,000
// AHCD images with two DistributedDataParallel processes (gloo), started
// with PyTorch's environment variables as the project's README shows; the
// ONNX file the first process writes imports into a model that predicts as
// PyTorch does on 100 test images.
func TestExportPyTorchDDP(t *testing.T) {
	skipRace(t)
	py := python(t, "torch", "torchvision", "numpy")
	project := filepath.Join(t.TempDir(), "project")
	if code, _, errs := runCLI("export", "--format", "pytorch", "--out", project, "--data-dir", dataDir(t),
		"--epochs", "1", "--limit", "1000", "--test-limit", "300", "--seed", "3"); code != 0 {
		t.Fatalf("convnet export: exit %d: %s", code, errs)
	}
	port := freePort(t)
	var procs []*exec.Cmd
	var outputs []*strings.Builder
	for rank := range 2 {
		cmd := exec.Command(py, filepath.Join(project, "train.py"))
		cmd.Env = append(os.Environ(), "MASTER_ADDR=127.0.0.1", "MASTER_PORT="+port, "WORLD_SIZE=2", "LOCAL_WORLD_SIZE=2",
			fmt.Sprintf("RANK=%d", rank), fmt.Sprintf("LOCAL_RANK=%d", rank))
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs, outputs = append(procs, cmd), append(outputs, out)
	}
	for rank, cmd := range procs {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("train.py, rank %d: %v\n%s", rank, err, outputs[rank])
		}
	}
	log := outputs[0].String()
	t.Logf("rank 0:\n%s", log)
	for _, want := range []string{"1000 images (10 steps of 100 per epoch, 2 processes of 50)", "(gloo)", "Epoch 1/1", "Test loss", "(300 images)"} {
		if !strings.Contains(log, want) {
			t.Errorf("rank 0's output lacks %q", want)
		}
	}
	if outputs[1].Len() != 0 {
		t.Errorf("rank 1 printed %q; only rank 0 reports", outputs[1])
	}
	imported := filepath.Join(t.TempDir(), "imported.safetensors")
	if code, stdout, errs := runCLI("import", "--onnx", filepath.Join(project, "model.onnx"), "--out", imported); code != 0 {
		t.Fatalf("convnet import: exit %d: %s", code, errs)
	} else {
		t.Logf("%s", strings.TrimSpace(stdout))
	}
	m, err := model.Load(imported)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.ClassNames) != 28 || m.ClassNames[0] != "alef ا" || m.Standardizer == nil || !m.Standardizer.ImageCenter || m.Standardizer.Rescale != float32(1.0/255) {
		t.Errorf("imported model: classes %v, preprocessing %+v; want AHCD's classes and /255 minus the mean image", m.ClassNames, m.Standardizer)
	}
	_, images, labels := ahcdBatch(t, 100)
	out := torchProject(t, project, images, labels, "--state", filepath.Join(project, "model.pt"))
	var want [][]float32
	probs := readFloats(t, filepath.Join(out, "probs.f32"))
	for i := range 100 {
		want = append(want, probs[i*28:(i+1)*28])
	}
	var got []float32
	for _, p := range probabilities(m, images) {
		got = append(got, p...)
	}
	compareProbabilities(t, "convnet predict of the import vs PyTorch", got, want, 1e-5)
}

// freePort returns a TCP port free on the loopback interface.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// TestExportPyTorchRecipes trains projects for a few epochs on small data
// sets with the other recipes, data sources and options train takes, each
// in one process: they run to the end, log what the options promise, and
// their ONNX files import.
func TestExportPyTorchRecipes(t *testing.T) {
	skipRace(t)
	py := python(t, "torch", "torchvision", "numpy")
	f := writeCSVSet(t, smallSet)
	arch := smallSetNet(t, t.TempDir())
	images := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 1))
	for c := range 3 {
		dir := filepath.Join(images, fmt.Sprintf("class%d", c))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range 8 {
			px := barImage(rng, csvSet{Classes: 3, Size: 12}, c)
			img := make([]float32, len(px))
			for j, v := range px {
				img[j] = float32(v)
			}
			writeGrayPNG(t, filepath.Join(dir, fmt.Sprintf("%02d.png", i)), img, 12, 12)
		}
	}
	imagesArch := filepath.Join(t.TempDir(), "images.json")
	if err := os.WriteFile(imagesArch, []byte(strings.Replace(smallNet, `"units": 28`, `"units": 3`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		flags []string
		want  []string // in the log
		files []string // written in the project
	}{
		{"sgd-step-stratified", []string{"--csv", f.Train, "--test-csv", f.Test, "--model", arch, "--optimizer", "sgd", "--momentum", "0.9", "--nesterov",
			"--lr", "0.05", "--schedule", "step", "--step-every", "1", "--step-factor", "0.5", "--validation-split", "0.2", "--validation-mode", "stratified",
			"--csv-log", "log.csv", "--hflip", "--shear", "10", "--fill-mode", "reflect", "--brightness", "0.8,1.2", "--batch-size", "16", "--epochs", "3"},
			[]string{"96 images", "val_loss", "lr: 0.0125", "Test loss"}, []string{"log.csv"}},
		{"adamw-cosine-test", []string{"--csv", f.Train, "--test-csv", f.Test, "--model", arch, "--optimizer", "adamw", "--schedule", "cosine",
			"--label-smoothing", "0.1", "--validation-data", "test", "--early-stopping", "1", "--early-stopping-monitor", "val_accuracy", "--restore-best",
			"--fill-mode", "wrap", "--vflip", "--batch-size", "20", "--epochs", "4"},
			[]string{"adamw lr 0.001", "val_accuracy"}, nil},
		{"images-plateau", []string{"--images", images, "--test-images", images, "--height", "10", "--width", "10", "--model", imagesArch,
			"--schedule", "plateau", "--plateau-monitor", "loss", "--plateau-patience", "0", "--plateau-min-delta", "1", "--fill-mode", "constant", "--cval", "30", "--batch-size", "8", "--epochs", "2"},
			[]string{"24 images", "ReduceLROnPlateau reducing learning rate to 0.0005"}, nil},
		{"mnist", []string{"--dataset", "mnist", "--data-dir", dataDir(t), "--model", "lenet5", "--limit", "256", "--test-limit", "100",
			"--no-augment", "--batch-size", "64", "--epochs", "1"},
			[]string{"256 images", "(100 images)"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			project := filepath.Join(t.TempDir(), "project")
			args := append([]string{"export", "--format", "pytorch", "--out", project}, tc.flags...)
			if code, _, errs := runCLI(args...); code != 0 {
				t.Fatalf("convnet %s: exit %d: %s", strings.Join(args, " "), code, errs)
			}
			cmd := exec.Command(py, filepath.Join(project, "train.py"), "--threads", "1")
			cmd.Dir = project
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("train.py: %v\n%s", err, out)
			}
			t.Logf("%s", out)
			for _, want := range tc.want {
				if !strings.Contains(string(out), want) {
					t.Errorf("train.py's output lacks %q", want)
				}
			}
			for _, name := range append(tc.files, "model.onnx", "model.pt") {
				if _, err := os.Stat(filepath.Join(project, name)); err != nil {
					t.Errorf("train.py did not write %s: %v", name, err)
				}
			}
			if code, _, errs := runCLI("import", "--onnx", filepath.Join(project, "model.onnx"), "--out", filepath.Join(project, "imported.safetensors")); code != 0 {
				t.Errorf("convnet import: exit %d: %s", code, errs)
			}
		})
	}
}

// TestExportPyTorchErrors: what the PyTorch project cannot reproduce, bad
// flags and an output in the way give a clear error, a non-zero exit and
// nothing written.
func TestExportPyTorchErrors(t *testing.T) {
	dir := t.TempDir()
	tiny := tinyModelFile(t)
	samplewise, err := model.Load(tiny)
	if err != nil {
		t.Fatal(err)
	}
	samplewise.Standardizer = &data.Standardizer{SamplewiseCenter: true}
	samplewiseFile := filepath.Join(dir, "samplewise.safetensors")
	if err := model.Save(samplewiseFile, samplewise, model.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	existing := filepath.Join(dir, "existing")
	if err := os.Mkdir(existing, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"existing folder", []string{"--model", tiny, "--out", existing}, exitError, "exists (use --force"},
		{"file in the way", []string{"--model", tiny, "--out", file, "--force"}, exitError, "not a folder"},
		{"resume", []string{"--model", tiny, "--resume", "ckpt.safetensors"}, exitUsage, "--resume is not part of --format pytorch"},
		{"workers", []string{"--model", tiny, "--workers", "2"}, exitUsage, "train.py's own --workers"},
		{"checkpoint", []string{"--model", tiny, "--checkpoint", "c.safetensors"}, exitUsage, "--checkpoint is not part"},
		{"samplewise", []string{"--model", samplewiseFile}, exitError, "cannot reproduce preprocessing: samplewise"},
		{"standard input", []string{"--model", tiny, "--csv", "-"}, exitError, "cannot reproduce --csv -"},
		{"plateau without validation", []string{"--model", tiny, "--schedule", "plateau"}, exitUsage, "watches val_loss but there is no validation data"},
		{"early stopping without validation", []string{"--model", tiny, "--early-stopping", "3"}, exitUsage, "watches val_loss but there is no validation data"},
		{"bad optimizer", []string{"--model", tiny, "--optimizer", "lion"}, exitUsage, "unknown optimizer"},
		{"unknown model", []string{"--model", "resnet"}, exitUsage, "neither a preset"},
		{"no out", []string{"--model", tiny}, exitUsage, "--out is required"},
		{"onnx with a training flag", []string{"--format", "onnx", "--model", tiny, "--epochs", "3"}, exitUsage, "--epochs is a training flag"},
		{"onnx without model", []string{"--format", "onnx"}, exitUsage, "--model and --out are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			args := []string{"export", "--format", "pytorch", "--out", out}
			if tt.name == "no out" {
				args = []string{"export", "--format", "pytorch"}
			}
			args = append(args, tt.args...)
			code, _, errs := runCLI(args...)
			if code != tt.code || !strings.Contains(errs, tt.want) {
				t.Errorf("convnet %s: exit %d, stderr %q; want exit %d and %q", strings.Join(args, " "), code, errs, tt.code, tt.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written", out)
			}
		})
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("a temporary %s is left in %s", e.Name(), dir)
		}
	}
}

// TestExportPyTorchForce: --force rewrites the project's files in an
// existing folder and leaves the others alone.
func TestExportPyTorchForce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "project")
	tiny := tinyModelFile(t)
	if code, _, errs := runCLI("export", "--format", "pytorch", "--model", tiny, "--out", dir, "--epochs", "3"); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errs)
	}
	other := filepath.Join(dir, "model.onnx")
	if err := os.WriteFile(other, []byte("trained"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI("export", "--format", "pytorch", "--model", tiny, "--out", dir, "--epochs", "7", "--force"); code != 0 {
		t.Fatalf("export --force: exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(filepath.Join(dir, "train.py"))
	if err != nil || !strings.Contains(string(b), "\nEPOCHS = 7\n") {
		t.Errorf("train.py after export --force --epochs 7: %v, EPOCHS = 7 missing", err)
	}
	if b, err := os.ReadFile(other); err != nil || string(b) != "trained" {
		t.Errorf("export --force changed %s: %q, %v", other, b, err)
	}
	m, err := model.Load(filepath.Join(dir, "convnet.safetensors"))
	if err != nil || len(m.Layers) != 3 {
		t.Errorf("the project's model file: %v", err)
	}
}
