package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Serve answers HTTP requests on ln until ctx ends, then shuts down
// gracefully:
//
//  1. /readyz answers 503 and connections are no longer kept alive, for
//     [Options.DrainDelay] while the listener still accepts requests (so
//     that load balancers see it before new connections are refused);
//  2. the listener closes and idle connections with it;
//  3. the requests in flight finish, for up to [Options.DrainTimeout].
//
// The shutdown's start is logged ([Options.Logger]). Serve returns nil once
// every request finished, or an error saying how many were cut when the
// drain timeout passed first. Requests in flight are not cancelled by ctx.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      s.opts.Timeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if s.opts.Watch != nil {
		hs.RegisterOnShutdown(s.opts.Watch.close) // end the streams, which never idle
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	hs.SetKeepAlivesEnabled(false)
	if lg := s.opts.Logger; lg != nil {
		lg.Info("shutting down: /readyz answers 503, the requests in flight finish",
			"drain_delay", s.opts.DrainDelay, "drain_timeout", s.opts.DrainTimeout, "in_flight", s.metrics.inFlight.Load())
	}
	if s.opts.DrainDelay > 0 {
		select {
		case err := <-errc:
			return err
		case <-time.After(s.opts.DrainDelay):
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.DrainTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		n := s.metrics.inFlight.Load()
		hs.Close()
		err = fmt.Errorf("web: %d request(s) still in flight after the drain timeout (%v) were cut", n, s.opts.DrainTimeout)
	}
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}
