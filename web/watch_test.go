package web

import (
	"encoding/json"
	"math"
	"testing"
)

// TestWatchNonFinite publishes an epoch whose validation loss and accuracy
// are not numbers: the event is JSON, those logs null, the loss as it was.
func TestWatchNonFinite(t *testing.T) {
	w := NewWatch()
	w.Epoch(EpochEvent{Model: "m", Epoch: 1, Epochs: 2, Logs: map[string]float64{"loss": 0.5, "val_loss": math.Inf(1), "val_accuracy": math.NaN()}})
	b := w.epochs[0].data
	var ev struct {
		Model string              `json:"model"`
		Epoch int                 `json:"epoch"`
		Logs  map[string]*float64 `json:"logs"`
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("epoch event %q: %v", b, err)
	}
	if ev.Model != "m" || ev.Epoch != 1 || len(ev.Logs) != 3 || ev.Logs["val_loss"] != nil || ev.Logs["val_accuracy"] != nil || ev.Logs["loss"] == nil || *ev.Logs["loss"] != 0.5 {
		t.Errorf("epoch event %s, want val_loss and val_accuracy null, loss 0.5", b)
	}
}
