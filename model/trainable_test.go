package model

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// frozenBatch is a batch of 4 samples of 6x6x1 and their one-hot targets
// among 3 classes.
func frozenBatch() (x, y *tensor.Tensor) {
	x, y = tensor.New(4, 6, 6, 1), tensor.New(4, 3)
	for i := range x.Data {
		x.Data[i] = float32(math.Sin(float64(i) * 0.7))
	}
	for i := range 4 {
		y.Data[i*3+i%3] = 1
	}
	return x, y
}

// frozenBN is a convolution, a BatchNormalization with moving statistics
// far from a batch's, and a Dense head; the normalisation is frozen.
func frozenBN(t *testing.T) *Model {
	t.Helper()
	bn := &nn.BatchNormalization{}
	m := New(&nn.Conv2D{Filters: 3, KernelSize: [2]int{3, 3}}, bn, &nn.Activation{Func: "tanh"}, &nn.Flatten{},
		&nn.Dense{Units: 3, KernelRegularizer: nn.Regularizer{L2: 0.01}})
	if err := m.SetTrainable(false, bn); err != nil {
		t.Fatal(err)
	}
	if err := m.Build([]int{6, 6, 1}, 7); err != nil {
		t.Fatal(err)
	}
	ps := bn.Params() // gamma, beta, moving_mean, moving_variance
	for j := range 3 {
		ps[0].Value.Data[j] = 1.5 - 0.25*float32(j)
		ps[1].Value.Data[j] = 0.1 * float32(j+1)
		ps[2].Value.Data[j] = 0.3 - 0.2*float32(j)
		ps[3].Value.Data[j] = 2 + float32(j)
	}
	if err := m.Compile(&optim.SGD{LearningRate: 0.1}, nn.CrossEntropy{}); err != nil {
		t.Fatal(err)
	}
	return m
}

// A frozen BatchNormalization runs as in inference while training, as in
// Keras: the gradients of a training step are the finite differences of
// the evaluation loss (moving statistics), through the normalisation to
// the convolution before it; the step leaves the normalisation's four
// weights as they were and changes the others.
func TestFrozenBatchNormTrainsAsInference(t *testing.T) {
	m := frozenBN(t)
	bn := m.Layers[1]
	if tr, non := m.ParamCount(); tr != 9*3+3+48*3+3 || non != 4*3 {
		t.Errorf("ParamCount = %d, %d; want %d trainable and %d not (the frozen normalisation's 12)", tr, non, 9*3+3+48*3+3, 12)
	}
	x, y := frozenBatch()
	zeroGrads(m)
	m.step(x, y, true)
	var trained []*nn.Param
	for _, p := range m.params {
		if p.Trainable {
			trained = append(trained, p)
		} else if p.Grad != nil && slices.ContainsFunc(p.Grad.Data, func(v float32) bool { return v != 0 }) {
			t.Errorf("frozen %s has a gradient", p.Name)
		}
	}
	checkGradients(t, m, trained, x, y)
	before := cloneParams(m)
	m.TrainStep(x, y)
	for i, p := range m.params {
		frozen := slices.Contains(bn.Params(), p)
		if same := slices.Equal(p.Value.Data, before[i]); same != frozen {
			t.Errorf("%s: unchanged %v after a step, want %v", p.Name, same, frozen)
		}
	}
}

func zeroGrads(m *Model) {
	for _, p := range m.params {
		if p.Grad != nil {
			p.Grad.Zero()
		}
	}
}

func cloneParams(m *Model) [][]float32 {
	var vs [][]float32
	for _, p := range m.params {
		vs = append(vs, slices.Clone(p.Value.Data))
	}
	return vs
}

// With the layers up to the Flatten frozen, a step computes for the head
// the very gradients it computes when every layer trains, leaves the base
// alone and stops the backward pass at the head: no gradient reaches the
// base's outputs. A regularizer or constraint of a frozen layer does
// nothing, as in Keras 3.
func TestFrozenBase(t *testing.T) {
	mk := func() *Model {
		m := New(&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, Activation: "relu", KernelRegularizer: nn.Regularizer{L2: 0.5},
			KernelConstraint: nn.Constraint{Kind: "non_neg"}},
			&nn.MaxPool2D{}, &nn.Flatten{}, &nn.Dense{Units: 5, Activation: "relu"}, &nn.Dense{Units: 3, Activation: "softmax"})
		if err := m.Build([]int{6, 6, 1}, 3); err != nil {
			t.Fatal(err)
		}
		if err := m.Compile(&optim.Adam{}, nn.CrossEntropy{}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	all, part := mk(), mk()
	if err := part.SetTrainable(false, part.Layers[:3]...); err != nil {
		t.Fatal(err)
	}
	if part.Trainable(part.Layers[0]) || !part.Trainable(part.Layers[3]) {
		t.Error("Trainable does not report the frozen layers")
	}
	if all.Penalty() == 0 || part.Penalty() != 0 {
		t.Errorf("penalties %v and %v: want the frozen convolution's left out", all.Penalty(), part.Penalty())
	}
	x, y := frozenBatch()
	for _, m := range []*Model{all, part} {
		zeroGrads(m)
		m.step(x, y, true)
	}
	for i, p := range part.params[2:] {
		if !slices.Equal(p.Grad.Data, all.params[2+i].Grad.Data) {
			t.Errorf("%s: the head's gradient differs when the base is frozen", p.Name)
		}
	}
	for j, g := range part.plan.grads[:4] {
		if g != nil {
			t.Errorf("node %d has a gradient: the backward pass went into the frozen base", j)
		}
	}
	before := cloneParams(part)
	part.TrainStep(x, y)
	for i, p := range part.params {
		if same := slices.Equal(p.Value.Data, before[i]); same != (i < 2) {
			t.Errorf("%s: unchanged %v after a step, want %v", p.Name, same, i < 2)
		}
	}
	// Unfrozen, the base trains again and its regularizer counts.
	if err := part.SetTrainable(true, part.Layers...); err != nil {
		t.Fatal(err)
	}
	if part.Penalty() == 0 {
		t.Error("the penalty of the unfrozen convolution is missing")
	}
	before = cloneParams(part)
	part.TrainStep(x, y)
	if slices.Equal(part.params[0].Value.Data, before[0]) {
		t.Error("the unfrozen convolution did not train")
	}
	if err := part.SetTrainable(false, &nn.Flatten{}); err == nil || !strings.Contains(err.Error(), "not a layer of the model") {
		t.Errorf("SetTrainable of a foreign layer: %v", err)
	}
}

// The frozen layers are written as trainable false, read back from the
// architecture, kept by Clone and by a model file; a Keras model with
// trainable false, or a Sequential inside one, is read with every layer in
// it frozen.
func TestFrozenArchitecture(t *testing.T) {
	m := frozenBN(t)
	doc, err := m.Architecture()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(doc), `"trainable": false`); n != 1 {
		t.Errorf("the architecture has %d layers with trainable false, want 1", n)
	}
	check := func(what string, c *Model, frozen ...int) {
		t.Helper()
		for i, l := range c.Layers {
			if want := slices.Contains(frozen, i); c.Trainable(l) == want {
				t.Errorf("%s: layer %d %s: trainable %v", what, i, l.Name(), !want)
			}
		}
	}
	p, err := ParseArchitecture(doc)
	if err != nil {
		t.Fatal(err)
	}
	check("parsed", p, 1)
	check("clone", m.Clone(), 1)
	path := t.TempDir() + "/frozen.safetensors"
	if err := Save(path, m, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	l, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	check("loaded", l, 1)
	if tr, non := l.ParamCount(); non != 12 || tr != 9*3+3+48*3+3 {
		t.Errorf("loaded: ParamCount = %d, %d", tr, non)
	}

	seq := `{"class_name": "Sequential", "config": {"name": "s", "trainable": %s, "layers": [
	  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 8, 8, 1], "name": "in"}},
	  {"class_name": "Sequential", "config": {"name": "base", "trainable": %s, "layers": [
	    {"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "kernel_size": [3, 3]}},
	    {"class_name": "Flatten", "config": {"name": "f"}}]}},
	  {"class_name": "Dense", "config": {"name": "d", "units": 2, "trainable": %s}}]}}`
	for _, tt := range []struct {
		outer, inner, dense string
		frozen              []int
	}{
		{"true", "true", "true", nil},
		{"true", "false", "true", []int{0, 1}},
		{"true", "true", "false", []int{2}},
		{"false", "true", "true", []int{0, 1, 2}},
	} {
		c, err := ParseArchitecture([]byte(fmtArgs(seq, tt.outer, tt.inner, tt.dense)))
		if err != nil {
			t.Fatal(err)
		}
		check("Keras "+tt.outer+" "+tt.inner+" "+tt.dense, c, tt.frozen...)
	}
}

// fmtArgs replaces the %s of format in order with args.
func fmtArgs(format string, args ...string) string {
	for _, a := range args {
		format = strings.Replace(format, "%s", a, 1)
	}
	return format
}

// NewHead replaces the last Dense with a fresh one of the new size, keeps
// every other weight and the frozen layers, puts a top on a base without
// one, stack or graph, and refuses a classifier whose head is not a Dense.
func TestNewHead(t *testing.T) {
	m := frozenBN(t)
	old := cloneParams(m)
	head := m.Layers[4]
	d, err := m.NewHead(5, 9)
	if err != nil {
		t.Fatal(err)
	}
	if d == head || m.Layers[4] != d || d.Name() != head.Name() || !slices.Equal(m.OutputShape(), []int{5}) || m.NumClasses() != 5 {
		t.Fatalf("after NewHead(5): layer %v, output %v", m.Layers[4].Name(), m.OutputShape())
	}
	for i, p := range m.params[:len(m.params)-2] {
		if !slices.Equal(p.Value.Data, old[i]) {
			t.Errorf("%s changed", p.Name)
		}
	}
	if m.Trainable(m.Layers[1]) || !m.Trainable(d) {
		t.Error("NewHead lost the frozen normalisation or froze the head")
	}
	if len(d.Params()[0].Value.Data) != 48*5 || m.Penalty() == 0 {
		t.Errorf("the new head's kernel has %d values or lost its regularizer", len(d.Params()[0].Value.Data))
	}
	x, y := frozenBatch()
	y5 := tensor.New(4, 5)
	for i := range 4 {
		y5.Data[i*5+m.loss.Class(y, i)] = 1
	}
	m.TrainStep(x, y5) // compiled again for the new shape

	g := branchy(t, "tanh", "softmax", true) // the Dense then a Dropout
	if err := g.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := g.NewHead(4, 1); err != nil {
		t.Errorf("graph: %v", err)
	} else if !slices.Equal(g.OutputShape(), []int{4}) {
		t.Errorf("graph: output %v after NewHead(4)", g.OutputShape())
	}

	// A base without a top gets one.
	in := Input(6, 6, 1)
	c1 := Call(&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "relu"}, in)
	graphBase, err := NewGraph(in, Call(&nn.Add{}, c1, Call(&nn.Conv2D{Filters: 2, KernelSize: [2]int{1, 1}}, c1)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		m     *Model
		added []string
	}{
		{"image", New(&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}}, &nn.ReLU{}), []string{"GlobalAveragePooling2D", "Dense"}},
		{"pooled", New(&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}}, &nn.GlobalMaxPooling2D{}), []string{"Dense"}},
		{"graph", graphBase, []string{"GlobalAveragePooling2D", "Dense"}},
	} {
		if err := tt.m.Build([]int{6, 6, 1}, 1); err != nil {
			t.Fatal(err)
		}
		n, old := len(tt.m.Layers), cloneParams(tt.m)
		d, err := tt.m.NewHead(3, 2)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		var added []string
		for _, l := range tt.m.Layers[n:] {
			added = append(added, l.Type())
		}
		if dense, ok := d.(*nn.Dense); !ok || !slices.Equal(added, tt.added) || tt.m.Layers[len(tt.m.Layers)-1] != d || dense.Activation != "softmax" || !slices.Equal(tt.m.OutputShape(), []int{3}) {
			t.Errorf("%s: added %v, output %v", tt.name, added, tt.m.OutputShape())
		}
		for i, v := range old {
			if !slices.Equal(tt.m.params[i].Value.Data, v) {
				t.Errorf("%s: %s changed", tt.name, tt.m.params[i].Name)
			}
		}
		if err := tt.m.Compile(&optim.SGD{}, nn.CrossEntropy{}); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}

	// A classifier whose head is a 1x1 convolution, its channels the
	// classes (SqueezeNet's; Keras MobileNet's conv_preds on a 1x1 map),
	// gets a new one; a 3x3 convolution before the pooling makes a base.
	for _, tt := range []struct {
		name   string
		layers []nn.Layer
		head   int // the index of the head, -1: a top added
	}{
		{"squeezenet", []nn.Layer{&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}}, &nn.Dropout{Rate: 0.5},
			&nn.Conv2D{Filters: 2, KernelSize: [2]int{1, 1}, Activation: "relu", KernelRegularizer: nn.Regularizer{L2: 0.1}}, &nn.AveragePooling2D{PoolSize: [2]int{4, 4}}, &nn.Flatten{}, &nn.Softmax{}}, 2},
		{"mobilenet", []nn.Layer{&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}}, &nn.GlobalAveragePooling2D{}, &nn.Reshape{TargetShape: []int{1, 1, 4}},
			&nn.Conv2D{Filters: 2, KernelSize: [2]int{1, 1}}, &nn.Reshape{TargetShape: []int{2}}, &nn.Activation{Func: "softmax"}}, 3},
		{"base", []nn.Layer{&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}}, &nn.GlobalAveragePooling2D{}}, -1},
		{"pooled twice", []nn.Layer{&nn.Conv2D{Filters: 2, KernelSize: [2]int{1, 1}}, &nn.MaxPool2D{PoolSize: [2]int{2, 2}}, &nn.GlobalAveragePooling2D{}}, 0},
		{"pooled, not to 1x1", []nn.Layer{&nn.Conv2D{Filters: 2, KernelSize: [2]int{1, 1}}, &nn.MaxPool2D{PoolSize: [2]int{3, 3}}, &nn.Flatten{}}, -1},
	} {
		c := New(tt.layers...)
		if err := c.Build([]int{6, 6, 1}, 1); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		n, old := len(c.Layers), map[nn.Layer][][]float32{}
		for _, l := range c.Layers {
			for _, p := range l.Params() {
				old[l] = append(old[l], slices.Clone(p.Value.Data))
			}
		}
		var was nn.Layer
		if tt.head >= 0 {
			was = c.Layers[tt.head]
		}
		d, err := c.NewHead(3, 1)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !slices.Equal(c.OutputShape(), []int{3}) {
			t.Errorf("%s: output %v after NewHead(3)", tt.name, c.OutputShape())
		}
		if tt.head < 0 {
			if len(c.Layers) != n+1 || c.Layers[n] != d {
				t.Errorf("%s: %d layers, the head %v; want a Dense added", tt.name, len(c.Layers), d.Name())
			}
			continue
		}
		conv, ok := d.(*nn.Conv2D)
		got, want := d.Config(), was.Config()
		delete(got, "filters")
		delete(want, "filters")
		if !ok || len(c.Layers) != n || c.Layers[tt.head] != d || d == was || conv.Filters != 3 || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the head %v (%T, %v), want a 1x1 Conv2D of 3 filters in place of %s, as it was (%v)", tt.name, d.Name(), d, got, was.Name(), want)
		}
		for _, l := range c.Layers {
			for k, p := range l.Params() {
				if l != d && !slices.Equal(p.Value.Data, old[l][k]) {
					t.Errorf("%s: %s of %s changed", tt.name, p.Name, l.Name())
				}
			}
		}
	}
}

// Layers set to run as in inference in training, as Keras's
// base_model(x, training=False): the gradients of a training step are the
// finite differences of the evaluation loss, through a BatchNormalization
// on its moving statistics and a dropout that does nothing, whose weights
// train; the moving statistics stay. A stack so set is written as a
// Functional chain whose calls say training false, and reads back so.
func TestInferenceInTraining(t *testing.T) {
	bn, drop := &nn.BatchNormalization{}, &nn.Dropout{Rate: 0.5}
	m := New(&nn.Conv2D{Filters: 3, KernelSize: [2]int{3, 3}}, bn, drop, &nn.Flatten{}, &nn.Dense{Units: 3, Activation: "softmax"})
	if err := m.Build([]int{6, 6, 1}, 5); err != nil {
		t.Fatal(err)
	}
	if err := m.SetInferenceInTraining(true, bn, drop); err != nil {
		t.Fatal(err)
	}
	for _, p := range bn.Params()[2:] {
		for j := range p.Value.Data {
			p.Value.Data[j] = 0.4 + float32(j)
		}
	}
	if err := m.Compile(&optim.SGD{LearningRate: 0.1}, nn.CrossEntropy{}); err != nil {
		t.Fatal(err)
	}
	x, y := frozenBatch()
	zeroGrads(m)
	m.step(x, y, true)
	checkGradients(t, m, slices.DeleteFunc(slices.Clone(m.params), func(p *nn.Param) bool { return !p.Trainable }), x, y)
	mean, gamma := slices.Clone(bn.Params()[2].Value.Data), slices.Clone(bn.Params()[0].Value.Data)
	m.TrainStep(x, y)
	if !slices.Equal(bn.Params()[2].Value.Data, mean) || slices.Equal(bn.Params()[0].Value.Data, gamma) {
		t.Error("after a step: want the moving mean kept and gamma trained")
	}
	doc, err := m.Architecture()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(doc), `"training": false`); !strings.Contains(string(doc), `"class_name": "Functional"`) || n != 2 {
		t.Errorf("written with %d calls with training false, as a Functional: %v", n, strings.Contains(string(doc), `"Functional"`))
	}
	back, err := ParseArchitecture(doc)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range back.Layers {
		if want := i == 1 || i == 2; back.InferenceInTraining(l) != want {
			t.Errorf("read back: layer %s runs as in inference in training: %v", l.Name(), !want)
		}
	}
	if err := m.SetInferenceInTraining(false, drop); err != nil || m.InferenceInTraining(drop) || !m.InferenceInTraining(bn) {
		t.Errorf("SetInferenceInTraining(false, dropout): %v", err)
	}
}
