package model

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// small returns a built model with every kind of layer that has state or
// randomness: convolution, batch normalization, pooling, dropout, dense.
func small(t testing.TB, seed uint64) *Sequential {
	t.Helper()
	m := New(
		&nn.Conv2D{Filters: 4, KernelSize: pair(3), Padding: "same", Activation: "relu"},
		&nn.BatchNormalization{},
		&nn.MaxPool2D{PoolSize: pair(2)},
		&nn.Dropout{Rate: 0.25},
		&nn.Flatten{},
		&nn.Dense{Units: 16, Activation: "relu"},
		&nn.Dense{Units: 5, Activation: "softmax"},
	)
	if err := m.Build([]int{8, 8, 1}, seed); err != nil {
		t.Fatal(err)
	}
	return m
}

// randomBatch returns n random inputs for m and sparse targets.
func randomBatch(m *Sequential, n int, seed uint64) (x, y *tensor.Tensor) {
	rng := rand.New(rand.NewPCG(seed, 1))
	x = tensor.New(append([]int{n}, m.InputShape()...)...)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	y = tensor.New(n)
	for i := range y.Data {
		y.Data[i] = float32(rng.IntN(m.NumClasses()))
	}
	return x, y
}

func lossFalls(t testing.TB, m *Model, x, y *tensor.Tensor, steps int) {
	t.Helper()
	first, _ := m.TrainStep(x, y)
	last := first
	for range steps - 1 {
		last, _ = m.TrainStep(x, y)
	}
	if !(last < first) {
		t.Errorf("loss after %d steps = %v, first %v: not lower", steps, last, first)
	}
}

func TestTrainStepLowersLossAndDoesNotAllocate(t *testing.T) {
	m := small(t, 3)
	if err := m.Compile(&optim.Adam{LearningRate: 0.01}, nn.CrossEntropy{Sparse: true}); err != nil {
		t.Fatal(err)
	}
	x, y := stepLowersLossWithoutAllocating(t, m, "TrainStep")
	if raceEnabled {
		return
	}
	// Fit checks each batch before its step.
	if n := testing.AllocsPerRun(10, func() { m.dataError(x, y) }); n != 0 {
		t.Errorf("checking a batch allocates %v times, want 0", n)
	}
}

func TestEvaluateAndPredict(t *testing.T) {
	m := small(t, 5)
	if err := m.Compile(&optim.SGD{}, nn.CrossEntropy{Sparse: true}); err != nil {
		t.Fatal(err)
	}
	x, y := randomBatch(m, 6, 6)
	p := tensor.New(6, 5)
	m.Predict(p, x)
	loss, correct := m.EvaluateBatch(x, y)
	var want float64
	wantCorrect := 0
	for i := range 6 {
		row := p.Data[i*5 : (i+1)*5]
		var sum float64
		for _, v := range row {
			sum += float64(v)
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Errorf("Predict row %d sums to %v, want 1", i, sum)
		}
		c := int(y.Data[i])
		want -= math.Log(float64(row[c]))
		if tensor.ArgMax(row) == c {
			wantCorrect++
		}
	}
	want /= 6
	if math.Abs(loss-want) > 1e-4 || correct != wantCorrect {
		t.Errorf("EvaluateBatch() = %v, %d; want %v, %d (from Predict)", loss, correct, want, wantCorrect)
	}
	outs := m.ForwardAll(x)
	if len(outs) != len(m.Layers) {
		t.Fatalf("ForwardAll returned %d tensors, want %d", len(outs), len(m.Layers))
	}
	for i, o := range outs {
		if want := append([]int{6}, m.Layers[i].OutputShape()...); !slices.Equal(o.Shape, want) {
			t.Errorf("ForwardAll()[%d].Shape = %v, want %v", i, o.Shape, want)
		}
	}
	if !slices.Equal(outs[len(outs)-1].Data, p.Data) {
		t.Errorf("ForwardAll's last output differs from Predict")
	}
}

// A final softmax, whether a Dense activation or a layer of its own, is
// left to the loss: such models train exactly like one that ends in
// logits, their layers still say softmax, and only their probabilities
// differ from the logits model's outputs.
func TestFinalSoftmaxLeftToLoss(t *testing.T) {
	ends := map[string][]nn.Layer{
		"dense-softmax": {&nn.Dense{Units: 5, Activation: "softmax"}},
		"softmax-layer": {&nn.Dense{Units: 5}, &nn.Softmax{}},
		"activation":    {&nn.Dense{Units: 5}, &nn.Activation{Func: "softmax"}},
		"logits":        {&nn.Dense{Units: 5}},
	}
	type run struct {
		losses []float64
		probs  []float32
		last   []float32 // ForwardAll's last output
	}
	runs := map[string]run{}
	for name, end := range ends {
		m := New(append([]nn.Layer{&nn.Flatten{}, &nn.Dense{Units: 8, Activation: "tanh"}}, end...)...)
		if err := m.Build([]int{3, 4}, 2); err != nil {
			t.Fatal(err)
		}
		if err := m.Compile(&optim.SGD{LearningRate: 0.1}, nn.CrossEntropy{Sparse: true}); err != nil {
			t.Fatal(err)
		}
		if name != "logits" && m.Layers[len(m.Layers)-1].Config()["activation"] == "linear" {
			t.Errorf("%s: the last layer's config says linear", name)
		}
		x, y := randomBatch(m, 6, 3)
		var r run
		for range 3 {
			loss, _ := m.TrainStep(x, y)
			r.losses = append(r.losses, loss)
		}
		p := tensor.New(6, 5)
		m.Predict(p, x)
		r.probs = p.Data
		outs := m.ForwardAll(x)
		r.last = outs[len(outs)-1].Clone().Data
		runs[name] = r
	}
	want := runs["logits"]
	for name, r := range runs {
		if !slices.Equal(r.losses, want.losses) || !slices.Equal(r.probs, want.probs) {
			t.Errorf("%s: losses %v and probabilities differ from the logits model's %v", name, r.losses, want.losses)
		}
		if name != "logits" && !slices.Equal(r.last, r.probs) {
			t.Errorf("%s: ForwardAll's last output is not the probabilities", name)
		}
	}
	if slices.Equal(want.last, want.probs) {
		t.Errorf("logits model: ForwardAll's last output is the probabilities, want the logits")
	}
}

// TestInputGradient compares the saliency with central differences of the
// class logit, in a model without dropout or pooling ties.
func TestInputGradient(t *testing.T) {
	m := New(
		&nn.Conv2D{Filters: 3, KernelSize: pair(3), Activation: "tanh"},
		&nn.Flatten{},
		&nn.Dense{Units: 4, Activation: "softmax"},
	)
	if err := m.Build([]int{5, 5, 1}, 9); err != nil {
		t.Fatal(err)
	}
	x, _ := randomBatch(m, 2, 10)
	const class = 2
	g := m.InputGradient(x, class)
	logit := func(i int) float64 {
		return float64(m.forward(x, inferencePass).Data[i*4+class])
	}
	const h = 1e-2
	for _, k := range []int{0, 7, 12, 24, 25 + 3, 25 + 18} {
		sample := k / 25
		old := x.Data[k]
		x.Data[k] = old + h
		up := logit(sample)
		x.Data[k] = old - h
		down := logit(sample)
		x.Data[k] = old
		want := (up - down) / (2 * h)
		if got := float64(g.Data[k]); math.Abs(got-want) > 2e-3*math.Max(1, math.Abs(want)) {
			t.Errorf("InputGradient[%d] = %v, want %v (central difference)", k, got, want)
		}
	}
}

func weights(m *Sequential) [][]float32 {
	var w [][]float32
	for _, p := range m.Params() {
		w = append(w, slices.Clone(p.Value.Data))
	}
	return w
}

func equalWeights(a, b [][]float32) bool {
	return slices.EqualFunc(a, b, func(x, y []float32) bool {
		return slices.EqualFunc(x, y, func(u, v float32) bool { return math.Float32bits(u) == math.Float32bits(v) })
	})
}

// TestDeterminism trains the same model from one seed with one and two
// threads: the weights after 20 steps must be identical, bit for bit. Its
// second convolution (16 channels in, 16 filters, 8×8 outputs) runs by
// Winograd's transforms where the path has them.
func TestDeterminism(t *testing.T) {
	run := func(procs int) [][]float32 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		m := New(
			&nn.Conv2D{Filters: 16, KernelSize: pair(3), Padding: "same", NoBias: true},
			&nn.BatchNormalization{},
			&nn.ReLU{},
			&nn.MaxPool2D{PoolSize: pair(2)},
			&nn.Dropout{Rate: 0.3},
			&nn.Conv2D{Filters: 16, KernelSize: pair(3), Activation: "relu"},
			&nn.GlobalAveragePooling2D{},
			&nn.Dense{Units: 16, Activation: "relu"},
			&nn.Dropout{Rate: 0.3},
			&nn.Dense{Units: 5, Activation: "softmax"},
		)
		if err := m.Build([]int{20, 20, 1}, 42); err != nil {
			t.Fatal(err)
		}
		if err := m.Compile(&optim.RMSprop{}, nn.CrossEntropy{Sparse: true}); err != nil {
			t.Fatal(err)
		}
		x, y := randomBatch(m, 32, 7)
		for range 20 {
			m.TrainStep(x, y)
		}
		return weights(m)
	}
	a, b, c := run(1), run(2), run(2)
	if !equalWeights(a, b) || !equalWeights(b, c) {
		t.Errorf("weights after 20 steps differ between GOMAXPROCS 1 and 2 (or between runs)")
	}
}

func TestClone(t *testing.T) {
	m := small(t, 11)
	m.ClassNames = []string{"a", "b", "c", "d", "e"}
	m.Meta = map[string]string{"k": "v"}
	m.Compile(&optim.SGD{LearningRate: 0.1}, nn.CrossEntropy{Sparse: true})
	x, y := randomBatch(m, 4, 12)
	m.TrainStep(x, y)
	c := m.Clone()
	if !equalWeights(weights(m), weights(c)) {
		t.Fatal("Clone has different weights")
	}
	pm, pc := tensor.New(4, 5), tensor.New(4, 5)
	m.Predict(pm, x)
	c.Predict(pc, x)
	if !slices.Equal(pm.Data, pc.Data) {
		t.Errorf("Clone predicts differently")
	}
	m.TrainStep(x, y)
	if equalWeights(weights(m), weights(c)) {
		t.Errorf("training the original changed the clone")
	}
	c.ClassNames[0] = "z"
	c.Meta["k"] = "w"
	if m.ClassNames[0] != "a" || m.Meta["k"] != "v" {
		t.Errorf("the clone shares class names or metadata with the original")
	}
}

// TestOverfitAHCD trains a small network on 32 real AHCD images until it
// classifies all of them correctly.
func TestOverfitAHCD(t *testing.T) {
	dir := os.Getenv("CONVNET_DATA")
	if dir == "" {
		t.Skip("CONVNET_DATA is not set: skipping the test on real AHCD images")
	}
	train, _, err := data.LoadAHCD(context.Background(), filepath.Join(dir, "ahcd", "ahcd_csv.zip"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Two images of each of the first 16 classes.
	var idx []int
	count := map[int]int{}
	for i, c := range train.Y {
		if c < 16 && count[c] < 2 {
			idx = append(idx, i)
			count[c]++
		}
		if len(idx) == 32 {
			break
		}
	}
	sub := train.Subset(idx)
	x := sub.Tensor()
	for i := range x.Data {
		x.Data[i] /= 255
	}
	y := tensor.New(32)
	classes := map[int]bool{}
	for i, c := range sub.Y {
		y.Data[i] = float32(c)
		classes[c] = true
	}
	if len(classes) < 10 {
		t.Fatalf("the batch holds only %d classes", len(classes))
	}
	m := New(
		&nn.Conv2D{Filters: 8, KernelSize: pair(5), Activation: "relu"},
		&nn.MaxPool2D{PoolSize: pair(2)},
		&nn.Conv2D{Filters: 16, KernelSize: pair(3), Activation: "relu"},
		&nn.MaxPool2D{PoolSize: pair(2)},
		&nn.Flatten{},
		&nn.Dense{Units: 64, Activation: "relu"},
		&nn.Dense{Units: 28, Activation: "softmax"},
	)
	if err := m.Build([]int{32, 32, 1}, 1); err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(&optim.Adam{}, nn.CrossEntropy{Sparse: true}); err != nil {
		t.Fatal(err)
	}
	for step := 1; step <= 300; step++ {
		loss, correct := m.TrainStep(x, y)
		if correct == 32 {
			if _, c := m.EvaluateBatch(x, y); c == 32 {
				t.Logf("100%% training accuracy after %d steps (loss %.4f)", step, loss)
				return
			}
		}
	}
	_, c := m.EvaluateBatch(x, y)
	t.Errorf("after 300 steps %d of 32 images are classified correctly, want 32", c)
}

// stepLowersLossWithoutAllocating checks that 31 training steps of m
// (compiled) on a random batch of 16 lower its loss and that a step
// allocates nothing (but under the race detector, which allocates); it
// returns the batch.
func stepLowersLossWithoutAllocating(t *testing.T, m *Model, what string) (x, y *tensor.Tensor) {
	t.Helper()
	x, y = randomBatch(m, 16, 4)
	lossFalls(t, m, x, y, 31)
	if raceEnabled {
		return x, y
	}
	if n := testing.AllocsPerRun(10, func() { m.TrainStep(x, y) }); n != 0 {
		t.Errorf("%s allocates %v times per step, want 0", what, n)
	}
	return x, y
}
