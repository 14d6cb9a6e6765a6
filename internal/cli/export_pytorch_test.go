package cli

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
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
		{"builtin-ahcd", "../../model/pretrained/ahcd.safetensors", nil, images, labels},
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
			for _, p := range probabilities(t, m, tc.images) {
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
