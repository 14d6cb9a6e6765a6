package model

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/optim"
)

// TestSuggestLR checks the steepest fall by hand: the slopes of
// 10 values left out, then 5, 4, 2, 1.5, 1.4, 3, (9: the last, left out)
// are -1, -1.5, -1.25, -0.3, 0.75, 1.6: the steepest at the second, 11.
func TestSuggestLR(t *testing.T) {
	losses := []float64{9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 5, 4, 2, 1.5, 1.4, 3, 9}
	if got := SuggestLR(losses); got != 11 {
		t.Errorf("SuggestLR = %d, want 11", got)
	}
	for _, l := range [][]float64{losses[:12], append(slices.Clone(losses[:14]), math.NaN(), 1, 1)} {
		if got := SuggestLR(l); got != -1 {
			t.Errorf("SuggestLR(%v) = %d, want -1", l, got)
		}
	}
}

// TestFindLR sweeps a tiny model's rate: the rate of each step, the
// smoothing of the losses by hand, the model itself left as it was, and a
// sweep to a rate of 1e4 that diverges and stops early.
func TestFindLR(t *testing.T) {
	m := tinyCompiled(t)
	before := m.Params()[0].Value.Clone()
	b := classWeightBatch()
	var raw []float64 // each step's loss, from a copy of the model
	train := func(int, int) (Batches, error) { return &repeatBatch{b: b, n: 7}, nil }
	var seen []float64
	f, err := m.FindLR(context.Background(), LRFindOptions{Start: 1e-4, End: 1, Steps: 30, Train: train, StepsPerEpoch: 7,
		OnStep: func(i int, lr, loss float64) { seen = append(seen, float64(i), lr, loss) }})
	if err != nil {
		t.Fatal(err)
	}
	for i := range f.LR {
		if len(seen) != 3*len(f.LR) || seen[3*i] != float64(i) || seen[3*i+1] != f.LR[i] || seen[3*i+2] != f.Loss[i] {
			t.Fatalf("OnStep saw %v", seen)
		}
	}
	if len(f.LR) != 30 || f.Diverged {
		t.Fatalf("%d steps, diverged %v: want 30 and no", len(f.LR), f.Diverged)
	}
	c := m.Clone()
	if err := c.Compile(&optim.SGD{LearningRate: 0.1}, m.Loss()); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		want := 1e-4 * math.Pow(1e4, float64(i)/30)
		if math.Abs(f.LR[i]-want) > 1e-12*want {
			t.Fatalf("step %d: rate %g, want %g", i, f.LR[i], want)
		}
		c.Optimizer().SetLR(want)
		loss, _ := c.TrainStep(b.X, b.Y)
		raw = append(raw, loss)
	}
	var avg float64
	for i, l := range raw {
		avg = 0.98*avg + 0.02*l
		if want := avg / (1 - math.Pow(0.98, float64(i+1))); math.Abs(f.Loss[i]-want) > 1e-9 {
			t.Fatalf("step %d: smoothed loss %v, want %v", i, f.Loss[i], want)
		}
	}
	if f.Suggested < 10 || f.Suggestion != f.LR[f.Suggested] {
		t.Errorf("suggestion %g at %d", f.Suggestion, f.Suggested)
	}
	if !slices.Equal(m.Params()[0].Value.Data, before.Data) || m.Optimizer().Iterations() != 0 {
		t.Errorf("FindLR changed the model or its optimizer (%d iterations)", m.Optimizer().Iterations())
	}
	// The same images with other labels every other step: no rate can
	// bring the loss to 0, and a large one throws it up.
	other := Batch{X: b.X, Y: b.Y.Clone()}
	for i := range other.Y.Data {
		other.Y.Data[i] = float32((i + 1) % 3)
	}
	conflict := func(int, int) (Batches, error) { return &repeatBatch{b: b, other: other, n: 7}, nil }
	d, err := m.FindLR(context.Background(), LRFindOptions{Start: 1e-2, End: 1e4, Steps: 100, Train: conflict, StepsPerEpoch: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("a sweep to 1e4: %d steps, the last losses %.4g", len(d.LR), d.Loss[max(len(d.Loss)-5, 0):])
	if !d.Diverged || len(d.LR) >= 100 {
		t.Errorf("a sweep to 1e4: %d steps, diverged %v; want fewer than 100 and yes", len(d.LR), d.Diverged)
	}
	for _, o := range []LRFindOptions{{Start: 1, End: 0.1, StepsPerEpoch: 7}, {Steps: 1, StepsPerEpoch: 7}, {DivergeFactor: 0.5, StepsPerEpoch: 7}, {}} {
		o.Train = train
		if _, err := m.FindLR(context.Background(), o); err == nil || !strings.HasPrefix(err.Error(), "lr find: ") {
			t.Errorf("%+v: error %v", o, err)
		}
	}
}

// repeatBatch yields n batches, b, or b and other in turn.
type repeatBatch struct {
	b, other Batch
	n        int
}

func (r *repeatBatch) Next() (Batch, bool) {
	if r.n == 0 {
		return Batch{}, false
	}
	r.n--
	if r.other.X != nil && r.n%2 == 0 {
		return r.other, true
	}
	return r.b, true
}
