package web

import "net/http"

// handleHealth answers while the process runs: the liveness probe.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "models": len(s.models)})
}

// handleReady answers 200 while the server takes work: its models are
// loaded and [Server.Serve] is not shutting down; 503 otherwise. Load
// balancers send requests only to ready servers.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	switch {
	case s.draining.Load():
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "shutting down", "models": len(s.models)})
	case len(s.models) == 0:
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "no models", "models": 0})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "models": len(s.models)})
	}
}
