package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/convnet-go/convnet/model"
)

// Model is a classifier served under a name.
type Model struct {
	Name       string // used in URLs: letters, digits, '-', '_' and '.'
	Classifier *model.Classifier
}

// Options configures a [Server]. The zero value gives useful defaults.
type Options struct {
	// MaxBodyBytes limits request bodies; default 8 MiB.
	MaxBodyBytes int64
	// Timeout bounds each request's handling; default 10 s.
	Timeout time.Duration
	// Concurrency bounds the requests that read an image and run a model at
	// once; the others wait their turn (or their timeout). Default
	// GOMAXPROCS.
	Concurrency int
	// MaxImagePixels bounds the width times height of an uploaded PNG or
	// JPEG, checked from its header before it is decoded; default 256 times
	// the model's input (512x512 for a 32x32 model), enough for a drawing or
	// a cropped photo of one character.
	MaxImagePixels int
	// Log receives warnings: a model's metadata that is ignored, a panic
	// recovered. Default: Logger's warnings if Logger is set, else
	// io.Discard.
	Log io.Writer
	// Watch, when set, streams a training run's epochs to the page
	// (GET /api/watch); see [Watch].
	Watch *Watch
	// Logger receives a record of every request: its method, path, status,
	// duration, bytes written and model. The probes and the metrics
	// (/healthz, /readyz, /metrics) are at level debug, the other requests
	// at info, or error for a server error (5xx); the start of a shutdown
	// is at info. Nil: no records.
	Logger *slog.Logger
	// DrainDelay is how long [Server.Serve] goes on accepting requests once
	// its context ends, with /readyz answering 503, so that load balancers
	// that poll it stop sending requests before the listener closes;
	// default 0.
	DrainDelay time.Duration
	// DrainTimeout bounds how long [Server.Serve] waits for the requests in
	// flight once the listener is closed; default Timeout plus 5 s.
	DrainTimeout time.Duration
}

// Server is the demo's HTTP handler: the JSON API under /api/, the probes
// /healthz and /readyz, the Prometheus metrics at /metrics and the embedded
// page everywhere else. It is safe for concurrent use.
type Server struct {
	opts     Options
	metrics  *metrics
	draining atomic.Bool  // Serve is shutting down: /readyz answers 503
	mu       sync.RWMutex // guards models and byName, changed by Replace
	models   []*served
	byName   map[string]*served
	work     chan struct{} // one token per request reading an image or running a model
	mux      *http.ServeMux
	static   fs.FS
	handler  http.Handler
}

// NewServer returns a server for the given models.
func NewServer(models []Model, opts Options) (*Server, error) {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 8 << 20
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = runtime.GOMAXPROCS(0)
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = opts.Timeout + 5*time.Second
	}
	if opts.Log == nil {
		opts.Log = io.Discard
		if opts.Logger != nil {
			opts.Log = logWriter{opts.Logger}
		}
	}
	s := &Server{opts: opts, byName: map[string]*served{}, work: make(chan struct{}, opts.Concurrency)}
	for _, m := range models {
		if !validName(m.Name) {
			return nil, fmt.Errorf("web: model name %q: use letters, digits, '-', '_' and '.'", m.Name)
		}
		if _, dup := s.byName[m.Name]; dup {
			return nil, fmt.Errorf("web: two models named %q", m.Name)
		}
		if m.Classifier == nil {
			return nil, fmt.Errorf("web: model %s has no classifier", m.Name)
		}
		sm := newServed(m, opts)
		s.models = append(s.models, sm)
		s.byName[m.Name] = sm
	}
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	s.static = sub
	s.metrics = newMetrics(s)
	s.routes()
	return s, nil
}

// acquire waits for a work slot until ctx ends; the caller must call
// release once done.
func (s *Server) acquire(ctx context.Context) (release func(), err error) {
	select {
	case s.work <- struct{}{}:
		return func() { <-s.work }, nil
	case <-ctx.Done():
		return nil, errorf(http.StatusServiceUnavailable, "the server is busy: %v", ctx.Err())
	}
}

func validName(name string) bool {
	if name == "" || name == "." || name == ".." || len(name) > 100 {
		return false
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return false
		}
	}
	return true
}

// route is a handler that accepts only the given methods.
func route(methods []string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !slices.Contains(methods, r.Method) {
			w.Header().Set("Allow", strings.Join(methods, ", "))
			writeError(w, http.StatusMethodNotAllowed, "method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(methods, ", "))
			return
		}
		h(w, r)
	}
}

var (
	get  = []string{http.MethodGet, http.MethodHead}
	post = []string{http.MethodPost}
)

func (s *Server) routes() {
	m := http.NewServeMux()
	// handle routes pattern to h for the given methods (nil: any), noting
	// the pattern as the request's endpoint for its metrics; an API
	// endpoint's query may hold its params only (a misspelt one is an
	// error, not a default answered for), the others' anything.
	handle := func(pattern string, methods, params []string, h http.HandlerFunc) {
		if methods != nil {
			h = route(methods, h)
		}
		m.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			noteEndpoint(r, pattern)
			if params != nil {
				if err := checkParams(r, params); err != nil {
					fail(w, err)
					return
				}
			}
			h(w, r)
		})
	}
	modelOnly := []string{"model"}
	handle("/api/models", get, []string{}, s.handleModels)
	handle("/api/predict", post, []string{"model", "k"}, s.handlePredict)
	handle("/api/activations", post, []string{"model", "k", "layers", "full", "saliency", "cam", "camlayer", "class", "embed"}, s.handleActivations)
	handle("/api/saliency", post, []string{"model", "class"}, s.handleSaliency)
	handle("/api/cam", post, []string{"model", "cam", "camlayer", "class"}, s.handleCAM)
	handle("/api/models/{name}/layers/{index}/kernel", get, []string{"model", "channel"}, s.handleKernel)
	handle("/api/models/{name}/layers/{index}/pattern", get, []string{"model", "channel"}, s.handlePattern)
	handle("/api/models/{name}/layers/{index}/activation", get, []string{"model", "z"}, s.handleActivation)
	handle("/api/models/{name}/layers/{index}/weights", get, modelOnly, s.handleWeights)
	handle("/api/models/{name}/history", get, modelOnly, s.handleHistory)
	handle("/api/models/{name}/evaluation", get, modelOnly, s.handleEvaluation)
	handle("/api/models/{name}/evaluation/samples", get, []string{"model", "true", "pred"}, s.handleSamples)
	handle("/api/models/{name}/embedding", get, modelOnly, s.handleEmbedding)
	handle("/api/", nil, nil, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no API endpoint %s", r.URL.Path)
	})
	handle("/healthz", get, nil, s.handleHealth)
	handle("/readyz", get, nil, s.handleReady)
	handle("/metrics", get, nil, s.metrics.handler.ServeHTTP)
	handle("/", get, nil, s.handleStatic)
	s.mux = m
	timeoutBody, _ := json.Marshal(errorBody{Error: fmt.Sprintf("the request took longer than %v", s.opts.Timeout)})
	s.handler = http.TimeoutHandler(http.HandlerFunc(s.serve), s.opts.Timeout, string(timeoutBody))
}

// ServeHTTP implements [http.Handler]. Reading the request's body ends with
// its timeout, so that a client that stalls its upload does not keep a work
// slot longer than a request may take (where the connection allows it:
// http.ResponseController). Every request is counted in the metrics and
// logged as it ends.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.opts.Watch != nil && r.URL.Path == "/api/watch" {
		s.serveWatch(w, r) // a stream: no timeout, not counted
		return
	}
	start := time.Now()
	info := &requestInfo{endpoint: "none"}
	r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
	rec := &recorder{ResponseWriter: w}
	s.metrics.inFlight.Add(1)
	defer s.metrics.inFlight.Add(-1)
	answered := false
	defer func() { s.record(r, rec, info, time.Since(start), answered) }()
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.opts.Timeout))
	s.handler.ServeHTTP(jsonTimeout{rec}, r)
	answered = true
}

// jsonTimeout marks the body of http.TimeoutHandler's 503 as JSON: the
// handlers set their own Content-Type, which the timeout handler copies
// before writing the status; its own answer comes without one.
type jsonTimeout struct{ http.ResponseWriter }

func (w jsonTimeout) WriteHeader(status int) {
	if h := w.Header(); status == http.StatusServiceUnavailable && h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Cache-Control", "no-store")
	}
	w.ResponseWriter.WriteHeader(status)
}

// Unwrap gives http.ResponseController the underlying writer.
func (w jsonTimeout) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// serve rejects unclean paths before the mux would redirect them, and API
// queries that do not parse or repeat a parameter, and turns a panic into a
// JSON error. The POST endpoints limit their bodies.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			fmt.Fprintf(s.opts.Log, "web: panic serving %s %s: %v\n", r.Method, r.URL.Path, v)
			writeError(w, http.StatusInternalServerError, "internal error")
		}
	}()
	p := r.URL.Path
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00") || path.Clean(p) != p && !(strings.HasSuffix(p, "/") && path.Clean(p)+"/" == p) {
		writeError(w, http.StatusBadRequest, "bad path %q", p)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if strings.HasPrefix(p, "/api/") {
		if err := checkQuery(r.URL.RawQuery); err != nil {
			fail(w, err)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// handleStatic serves the embedded page; anything else is a JSON 404.
func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	if name == "" {
		name = "index.html"
	}
	if !fs.ValidPath(name) {
		writeError(w, http.StatusBadRequest, "bad path %q", r.URL.Path)
		return
	}
	f, err := s.static.Open(name)
	if err != nil {
		writeError(w, http.StatusNotFound, "no page %s", r.URL.Path)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	rs, ok := f.(io.ReadSeeker)
	if err != nil || st.IsDir() || !ok {
		writeError(w, http.StatusNotFound, "no page %s", r.URL.Path)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, st.ModTime(), rs)
}

type errorBody struct {
	Error string `json:"error"`
}

// writeError writes a JSON error message with the given status.
func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, errorBody{Error: fmt.Sprintf(format, args...)})
}

// writeJSON writes v as JSON in one Write with its Content-Length, so that
// the answer leaves in as few pieces as net/http allows (a replica killed
// while it writes cuts few answers) and an answer cut short falls short of
// its declared length.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{Error: "encoding the answer: " + err.Error()})
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
