package web

import (
	"encoding/json"
	"net/http"
	"runtime"
	rtmetrics "runtime/metrics"
	"strings"
	"testing"
)

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) int64 {
	s := []rtmetrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	rtmetrics.Read(s)
	before := s[0].Value.Uint64()
	f()
	rtmetrics.Read(s)
	return int64(s[0].Value.Uint64() - before)
}

// uploadTypes are the media types FuzzUpload sends its bodies as.
var uploadTypes = []string{"application/json", "image/png", "image/jpeg", "image/x-portable-graymap", "image/x-portable-pixmap"}

// FuzzUpload sends any body, as JSON, PNG, JPEG, PGM or PPM, to /api/predict and
// /api/activations: the answer is 200 or a 4xx with a JSON error, and a
// request allocates at most a few times its body, plus the largest image
// the model accepts decoded at 16 bits per channel, plus a fixed amount
// for the request, the answer and the network's pass.
func FuzzUpload(f *testing.F) {
	f.Add(uint8(0), []byte(pixelsJSON(64, 30)))
	f.Add(uint8(0), []byte(`{"pixels": [1, 2, 3e9]}`))
	f.Add(uint8(0), []byte(pixelsJSON(100000, 1)))
	f.Add(uint8(1), bars(f, 3, 64, 64, 0, 255))
	f.Add(uint8(1), bombPNG(f, 6400, 6400))
	f.Add(uint8(2), encodeImage(f, "jpeg", 50, 70, 0, 240))
	f.Add(uint8(2), bars(f, 1, 9, 9, 0, 255))
	f.Add(uint8(3), []byte("P5 8 8 200\n"+strings.Repeat("\x10\xf0", 32)))
	f.Add(uint8(3), []byte("P2\n# a comment\n2 2\n255\n0 255 255 0\n"))
	f.Add(uint8(4), []byte("P6 3 3 255\n"+strings.Repeat("\x00\x80\xff", 9)))
	f.Add(uint8(4), []byte("P3 1 2 15\n1 2 3 15 0 9\n"))
	s := testServer(f)
	served := s.byName["letters"]
	// The largest image accepted, decoded as 16-bit RGBA, and its gray
	// copy; a request, its answer and the network's pass (an activations
	// answer holds every layer's maps as JSON).
	imageBytes := int64(served.maxPixels) * (8 + 4)
	const fixed = 512 << 10
	// The first requests make the model's copies and the server's lazily
	// built state; they are not counted.
	for _, target := range []string{"/api/predict?model=letters", "/api/activations?model=letters"} {
		if r := do(s, "POST", target, "application/json", []byte(pixelsJSON(64, 30))); r.status != http.StatusOK {
			f.Fatalf("POST %s: %d %s", target, r.status, r.body)
		}
	}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		ctype := uploadTypes[int(kind)%len(uploadTypes)]
		for _, target := range []string{"/api/predict?model=letters", "/api/activations?model=letters"} {
			var r response
			post := func() { r = do(s, "POST", target, ctype, body) }
			limit := 4*int64(len(body)) + imageBytes + fixed
			n := allocated(post)
			if n > limit {
				// The spans taken for small objects count whole: measure
				// again without their free slots.
				runtime.GC()
				n = allocated(func() { post(); runtime.GC() })
			}
			if n > limit {
				t.Fatalf("POST %s (%s, %d bytes) allocates %d bytes, want at most %d", target, ctype, len(body), n, limit)
			}
			switch {
			case r.status == http.StatusOK:
			case r.status >= 400 && r.status < 500:
				var e struct{ Error string }
				if err := json.Unmarshal(r.body, &e); err != nil || e.Error == "" {
					t.Fatalf("POST %s (%s): %d with body %q, want a JSON error", target, ctype, r.status, r.body)
				}
			default:
				t.Fatalf("POST %s (%s): %d %s", target, ctype, r.status, r.body)
			}
		}
	})
}
