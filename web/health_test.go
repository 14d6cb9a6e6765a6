package web

import (
	"encoding/json"
	"testing"
)

// TestReady checks /readyz: ready with models, not without (the draining
// state is TestGracefulShutdown's).
func TestReady(t *testing.T) {
	empty, err := NewServer(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		s      *Server
		status int
		want   string
	}{
		{"two models", testServer(t), 200, "ready"},
		{"no models", empty, 503, "no models"},
	} {
		r := do(tt.s, "GET", "/readyz", "", nil)
		var got struct{ Status string }
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatalf("%s: GET /readyz: %v: %s", tt.name, err, r.body)
		}
		if r.status != tt.status || got.Status != tt.want {
			t.Errorf("%s: GET /readyz = %d %q, want %d %q", tt.name, r.status, got.Status, tt.status, tt.want)
		}
	}
}
