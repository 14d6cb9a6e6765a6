package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestServeSIGTERM sends SIGTERM to convnet serve (a child process) while
// eight slow uploads are in flight and four clients keep asking for
// predictions: /readyz must turn 503 during the drain delay, the listener
// then close, every request that reached the server complete with 200, and
// the process exit 0. The first uploads hold the server's work slots (one
// per core; a body is read in one) until they end, so on a small machine
// the other requests wait in flight for them.
func TestServeSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the check builds the command")
	}
	const delay = time.Second
	bin := buildImageBinary(t, "devel")
	r := startReplica(t, bin, "serve", "--addr", "127.0.0.1:0", "--model", "ahcd", "--drain-delay", delay.String(), "--log-format", "json")
	base := "http://" + r.addr
	body := `{"pixels":[` + strings.TrimSuffix(strings.Repeat("0,", 32*32), ",") + `]}`

	// Slow uploads: the headers and half the body now, the rest after the
	// listener closed.
	type upload struct {
		conn net.Conn
		rest string
	}
	var uploads []upload
	for range 8 {
		conn, err := net.Dial("tcp", r.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /api/predict?model=ahcd HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:len(body)/2])
		uploads = append(uploads, upload{conn, body[len(body)/2:]})
	}
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		var inFlight float64
		for _, m := range scrapeMetrics(t, r.addr)["convnet_http_requests_in_flight"].GetMetric() {
			inFlight = m.GetGauge().GetValue()
		}
		if inFlight == 8+1 { // and the scrape
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("%v requests in flight, want the 8 uploads and the scrape", inFlight)
		}
	}

	// Clients that go on until the listener refuses them; a request that
	// reached the server must be answered 200.
	var (
		mu       sync.Mutex
		answered int
		failures []string
		wg       sync.WaitGroup
	)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for range 4 {
		wg.Go(func() {
			for start := time.Now(); time.Since(start) < 30*time.Second; {
				resp, err := client.Post(base+"/api/predict?model=ahcd", "application/json", strings.NewReader(body))
				if errors.Is(err, syscall.ECONNREFUSED) {
					return // the listener is closed
				}
				mu.Lock()
				if err != nil {
					failures = append(failures, err.Error())
				} else {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						failures = append(failures, resp.Status)
					}
					answered++
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	// The time before the signal: the server cannot start its delay
	// earlier, and this goroutine may run again only after it did.
	sent := time.Now()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ready := 0
	for time.Since(sent) < delay/2 && ready != 503 {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			ready = resp.StatusCode
		}
	}
	if ready != 503 {
		t.Errorf("GET /readyz after SIGTERM: %d, want 503 during the drain delay", ready)
	}
	var closed time.Duration
	for closed == 0 && time.Since(sent) < 5*time.Second {
		conn, err := net.Dial("tcp", r.addr)
		if err != nil {
			closed = time.Since(sent)
			break
		}
		conn.Close()
		time.Sleep(10 * time.Millisecond)
	}
	if closed < delay {
		t.Errorf("the listener refused connections %v after SIGTERM, want after the %v drain delay (and within 5 s)", closed, delay)
	}
	// Every body is sent before any answer is read: an upload that took a
	// work slot waits for its body.
	for i, u := range uploads {
		if _, err := io.WriteString(u.conn, u.rest); err != nil {
			t.Fatalf("upload %d: %v", i, err)
		}
	}
	for i, u := range uploads {
		resp, err := http.ReadResponse(bufio.NewReader(u.conn), nil)
		if err != nil {
			t.Errorf("upload %d, in flight at SIGTERM: %v", i, err)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), `"top":[`) {
			t.Errorf("upload %d, in flight at SIGTERM: %s %s, want 200 and a prediction", i, resp.Status, b)
		}
	}
	wg.Wait()
	if code := r.wait(t, 20*time.Second); code != 0 {
		t.Errorf("convnet serve exited with %d after SIGTERM, want 0; stderr:\n%s", code, r.stderr.String())
	}
	t.Logf("SIGTERM with 8 uploads and 4 clients in flight: the listener closed %v later; %d client requests answered, %d failed; exit %d after %v",
		closed.Round(time.Millisecond), answered, len(failures), r.cmd.ProcessState.ExitCode(), time.Since(sent).Round(time.Millisecond))
	for _, f := range failures {
		t.Errorf("a request that reached the server failed: %s", f)
	}
	if answered == 0 {
		t.Error("no client request was answered")
	}
}
