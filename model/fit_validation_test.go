package model

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/optim"
)

// TestFitValidationFreq trains a small model for 7 epochs, validating every
// 3rd as Keras's validation_freq=3 does: epochs 3 and 6 (from 1) have
// validation figures, the others none (and not the last, 7, which does not
// fall on the frequency); the progress bar, the CSV log (NA, its validation
// columns there from the first row) and the history of the model file say
// so; the plateau schedule and the best-only checkpoint watching val_loss
// skip the other epochs, warning once each.
func TestFitValidationFreq(t *testing.T) {
	dir := t.TempDir()
	m := tinyCompiled(t)
	b := classWeightBatch()
	mc, err := NewModelCheckpoint(filepath.Join(dir, "best-{epoch}.safetensors"), "val_loss", "auto", true)
	if err != nil {
		t.Fatal(err)
	}
	csvPath := filepath.Join(dir, "log.csv")
	var out bytes.Buffer
	plateau := optim.NewReduceLROnPlateau("val_loss")
	plateau.Patience, plateau.MinDelta, plateau.Factor = 0, 1e6, 0.5 // every validated epoch after the first halves the rate
	h, err := m.Fit(context.Background(), FitOptions{Epochs: 7, ValidationFreq: 3, Plateau: plateau,
		Callbacks:  []Callback{mc, &CSVLogger{Path: csvPath}},
		Progress:   NewProgbar(&out, false),
		Train:      func(int, int) (Batches, error) { return &oneBatch{b: b}, nil },
		Validation: func() (Batches, error) { return &oneBatch{b: b}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	var validated []int
	for _, e := range h.Epochs {
		if e.HasValidation == e.ValidationSkipped {
			t.Errorf("epoch %d: HasValidation %v, ValidationSkipped %v: want one of the two", e.Epoch+1, e.HasValidation, e.ValidationSkipped)
		}
		if e.HasValidation {
			validated = append(validated, e.Epoch+1)
		}
	}
	if want := []int{3, 6}; !slices.Equal(validated, want) {
		t.Errorf("validated after epochs %v, want %v", validated, want)
	}
	// The best-only checkpoint saved after epoch 3 (its first val_loss) and
	// 6 if better, never after an epoch without validation.
	for _, e := range []int{1, 2, 4, 5, 7} {
		if _, err := os.Stat(filepath.Join(dir, "best-"+strconv.Itoa(e)+".safetensors")); err == nil {
			t.Errorf("the best-only checkpoint saved after epoch %d, which was not validated", e)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "best-3.safetensors")); err != nil {
		t.Errorf("no checkpoint after epoch 3, the first validated: %v", err)
	}
	// The plateau reduced the rate once, after epoch 6, the second validated
	// epoch (patience 0): skipped epochs do not count.
	for _, e := range h.Epochs {
		want := 0.1
		if e.Epoch+1 == 7 {
			want = 0.05
		}
		if math.Abs(e.LearningRate-want) > 1e-12 {
			t.Errorf("epoch %d: learning rate %g, want %g", e.Epoch+1, e.LearningRate, want)
		}
	}

	log := out.String()
	for i, block := range strings.Split(log, "Epoch ")[1:] {
		end := strings.Split(block, "\n")[1] // the epoch's final line
		if strings.Contains(end, "val_loss") != ((i+1)%3 == 0) {
			t.Errorf("progress of epoch %d %q: val_loss where there is no validation, or none where there is", i+1, end)
		}
	}
	for _, who := range []string{"Learning rate reduction", "Saving the best model"} {
		if n := strings.Count(log, "Warning: "+who+" is conditioned on metric `val_loss`"); n != 1 {
			t.Errorf("%d warnings that %s skips epochs, want 1:\n%s", n, who, log)
		}
	}

	csv, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if rows[0] != "epoch,accuracy,learning_rate,loss,val_accuracy,val_loss" {
		t.Errorf("CSV header %q: want the validation columns from the first epoch", rows[0])
	}
	for e, row := range rows[1:] {
		cells := strings.Split(row, ",")
		na := cells[4] == "NA" && cells[5] == "NA"
		if na != (e%3 != 2) || strings.Contains(strings.Join(cells[:4], ","), "NA") {
			t.Errorf("CSV row of epoch %d: %q", e, row)
		}
	}

	j, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(j), `"val_loss":[null,null,`) {
		t.Errorf("history JSON %s: want null for the epochs not validated", j)
	}
	var back History
	if err := json.Unmarshal(j, &back); err != nil {
		t.Fatal(err)
	}
	for i, e := range back.Epochs {
		w := h.Epochs[i]
		if e.HasValidation != w.HasValidation || e.ValidationSkipped != w.ValidationSkipped || e.ValLoss != w.ValLoss {
			t.Errorf("epoch %d read back from JSON: %+v, want %+v", i+1, e, w)
		}
	}
	if err := json.Unmarshal([]byte(`{"epoch":[1],"loss":[1],"accuracy":[0],"val_loss":[null],"val_accuracy":[0.5],"learning_rate":[0.1]}`), &back); err == nil {
		t.Errorf("a history with a val_accuracy but no val_loss for an epoch was read")
	}
}

// TestFitValidationFreqEarlyStopping: with validation every 2nd epoch,
// early stopping watching val_loss counts its patience in validated epochs
// only. min_delta is so large that no value improves on the first: epochs
// 2 (the first value), 4 (wait 1) and 6 (wait 2 = patience) stop the run
// after epoch 6; counting the epochs between, it would stop after epoch 4.
func TestFitValidationFreqEarlyStopping(t *testing.T) {
	m := tinyCompiled(t)
	b := classWeightBatch()
	es, err := NewEarlyStopping(EarlyStoppingOptions{Patience: 2, MinDelta: 1e6, RestoreBestWeights: true})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	h, err := m.Fit(context.Background(), FitOptions{Epochs: 10, ValidationFreq: 2, Callbacks: []Callback{rec, es},
		Train:      func(int, int) (Batches, error) { return &oneBatch{b: b}, nil },
		Validation: func() (Batches, error) { return &oneBatch{b: b}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Epochs) != 6 || es.Stopped != 6 {
		t.Errorf("ran %d epochs, stopped after epoch %d; want 6 and 6", len(h.Epochs), es.Stopped)
	}
	// The best is epoch 2's, the first validated: not epoch 1's.
	if es.Restored != 2 {
		t.Errorf("restored epoch %d's weights, want epoch 2's", es.Restored)
	}
	for i, p := range m.Params() {
		if !slices.Equal(p.Value.Data, rec.weights[1][i]) {
			t.Fatalf("parameter %d: the weights at the end are not epoch 2's", i)
		}
	}
}

// TestEarlyStoppingSkipsEpochs follows early stopping through a run that
// validates every 2nd epoch, on the epochs helper's weights: the epochs
// without val_loss neither count for the patience nor give the best
// weights, and a resumed callback replays them the same way.
func TestEarlyStoppingSkipsEpochs(t *testing.T) {
	m := tinyCompiled(t)
	es, err := NewEarlyStopping(EarlyStoppingOptions{Patience: 2, RestoreBestWeights: true})
	if err != nil {
		t.Fatal(err)
	}
	h := &History{}
	// Epochs 2, 4, 6, 8 have 1, 0.9, 0.95, 0.97: 4 is the best, 6 and 8
	// wait 1 and 2, so the run stops after 8.
	values := map[int]float64{2: 1, 4: 0.9, 6: 0.95, 8: 0.97}
	stopped := 0
	for e := 1; e <= 10 && stopped == 0; e++ {
		for _, p := range m.Params() {
			p.Value.Fill(float32(e))
		}
		l := EpochLogs{Epoch: e - 1, ValidationSkipped: true}
		if v, ok := values[e]; ok {
			l = EpochLogs{Epoch: e - 1, HasValidation: true, ValLoss: v}
		}
		h.Epochs = append(h.Epochs, l)
		stop, err := es.OnEpochEnd(m, h)
		if err != nil {
			t.Fatalf("epoch %d: %v", e, err)
		}
		if stop {
			stopped = e
		}
	}
	if err := es.OnTrainEnd(m, h); err != nil {
		t.Fatal(err)
	}
	if stopped != 8 || es.Restored != 4 || m.Params()[0].Value.Data[0] != 4 {
		t.Errorf("stopped after epoch %d, restored %d (weights of epoch %v); want 8 and 4", stopped, es.Restored, m.Params()[0].Value.Data[0])
	}
	// Resumed after epoch 5: the replay reaches best 0.9 at epoch 4 with
	// wait 0, so the next epochs stop the run after epoch 8 again.
	again, _ := NewEarlyStopping(EarlyStoppingOptions{Patience: 2})
	if err := again.Resume(m, &History{Epochs: h.Epochs[:5]}); err != nil {
		t.Fatal(err)
	}
	if again.BestEpoch() != 4 || again.wait != 0 {
		t.Errorf("resumed: best epoch %d, wait %d; want 4 and 0", again.BestEpoch(), again.wait)
	}
	// An epoch of a run without validation still lacks the metric: an error.
	if _, err := again.OnEpochEnd(m, &History{Epochs: []EpochLogs{{Epoch: 5}}}); err == nil {
		t.Errorf("val_loss of a run that does not validate: no error")
	}
}
