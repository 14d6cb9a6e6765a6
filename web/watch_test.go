package web

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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

// TestWatchLimit follows a run from maxWatchers pages: one more is refused
// with a 503 until one of them goes.
func TestWatchLimit(t *testing.T) {
	w := NewWatch()
	s, err := NewServer(nil, Options{Watch: w})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	w.Epoch(EpochEvent{Model: "m", Epoch: 1, Epochs: 2, Logs: map[string]float64{"loss": 0.5}})
	var open []*http.Response
	defer func() {
		for _, r := range open {
			r.Body.Close()
		}
	}()
	for range maxWatchers {
		r, err := http.Get(ts.URL + "/api/watch")
		if err != nil || r.StatusCode != 200 {
			t.Fatalf("page %d: %v %v", len(open)+1, err, r)
		}
		open = append(open, r)
	}
	r, err := http.Get(ts.URL + "/api/watch")
	if err != nil {
		t.Fatal(err)
	}
	if r.StatusCode != http.StatusServiceUnavailable { // a stream: not read to its end
		r.Body.Close()
		t.Fatalf("page %d: status %d, want 503", maxWatchers+1, r.StatusCode)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if !strings.Contains(string(b), `"error":"64 pages follow this run already"`) {
		t.Fatalf("page %d: %s, want why", maxWatchers+1, b)
	}
	open[0].Body.Close()
	open = open[1:]
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		r, err := http.Get(ts.URL + "/api/watch")
		if err == nil && r.StatusCode == 200 {
			open = append(open, r)
			break
		}
		if err == nil {
			r.Body.Close()
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("a page that went left no room for another")
		}
	}
}
