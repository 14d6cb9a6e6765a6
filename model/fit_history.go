package model

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// EpochLogs are the figures of one training epoch, Keras's logs dict.
type EpochLogs struct {
	Epoch         int // counted from 0
	Loss          float64
	Accuracy      float64
	ValLoss       float64
	ValAccuracy   float64
	HasValidation bool
	// ValidationSkipped marks an epoch of a run that validates, but not
	// after this epoch ([FitOptions].ValidationFreq): it has no validation
	// figures, and the callbacks that watch one skip it.
	ValidationSkipped bool
	LearningRate      float64
	Seconds           float64
}

// Get returns a logged metric by its Keras name: loss, accuracy (or acc),
// val_loss, val_accuracy (or val_acc), learning_rate (or lr).
func (l EpochLogs) Get(name string) (float64, bool) {
	switch name {
	case "loss":
		return l.Loss, true
	case "accuracy", "acc":
		return l.Accuracy, true
	case "val_loss":
		return l.ValLoss, l.HasValidation
	case "val_accuracy", "val_acc":
		return l.ValAccuracy, l.HasValidation
	case "learning_rate", "lr":
		return l.LearningRate, true
	}
	return 0, false
}

// skips reports whether name is a validation metric that these logs lack
// because the run did not validate after this epoch.
func (l EpochLogs) skips(name string) bool {
	if !l.ValidationSkipped || !strings.HasPrefix(name, "val_") {
		return false
	}
	_, ok := EpochLogs{HasValidation: true}.Get(name)
	return ok
}

// Names lists the metrics that Get knows for these logs.
func (l EpochLogs) Names() []string {
	if l.HasValidation {
		return []string{"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"}
	}
	return []string{"loss", "accuracy", "learning_rate"}
}

// History is the record of a training run, one entry per epoch. Model files
// keep it under the metadata key "history" ([Sequential.SetHistory]) in the
// JSON form of Keras's History.history, one list per metric:
//
//	{"epoch": [1, 2, ...], "loss": [...], "accuracy": [...], "val_loss": [...],
//	 "val_accuracy": [...], "learning_rate": [...], "seconds": [...]}
//
// with epochs counted from 1; the validation lists are absent when no epoch
// was validated, and hold null for an epoch the run did not validate after
// ([FitOptions].ValidationFreq); "seconds" may be absent on reading.
type History struct {
	Epochs []EpochLogs
}

// historyJSON is the column layout of a history in model files and JSON
// output: one list per metric, as Keras's History.history, with epochs
// counted from 1; validation lists are absent when no epoch was validated,
// and null for an epoch that was not.
type historyJSON struct {
	Epoch        []int      `json:"epoch"`
	Loss         []float64  `json:"loss"`
	Accuracy     []float64  `json:"accuracy"`
	ValLoss      []*float64 `json:"val_loss,omitempty"`
	ValAccuracy  []*float64 `json:"val_accuracy,omitempty"`
	LearningRate []float64  `json:"learning_rate"`
	Seconds      []float64  `json:"seconds"`
}

// MarshalJSON writes the history column by column.
func (h *History) MarshalJSON() ([]byte, error) {
	var j historyJSON
	val := false
	for _, e := range h.Epochs {
		val = val || e.HasValidation || e.ValidationSkipped
	}
	for _, e := range h.Epochs {
		j.Epoch = append(j.Epoch, e.Epoch+1)
		j.Loss = append(j.Loss, finite(e.Loss))
		j.Accuracy = append(j.Accuracy, e.Accuracy)
		if val {
			var loss, acc *float64
			if e.HasValidation {
				l, a := finite(e.ValLoss), e.ValAccuracy
				loss, acc = &l, &a
			}
			j.ValLoss = append(j.ValLoss, loss)
			j.ValAccuracy = append(j.ValAccuracy, acc)
		}
		j.LearningRate = append(j.LearningRate, e.LearningRate)
		j.Seconds = append(j.Seconds, e.Seconds)
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads the column layout written by MarshalJSON.
func (h *History) UnmarshalJSON(b []byte) error {
	var j historyJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	n := len(j.Epoch)
	if j.Seconds == nil {
		j.Seconds = make([]float64, n) // optional: not timed
	}
	for name, l := range map[string]int{"loss": len(j.Loss), "accuracy": len(j.Accuracy), "learning_rate": len(j.LearningRate), "seconds": len(j.Seconds)} {
		if l != n {
			return fmt.Errorf("history: %d values of %s for %d epochs", l, name, n)
		}
	}
	val := len(j.ValLoss) > 0
	if val && (len(j.ValLoss) != n || len(j.ValAccuracy) != n) {
		return fmt.Errorf("history: %d/%d validation values for %d epochs", len(j.ValLoss), len(j.ValAccuracy), n)
	}
	h.Epochs = make([]EpochLogs, n)
	for i := range n {
		e := EpochLogs{Epoch: j.Epoch[i] - 1, Loss: j.Loss[i], Accuracy: j.Accuracy[i], LearningRate: j.LearningRate[i], Seconds: j.Seconds[i]}
		switch l, a := j.ValLoss, j.ValAccuracy; {
		case !val:
		case l[i] != nil && a[i] != nil:
			e.ValLoss, e.ValAccuracy, e.HasValidation = *l[i], *a[i], true
		case l[i] == nil && a[i] == nil:
			e.ValidationSkipped = true
		default:
			return fmt.Errorf("history: epoch %d has one validation value of two", j.Epoch[i])
		}
		h.Epochs[i] = e
	}
	return nil
}

// finite maps NaN and infinities to the largest float64 so JSON can hold them.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return math.MaxFloat64
	}
	return v
}
