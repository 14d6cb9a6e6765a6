package web

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/convnet-go/convnet/model"
)

// model returns the model named in the path ({name}) or else by the
// "model" query parameter, which may be omitted when only one model is
// served (and must not name another model than the path). The request's
// log record names it.
func (s *Server) model(r *http.Request) (*served, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	name, q := r.PathValue("name"), r.URL.Query().Get("model")
	if name != "" && q != "" && q != name {
		return nil, errorf(http.StatusBadRequest, "parameter model=%q: the path names model %q", q, name)
	}
	if name == "" {
		name = q
	}
	if name == "" {
		if len(s.models) != 1 {
			return nil, errorf(http.StatusBadRequest, "missing model parameter: one of %s", s.names())
		}
		noteModel(r, s.models[0].name)
		return s.models[0], nil
	}
	m, ok := s.byName[name]
	if !ok {
		if len(s.models) == 0 {
			return nil, errorf(http.StatusNotFound, "unknown model %q: no models are served", name)
		}
		return nil, errorf(http.StatusNotFound, "unknown model %q: one of %s", name, s.names())
	}
	noteModel(r, m.name)
	return m, nil
}

func (s *Server) names() string {
	var n []string
	for _, m := range s.models {
		n = append(n, m.name)
	}
	return strings.Join(n, ", ")
}

// fail writes err as a JSON error: its own status for an httpError, 422
// for a model whose output is not finite (its weights overflow), 503 when
// the request's context ended, 500 otherwise.
func fail(w http.ResponseWriter, err error) {
	switch he, nf := new(httpError), new(model.NonFiniteError); {
	case errors.As(err, &he):
		writeError(w, he.status, "%s", he.msg)
	case errors.As(err, &nf):
		writeError(w, http.StatusUnprocessableEntity, "%v: the model is broken", err)
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, "the request ended: %v", err)
	default:
		writeError(w, http.StatusInternalServerError, "%v", err)
	}
}

// checkQuery refuses an API query that does not parse (net/url drops a
// malformed pair, whose default would be answered for) or that gives a
// parameter more than once (a handler reads one value of each).
func checkQuery(raw string) error {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return errorf(http.StatusBadRequest, "bad query: %v", err)
	}
	for _, k := range slices.Sorted(maps.Keys(q)) {
		if n := len(q[k]); n > 1 {
			return errorf(http.StatusBadRequest, "parameter %s given %d times, want it once", k, n)
		}
	}
	return nil
}

// checkParams refuses a query parameter that is not one of params, the
// ones the endpoint takes.
func checkParams(r *http.Request, params []string) error {
	for _, k := range slices.Sorted(maps.Keys(r.URL.Query())) {
		if !slices.Contains(params, k) {
			if len(params) == 0 {
				return errorf(http.StatusBadRequest, "unknown parameter %q: %s takes none", k, r.URL.Path)
			}
			return errorf(http.StatusBadRequest, "unknown parameter %q: %s takes %s", k, r.URL.Path, strings.Join(params, ", "))
		}
	}
	return nil
}

// intParam parses an optional integer query parameter within [lo, hi].
func intParam(r *http.Request, key string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, errorf(http.StatusBadRequest, "parameter %s=%q: want an integer in %d..%d", key, v, lo, hi)
	}
	return n, nil
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	infos := []modelInfo{}
	s.mu.RLock()
	for _, m := range s.models {
		infos = append(infos, m.info)
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{"models": infos, "watch": s.opts.Watch != nil})
}

// Replace serves m in place of the model of the same name: requests
// already answering go on with the model they found. It is how a watched
// training run shows each epoch's network.
func (s *Server) Replace(m Model) error {
	if m.Classifier == nil {
		return fmt.Errorf("web: model %s has no classifier", m.Name)
	}
	sm := newServed(m, s.opts)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byName[m.Name]; !ok {
		return fmt.Errorf("web: no model %q to replace", m.Name)
	}
	for i, old := range s.models {
		if old.name == m.Name {
			s.models[i] = sm
		}
	}
	s.byName[m.Name] = sm
	return nil
}

// modelAndK returns the requested model and the "k" parameter.
func (s *Server) modelAndK(r *http.Request) (*served, int, error) {
	m, err := s.model(r)
	if err != nil {
		return nil, 0, err
	}
	k, err := intParam(r, "k", 5, 1, len(m.classes))
	return m, k, err
}

// post answers a POST endpoint once its parameters are parsed: it checks
// the body's length and an image's header, waits for a work slot (given
// back when the handler returns, even by a panic), reads the image into the
// model's raw pixels (framed) and writes what answer returns, or the error.
func (s *Server) post(w http.ResponseWriter, r *http.Request, m *served, answer func(ctx context.Context, f model.Framed) (any, error)) {
	mt, err := mediaType(r)
	if err != nil {
		fail(w, err)
		return
	}
	up, err := open(w, r, m, mt, s.opts.MaxBodyBytes)
	if err != nil {
		fail(w, err)
		return
	}
	s.compute(w, r, func(ctx context.Context) (any, error) {
		f, err := up.pixels(m)
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			return nil, err
		}
		return answer(ctx, f)
	})
}

// compute answers the request with what answer computes under a work slot
// (an error's status and message if it fails).
func (s *Server) compute(w http.ResponseWriter, r *http.Request, answer func(ctx context.Context) (any, error)) {
	release, err := s.acquire(r.Context())
	if err != nil {
		fail(w, err)
		return
	}
	defer release()
	ans, err := answer(r.Context())
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ans)
}

type predictAnswer struct {
	Model    string             `json:"model"`
	Inverted bool               `json:"inverted"`
	Blank    bool               `json:"blank"` // every pixel alike: nothing to classify
	Top      []model.Prediction `json:"top"`
}

func (s *Server) handlePredict(w http.ResponseWriter, r *http.Request) {
	m, k, err := s.modelAndK(r)
	if err != nil {
		fail(w, err)
		return
	}
	s.post(w, r, m, func(ctx context.Context, f model.Framed) (any, error) {
		rs, err := m.c.ClassifyPixels(ctx, [][]float32{f.Pixels}, k)
		if err != nil {
			return nil, err
		}
		return predictAnswer{Model: m.name, Inverted: f.Inverted, Blank: rs[0].Blank, Top: rs[0].Top}, nil
	})
}
