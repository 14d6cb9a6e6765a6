package model

import (
	"bytes"
	"math"
	"slices"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// TestRegularizedStep: a training step's loss and the parameters'
// gradients include the regularizers' penalties, checked against finite
// differences of the evaluation loss (which includes them too, as Keras's
// does) for every weight of a convolution and a Dense with L1, L2 and L1L2
// on kernels and biases.
func TestRegularizedStep(t *testing.T) {
	m := New(&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, Activation: "tanh",
		KernelRegularizer: nn.Regularizer{L1: 0.01, L2: 0.05}, BiasRegularizer: nn.Regularizer{L2: 0.3}},
		&nn.Flatten{}, &nn.Dense{Units: 3, KernelRegularizer: nn.Regularizer{L1: 0.02}})
	if err := m.Build([]int{4, 4, 1}, 3); err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(&optim.SGD{LearningRate: 0.1}, nn.CrossEntropy{}); err != nil {
		t.Fatal(err)
	}
	x, y := tensor.New(3, 4, 4, 1), tensor.New(3, 3)
	for i := range x.Data {
		x.Data[i] = float32(math.Sin(float64(i)))
	}
	for i := range 3 {
		y.Data[i*3+(i+1)%3] = 1
	}
	for _, p := range m.params {
		for i := range p.Value.Data {
			p.Value.Data[i] += 0.1 // no weight at 0, where |w| has no derivative
		}
	}
	plain := m.Clone()
	for _, p := range plain.params {
		p.Regularizer = nn.Regularizer{}
	}
	if err := plain.Compile(&optim.SGD{LearningRate: 0.1}, nn.CrossEntropy{}); err != nil {
		t.Fatal(err)
	}
	evalLoss, _ := m.EvaluateBatch(x, y)
	plainLoss, _ := plain.EvaluateBatch(x, y)
	if diff := evalLoss - plainLoss; math.Abs(diff-m.Penalty()) > 1e-9 || m.Penalty() < 0.01 {
		t.Errorf("evaluation loss %v, without the regularizers %v: a difference of %v, want the penalty %v", evalLoss, plainLoss, diff, m.Penalty())
	}
	for _, p := range m.params {
		p.Grad.Zero()
	}
	loss := m.step(x, y, true).loss
	if math.Abs(loss-evalLoss) > 1e-9 {
		t.Errorf("training loss %v, evaluation loss %v: want the same", loss, evalLoss)
	}
	checkGradients(t, m, m.params, x, y)
}

// checkGradients compares the gradients of params, as the last training
// step left them, with the finite differences of the evaluation loss on
// (x, y).
func checkGradients(t *testing.T, m *Model, params []*nn.Param, x, y *tensor.Tensor) {
	t.Helper()
	const h = 1e-3
	for _, p := range params {
		for i := range p.Value.Data {
			v := p.Value.Data[i]
			p.Value.Data[i] = v + h
			up, _ := m.EvaluateBatch(x, y)
			p.Value.Data[i] = v - h
			down, _ := m.EvaluateBatch(x, y)
			p.Value.Data[i] = v
			want := (up - down) / (2 * h)
			if got := float64(p.Grad.Data[i]); math.Abs(got-want) > 2e-3*max(1, math.Abs(want)) {
				t.Errorf("%s[%d]: gradient %.6f, finite differences of the evaluation loss %.6f", p.Name, i, got, want)
			}
		}
	}
}

// TestKerasRegularizers reads kernel and bias regularizers as tf.keras 2
// and Keras 3 write them and writes them back as Keras objects, null
// where there is none.
func TestKerasRegularizers(t *testing.T) {
	doc := []byte(`{"class_name": "Sequential", "config": {"name": "s", "layers": [
	  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 6, 6, 1], "dtype": "float32", "name": "in"}},
	  {"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "kernel_size": [3, 3], "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.0005000000237487257}}, "bias_regularizer": null}},
	  {"class_name": "Flatten", "config": {"name": "f"}},
	  {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d", "units": 2, "activation": "softmax",
	    "kernel_regularizer": {"module": "keras.regularizers", "class_name": "L1L2", "config": {"l1": 0.001, "l2": 0.01}, "registered_name": null},
	    "bias_regularizer": "l1"}, "registered_name": null}]}}`)
	check := func(what string, m *Model) {
		t.Helper()
		c, d := m.Layers[0].(*nn.Conv2D), m.Layers[2].(*nn.Dense)
		if c.KernelRegularizer != (nn.Regularizer{L2: 0.0005000000237487257}) || !c.BiasRegularizer.IsZero() ||
			d.KernelRegularizer != (nn.Regularizer{L1: 0.001, L2: 0.01}) || d.BiasRegularizer != (nn.Regularizer{L1: 0.01}) {
			t.Fatalf("%s: regularizers %+v %+v %+v %+v", what, c.KernelRegularizer, c.BiasRegularizer, d.KernelRegularizer, d.BiasRegularizer)
		}
	}
	m := kerasRoundTrip(t, doc, check, `"kernel_regularizer":{"class_name":"L2","config":{"l2":0.0005000000237487257}}`,
		`"bias_regularizer":null`, `"kernel_regularizer":{"class_name":"L1L2","config":{"l1":0.001,"l2":0.01}}`, `"bias_regularizer":{"class_name":"L1","config":{"l1":0.01}}`)
	if a, _ := m.Architecture(); bytes.Contains(a, []byte(`"activity_regularizer": {`)) {
		t.Errorf("an activity regularizer written")
	}
}

// TestConstrainedStep: after every training step the kernel's columns
// hold norms of at most MaxNorm's 0.1 and the bias no value below 0, as
// Keras's optimizers leave them; constraints read from Keras JSON and
// write back as Keras objects.
func TestConstrainedStep(t *testing.T) {
	doc := []byte(`{"class_name": "Sequential", "config": {"name": "s", "layers": [
	  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 5], "dtype": "float32", "name": "in"}},
	  {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d", "units": 4, "activation": "softmax",
	    "kernel_constraint": {"module": "keras.constraints", "class_name": "MaxNorm", "config": {"max_value": 0.1, "axis": 0}, "registered_name": null},
	    "bias_constraint": {"class_name": "NonNeg", "config": {}}}, "registered_name": null}]}}`)
	check := func(what string, m *Model) {
		t.Helper()
		d := m.Layers[0].(*nn.Dense)
		if d.KernelConstraint.Kind != "max_norm" || d.KernelConstraint.Max != 0.1 || d.BiasConstraint.Kind != "non_neg" {
			t.Fatalf("%s: constraints %+v, %+v", what, d.KernelConstraint, d.BiasConstraint)
		}
	}
	m := kerasRoundTrip(t, doc, check, `"kernel_constraint":{"class_name":"MaxNorm","config":{"axis":0,"max_value":0.1}}`,
		`"bias_constraint":{"class_name":"NonNeg","config":{}}`)
	if err := m.Compile(&optim.SGD{LearningRate: 5}, nn.CrossEntropy{}); err != nil {
		t.Fatal(err)
	}
	x, y := tensor.New(4, 5), tensor.New(4, 4)
	for i := range x.Data {
		x.Data[i] = float32(math.Cos(float64(3 * i)))
	}
	for i := range 4 {
		y.Data[i*4+i] = 1
	}
	kernel, bias := m.params[0], m.params[1]
	for step := range 3 {
		m.TrainStep(x, y)
		for u := range 4 {
			var sq float64
			for i := range 5 {
				sq += float64(kernel.Value.Data[i*4+u]) * float64(kernel.Value.Data[i*4+u])
			}
			if n := math.Sqrt(sq); n > 0.1+1e-6 {
				t.Errorf("step %d: unit %d's incoming weights have norm %v, above 0.1", step, u, n)
			}
		}
		for u, v := range bias.Value.Data {
			if v < 0 {
				t.Errorf("step %d: bias %d = %v, below 0", step, u, v)
			}
		}
	}
	if slices.Max(bias.Value.Data) <= 0 {
		t.Errorf("the biases %v never rose above 0: the test moves nothing", bias.Value.Data)
	}
}
