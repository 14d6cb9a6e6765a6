package model

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
)

// epochs drives cb through the given values of val_loss (or, with max,
// val_accuracy), one epoch each, with every weight of m set to the epoch's
// number (from 1) so that the weights say which epoch they are from. It
// returns the epochs run.
func epochs(t *testing.T, m *Model, cb Callback, values []float64, accuracy bool) int {
	t.Helper()
	h := &History{}
	for e, v := range values {
		for _, p := range m.Params() {
			p.Value.Fill(float32(e + 1))
		}
		l := EpochLogs{Epoch: e, HasValidation: true, ValLoss: v}
		if accuracy {
			l.ValLoss, l.ValAccuracy = 0, v
		}
		h.Epochs = append(h.Epochs, l)
		stop, err := cb.OnEpochEnd(m, h)
		if err != nil {
			t.Fatal(err)
		}
		if stop {
			break
		}
	}
	if err := cb.OnTrainEnd(m, h); err != nil {
		t.Fatal(err)
	}
	return len(h.Epochs)
}

// TestEarlyStopping follows Keras 3's EarlyStopping through sequences of
// the monitored metric, each worked out by hand from its rules: wait counts
// epochs since the last improvement larger than min_delta; an improvement
// that does not beat the baseline does not reset it; training stops when
// wait reaches patience (not in the first epoch); the best epoch's weights
// come back at the end, stopped or not.
func TestEarlyStopping(t *testing.T) {
	half := 0.5
	for _, c := range []struct {
		name     string
		o        EarlyStoppingOptions
		values   []float64
		accuracy bool
		stopped  int // the epoch it stops after (from 1), 0: none
		restored int // the epoch whose weights are in place at the end
	}{
		// 0.95 and 0.92 do not beat 0.9: wait 1, 2 = patience.
		{"patience", EarlyStoppingOptions{Patience: 2, RestoreBestWeights: true}, []float64{1, 0.9, 0.95, 0.92, 0.8}, false, 4, 2},
		// 0.96 is not 0.05 below 1.
		{"min-delta", EarlyStoppingOptions{Patience: 1, MinDelta: 0.05, RestoreBestWeights: true}, []float64{1, 0.96, 0.9}, false, 2, 1},
		{"max", EarlyStoppingOptions{Monitor: "val_accuracy", Patience: 1, RestoreBestWeights: true}, []float64{0.5, 0.6, 0.55, 0.7}, true, 3, 2},
		// Each epoch improves but none beats the baseline: wait never
		// resets, but an improving epoch returns before the stop test.
		{"baseline-improving", EarlyStoppingOptions{Patience: 2, Baseline: &half, RestoreBestWeights: true}, []float64{0.9, 0.8, 0.7, 0.6}, false, 0, 4},
		{"baseline", EarlyStoppingOptions{Patience: 2, Baseline: &half, RestoreBestWeights: true}, []float64{0.9, 0.95, 0.99}, false, 2, 1},
		{"start-from-epoch", EarlyStoppingOptions{Patience: 1, StartFromEpoch: 2, RestoreBestWeights: true}, []float64{1, 2, 3, 4}, false, 4, 3},
		// Keras 3 puts the best weights back at the end of a run that did
		// not stop, too.
		{"no-stop", EarlyStoppingOptions{Patience: 5, RestoreBestWeights: true}, []float64{1, 0.8, 0.9}, false, 0, 2},
		{"no-restore", EarlyStoppingOptions{Patience: 1}, []float64{1, 0.8, 0.9, 0.7}, false, 3, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := tinyCompiled(t)
			es, err := NewEarlyStopping(c.o)
			if err != nil {
				t.Fatal(err)
			}
			ran := epochs(t, m, es, c.values, c.accuracy)
			if es.Stopped != c.stopped || es.Restored != c.restored {
				t.Errorf("stopped after epoch %d, restored epoch %d; want %d and %d", es.Stopped, es.Restored, c.stopped, c.restored)
			}
			if want := c.stopped; ran != want && !(want == 0 && ran == len(c.values)) {
				t.Errorf("ran %d epochs, want %d", ran, want)
			}
			want := float32(ran) // the last epoch's weights
			if c.restored > 0 {
				want = float32(c.restored)
			}
			if got := m.Params()[0].Value.Data[0]; got != want {
				t.Errorf("the weights at the end are epoch %v's, want epoch %v's", got, want)
			}
		})
	}
	if _, err := NewEarlyStopping(EarlyStoppingOptions{Monitor: "val_f1"}); err == nil || !strings.Contains(err.Error(), `cannot tell whether "val_f1" should rise or fall`) {
		t.Errorf("monitor val_f1: error %v", err)
	}
	for _, d := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := NewEarlyStopping(EarlyStoppingOptions{MinDelta: d}); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("early stopping: min_delta %v, want a finite number", d)) {
			t.Errorf("min_delta %v: error %v", d, err)
		}
	}
	es, _ := NewEarlyStopping(EarlyStoppingOptions{Monitor: "val_accuracy"})
	if _, err := es.OnEpochEnd(tinyCompiled(t), &History{Epochs: []EpochLogs{{}}}); err == nil || !strings.Contains(err.Error(), `metric "val_accuracy" is not logged (have loss, accuracy, learning_rate)`) {
		t.Errorf("without validation: error %v", err)
	}
}

// TestCSVLogger checks the file of Keras's CSVLogger: epochs from 0, the
// metrics in sorted order, the whole history rewritten each epoch.
func TestCSVLogger(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.csv")
	c := &CSVLogger{Path: path}
	h := &History{}
	for e, l := range []EpochLogs{
		{Loss: 1.5, Accuracy: 0.25, ValLoss: 1.75, ValAccuracy: 0.125, HasValidation: true, LearningRate: 0.001},
		{Loss: 0.5, Accuracy: 0.75, ValLoss: 0.625, ValAccuracy: 0.5, HasValidation: true, LearningRate: 0.0005},
	} {
		l.Epoch = e
		h.Epochs = append(h.Epochs, l)
		if _, err := c.OnEpochEnd(nil, h); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "epoch,accuracy,learning_rate,loss,val_accuracy,val_loss\n0,0.25,0.001,1.5,0.125,1.75\n1,0.75,0.0005,0.5,0.5,0.625\n"
	if string(b) != want {
		t.Errorf("log:\n%s\nwant:\n%s", b, want)
	}
}

// TestFitEMA trains with the weights' moving average on: at the end of Fit
// the weights are the optimizer's averages, and with early stopping's
// restore the best epoch's weights (as they were at its end, not averaged)
// come back after them, as Keras 3 orders the two.
func TestFitEMA(t *testing.T) {
	b := classWeightBatch()
	fit := func(restore bool) (*Model, *recorder, *History) {
		m := tinyCompiled(t)
		m.Compile(&optim.SGD{LearningRate: 0.5, Options: optim.Options{EMA: optim.EMA{UseEMA: true, EMAMomentum: 0.6}}}, nn.CrossEntropy{Sparse: true})
		rec := &recorder{}
		cbs := []Callback{rec}
		if restore {
			es, _ := NewEarlyStopping(EarlyStoppingOptions{Monitor: "val_loss", Patience: 100, RestoreBestWeights: true})
			cbs = append(cbs, es)
		}
		// Validation on other images, so that its loss does not simply fall.
		val := classWeightBatch()
		for i := range val.X.Data {
			val.X.Data[i] = -val.X.Data[i] * 0.5
		}
		h, err := m.Fit(context.Background(), FitOptions{Epochs: 6, Callbacks: cbs,
			Train:      func(int, int) (Batches, error) { return &oneBatch{b: b}, nil },
			Validation: func() (Batches, error) { return &oneBatch{b: val}, nil }})
		if err != nil {
			t.Fatal(err)
		}
		return m, rec, h
	}
	m, rec, _ := fit(false)
	st := m.Optimizer().State()
	for i, ps := range st {
		avg := ps.Slots[len(ps.Slots)-1]
		if !slices.Equal(ps.Param.Value.Data, avg.Data) {
			t.Fatalf("parameter %d: the weights at the end are not the optimizer's averages", i)
		}
		if slices.Equal(avg.Data, rec.weights[len(rec.weights)-1][i]) {
			t.Fatalf("parameter %d: the average equals the last epoch's weights", i)
		}
	}
	m, rec, h := fit(true)
	best := 0
	for e, l := range h.Epochs {
		if l.ValLoss < h.Epochs[best].ValLoss {
			best = e
		}
	}
	if best == len(h.Epochs)-1 {
		t.Fatalf("the last epoch is the best (%v): the test cannot tell the averages from the restored weights", h.Epochs)
	}
	for i, p := range m.Params() {
		if !slices.Equal(p.Value.Data, rec.weights[best][i]) {
			t.Fatalf("parameter %d: the weights at the end are not those of the best epoch, %d", i, best+1)
		}
	}
}

// recorder keeps the weights at the end of every epoch.
type recorder struct{ weights [][][]float32 }

func (r *recorder) OnEpochEnd(m *Model, _ *History) (bool, error) {
	r.weights = append(r.weights, m.weights(nil))
	return false, nil
}

func (r *recorder) OnTrainEnd(*Model, *History) error { return nil }
