package model

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
)

// batchList yields its batches in order.
type batchList struct {
	bs []Batch
	i  int
}

func (l *batchList) Next() (Batch, bool) {
	if l.i == len(l.bs) {
		return Batch{}, false
	}
	l.i++
	return l.bs[l.i-1], true
}

// TestFitSWA trains 5 epochs with SWA from epoch 3: the learning rate
// anneals from 0.1 to 0.02 over 2 epochs after it (0.06 half way, cos),
// the weights end as the mean of epochs 3 to 5's, and the batch
// normalization's moving statistics are the mean over the training batches
// of each batch's statistics, computed with those weights.
func TestFitSWA(t *testing.T) {
	m := small(t, 1)
	if err := m.Compile(&optim.SGD{LearningRate: 0.1}, nn.CrossEntropy{Sparse: true}); err != nil {
		t.Fatal(err)
	}
	var bs []Batch
	for i := range 3 {
		x, y := randomBatch(m, 8, uint64(10+i))
		bs = append(bs, Batch{X: x, Y: y})
	}
	rec := &recorder{}
	h, err := m.Fit(context.Background(), FitOptions{Epochs: 5, Callbacks: []Callback{rec},
		SWA:   &SWA{Start: 3, LR: 0.02, AnnealEpochs: 2},
		Train: func(int, int) (Batches, error) { return &batchList{bs: bs}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	for e, want := range []float64{0.1, 0.1, 0.1, 0.06, 0.02} {
		if got := h.Epochs[e].LearningRate; math.Abs(got-want) > 1e-12 {
			t.Errorf("epoch %d's learning rate %v, want %v", e+1, got, want)
		}
	}
	for i, p := range m.Params() {
		if !p.Trainable {
			continue
		}
		worst := 0.0
		for j, w := range p.Value.Data {
			mean := (float64(rec.weights[2][i][j]) + float64(rec.weights[3][i][j]) + float64(rec.weights[4][i][j])) / 3
			worst = max(worst, math.Abs(float64(w)-mean))
		}
		if worst > 1e-6 {
			t.Errorf("parameter %d: the weights differ from the mean of epochs 3 to 5's by up to %g", i, worst)
		}
		if slices.Equal(p.Value.Data, rec.weights[4][i]) {
			t.Errorf("parameter %d: the weights are the last epoch's", i)
		}
	}
	bn := m.Layers[1].(*nn.BatchNormalization)
	conv := m.Layers[0]
	c := 4
	mean, variance := make([]float64, c), make([]float64, c)
	for _, b := range bs {
		y := conv.Forward(b.X, false)
		rows := len(y.Data) / c
		for ch := range c {
			var s, ss float64
			for r := range rows {
				s += float64(y.Data[r*c+ch])
			}
			mu := s / float64(rows)
			for r := range rows {
				d := float64(y.Data[r*c+ch]) - mu
				ss += d * d
			}
			mean[ch] += mu / float64(len(bs))
			variance[ch] += ss / float64(rows) / float64(len(bs))
		}
	}
	ps := bn.Params()
	mm, mv := ps[len(ps)-2].Value.Data, ps[len(ps)-1].Value.Data
	for ch := range c {
		if math.Abs(float64(mm[ch])-mean[ch]) > 1e-5*(1+math.Abs(mean[ch])) || math.Abs(float64(mv[ch])-variance[ch]) > 1e-5*(1+variance[ch]) {
			t.Errorf("channel %d: moving mean and variance %v, %v; want the batches' mean statistics %v, %v", ch, mm[ch], mv[ch], mean[ch], variance[ch])
		}
	}
	if bn.Momentum != 0 {
		t.Errorf("the batch normalization's momentum is %v after SWA, want its own (0: Keras's 0.99)", bn.Momentum)
	}
}

// TestFitSWALinear anneals in a straight line, to the learning rate at
// once with no annealing epochs, and keeps the rate without a target.
func TestFitSWALinear(t *testing.T) {
	for _, c := range []struct {
		swa  SWA
		want []float64
	}{
		{SWA{Start: 1, LR: 0.05, AnnealEpochs: 4, AnnealStrategy: "linear"}, []float64{0.1, 0.0875, 0.075}},
		{SWA{Start: 2, LR: 0.05}, []float64{0.1, 0.1, 0.05}},
		{SWA{Start: 1, AnnealEpochs: 3}, []float64{0.1, 0.1, 0.1}},
	} {
		m := tinyCompiled(t)
		m.Compile(&optim.SGD{LearningRate: 0.1}, nn.CrossEntropy{Sparse: true})
		b := classWeightBatch()
		h, err := m.Fit(context.Background(), FitOptions{Epochs: 3, SWA: &c.swa,
			Train: func(int, int) (Batches, error) { return &oneBatch{b: b}, nil }})
		if err != nil {
			t.Fatal(err)
		}
		for e, want := range c.want {
			if got := h.Epochs[e].LearningRate; math.Abs(got-want) > 1e-12 {
				t.Errorf("%+v: epoch %d's learning rate %v, want %v", c.swa, e+1, got, want)
			}
		}
	}
}

// TestFitSWAErrors refuses SWA outside the run, odd rates and strategies,
// and with the optimizer's own moving average.
func TestFitSWAErrors(t *testing.T) {
	b := classWeightBatch()
	for _, c := range []struct {
		swa  SWA
		ema  bool
		want string
	}{
		{SWA{Start: 0}, false, "SWA from epoch 0 of 3"},
		{SWA{Start: 4}, false, "SWA from epoch 4 of 3"},
		{SWA{Start: 1, LR: math.NaN()}, false, "SWA learning rate NaN"},
		{SWA{Start: 1, AnnealEpochs: -1}, false, "SWA anneal epochs -1"},
		{SWA{Start: 1, AnnealStrategy: "exp"}, false, `SWA anneal strategy "exp": want cos or linear`},
		{SWA{Start: 1}, true, "and so does the optimizer's moving average"},
	} {
		m := tinyCompiled(t)
		if c.ema {
			m.Compile(&optim.SGD{LearningRate: 0.1, Options: optim.Options{EMA: optim.EMA{UseEMA: true}}}, nn.CrossEntropy{Sparse: true})
		}
		_, err := m.Fit(context.Background(), FitOptions{Epochs: 3, SWA: &c.swa,
			Train: func(int, int) (Batches, error) { return &oneBatch{b: b}, nil }})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.swa, err, c.want)
		}
	}
}

// averaging returns tiny, compiled, a step taken and two epochs averaged
// (SWA's state as a checkpoint in the middle of a run saves it).
func averaging(t testing.TB) *Sequential {
	m := tiny(t)
	if err := m.Compile(&optim.SGD{LearningRate: 0.1}, nn.CrossEntropy{Sparse: true}); err != nil {
		t.Fatal(err)
	}
	x, y := randomBatch(m, 4, 5)
	m.TrainStep(x, y)
	m.swa = m.swaFor()
	m.swa.r0 = 0.05
	m.swa.add()
	m.TrainStep(x, y)
	m.swa.add()
	return m
}

// TestSWAFile saves SWA's state with the training state and reads it back,
// and refuses a state of no epochs, a rate that is not a number and an
// average missing or of another shape.
func TestSWAFile(t *testing.T) {
	m := averaging(t)
	b := encode(t, m, true)
	back, err := Decode(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if back.swa == nil || back.swa.n != 2 || back.swa.r0 != 0.05 || len(back.swa.avg) != len(m.swa.avg) {
		t.Fatalf("SWA's state read back %+v, want 2 epochs from 0.05", back.swa)
	}
	for i, a := range m.swa.avg {
		if !slices.Equal(a.Data, back.swa.avg[i].Data) {
			t.Errorf("average %d differs once read back", i)
		}
	}
	if b := encode(t, m, false); bytes.Contains(b, []byte(`swa/`)) {
		t.Error("a model file without the training state holds SWA's average")
	}
	training := func(edit func(tr map[string]any)) func(h map[string]any) {
		return func(h map[string]any) {
			meta := h["__metadata__"].(map[string]any)
			var tr map[string]any
			json.Unmarshal([]byte(meta["optimizer"].(string)), &tr)
			edit(tr)
			s, _ := json.Marshal(tr)
			meta["optimizer"] = string(s)
		}
	}
	name := "swa/" + m.paramNames()[m.swa.params[0]]
	for _, c := range []struct {
		name string
		edit func(h map[string]any)
		want string
	}{
		{"no epochs", training(func(tr map[string]any) { tr["swa"].(map[string]any)["averaged"] = 0 }), "optimizer: swa: 0 epochs averaged"},
		{"negative rate", training(func(tr map[string]any) { tr["swa"].(map[string]any)["start_lr"] = -1 }), "from a learning rate of -1"},
		{"average missing", func(h map[string]any) { h["swa/x"] = h[name]; delete(h, name) }, name},
		{"average of another shape", entry(name, func(e map[string]any) { e["shape"] = []int{1, 1} }), name},
	} {
		bad := rewrite(t, b, c.edit)
		_, err := Decode(bytes.NewReader(bad), int64(len(bad)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}
