package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func tinyModelFile(t *testing.T) string {
	t.Helper()
	return saveModel(t, tinyModel(t), filepath.Join(t.TempDir(), "tiny.safetensors"))
}

// startServe runs convnet serve with args on a free port and returns its
// base URL and a function that stops it as SIGINT would and returns its
// exit code and stderr.
func startServe(t *testing.T, args ...string) (base string, stop func() (int, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append(append([]string{"serve"}, args...), "--addr", "127.0.0.1:0"), &stdout, &stderr)
	}()
	addr := regexp.MustCompile(`http://[0-9.:]+`)
	for i := 0; i < 500 && base == ""; i++ {
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d early; stderr: %s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		base = addr.FindString(stdout.String())
	}
	if base == "" {
		t.Fatalf("serve printed no address; stdout %q", stdout.String())
	}
	return base, func() (int, string) {
		cancel()
		select {
		case code := <-done:
			return code, stderr.String()
		case <-time.After(10 * time.Second):
			t.Fatal("serve did not stop after its context was cancelled")
		}
		return 0, ""
	}
}

// TestServe starts the server on a free port, asks it for its models and a
// prediction, then cancels the context as SIGINT would and expects a clean stop.
func TestServe(t *testing.T) {
	path := tinyModelFile(t)
	base, stop := startServe(t, "--model", path)
	resp, err := http.Get(base + "/api/models")
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Models []struct{ Name string } }
	err = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if err != nil || len(got.Models) != 1 || got.Models[0].Name != "tiny" {
		t.Fatalf("GET /api/models: %+v, %v; want one model named tiny", got, err)
	}
	body := `{"pixels":[` + strings.TrimSuffix(strings.Repeat("0,", 64), ",") + `]}`
	resp, err = http.Post(base+"/api/predict?model=tiny&k=3", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("POST /api/predict: status %d", resp.StatusCode)
	}
	if code, stderr := stop(); code != exitOK {
		t.Errorf("serve exit code after cancel = %d, want 0; stderr: %s", code, stderr)
	}
}

func TestServeErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing file", []string{"serve", "--model", filepath.Join(t.TempDir(), "none.safetensors")}, exitError, "none.safetensors"},
		{"positional", []string{"serve", "model.safetensors"}, exitUsage, "unexpected argument"},
		{"bad addr", []string{"serve", "--addr", "nohost"}, exitUsage, "--addr"},
		{"unknown flag", []string{"serve", "--port", "1"}, exitUsage, "port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("convnet %v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr.String(), tt.code, tt.want)
			}
		})
	}
}
