package nn_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

func TestCrossEntropyHandValues(t *testing.T) {
	ln3 := float32(math.Log(3))
	tests := []struct {
		name     string
		loss     nn.CrossEntropy
		logits   []float32
		c        int
		target   []float32
		want     float64
		wantGrad []float32
	}{
		{"extreme right", nn.CrossEntropy{Sparse: true}, []float32{1e30, -1e30}, 2, []float32{0}, 0, []float32{0, 0}},
		{"extreme wrong", nn.CrossEntropy{Sparse: true}, []float32{1e30, -1e30}, 2, []float32{1}, 2e30, []float32{1, -1}},
		{"extreme one-hot", nn.CrossEntropy{}, []float32{-1e30, 1e30, -1e30}, 3, []float32{0, 0, 1}, 2e30, []float32{0, 1, -1}},
		{"equal logits", nn.CrossEntropy{}, []float32{7, 7, 7, 7}, 4, []float32{0, 1, 0, 0}, math.Log(4), []float32{0.25, -0.75, 0.25, 0.25}},
		{"equal logits smoothed", nn.CrossEntropy{Sparse: true, LabelSmoothing: 0.1}, []float32{-3, -3, -3, -3}, 4, []float32{2}, math.Log(4),
			[]float32{0.25 - 0.025, 0.25 - 0.025, 0.25 - 0.925, 0.25 - 0.025}},
		// p = [1/4, 3/4]; smoothed target [0.9, 0.1];
		// loss = -0.9·ln(1/4) - 0.1·ln(3/4) = 1.2764331…
		{"smoothing", nn.CrossEntropy{LabelSmoothing: 0.2}, []float32{0, ln3}, 2, []float32{1, 0}, 0.9*math.Log(4) - 0.1*math.Log(0.75),
			[]float32{0.25 - 0.9, 0.75 - 0.1}},
		// Two rows: the mean of ln 2 and 0, gradients divided by N = 2.
		{"batch mean", nn.CrossEntropy{Sparse: true}, []float32{5, 5, 1e30, 0}, 2, []float32{1, 0}, math.Log(2) / 2, []float32{0.25, -0.25, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(tt.logits) / tt.c
			logits := tensor.FromData(tt.logits, n, tt.c)
			var target *tensor.Tensor
			if tt.loss.Sparse {
				target = tensor.FromData(tt.target, n)
			} else {
				target = tensor.FromData(tt.target, n, tt.c)
			}
			grad := tensor.New(n, tt.c)
			got := tt.loss.FromLogits(grad, logits, target)
			if math.IsNaN(got) || math.IsInf(got, 0) || math.Abs(got-tt.want) > 1e-6*math.Max(1, tt.want) {
				t.Errorf("%s.FromLogits(%v) = %v, want %v", tt.loss.Name(), tt.logits, got, tt.want)
			}
			if !grad.AllFinite() {
				t.Fatalf("gradient %v is not finite", grad.Data)
			}
			for i, g := range grad.Data {
				if math.Abs(float64(g-tt.wantGrad[i])) > 1e-6 {
					t.Errorf("%s gradient = %v, want %v", tt.loss.Name(), grad.Data, tt.wantGrad)
					break
				}
			}
		})
	}
}

// Hand-computed class weights, as Keras weighs samples: two rows of equal
// logits over 2 classes (each loss ln 2), classes 1 and 0 (the one-hot
// row's largest entry) weighing 3 and 0.5: loss (3 + 0.5)·ln 2 / 2, each
// row's gradient times its weight over N. Weights of 1 give FromLogits's
// bits.
func TestCrossEntropyClassWeight(t *testing.T) {
	logits := tensor.FromData([]float32{4, 4, -2, -2}, 2, 2)
	for _, l := range []nn.CrossEntropy{{Sparse: true}, {}} {
		target := tensor.FromData([]float32{1, 0}, 2)
		if !l.Sparse {
			target = tensor.FromData([]float32{0, 1, 0.75, 0.25}, 2, 2)
		}
		grad := tensor.New(2, 2)
		got := l.WeightedFromLogits(grad, logits, target, []float64{0.5, 3})
		if want := 3.5 * math.Log(2) / 2; math.Abs(got-want) > 1e-12 {
			t.Errorf("%s: weighted loss %v, want %v", l.Name(), got, want)
		}
		// (p - t)·w/N: the first row (0.5-0, 0.5-1)·3/2, the second
		// (0.5-1, 0.5-0)·0.5/2, or for the one-hot [0.75, 0.25]
		// (0.5-0.75, 0.5-0.25)·0.5/2.
		want := []float32{0.75, -0.75, -0.125, 0.125}
		if !l.Sparse {
			want[2], want[3] = -0.0625, 0.0625
		}
		for i, g := range grad.Data {
			if math.Abs(float64(g-want[i])) > 1e-7 {
				t.Errorf("%s: weighted gradient %v, want %v", l.Name(), grad.Data, want)
				break
			}
		}
		if !l.Sparse {
			continue
		}
		plain, ones := tensor.New(2, 2), tensor.New(2, 2)
		a, b := l.FromLogits(plain, logits, target), l.WeightedFromLogits(ones, logits, target, []float64{1, 1})
		if a != b || !slices.Equal(plain.Data, ones.Data) {
			t.Errorf("weights of 1: loss %v and gradient %v, FromLogits's %v and %v", b, ones.Data, a, plain.Data)
		}
	}
}

func TestCrossEntropyCheck(t *testing.T) {
	logits := tensor.New(2, 3)
	tests := []struct {
		loss   nn.CrossEntropy
		target *tensor.Tensor
		want   string
	}{
		{nn.CrossEntropy{Sparse: true}, tensor.FromData([]float32{0, 3}, 2), "target 1 is 3: want a class index in [0, 3)"},
		{nn.CrossEntropy{Sparse: true}, tensor.FromData([]float32{0.5, 1}, 2), "target 0 is 0.5"},
		{nn.CrossEntropy{Sparse: true}, tensor.New(3), "target shape [3], want [2]"},
		{nn.CrossEntropy{}, tensor.New(2, 4), "target shape [2 4], want [2 3]"},
		{nn.CrossEntropy{}, tensor.FromData([]float32{0, 1, 0, float32(math.NaN()), 0, 0}, 2, 3), "target row 1 column 0 is NaN"},
		{nn.CrossEntropy{LabelSmoothing: 2}, tensor.New(2, 3), "label smoothing 2"},
	}
	for _, tt := range tests {
		err := tt.loss.Check(logits, tt.target)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s.Check(%v) = %v, want an error containing %q", tt.loss.Name(), tt.target.Data, err, tt.want)
		}
	}
	if _, err := nn.LossFromConfig(map[string]any{"name": "mse"}); err == nil || !strings.Contains(err.Error(), `unknown loss "mse"`) {
		t.Errorf("LossFromConfig(mse) = %v", err)
	}
}

func TestSoftmaxRowsExtreme(t *testing.T) {
	x := tensor.FromData([]float32{1e30, -1e30, 0, 3e38, 3e38, -3e38}, 2, 3)
	p := tensor.New(2, 3)
	nn.SoftmaxRows(p, x)
	want := []float32{1, 0, 0, 0.5, 0.5, 0}
	for i := range want {
		if p.Data[i] != want[i] {
			t.Errorf("SoftmaxRows = %v, want %v", p.Data, want)
			break
		}
	}
	nn.SoftmaxRows(x, x) // in place
	if x.Data[0] != 1 {
		t.Errorf("SoftmaxRows in place = %v", x.Data)
	}
}
