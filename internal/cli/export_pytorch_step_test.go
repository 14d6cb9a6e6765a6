package cli

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/data/augment"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// trainStep takes convnet's training step on (x, y), one-hot, with the
// class weights of o, if any, over the batch's labels.
func trainStep(t *testing.T, m *model.Sequential, o *trainOptions, x, y *tensor.Tensor) float64 {
	t.Helper()
	if o.ClassWeight == "" {
		loss, _ := m.TrainStep(x, y)
		return loss
	}
	ds := &data.Dataset{ClassNames: m.ClassNames}
	for i := range y.Shape[0] {
		ds.Y = append(ds.Y, tensor.ArgMax(y.Data[i*y.Shape[1]:(i+1)*y.Shape[1]]))
	}
	w, err := classWeights(o.ClassWeight, ds)
	if err != nil {
		t.Fatal(err)
	}
	h, err := m.Fit(context.Background(), model.FitOptions{Epochs: 1, ClassWeight: w,
		Train: func(int, int) (model.Batches, error) { return &onceBatches{b: model.Batch{X: x, Y: y}}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return h.Epochs[0].Loss
}

// stepsOf returns the number of training steps the PyTorch comparison
// takes for a recipe, and the parts of the batch they take in turn (step s
// the images s mod split, s mod split + split, ...): with gradient
// accumulation over n steps, 3n steps on n parts, so that an update sums
// different gradients and three updates are made; else 3 steps on the
// whole batch with a moving average of the weights, so that the average is
// one of several steps, and 1 without.
func stepsOf(t *testing.T, flags []string) (steps, split int) {
	if i := slices.Index(flags, "--gradient-accumulation-steps"); i >= 0 {
		n, err := strconv.Atoi(flags[i+1])
		if err != nil {
			t.Fatal(err)
		}
		return 3 * n, n
	}
	if slices.Contains(flags, "--ema") {
		return 3, 1
	}
	return 1, 1
}

// mixingOf returns the mixing the PyTorch comparison gives each step's
// images and targets for a recipe with --mixup or --cutmix (a fixed λ, or
// a fixed box of a 32x32 image), and the flags that tell torch_project.py.
func mixingOf(flags []string) (augment.Mixing, []string) {
	switch {
	case slices.Contains(flags, "--cutmix"):
		return augment.Mixing{CutMix: true, X1: 5, Y1: 8, X2: 21, Y2: 20, Lambda: 1 - 16.0*12/(32*32)}, []string{"--mix", "0,5,8,21,20"}
	case slices.Contains(flags, "--mixup"):
		return augment.Mixing{Lambda: 0.3}, []string{"--mix", "0.3"}
	}
	return augment.Mixing{}, nil
}

// part returns the images s mod split, s mod split + split, ... of (x, y).
func part(x, y *tensor.Tensor, s, split int) (*tensor.Tensor, *tensor.Tensor) {
	if split == 1 {
		return x, y
	}
	var px, py []float32
	xn, yn := x.Len()/x.Shape[0], y.Len()/y.Shape[0]
	for i := s % split; i < x.Shape[0]; i += split {
		px = append(px, x.Data[i*xn:(i+1)*xn]...)
		py = append(py, y.Data[i*yn:(i+1)*yn]...)
	}
	n := len(py) / yn
	return tensor.FromData(px, append([]int{n}, x.Shape[1:]...)...), tensor.FromData(py, append([]int{n}, y.Shape[1:]...)...)
}

// onceBatches yields one batch.
type onceBatches struct {
	b    model.Batch
	done bool
}

func (o *onceBatches) Next() (model.Batch, bool) {
	if o.done {
		return model.Batch{}, false
	}
	o.done = true
	return o.b, true
}

// step takes convnet's training step on (x, y) with the recipe of flags and
// compares the weights with those after PyTorch's step, read from the model
// file the project's save_convnet wrote (out/step.safetensors); the
// project's ONNX export brought back by convnet import, a graph for a
// graph, must hold the same weights.
func step(t *testing.T, m *model.Sequential, flags []string, out string, x, y *tensor.Tensor) {
	t.Helper()
	o, err := parseTrain(flags, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(o.opt, nn.CrossEntropy{LabelSmoothing: o.LabelSmoothing}); err != nil {
		t.Fatal(err)
	}
	var loss float64
	steps, split := stepsOf(t, flags)
	every := max(o.Accumulate, 1) // steps per update
	smallest := make([][]float32, len(m.Params()))
	mixing, mixed := mixingOf(flags)
	for s := range steps {
		xs, ys := part(x, y, s, split)
		if mixed != nil {
			xs, ys = xs.Clone(), ys.Clone()
			mixing.Apply(xs.Data, ys.Data, xs.Shape[0], xs.Shape[1], xs.Shape[2], xs.Shape[3], ys.Shape[1], nil)
		}
		loss = trainStep(t, m, o, xs, ys)
		if (s+1)%every != 0 {
			continue
		}
		for i, p := range m.Params() { // the gradient of the update: with accumulation the mean, in place
			if p.Grad == nil {
				continue
			}
			if smallest[i] == nil {
				smallest[i] = make([]float32, p.Grad.Len())
				for j := range smallest[i] {
					smallest[i][j] = float32(math.Inf(1))
				}
			}
			for j, g := range p.Grad.Data {
				smallest[i][j] = min(smallest[i][j], float32(math.Abs(float64(g))))
			}
		}
	}
	optim.Finalize(o.opt)
	torchLoss := readFloats(t, filepath.Join(out, "loss.f32"))[0]
	t.Logf("%s step: loss %.6f (convnet) %.6f (PyTorch)", o.opt.Name(), loss, torchLoss)
	if math.Abs(loss-float64(torchLoss)) > 1e-5*max(1, loss) {
		t.Errorf("loss: convnet %.7g, PyTorch %.7g", loss, torchLoss)
	}
	got, err := model.Load(filepath.Join(out, "step.safetensors"))
	if err != nil {
		t.Fatalf("the project's model file: %v", err)
	}
	want := m.Params()
	compareStep(t, o.opt.Name(), got.Params(), want, smallest)
	f, err := os.Open(filepath.Join(out, "step.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	imported, err := model.ImportONNX(f, model.ONNXImportOptions{})
	if err != nil {
		t.Fatalf("convnet import of the project's ONNX: %v", err)
	}
	if want := m.IsGraph() && !isChain(m); imported.IsGraph() != want { // a chain comes back a stack
		t.Errorf("convnet import of the project's ONNX: IsGraph() = %v, want %v", imported.IsGraph(), want)
	}
	// The layers with weights, in order (dropout does not come back, and
	// a LayerScale comes back as the per-channel Rescaling of its scales:
	// ONNX does not say which constants were trained; the predictions
	// check its values).
	weighted := func(m *model.Sequential) []nn.Layer {
		var ls []nn.Layer
		for _, l := range m.Layers {
			if _, ok := l.(*nn.LayerScale); ok {
				continue
			}
			if _, ok := l.(*nn.Normalization); ok || len(l.Params()) > 0 {
				ls = append(ls, l)
			}
		}
		return ls
	}
	have, files := weighted(imported), weighted(got)
	if len(have) != len(files) {
		t.Fatalf("convnet import of the project's ONNX: %d layers with weights, the model file %d", len(have), len(files))
	}
	for i, l := range have {
		ps, want := l.Params(), files[i].Params()
		// ONNX holds a Normalization's mean and divisor: a variance that
		// gives the same divisor, and no count.
		if n, ok := l.(*nn.Normalization); ok {
			w, ok := files[i].(*nn.Normalization)
			if !ok {
				t.Fatalf("convnet import of the project's ONNX: %s is a Normalization, in the model file %s is a %s", l.Name(), files[i].Name(), files[i].Type())
			}
			m, _ := n.Stats()
			wm, _ := w.Stats()
			nd, wd := n.Divisors(), w.Divisors()
			ps, want = []*nn.Param{{Name: "mean", Value: tensor.FromData(m, len(m))}, {Name: "divisors", Value: tensor.FromData(nd, len(nd))}},
				[]*nn.Param{{Value: tensor.FromData(wm, len(wm))}, {Value: tensor.FromData(wd, len(wd))}}
		}
		// ONNX always holds a batch normalization's gamma and beta, and the
		// PyTorch project's group normalizations write both: one left out
		// of the model file (Keras's scale or center false) comes in as
		// ones or zeros.
		var noScale, noCenter bool
		switch b := files[i].(type) {
		case *nn.BatchNormalization:
			noScale, noCenter = b.NoScale, b.NoCenter
		case *nn.GroupNormalization:
			noScale, noCenter = b.NoScale, b.NoCenter
		}
		if noScale || noCenter {
			var kept []*nn.Param
			for _, p := range ps {
				fixed := map[string]float32{"gamma": 1, "beta": 0}[p.Name]
				if p.Name == "gamma" && noScale || p.Name == "beta" && noCenter {
					if slices.ContainsFunc(p.Value.Data, func(v float32) bool { return v != fixed }) {
						t.Errorf("%s: the ONNX import's %s is not %v throughout", l.Name(), p.Name, fixed)
					}
					continue
				}
				kept = append(kept, p)
			}
			ps = kept
		}
		if len(ps) != len(want) {
			t.Fatalf("%s (%s): the ONNX import has %d parameters, the model file %d", l.Name(), l.Type(), len(ps), len(want))
		}
		for j, p := range ps {
			if d, _ := maxDiff(p.Value.Data, want[j].Value.Data); d != 0 {
				t.Errorf("%s (%s), %s: the ONNX import and the model file differ by %.3g", l.Name(), l.Type(), p.Name, d)
			}
		}
	}
}

// compareStep compares the weights after PyTorch's steps (got) with
// convnet's (want); smallest holds, for each weight that has a gradient,
// the smallest of its gradients' magnitudes over the updates.
func compareStep(t *testing.T, opt string, got, want []*nn.Param, smallest [][]float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d parameters after PyTorch's step, the model has %d", len(got), len(want))
	}
	var worstAll, worstNorm, worstElem float64
	noisy := 0
	for i, p := range want {
		a, b := got[i].Value.Data, p.Value.Data
		conditioned := func(j int) bool { return smallest[i] == nil || smallest[i][j] >= minGrad }
		var all, allRef, num, den, scale float64 // all: over every weight; num, den: over the well-conditioned ones
		for j := range b {
			d, w := float64(a[j])-float64(b[j]), float64(b[j])
			all, allRef = all+d*d, allRef+w*w
			if conditioned(j) {
				num, den = num+d*d, den+w*w
			}
			scale = max(scale, math.Abs(w))
		}
		var elem float64
		if scale == 0 { // all zeros, such as a count never measured
			scale = 1
		}
		for j := range b {
			d := math.Abs(float64(a[j])-float64(b[j])) / scale
			if conditioned(j) {
				elem = max(elem, d)
			} else if d > 1e-5 {
				noisy++
			}
		}
		norm := math.Sqrt(num / max(den, 1e-300))
		worstAll = max(worstAll, math.Sqrt(all/max(allRef, 1e-300)))
		worstNorm, worstElem = max(worstNorm, norm), max(worstElem, elem)
		if norm > 1e-5 || elem > 1e-5 {
			t.Errorf("%s %s %v after the step, where |gradient| >= %g: |PyTorch - convnet| is %.3g of |convnet| (norms) and up to %.3g of its largest weight; want <= 1e-5",
				opt, p.Name, p.Value.Shape, minGrad, norm, elem)
		}
	}
	t.Logf("%s step, %d tensors: where |gradient| >= %g, |PyTorch - convnet| <= %.3g of |convnet| (norms of each tensor) and each weight within %.3g of its tensor's largest; "+
		"over every weight, the norms are within %.3g, and %d weights with smaller gradients differ by more than 1e-5 of it",
		opt, len(want), minGrad, worstNorm, worstElem, worstAll, noisy)
}

// isChain reports whether each layer of m reads the one before.
func isChain(m *model.Sequential) bool {
	for i := range m.Layers {
		if in := m.Inbound(i); len(in) != 1 || in[0] != i-1 {
			return false
		}
	}
	return true
}
