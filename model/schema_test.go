package model

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
)

// Each metadata entry has one type, written and read through a model file.

// throughFile returns m encoded with its optimizer and decoded again.
func throughFile(t *testing.T, m *Sequential) *Sequential {
	t.Helper()
	l, err := decode(encode(t, m, true))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestEvaluationRoundTrip(t *testing.T) {
	m := small(t, 3) // 8x8x1, 5 classes
	ev := &Evaluation{
		Dataset: "ahcd", Classes: []string{"a", "b", "c", "d", "e"}, Accuracy: 0.8, Loss: 0.61, Count: 10,
		Matrix:     [][]int{{2, 0, 0, 0, 0}, {0, 1, 1, 0, 0}, {0, 0, 2, 0, 0}, {0, 0, 0, 2, 0}, {1, 0, 0, 0, 1}},
		ImageShape: []int{8, 8, 1},
		Samples: []*EvaluationSample{
			{True: 1, Pred: 2, Index: 7, Pixels: bytes.Repeat([]byte{200}, 64)},
			{True: 4, Pred: 0, Index: 9, Pixels: make([]byte, 64)},
		},
	}
	if got, err := m.Evaluation(); got != nil || err != nil {
		t.Errorf("Evaluation() of a model without one = %v, %v; want nil, nil", got, err)
	}
	if err := m.SetEvaluation(ev); err != nil {
		t.Fatal(err)
	}
	got, err := throughFile(t, m).Evaluation()
	if err != nil || !reflect.DeepEqual(got, ev) {
		t.Errorf("Evaluation() after a round trip = %+v, %v; want %+v", got, err, ev)
	}
	// The JSON form the package documents.
	var doc map[string]any
	json.Unmarshal([]byte(m.Meta["evaluation"]), &doc)
	for _, key := range []string{"dataset", "classes", "accuracy", "loss", "count", "matrix", "image_shape", "samples"} {
		if _, ok := doc[key]; !ok {
			t.Errorf("the evaluation's JSON lacks %q: %s", key, m.Meta["evaluation"])
		}
	}
	if s := doc["samples"].([]any)[0].(map[string]any)["pixels"]; !strings.HasPrefix(s.(string), "yMjI") {
		t.Errorf("pixels = %v, want base64", s)
	}
}

func TestEvaluationCheck(t *testing.T) {
	good := func() *Evaluation {
		return &Evaluation{Matrix: [][]int{{1, 0}, {0, 1}}, ImageShape: []int{2, 2, 1},
			Samples: []*EvaluationSample{{True: 1, Pred: 0, Pixels: make([]byte, 4)}}}
	}
	tests := []struct {
		name string
		edit func(e *Evaluation)
		want string
	}{
		{"good", func(e *Evaluation) {}, ""},
		{"rows", func(e *Evaluation) { e.Matrix = e.Matrix[:1] }, "matrix has 1 rows, want 2"},
		{"columns", func(e *Evaluation) { e.Matrix[1] = []int{0} }, "matrix row 1 has 1 columns, want 2"},
		{"negative count", func(e *Evaluation) { e.Matrix[1][0] = -3 }, "matrix[1][0] = -3, want a count >= 0"},
		{"class", func(e *Evaluation) { e.Samples[0].Pred = 2 }, "sample 0: classes 1, 2 out of range"},
		{"pixels", func(e *Evaluation) { e.Samples[0].Pixels = nil }, "sample 0: 0 pixels, want 4"},
		{"shape", func(e *Evaluation) { e.ImageShape = []int{2, 2} }, "want 0 (image_shape [2 2])"},
		{"huge shape", func(e *Evaluation) { e.ImageShape = []int{1 << 40, 1 << 40, 1} }, "want 0"},
		{"null sample", func(e *Evaluation) { e.Samples[0] = nil }, "sample 0 is null"},
	}
	for _, tt := range tests {
		e := good()
		tt.edit(e)
		err := e.Check(2)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: Check(2) = %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := ParseEvaluation(`{"matrix": 3}`, 2); err == nil {
		t.Error("ParseEvaluation of a bad matrix: no error")
	}
}

func TestHistoryRoundTrip(t *testing.T) {
	for _, val := range []bool{false, true} {
		m := small(t, 4)
		h := &History{}
		for e := range 3 {
			l := EpochLogs{Epoch: e, Loss: 1 / float64(e+1), Accuracy: 0.5, LearningRate: 1e-3, Seconds: 2.5}
			if val {
				l.ValLoss, l.ValAccuracy, l.HasValidation = 0.7, 0.6, true
			}
			h.Epochs = append(h.Epochs, l)
		}
		if err := m.SetHistory(h); err != nil {
			t.Fatal(err)
		}
		got, err := throughFile(t, m).History()
		if err != nil || !reflect.DeepEqual(got, h) {
			t.Errorf("validation %v: History() after a round trip = %+v, %v; want %+v", val, got, err, h)
		}
	}
	// Non-finite losses are stored as the largest float64.
	h := &History{Epochs: []EpochLogs{{Loss: math.NaN()}}}
	b, _ := json.Marshal(h)
	var back History
	if err := json.Unmarshal(b, &back); err != nil || back.Epochs[0].Loss != math.MaxFloat64 {
		t.Errorf("a NaN loss reads back as %v, %v", back.Epochs, err)
	}
	// Without "seconds" (not timed), and with lists that disagree.
	if err := json.Unmarshal([]byte(`{"epoch":[1],"loss":[1],"accuracy":[0.5],"learning_rate":[0.1]}`), &back); err != nil || back.Epochs[0].Seconds != 0 {
		t.Errorf("a history without seconds: %+v, %v", back.Epochs, err)
	}
	if err := json.Unmarshal([]byte(`{"epoch":[1,2],"loss":[1],"accuracy":[0.5,1],"learning_rate":[0.1,0.1]}`), &back); err == nil {
		t.Error("a history with 1 loss for 2 epochs: no error")
	}
}

func TestPreprocessingRoundTrip(t *testing.T) {
	mean := make([]float32, 64)
	for i := range mean {
		mean[i] = float32(i) / 7
	}
	for _, s := range []*data.Standardizer{
		{Rescale: 1.0 / 255},
		{Rescale: 1.0 / 255, ImageCenter: true, MeanImage: mean},
		{SamplewiseCenter: true, SamplewiseStd: true},
		{FeaturewiseCenter: true, FeaturewiseStd: true, Mean: []float32{0.13}, Std: []float32{0.31}},
	} {
		m := small(t, 5)
		m.Standardizer = s
		if got := throughFile(t, m).Standardizer; !reflect.DeepEqual(got, s) {
			t.Errorf("preprocessing after a round trip = %+v, want %+v", got, s)
		}
	}
}

// The optimizer entry and the state tensors: every optimizer resumes with
// its configuration, its step count and its slots, bit for bit.
func TestTrainingRoundTrip(t *testing.T) {
	for _, opt := range []optim.Optimizer{
		&optim.SGD{LearningRate: 0.05, Momentum: 0.9, Nesterov: true},
		&optim.RMSprop{Momentum: 0.5, Centered: true},
		&optim.Adam{LearningRate: 0.002, Beta1: 0.8},
		&optim.AdamW{Adam: optim.Adam{WeightDecay: 0.01}},
	} {
		m := small(t, 6)
		loss := nn.CrossEntropy{Sparse: true, LabelSmoothing: 0.2}
		if err := m.Compile(opt, loss); err != nil {
			t.Fatal(err)
		}
		x, y := randomBatch(m, 4, 7)
		m.TrainStep(x, y)
		m.TrainStep(x, y)
		l := throughFile(t, m)
		lo := l.Optimizer()
		if lo == nil || lo.Name() != opt.Name() || !reflect.DeepEqual(lo.Config(), opt.Config()) || lo.Iterations() != 2 || l.Loss() != loss {
			t.Errorf("%s: loaded optimizer %v, loss %+v", opt.Name(), lo, l.Loss())
			continue
		}
		m.TrainStep(x, y)
		l.TrainStep(x, y)
		if !equalWeights(weights(m), weights(l)) {
			t.Errorf("%s: the loaded model trains differently", opt.Name())
		}
	}
}
