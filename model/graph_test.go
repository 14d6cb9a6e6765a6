package model

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/nn/nntest"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// branchy returns an unbuilt graph with every merge layer: a residual block
// (Add), a 1x1 branch joined by Concatenate, a sigmoid gate (Multiply) and
// two pooled heads averaged (Average), with batch normalization and, if
// asked, dropout. The hidden activation is ReLU layers for "relu", else
// Activation layers of that function; the last layer is Dense with the
// activation act.
func branchy(t testing.TB, hidden, act string, dropout bool) *Model {
	t.Helper()
	nonlinear := func() nn.Layer {
		if hidden == "relu" {
			return &nn.ReLU{}
		}
		return &nn.Activation{Func: hidden}
	}
	in := Input(8, 8, 2)
	x := Call(&nn.Conv2D{Filters: 4, KernelSize: pair(3), Padding: "same", NoBias: true}, in)
	x = Call(&nn.BatchNormalization{}, x)
	x = Call(nonlinear(), x)
	y := Call(&nn.Conv2D{Filters: 4, KernelSize: pair(3), Padding: "same", Activation: hidden}, x)
	y = Call(&nn.Conv2D{Filters: 4, KernelSize: pair(3), Padding: "same"}, y)
	x = Call(&nn.Add{}, y, x)
	x = Call(nonlinear(), x)
	b := Call(&nn.Conv2D{Filters: 2, KernelSize: pair(1), Activation: "tanh"}, x)
	c := Call(&nn.Concatenate{}, x, b)
	g := Call(&nn.Conv2D{Filters: 6, KernelSize: pair(1), Activation: "sigmoid"}, c)
	c = Call(&nn.Multiply{}, c, g)
	h1 := Call(&nn.GlobalAveragePooling2D{}, c)
	h2 := Call(&nn.Flatten{}, Call(&nn.AveragePooling2D{PoolSize: pair(8)}, c))
	z := Call(&nn.Average{}, h1, h2)
	if dropout {
		z = Call(&nn.Dropout{Rate: 0.25}, z)
	}
	m, err := NewGraph(in, Call(&nn.Dense{Units: 5, Activation: act}, z))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGraphOrderAndNames(t *testing.T) {
	m := branchy(t, "relu", "softmax", true)
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, l := range m.Layers {
		var in []string
		for _, j := range m.Inbound(i) {
			if j < 0 {
				in = append(in, m.InputName())
			} else {
				in = append(in, m.Layers[j].Name())
			}
		}
		got = append(got, l.Name()+"<"+strings.Join(in, ","))
	}
	// Keras's order: by the longest path to the output, ties in the order a
	// depth-first walk from the output meets the layers.
	want := []string{
		"conv2d<input_1", "batch_normalization<conv2d", "re_lu<batch_normalization",
		"conv2d_1<re_lu", "conv2d_2<conv2d_1", "add<conv2d_2,re_lu", "re_lu_1<add",
		"conv2d_3<re_lu_1", "concatenate<re_lu_1,conv2d_3", "conv2d_4<concatenate",
		"multiply<concatenate,conv2d_4", "average_pooling2d<multiply", "global_average_pooling2d<multiply",
		"flatten<average_pooling2d", "average<global_average_pooling2d,flatten", "dropout<average", "dense<dropout",
	}
	if !slices.Equal(got, want) {
		t.Errorf("layers and inputs:\n got %v\nwant %v", got, want)
	}
	if !m.IsGraph() || m.InputName() != "input_1" || !slices.Equal(m.OutputShape(), []int{5}) {
		t.Errorf("IsGraph %v, InputName %q, OutputShape %v", m.IsGraph(), m.InputName(), m.OutputShape())
	}
	s := New(&nn.Flatten{}, &nn.Dense{Units: 2})
	s.Build([]int{3}, 1)
	if s.IsGraph() || !slices.Equal(s.Inbound(1), []int{0}) || !slices.Equal(s.Inbound(0), []int{-1}) {
		t.Errorf("a stack: IsGraph %v, Inbound(0) %v, Inbound(1) %v", s.IsGraph(), s.Inbound(0), s.Inbound(1))
	}
}

// graphLayer lets the layer harness check a whole graph: forward and
// backward through every branch, parameter gradients included.
type graphLayer struct {
	m    *Model
	name string
}

func (g *graphLayer) Type() string       { return "Functional" }
func (g *graphLayer) Name() string       { return g.name }
func (g *graphLayer) SetName(s string)   { g.name = s }
func (g *graphLayer) OutputShape() []int { return g.m.OutputShape() }
func (g *graphLayer) Params() []*nn.Param {
	return g.m.Params()
}
func (g *graphLayer) Build(in []int, rng *rand.Rand) ([]int, error) {
	if err := g.m.Build(in, rng.Uint64()); err != nil {
		return nil, err
	}
	return g.m.OutputShape(), nil
}
func (g *graphLayer) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	if training {
		return g.m.run(x, trainingPass)
	}
	return g.m.run(x, inferencePass)
}
func (g *graphLayer) Backward(dy *tensor.Tensor) *tensor.Tensor {
	return g.m.backward(dy, paramGradients|inputGradient)
}
func (g *graphLayer) Config() map[string]any { return nil }

// Cost counts the graph's weights (building it first if need be); the
// multiply-adds are left at zero, as the test case expects.
func (g *graphLayer) Cost(in []int) nn.Cost {
	if !g.m.Built() {
		if err := g.m.Build(in, 0); err != nil {
			return nn.Cost{}
		}
	}
	tr, fixed := g.m.ParamCount()
	return nn.Cost{Params: int64(tr + fixed)}
}

// The gradients of a graph with skip connections and every merge layer pass
// the finite-difference check, in training mode (batch statistics). The
// hidden activation is smooth: each layer's kinks are checked on their own,
// and through many layers the finite differences of a ReLU network cross
// too many of them.
func TestGraphGradients(t *testing.T) {
	nntest.Run(t, nntest.Case{
		New:      func() nn.Layer { return &graphLayer{m: branchy(t, "tanh", "", false)} },
		In:       []int{8, 8, 2},
		Batch:    3,
		Params:   (3*3*2*4 + 4*4) + 2*(3*3*4*4+4) + (4*2 + 2) + (6*6 + 6) + (6*5 + 5),
		Training: true,
		NoConfig: true,
		Seed:     5,
	})
}

func TestGraphTrainsWithoutAllocatingAndDeterministically(t *testing.T) {
	run := func(procs int) ([][]float32, []float64) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		m := branchy(t, "relu", "softmax", true)
		if err := m.Build(nil, 42); err != nil {
			t.Fatal(err)
		}
		if err := m.Compile(&optim.Adam{LearningRate: 0.01}, nn.CrossEntropy{Sparse: true}); err != nil {
			t.Fatal(err)
		}
		x, y := randomBatch(m, 16, 7)
		var losses []float64
		for range 20 {
			l, _ := m.TrainStep(x, y)
			losses = append(losses, l)
		}
		w := weights(m)
		if procs == 1 && !raceEnabled {
			if n := testing.AllocsPerRun(5, func() { m.TrainStep(x, y) }); n != 0 {
				t.Errorf("a graph's TrainStep allocates %v times, want 0", n)
			}
		}
		return w, losses
	}
	a, la := run(1)
	b, _ := run(2)
	c, _ := run(2)
	if !equalWeights(a, b) || !equalWeights(b, c) {
		t.Errorf("a graph's weights after 20 steps differ between GOMAXPROCS 1 and 2 (or between runs)")
	}
	if !(la[len(la)-1] < la[0]) {
		t.Errorf("loss %v after 20 steps, %v at first: not lower", la[len(la)-1], la[0])
	}
}

// The tutorial's network made as a graph trains exactly as the stack does.
func TestTutorialGraphMatchesSequential(t *testing.T) {
	seq, err := Preset("tutorial")
	if err != nil {
		t.Fatal(err)
	}
	in := Input(32, 32, 1)
	x := in
	for _, l := range tutorialLayers(28) {
		x = Call(l, x)
	}
	g, err := NewGraph(in, x)
	if err != nil {
		t.Fatal(err)
	}
	var ws [][][]float32
	for _, m := range []*Model{seq, g} {
		if err := m.Build(nil, 9); err != nil {
			t.Fatal(err)
		}
		if err := m.Compile(&optim.RMSprop{LearningRate: 0.001, Rho: 0.9}, nn.CrossEntropy{}); err != nil {
			t.Fatal(err)
		}
		x, y := randomBatch(m, 2, 3)
		onehot := tensor.New(2, 28)
		for i, c := range y.Data {
			onehot.Data[i*28+int(c)] = 1
		}
		for range 20 {
			m.TrainStep(x, onehot)
		}
		ws = append(ws, weights(m))
	}
	if !equalWeights(ws[0], ws[1]) {
		t.Errorf("the tutorial network as a graph has other weights after 20 steps than as a stack")
	}
	if !g.IsGraph() || seq.IsGraph() {
		t.Errorf("IsGraph: graph %v, stack %v", g.IsGraph(), seq.IsGraph())
	}
}

func TestGraphInspection(t *testing.T) {
	m := branchy(t, "relu", "softmax", true)
	if err := m.Build(nil, 3); err != nil {
		t.Fatal(err)
	}
	x, _ := randomBatch(m, 2, 4)
	outs := m.ForwardAll(x)
	if len(outs) != len(m.Layers) {
		t.Fatalf("ForwardAll returned %d outputs for %d layers", len(outs), len(m.Layers))
	}
	for i, o := range outs {
		if want := append([]int{2}, m.Layers[i].OutputShape()...); !slices.Equal(o.Shape, want) {
			t.Errorf("ForwardAll[%d] (%s) has shape %v, want %v", i, m.Layers[i].Name(), o.Shape, want)
		}
	}
	// The add layer's output is the sum of its inputs' outputs.
	add := slices.IndexFunc(m.Layers, func(l nn.Layer) bool { return l.Type() == "Add" })
	in := m.Inbound(add)
	for k, v := range outs[add].Data {
		if s := outs[in[0]].Data[k] + outs[in[1]].Data[k]; v != s {
			t.Fatalf("add output[%d] = %v, the sum of its inputs is %v", k, v, s)
		}
	}
	p := tensor.New(2, 5)
	m.Predict(p, x)
	if !slices.Equal(p.Data, outs[len(outs)-1].Data) {
		t.Errorf("Predict differs from ForwardAll's last output")
	}
	// Saliency: the input gradient of the class-1 logit against finite
	// differences of the logit, in float64 sums over a few pixels.
	g := m.InputGradient(x, 1)
	if !slices.Equal(g.Shape, x.Shape) {
		t.Fatalf("InputGradient shape %v, want %v", g.Shape, x.Shape)
	}
	logit := func() float64 { return float64(m.forward(x, inferencePass).Data[1]) } // sample 0, class 1
	for _, i := range []int{0, 17, 63, 100} {
		v := x.Data[i]
		x.Data[i] = v + 1e-2
		up := logit()
		x.Data[i] = v - 1e-2
		down := logit()
		x.Data[i] = v
		num := (up - down) / 2e-2
		if d := float64(g.Data[i]) - num; d*d > 1e-4*max(1, num*num) {
			t.Errorf("InputGradient[%d] = %v, finite difference %v", i, g.Data[i], num)
		}
	}
	c := m.Clone()
	pc := tensor.New(2, 5)
	c.Predict(pc, x)
	if !c.IsGraph() || !slices.Equal(pc.Data, p.Data) {
		t.Errorf("the clone of a graph predicts differently (IsGraph %v)", c.IsGraph())
	}
}

func TestGraphErrors(t *testing.T) {
	conv := func(f int) nn.Layer { return &nn.Conv2D{Filters: f, KernelSize: pair(3), Padding: "same"} }
	shared := conv(2)
	tests := []struct {
		name string
		make func() (*Node, *Node)
		want string
	}{
		{"shapes", func() (*Node, *Node) {
			in := Input(8, 8, 1)
			a := Call(named(conv(4), "wide"), in)
			b := Call(named(&nn.MaxPool2D{}, "small"), a)
			return in, Call(named(&nn.Add{}, "sum"), a, b)
		}, "sum (Add): input 2 has shape [4 4 4] but input 1 has [8 8 4]: Add needs inputs of one shape, or of size 1 along the axes where they differ (inputs: wide (None, 8, 8, 4), small (None, 4, 4, 4))"},
		{"concatenate shapes", func() (*Node, *Node) {
			in := Input(8, 8, 1)
			return in, Call(&nn.Concatenate{}, Call(&nn.MaxPool2D{}, in), in)
		}, "concatenate (Concatenate): input 2 has shape [8 8 1] but input 1 has [4 4 1]"},
		{"dangling input", func() (*Node, *Node) {
			in := Input(8, 8, 1)
			return in, Call(conv(2), Input(8, 8, 1))
		}, "disconnected: conv2d (Conv2D) is called on an input, which is not the model's input"},
		{"another input", func() (*Node, *Node) {
			in := Input(8, 8, 1)
			other := Input(8, 8, 1)
			return in, Call(named(&nn.Add{}, "join"), Call(conv(1), in), other)
		}, "disconnected: join (Add) is called on an input, which is not the model's input"},
		{"output is another input", func() (*Node, *Node) { return Input(2), Input(2) }, "output is an input other than the model's"},
		{"no layers", func() (*Node, *Node) { in := Input(2); return in, in }, "no layers"},
		{"same name", func() (*Node, *Node) {
			in := Input(8, 8, 1)
			return in, Call(named(conv(2), "c"), Call(named(conv(2), "c"), in))
		}, `two layers are named "c"`},
		{"name of the input", func() (*Node, *Node) {
			in := Input(8, 8, 1)
			in.name = "c"
			return in, Call(named(conv(2), "c"), in)
		}, `two layers are named "c"`},
		{"shared layer", func() (*Node, *Node) {
			in := Input(8, 8, 2)
			return in, Call(shared, Call(shared, in))
		}, "is called twice"},
		{"conv on two inputs", func() (*Node, *Node) {
			in := Input(8, 8, 1)
			a := Call(named(conv(2), "a"), in)
			return in, Call(named(conv(2), "b"), a, in)
		}, "b (Conv2D) is called on 2 inputs (a, input_1) but takes one"},
		{"merge on one input", func() (*Node, *Node) {
			in := Input(3)
			return in, Call(&nn.Add{}, in)
		}, "add (Add) is called on 1 input: a merge layer takes at least 2"},
		{"nil layer", func() (*Node, *Node) { in := Input(3); return in, Call(nil, in) }, "nil layer"},
		{"nil layer on nothing", func() (*Node, *Node) { return Input(3), Call(nil) }, "nil layer"},
		{"no inputs", func() (*Node, *Node) { return Input(3), Call(&nn.Dense{Units: 2}) }, "dense (Dense) is called on no input"},
		{"nil node", func() (*Node, *Node) { in := Input(3); return in, Call(&nn.Add{}, in, nil) }, "Add is called on a nil node"},
		{"bad input shape", func() (*Node, *Node) { in := Input(0, 3); return in, Call(&nn.Flatten{}, in) }, "input shape [0 3]"},
		{"not an input", func() (*Node, *Node) {
			x := Call(&nn.Flatten{}, Input(3))
			return x, Call(&nn.Dense{Units: 2}, x)
		}, "the input must be a node made by Input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, out := tt.make()
			m, err := NewGraph(in, out)
			if err == nil {
				err = m.Build(nil, 1)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewGraph + Build error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	// A graph's layers cannot change after NewGraph.
	in := Input(3)
	m, err := NewGraph(in, Call(&nn.Dense{Units: 2}, in))
	if err != nil {
		t.Fatal(err)
	}
	m.Layers = append(m.Layers, &nn.Dense{Units: 2})
	if err := m.Build(nil, 1); err == nil || !strings.Contains(err.Error(), "cannot be changed") {
		t.Errorf("Build after changing a graph's layers: error = %v", err)
	}
}

// A graph's activation memory counts every input of a merge layer and the
// sum of the gradients of an output used twice.
func TestGraphActivationBytes(t *testing.T) {
	in := Input(4)
	m, err := NewGraph(in, Call(&nn.Add{}, Call(&nn.Dense{Units: 3}, in), Call(&nn.Dense{Units: 3}, in)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	// Input, its preprocessed copy and gradient 3·4; scores, their gradient,
	// probabilities 3·3; each dense 3·3 + 4 (its input's gradient); add
	// 3·3 + 3 + 3; the input's gradient summed over both dense layers 4.
	want := int64(4 * (3*4 + 3*3 + 2*(3*3+4) + 3*3 + 3 + 3 + 4))
	if got := m.ActivationBytes(1); got != want {
		t.Errorf("ActivationBytes(1) = %d, want %d", got, want)
	}
}
