package web

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// requestInfo is what the handlers learn about a request for its metrics
// and log record: the route's pattern and the model. The handler may still
// run after http.TimeoutHandler answered, hence the lock.
type requestInfo struct {
	mu       sync.Mutex
	endpoint string
	model    string
}

type requestInfoKey struct{}

func infoOf(r *http.Request) *requestInfo {
	info, _ := r.Context().Value(requestInfoKey{}).(*requestInfo)
	return info
}

// noteEndpoint records the pattern that routed r.
func noteEndpoint(r *http.Request, pattern string) {
	if info := infoOf(r); info != nil {
		info.mu.Lock()
		info.endpoint = pattern
		info.mu.Unlock()
	}
}

// noteModel records the model r asked for.
func noteModel(r *http.Request, name string) {
	if info := infoOf(r); info != nil {
		info.mu.Lock()
		info.model = name
		info.mu.Unlock()
	}
}

// recorder remembers the status and counts the bytes of an answer.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recorder) WriteHeader(status int) {
	if w.status == 0 && status >= 200 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// record counts a request that ended in the metrics and logs it. A handler
// that returned without writing answered 200; one that did not return (it
// aborted the connection) answered nothing, status 0.
func (s *Server) record(r *http.Request, rec *recorder, info *requestInfo, took time.Duration, answered bool) {
	status := rec.status
	if status == 0 && answered {
		status = http.StatusOK
	}
	info.mu.Lock()
	endpoint, model := info.endpoint, info.model
	info.mu.Unlock()
	s.metrics.observe(endpoint, status, took)

	lg := s.opts.Logger
	if lg == nil {
		return
	}
	level := slog.LevelInfo
	switch {
	case endpoint == "/healthz" || endpoint == "/readyz" || endpoint == "/metrics":
		level = slog.LevelDebug // a 503 of /readyz while draining is no fault
	case status >= 500 || status == 0:
		level = slog.LevelError
	}
	ctx := context.WithoutCancel(r.Context())
	if !lg.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Duration("duration", took),
		slog.Int64("bytes", rec.bytes),
	}
	if model != "" {
		attrs = append(attrs, slog.String("model", model))
	}
	lg.LogAttrs(ctx, level, "request", attrs...)
}

// logWriter turns each line written to it into a warning of a logger.
type logWriter struct{ l *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	for line := range strings.Lines(string(p)) {
		if line = strings.TrimSpace(line); line != "" {
			w.l.Warn(line)
		}
	}
	return len(p), nil
}
