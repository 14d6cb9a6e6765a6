package model

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// tinyCompiled returns one small model of 3 classes, the same initial
// weights each time, compiled for plain SGD.
func tinyCompiled(t *testing.T) *Model {
	t.Helper()
	m := New(&nn.Flatten{}, &nn.Dense{Units: 5, Activation: "tanh"}, &nn.Dense{Units: 3, Activation: "softmax"})
	if err := m.Build([]int{4, 4, 1}, 7); err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(&optim.SGD{LearningRate: 0.1}, nn.CrossEntropy{Sparse: true}); err != nil {
		t.Fatal(err)
	}
	return m
}

// classWeightBatch is 12 samples of noise, of classes 0, 1, 2, 0, 1, ...
func classWeightBatch() Batch {
	rng := rand.New(rand.NewPCG(3, 4))
	b := Batch{X: tensor.New(12, 4, 4, 1), Y: tensor.New(12)}
	for i := range b.X.Data {
		b.X.Data[i] = float32(rng.NormFloat64())
	}
	for i := range b.Y.Data {
		b.Y.Data[i] = float32(i % 3)
	}
	return b
}

// fitOnce trains m for one step on b with class weights w.
func fitOnce(t *testing.T, m *Model, b Batch, w []float64) (EpochLogs, error) {
	h, err := m.Fit(context.Background(), FitOptions{Epochs: 1, ClassWeight: w,
		Train: func(int, int) (Batches, error) { return &oneBatch{b: b}, nil }})
	if err != nil {
		return EpochLogs{}, err
	}
	return h.Epochs[0], nil
}

// TestFitClassWeight checks Fit's class weights as Keras's class_weight:
// weights of 2 double the loss and the step of plain SGD and leave the
// accuracy; weights of 1, 0, 0 give the accuracy of class 0's samples and
// their loss summed over the batch's size; bad weights are refused.
func TestFitClassWeight(t *testing.T) {
	b := classWeightBatch()
	start, plain, double := tinyCompiled(t), tinyCompiled(t), tinyCompiled(t)
	p, err := fitOnce(t, plain, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := fitOnce(t, double, b, []float64{2, 2, 2})
	if err != nil {
		t.Fatal(err)
	}
	if d.Loss != 2*p.Loss || d.Accuracy != p.Accuracy {
		t.Errorf("weights of 2: loss %v, accuracy %v; without: %v, %v", d.Loss, d.Accuracy, p.Loss, p.Accuracy)
	}
	worst := 0.0 // |(w2 - w0) - 2 (w1 - w0)|, w0 the initial weights
	for i, p := range start.params {
		for j, w0 := range p.Value.Data {
			worst = max(worst, math.Abs(float64(double.params[i].Value.Data[j]-w0)-2*float64(plain.params[i].Value.Data[j]-w0)))
		}
	}
	if worst > 1e-6 {
		t.Errorf("weights of 2: the step differs from twice the plain one by up to %g", worst)
	}

	// Class 0 alone: its 4 samples (0, 3, 6, 9), measured before the step.
	x0, y0 := tensor.New(4, 4, 4, 1), tensor.New(4)
	for k := range 4 {
		copy(x0.Data[k*16:(k+1)*16], b.X.Data[3*k*16:])
	}
	loss0, correct0 := start.EvaluateBatch(x0, y0)
	only, err := fitOnce(t, tinyCompiled(t), b, []float64{1, 0, 0})
	if err != nil {
		t.Fatal(err)
	}
	if want := loss0 * 4 / 12; math.Abs(only.Loss-want) > 1e-12 || only.Accuracy != float64(correct0)/4 {
		t.Errorf("weights 1, 0, 0: loss %v, accuracy %v; class 0's samples: loss %v, over 12 %v, accuracy %v", only.Loss, only.Accuracy, loss0, want, float64(correct0)/4)
	}

	for _, tt := range []struct {
		w    []float64
		want string
	}{
		{[]float64{1, 2}, "2 class weights for the model's 3 classes"},
		{[]float64{1, -1, 1}, "class 1 is -1"},
		{[]float64{1, 1, math.NaN()}, "class 2 is NaN"},
		{[]float64{math.Inf(1), 1, 1}, "class 0 is +Inf"},
	} {
		if _, err := fitOnce(t, start, b, tt.w); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("class weights %v: error %v, want %q", tt.w, err, tt.want)
		}
	}
}
