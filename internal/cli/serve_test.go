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
		{"log format", []string{"serve", "--log-format", "xml"}, exitUsage, `--log-format "xml": want text or json`},
		{"log level", []string{"serve", "--log-level", "loud"}, exitUsage, `--log-level "loud"`},
		{"drain timeout", []string{"serve", "--drain-timeout", "0s"}, exitUsage, "--drain-timeout 0s"},
		{"healthcheck url", []string{"healthcheck", "--url", "localhost:8080"}, exitUsage, "want an http:// or https:// URL"},
		{"healthcheck refused", []string{"healthcheck", "--url", "http://127.0.0.1:1/readyz"}, exitError, "connection refused"},
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

// TestServeLogs serves with each log format and level and reads the records
// on the standard error: one per request (the probes only at debug), and
// the shutdown.
func TestServeLogs(t *testing.T) {
	path := tinyModelFile(t)
	body := `{"pixels":[` + strings.TrimSuffix(strings.Repeat("0,", 64), ",") + `]}`
	tests := []struct {
		args []string
		want []string // in order
		not  []string
	}{
		{[]string{"--log-format", "json"},
			[]string{`"level":"INFO","msg":"request","method":"POST","path":"/api/predict","status":200,"duration":`, `"model":"tiny"}`, `"msg":"shutting down`},
			[]string{"/healthz"}},
		{[]string{"--log-level", "debug"},
			[]string{`level=INFO msg=request method=POST path=/api/predict status=200 duration=`, " model=tiny\n", "level=DEBUG msg=request method=GET path=/healthz status=200", "msg=\"shutting down"},
			nil},
		{[]string{"--log-level", "error"}, nil, []string{"request", "shutting down"}},
		{[]string{"--log-level", "off"}, nil, []string{"request", "shutting down"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			base, stop := startServe(t, append([]string{"--model", path}, tt.args...)...)
			resp, err := http.Post(base+"/api/predict?model=tiny", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp, err = http.Get(base + "/healthz"); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			code, stderr := stop()
			if code != exitOK {
				t.Fatalf("exit code %d; stderr %s", code, stderr)
			}
			rest := stderr
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("stderr lacks %q after what came before; stderr:\n%s", w, stderr)
				}
				rest = rest[i+len(w):]
			}
			for _, n := range tt.not {
				if strings.Contains(stderr, n) {
					t.Errorf("stderr holds %q; stderr:\n%s", n, stderr)
				}
			}
			if tt.args[1] == "off" && stderr != "" {
				t.Errorf("--log-level off: stderr %q, want nothing", stderr)
			}
		})
	}
}

// TestHealthcheck asks a running server through "convnet healthcheck".
func TestHealthcheck(t *testing.T) {
	base, stop := startServe(t, "--model", tinyModelFile(t))
	defer stop()
	for _, tt := range []struct {
		path string
		code int
		out  string
	}{
		{"/readyz", exitOK, `200 OK: {"models":1,"status":"ready"}`},
		{"/api/nothing", exitError, "404 Not Found"},
	} {
		code, stdout, stderr := runCLI("healthcheck", "--url", base+tt.path)
		if code != tt.code || !strings.Contains(stdout+stderr, tt.out) {
			t.Errorf("convnet healthcheck --url %s: exit %d, output %q%q; want %d and %q", base+tt.path, code, stdout, stderr, tt.code, tt.out)
		}
	}
}
