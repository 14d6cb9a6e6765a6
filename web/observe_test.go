package web

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/convnet-go/convnet/model"
)

// records parses the JSON lines of a slog.JSONHandler.
func records(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

// TestRequestLog checks the record of each request: its fields, and its
// level by kind (info, debug for the probes, error for a server error).
func TestRequestLog(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := NewServer([]Model{{"letters", classifier(t, letters(t), model.ClassifierOptions{})}}, Options{Logger: logger, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	predict := do(s, "POST", "/api/predict", "application/json", []byte(pixelsJSON(64, 0)))
	do(s, "GET", "/healthz", "", nil)
	do(s, "GET", "/api/models/none/history", "", nil)
	stalled, open := io.Pipe() // a body that never ends: the request times out
	defer open.Close()
	req := httptest.NewRequest("POST", "/api/predict?model=letters", stalled)
	req.Header.Set("Content-Type", "application/json")
	s.ServeHTTP(httptest.NewRecorder(), req)

	got := records(t, &logs)
	want := []map[string]any{
		{"level": "INFO", "method": "POST", "path": "/api/predict", "status": 200.0, "bytes": float64(len(predict.body)), "model": "letters"},
		{"level": "DEBUG", "method": "GET", "path": "/healthz", "status": 200.0},
		{"level": "INFO", "method": "GET", "path": "/api/models/none/history", "status": 404.0},
		{"level": "ERROR", "method": "POST", "path": "/api/predict", "status": 503.0, "model": "letters"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d log records, want %d:\n%s", len(got), len(want), logs.String())
	}
	for i, w := range want {
		r := got[i]
		if r["msg"] != "request" {
			t.Errorf("record %d: msg %v, want request", i, r["msg"])
		}
		for k, v := range w {
			if r[k] != v {
				t.Errorf("record %d: %s = %v, want %v (%v)", i, k, r[k], v, r)
			}
		}
		if _, ok := w["model"]; !ok && r["model"] != nil {
			t.Errorf("record %d: model %v, want none", i, r["model"])
		}
		d, ok := r["duration"].(float64) // nanoseconds
		if !ok || d <= 0 || d > float64(time.Minute) {
			t.Errorf("record %d: duration %v, want a positive number of nanoseconds", i, r["duration"])
		}
	}
	if d := got[3]["duration"].(float64); d < float64(300*time.Millisecond) {
		t.Errorf("the timed-out request lasted %v, want at least its 300 ms timeout", time.Duration(d))
	}

	// At level info the probes are not logged; the warnings go to the
	// logger when Options.Log is unset.
	logs.Reset()
	m := letters(t)
	m.Meta["history"] = "[1,2"
	s, err = NewServer([]Model{{"m", classifier(t, m, model.ClassifierOptions{})}}, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	do(s, "GET", "/readyz", "", nil)
	do(s, "GET", "/metrics", "", nil)
	got = records(t, &logs)
	if len(got) != 1 || got[0]["level"] != "WARN" || !strings.Contains(got[0]["msg"].(string), `metadata "history"`) {
		t.Errorf("log records %v, want one warning about the history metadata", got)
	}
}
