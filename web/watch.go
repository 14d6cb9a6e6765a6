package web

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"
)

// Watch follows a training run for the page ("convnet train --watch"): at
// the end of every epoch the trainer replaces the served model with that
// epoch's network ([Server.Replace]) and calls [Watch.Epoch]; the page,
// subscribed to GET /api/watch (server-sent events), then redraws its
// curves and confusion matrix and runs its drawing through the new
// weights. [Watch.End] tells the page the run is over, and why.
type Watch struct {
	mu     sync.Mutex
	subs   map[chan watchEvent]struct{}
	epochs []watchEvent // every epoch so far
	end    *watchEvent
}

// EpochEvent is what the page learns at the end of an epoch.
type EpochEvent struct {
	Model  string             `json:"model"`  // the served model that is now this epoch's
	Epoch  int                `json:"epoch"`  // counted from 1
	Epochs int                `json:"epochs"` // in the run
	Logs   map[string]float64 `json:"logs"`   // loss, accuracy, val_loss, ...
}

type watchEvent struct {
	name string // "epoch" or "end"
	data []byte // JSON
}

// NewWatch returns a watch with no subscribers.
func NewWatch() *Watch { return &Watch{subs: map[chan watchEvent]struct{}{}} }

// Epoch tells every page that an epoch has ended. A log that is not a
// finite number (a validation loss gone to infinity) is sent as null.
func (w *Watch) Epoch(e EpochEvent) {
	logs := make(map[string]*float64, len(e.Logs))
	for k, v := range e.Logs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			logs[k] = &v
		} else {
			logs[k] = nil
		}
	}
	b, err := json.Marshal(struct {
		EpochEvent
		Logs map[string]*float64 `json:"logs"`
	}{e, logs})
	if err != nil {
		panic("web: Watch.Epoch: " + err.Error()) // numbers and strings only
	}
	w.publish(watchEvent{"epoch", b}, false)
}

// End tells every page that the run is over, with a sentence that says how
// ("Training finished: ..." or "Training interrupted at ..."), and closes
// their streams; later subscribers get it at once.
func (w *Watch) End(message string) {
	b, _ := json.Marshal(map[string]string{"message": message})
	w.publish(watchEvent{"end", b}, true)
}

func (w *Watch) publish(ev watchEvent, end bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.end != nil {
		return
	}
	if end {
		w.end = &ev
	} else {
		w.epochs = append(w.epochs, ev)
	}
	for c := range w.subs {
		select {
		case c <- ev:
		default: // a page that does not keep up misses an epoch; the next one brings it up to date
		}
		if end {
			close(c)
			delete(w.subs, c)
		}
	}
}

// maxWatchers is the number of pages that may follow a run at once.
const maxWatchers = 64

// subscribe returns a channel of the events to come and the last epoch so
// far (nil if none), or the end if the run is over; c and end are both nil
// when maxWatchers pages follow the run already.
func (w *Watch) subscribe() (c chan watchEvent, last, end *watchEvent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.end != nil {
		return nil, nil, w.end
	}
	if len(w.subs) >= maxWatchers {
		return nil, nil, nil
	}
	c = make(chan watchEvent, 4)
	w.subs[c] = struct{}{}
	if n := len(w.epochs); n > 0 {
		last = &w.epochs[n-1]
	}
	return c, last, nil
}

// ended returns the end of the run, or nil while it goes on.
func (w *Watch) ended() *watchEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.end
}

// close ends every stream (the server is shutting down): pages that were
// not told the run ended say the connection was lost.
func (w *Watch) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for c := range w.subs {
		close(c)
		delete(w.subs, c)
	}
}

func (w *Watch) unsubscribe(c chan watchEvent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.subs[c]; ok {
		delete(w.subs, c)
		close(c)
	}
}

// serveWatch streams the run's events to one page, outside the handlers'
// timeout: a comment every 15 s keeps the connection open; the stream ends
// with the run or the request.
func (s *Server) serveWatch(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		rw.Header().Set("Allow", http.MethodGet)
		writeError(rw, http.StatusMethodNotAllowed, "method %s not allowed on %s (allowed: GET)", r.Method, r.URL.Path)
		return
	}
	c, last, end := s.opts.Watch.subscribe()
	if c == nil && end == nil {
		writeError(rw, http.StatusServiceUnavailable, "%d pages follow this run already", maxWatchers)
		return
	}
	if c != nil {
		defer s.opts.Watch.unsubscribe(c)
	}
	rc := http.NewResponseController(rw)
	rc.SetWriteDeadline(time.Time{})
	h := rw.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	rw.WriteHeader(http.StatusOK)
	send := func(ev watchEvent) bool {
		_, err := fmt.Fprintf(rw, "event: %s\ndata: %s\n\n", ev.name, ev.data)
		return err == nil && rc.Flush() == nil
	}
	if end != nil {
		send(*end)
		return
	}
	if last != nil && !send(*last) {
		return
	}
	tick := time.NewTicker(15 * time.Second)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-c:
			if !ok { // the run ended while this page lagged behind
				if end := s.opts.Watch.ended(); end != nil {
					send(*end)
				}
				return
			}
			if !send(ev) || ev.name == "end" {
				return
			}
		case <-tick.C:
			if _, err := fmt.Fprint(rw, ": still training\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case <-r.Context().Done():
			return
		}
	}
}
