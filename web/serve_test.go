package web

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convnet-go/convnet/model"
)

// serving runs s.Serve on a free port of 127.0.0.1; cancel starts its
// shutdown and done gives what Serve returned.
func serving(t testing.TB, s *Server) (addr string, cancel func(), done <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, ln) }()
	t.Cleanup(stop)
	return ln.Addr().String(), stop, errc
}

// slowUpload sends the headers and the first half of a JSON prediction's
// body; finish sends the rest and returns the status.
func slowUpload(t *testing.T, addr string) (finish func() (int, error)) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	body := pixelsJSON(64, 0)
	fmt.Fprintf(conn, "POST /api/predict?model=letters HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:len(body)/2])
	return func() (int, error) {
		if _, err := io.WriteString(conn, body[len(body)/2:]); err != nil {
			return 0, err
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
}

func readyStatus(addr string) (int, error) {
	resp, err := (&http.Client{Timeout: time.Second}).Get("http://" + addr + "/readyz")
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestGracefulShutdown cancels Serve's context with three uploads in
// flight: the shutdown is logged, /readyz turns 503 while the listener
// still accepts (DrainDelay), then the listener closes, the uploads finish
// with 200 and Serve returns nil.
func TestGracefulShutdown(t *testing.T) {
	const delay = 500 * time.Millisecond
	var logs bytes.Buffer // read once Serve returned
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	s, err := NewServer([]Model{{"letters", classifier(t, letters(t), model.ClassifierOptions{})}}, Options{DrainDelay: delay, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	addr, cancel, done := serving(t, s)
	if status, err := readyStatus(addr); status != 200 {
		t.Fatalf("GET /readyz before the shutdown: %d, %v; want 200", status, err)
	}
	var uploads []func() (int, error)
	for range 3 {
		uploads = append(uploads, slowUpload(t, addr))
	}
	for s.metrics.inFlight.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	start := time.Now()
	status, err := readyStatus(addr)
	for status != 503 && err == nil && time.Since(start) < delay {
		status, err = readyStatus(addr)
	}
	if status != 503 {
		t.Errorf("GET /readyz during the drain delay: %d, %v; want 503", status, err)
	}
	time.Sleep(delay + 200*time.Millisecond - time.Since(start))
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Errorf("the listener still accepts connections after the drain delay")
	}
	// All at once: an upload waiting for a work slot held by another,
	// whichever came first, finishes after it.
	var wg sync.WaitGroup
	for i, finish := range uploads {
		wg.Go(func() {
			if status, err := finish(); status != 200 {
				t.Errorf("upload %d in flight during the shutdown: status %d, %v; want 200", i, status, err)
			}
		})
	}
	wg.Wait()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v, want nil after every request finished", err)
		}
		if want := `msg="shutting down: /readyz answers 503, the requests in flight finish" drain_delay=500ms drain_timeout=15s in_flight=3`; !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %s:\n%s", want, logs.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its requests finished")
	}
}

// TestDrainTimeout leaves an upload stalled during the shutdown: Serve gives
// up after the drain timeout and says so.
func TestDrainTimeout(t *testing.T) {
	s, err := NewServer([]Model{{"letters", classifier(t, letters(t), model.ClassifierOptions{})}}, Options{DrainTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	addr, cancel, done := serving(t, s)
	slowUpload(t, addr)
	for s.metrics.inFlight.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	start := time.Now()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "1 request(s) still in flight after the drain timeout (200ms)") {
			t.Errorf("Serve = %v, want an error about the request cut at the drain timeout", err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("Serve returned %v after the shutdown began, want about the 200 ms drain timeout", took)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the drain timeout")
	}
}
