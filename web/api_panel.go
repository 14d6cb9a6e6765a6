package web

import "net/http"

// The model panel's answers: the training history and the test evaluation
// stored in the model's metadata.

func (s *Server) handleHistory(w http.ResponseWriter, r *http.Request) {
	m, err := s.model(r)
	if err != nil {
		fail(w, err)
		return
	}
	if m.history == nil {
		writeError(w, http.StatusNotFound, "model %s has no training history", m.name)
		return
	}
	writeJSON(w, http.StatusOK, m.history)
}

// evaluated returns the requested model if it has an evaluation, or writes
// the error and returns nil.
func (s *Server) evaluated(w http.ResponseWriter, r *http.Request) *served {
	m, err := s.model(r)
	if err != nil {
		fail(w, err)
		return nil
	}
	if m.evaluation == nil {
		writeError(w, http.StatusNotFound, "model %s has no evaluation", m.name)
		return nil
	}
	return m
}

func (s *Server) handleEvaluation(w http.ResponseWriter, r *http.Request) {
	m := s.evaluated(w, r)
	if m == nil {
		return
	}
	ev := m.evaluation
	counts := make([][]int, len(ev.Matrix))
	for i := range counts {
		counts[i] = make([]int, len(ev.Matrix))
	}
	for _, sm := range ev.Samples {
		counts[sm.True][sm.Pred]++
	}
	short := *ev
	short.Samples = nil
	writeJSON(w, http.StatusOK, struct {
		evaluation
		SampleCounts [][]int `json:"sample_counts"`
	}{short, counts})
}

func (s *Server) handleSamples(w http.ResponseWriter, r *http.Request) {
	m := s.evaluated(w, r)
	if m == nil {
		return
	}
	ev := m.evaluation
	t, err := requiredClass(r, "true", "true", len(m.classes))
	var p int
	if err == nil {
		p, err = requiredClass(r, "pred", "predicted", len(m.classes))
	}
	if err != nil {
		fail(w, err)
		return
	}
	samples := []*sample{}
	for _, sm := range ev.Samples {
		if sm.True == t && sm.Pred == p {
			samples = append(samples, sm)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"true": t, "pred": p, "count": ev.Matrix[t][p], "image_shape": ev.ImageShape, "samples": samples})
}

// requiredClass parses a class parameter that must be given.
func requiredClass(r *http.Request, key, what string, classes int) (int, error) {
	c, err := intParam(r, key, -1, 0, classes-1)
	if err == nil && c < 0 {
		err = errorf(http.StatusBadRequest, "missing parameter %s (the %s class, 0..%d)", key, what, classes-1)
	}
	return c, err
}
