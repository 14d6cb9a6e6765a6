package web

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"
)

// drawing returns a PNG like the page sends: a 280x280 canvas with a white
// stroke on black.
func drawing(t testing.TB) []byte {
	img := image.NewGray(image.Rect(0, 0, 280, 280))
	for y := 40; y < 240; y++ {
		for x := 120 + y/6; x < 145+y/6; x++ {
			img.SetGray(x, y, color.Gray{255})
		}
	}
	for y := 40; y < 64; y++ {
		for x := 60; x < 200; x++ {
			img.SetGray(x, y, color.Gray{255})
		}
	}
	return encodeAs(t, "png", img)
}

// BenchmarkUpdate measures one full update of the page: the drawing decoded,
// resized, standardised, every layer's output and the prediction, encoded as
// JSON (the request the page sends while drawing).
func BenchmarkUpdate(b *testing.B) {
	s := demoServer(b)
	body := drawing(b)
	name := s.models[0].name
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/activations?model="+name, bytes.NewReader(body))
		req.Header.Set("Content-Type", "image/png")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		b.SetBytes(int64(rec.Body.Len()))
	}
}

// BenchmarkPredict measures POST /api/predict with the same drawing.
func BenchmarkPredict(b *testing.B) {
	s := demoServer(b)
	body := drawing(b)
	name := s.models[0].name
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/predict?model="+name, bytes.NewReader(body))
		req.Header.Set("Content-Type", "image/png")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// TestLoad holds 50 concurrent clients asking for predictions and every
// layer's activations over HTTP on 127.0.0.1 for 20 seconds (or
// CONVNET_LOADTEST_DURATION) and reports the latencies. It runs only with
// CONVNET_LOADTEST=1.
func TestLoad(t *testing.T) {
	if os.Getenv("CONVNET_LOADTEST") == "" {
		t.Skip("set CONVNET_LOADTEST=1 to run the 20-second load test")
	}
	d := 20 * time.Second
	if v := os.Getenv("CONVNET_LOADTEST_DURATION"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatalf("CONVNET_LOADTEST_DURATION=%q: %v", v, err)
		}
	}
	s := demoServer(t)
	url := startServer(t, s)
	name := s.models[0].name
	body := drawing(t)
	const clients = 50
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 30 * time.Second}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      []string
		wg        sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	for c := range clients {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				path := "/api/activations?model=" + name
				if i%2 == 1 {
					path = "/api/predict?model=" + name
				}
				start := time.Now()
				resp, err := client.Post(url+path, "image/png", bytes.NewReader(body))
				var msg string
				if err != nil {
					msg = err.Error()
				} else {
					n, _ := io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 || n == 0 {
						msg = fmt.Sprintf("client %d: %s: status %d, %d bytes", c, path, resp.StatusCode, n)
					}
				}
				lat := time.Since(start)
				mu.Lock()
				latencies = append(latencies, lat)
				if msg != "" {
					errs = append(errs, msg)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(latencies)
	q := func(p float64) time.Duration { return latencies[int(p*float64(len(latencies)-1))] }
	t.Logf("%d clients for %v: %d requests (%.0f/s), p50 %v, p90 %v, p99 %v, max %v, %d errors",
		clients, d, len(latencies), float64(len(latencies))/d.Seconds(), q(0.5), q(0.9), q(0.99), latencies[len(latencies)-1], len(errs))
	for i, e := range errs {
		if i == 5 {
			break
		}
		t.Errorf("error: %s", e)
	}
}
