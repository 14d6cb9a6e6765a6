package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

func pixelsJSON(n int, v float64) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprint(v)
	}
	return `{"pixels":[` + strings.Join(parts, ",") + `]}`
}

// encodeAs returns img as a PNG or a JPEG.
func encodeAs(t testing.TB, format string, img image.Image) []byte {
	var buf bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// stroke returns a w×h grey image with a vertical stroke of ink on paper.
func stroke(w, h int, ink, paper uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := paper
			if x > w/3 && x < w/2 {
				c = ink
			}
			img.SetGray(x, y, color.Gray{c})
		}
	}
	return img
}

func encodeImage(t testing.TB, format string, w, h int, ink, paper uint8) []byte {
	return encodeAs(t, format, stroke(w, h, ink, paper))
}

// noisePNG returns a w×h PNG of 16-bit RGBA noise, which does not compress.
func noisePNG(t testing.TB, w, h int) []byte {
	img := image.NewRGBA64(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.Uint32())
	}
	return encodeAs(t, "png", img)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func do(s http.Handler, method, target, ctype string, body []byte) response {
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return response{rec.Code, rec.Header(), rec.Body.Bytes()}
}

func TestErrors(t *testing.T) {
	s := testServer(t)
	ok := pixelsJSON(64, 10)
	tests := []struct {
		name, method, target, ctype, body string
		status                            int
		want                              string // in the error message
	}{
		{"malformed JSON", "POST", "/api/predict?model=letters", "application/json", `{"pixels":[1,2`, 400, "malformed JSON"},
		{"unknown field", "POST", "/api/predict?model=letters", "application/json", `{"pixel":[1]}`, 400, "malformed JSON"},
		{"trailing data", "POST", "/api/predict?model=letters", "application/json", ok + "{}", 400, "data after"},
		{"NaN", "POST", "/api/predict?model=letters", "application/json", strings.Replace(ok, "10", "NaN", 1), 400, "malformed JSON"},
		{"string pixel", "POST", "/api/predict?model=letters", "application/json", strings.Replace(ok, "10", `"a"`, 1), 400, "malformed JSON"},
		{"too few pixels", "POST", "/api/predict?model=letters", "application/json", pixelsJSON(63, 1), 400, "got 63 values, want 64"},
		{"too many pixels", "POST", "/api/activations?model=letters", "application/json", pixelsJSON(65, 1), 400, "more than 64 values, want 64"},
		{"flood of pixels", "POST", "/api/predict?model=letters", "application/json", pixelsJSON(5000, 1), 413, "request body of 10012 bytes: at most 6144 bytes for application/json and model letters"},
		{"no pixels", "POST", "/api/predict?model=letters", "application/json", `{}`, 400, "got 0 values, want 64"},
		{"pixels twice", "POST", "/api/predict?model=letters", "application/json", `{"pixels":[],"pixels":[]}`, 400, "given twice"},
		{"pixels not a list", "POST", "/api/predict?model=letters", "application/json", `{"pixels":7}`, 400, "not a list"},
		{"not an object", "POST", "/api/predict?model=letters", "application/json", `[1,2]`, 400, "want an object"},
		{"wrong size for model", "POST", "/api/predict?model=digits", "application/json", ok, 400, "want 36"},
		{"above 255", "POST", "/api/predict?model=letters", "application/json", strings.Replace(ok, "10", "256", 1), 400, "pixels[0] = 256"},
		{"negative", "POST", "/api/saliency?model=letters", "application/json", strings.Replace(ok, "10", "-1", 1), 400, "pixels[0] = -1"},
		{"huge number", "POST", "/api/predict?model=letters", "application/json", strings.Replace(ok, "10", "1e999", 1), 400, "malformed JSON"},
		{"oversized body", "POST", "/api/predict?model=letters", "application/json", `{"pixels":[` + strings.Repeat(" ", 70000) + `1]}`, 413, "at most 6144 bytes"},
		{"oversized image", "POST", "/api/predict?model=letters", "image/png", string(noisePNG(t, 120, 120)), 413, "at most 65536 bytes for image/png"},
		{"unknown model", "POST", "/api/predict?model=nope", "application/json", ok, 404, `unknown model "nope"`},
		{"missing model", "POST", "/api/predict", "application/json", ok, 400, "missing model"},
		{"no content type", "POST", "/api/predict?model=letters", "", ok, 415, "missing Content-Type"},
		{"text body", "POST", "/api/predict?model=letters", "text/plain", "hello", 415, "unsupported Content-Type"},
		{"bad content type", "POST", "/api/predict?model=letters", "image/", "x", 415, "bad Content-Type"},
		{"not a png", "POST", "/api/predict?model=letters", "image/png", "not a png", 400, "decoding"},
		{"truncated png", "POST", "/api/predict?model=letters", "image/png", string(encodeImage(t, "png", 40, 40, 255, 0)[:60]), 400, "decoding"},
		{"jpeg sent as png", "POST", "/api/predict?model=letters", "image/png", string(encodeImage(t, "jpeg", 40, 40, 255, 0)), 400, "is a jpeg image, not image/png"},
		{"image over budget", "POST", "/api/predict?model=letters", "image/png", string(encodeImage(t, "png", 129, 128, 255, 0)), 413, "model letters takes at most 16384 pixels"},
		{"bad k", "POST", "/api/predict?model=letters&k=0", "application/json", ok, 400, "parameter k"},
		{"k too big", "POST", "/api/predict?model=letters&k=6", "application/json", ok, 400, "parameter k"},
		{"bad class", "POST", "/api/saliency?model=letters&class=5", "application/json", ok, 400, "parameter class"},
		{"bad full", "POST", "/api/activations?model=letters&full=9", "application/json", ok, 400, "parameter full"},
		{"bad cam", "POST", "/api/activations?model=letters&cam=1", "application/json", ok, 400, `parameter cam="1": want one of gradcam, hirescam, occlusion`},
		{"bad camlayer", "POST", "/api/activations?model=letters&cam=gradcam&camlayer=4", "application/json", ok, 400, "parameter camlayer"},
		{"camlayer not an image", "POST", "/api/activations?model=letters&cam=hirescam&camlayer=2", "application/json", ok, 400, "(flatten) outputs shape [64], not an image"},
		{"cam of a bad method", "POST", "/api/cam?model=letters&cam=saliency", "application/json", ok, 400, `parameter cam="saliency"`},
		{"cam of a bad class", "POST", "/api/cam?model=letters&class=7", "application/json", ok, 400, "parameter class"},
		{"GET cam", "GET", "/api/cam?model=letters", "", "", 405, "method GET not allowed"},
		{"pattern of a bad channel", "GET", "/api/models/letters/layers/0/pattern?channel=4", "", "", 400, "parameter channel"},
		{"pattern of a bad layer", "GET", "/api/models/letters/layers/9/pattern", "", "", 404, "want an index"},
		{"POST pattern", "POST", "/api/models/letters/layers/0/pattern", "", "", 405, "not allowed"},
		{"map of too few test images", "GET", "/api/models/letters/embedding", "", "", 404, "model letters has 2 test images in its evaluation, too few for a map"},
		{"map without an evaluation", "GET", "/api/models/digits/embedding", "", "", 404, "model digits has no evaluation"},
		{"placement without a map", "POST", "/api/activations?model=digits&embed=1", "application/json", pixelsJSON(36, 1), 400, "parameter embed: no map of test images: model digits has no evaluation"},
		{"POST map", "POST", "/api/models/letters/embedding", "", "", 405, "not allowed"},
		{"GET predict", "GET", "/api/predict?model=letters", "", "", 405, "method GET not allowed"},
		{"PUT activations", "PUT", "/api/activations?model=letters", "", "", 405, "not allowed"},
		{"POST models", "POST", "/api/models", "", "", 405, "not allowed"},
		{"DELETE page", "DELETE", "/", "", "", 405, "not allowed"},
		{"unknown API", "GET", "/api/nothing", "", "", 404, "no API endpoint"},
		{"unknown page", "GET", "/nothing.html", "", "", 404, "no page"},
		{"kernel of pool", "GET", "/api/models/letters/layers/1/kernel", "", "", 404, "has no kernel"},
		{"kernel bad layer", "GET", "/api/models/letters/layers/9/kernel", "", "", 404, "want an index"},
		{"kernel layer word", "GET", "/api/models/letters/layers/x/kernel", "", "", 404, "want an index"},
		{"kernel bad channel", "GET", "/api/models/letters/layers/0/kernel?channel=4", "", "", 400, "parameter channel"},
		{"kernel unknown model", "GET", "/api/models/zz/layers/0/kernel", "", "", 404, "unknown model"},
		{"activation of pool", "GET", "/api/models/letters/layers/1/activation?z=1", "", "", 404, "has no activation"},
		{"activation without z", "GET", "/api/models/letters/layers/0/activation", "", "", 400, "parameter z"},
		{"activation bad z", "GET", "/api/models/letters/layers/0/activation?z=1,x", "", "", 400, `value 1 "x"`},
		{"activation infinite z", "GET", "/api/models/letters/layers/0/activation?z=Inf", "", "", 400, "not a finite number"},
		{"activation too many z", "GET", "/api/models/letters/layers/0/activation?z=" + strings.Repeat("1,", 4096) + "1", "", "", 400, "parameter z"},
		{"POST healthz", "POST", "/healthz", "", "", 405, "not allowed"},
		{"no history", "GET", "/api/models/digits/history", "", "", 404, "no training history"},
		{"no evaluation", "GET", "/api/models/digits/evaluation", "", "", 404, "no evaluation"},
		{"samples missing true", "GET", "/api/models/letters/evaluation/samples?pred=1", "", "", 400, "missing parameter true"},
		{"samples bad pred", "GET", "/api/models/letters/evaluation/samples?true=1&pred=9", "", "", 400, "parameter pred"},
		{"dot dot", "GET", "/../go.mod", "", "", 400, "bad path"},
		{"dot dot inside", "GET", "/static/../server.go", "", "", 400, "bad path"},
		{"encoded dot dot", "GET", "/%2e%2e/go.mod", "", "", 400, "bad path"},
		{"encoded slash", "GET", "/..%2fserver.go", "", "", 400, "bad path"},
		{"backslash", "GET", "/..%5cserver.go", "", "", 400, "bad path"},
		{"double slash", "GET", "//etc/passwd", "", "", 400, "bad path"},
		{"dot segment", "GET", "/./index.html", "", "", 400, "bad path"},
		{"source file", "GET", "/server.go", "", "", 404, "no page"},
		{"static dir", "GET", "/static/", "", "", 400, "bad path"},
		{"page dir", "GET", "/static", "", "", 404, "no page"},
		{"api dot dot", "POST", "/api/../api/predict?model=letters", "application/json", ok, 400, "bad path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(s, tt.method, tt.target, tt.ctype, []byte(tt.body))
			if r.status != tt.status {
				t.Errorf("%s %s: status %d, want %d; body %s", tt.method, tt.target, r.status, tt.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("%s %s: Content-Type %q, want JSON", tt.method, tt.target, ct)
			}
			var e errorBody
			if err := json.Unmarshal(r.body, &e); err != nil || !strings.Contains(e.Error, tt.want) {
				t.Errorf("%s %s: body %s, want a JSON error containing %q", tt.method, tt.target, r.body, tt.want)
			}
			if r.status == 405 && r.header.Get("Allow") == "" {
				t.Errorf("%s %s: 405 without an Allow header", tt.method, tt.target)
			}
		})
	}
}

// TestStreamedBodyLimit sends bodies without a declared length: the limits
// hold while they stream in.
func TestStreamedBodyLimit(t *testing.T) {
	s := testServer(t)
	for _, tt := range []struct{ ctype, body string }{
		{"application/json", `{"pixels":[` + strings.Repeat(" ", 7000) + `1]}`},
		{"image/png", string(noisePNG(t, 120, 120))},
	} {
		req := httptest.NewRequest("POST", "/api/predict?model=letters", io.MultiReader(strings.NewReader(tt.body)))
		req.Header.Set("Content-Type", tt.ctype)
		if req.ContentLength != 0 && req.ContentLength != -1 {
			t.Fatalf("the request declares %d bytes", req.ContentLength)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 413 || !strings.Contains(rec.Body.String(), "larger than") {
			t.Errorf("streamed %s body of %d bytes: status %d, %s; want 413", tt.ctype, len(tt.body), rec.Code, rec.Body)
		}
	}
}

// TestHugeImage checks that an image whose header claims enormous
// dimensions is refused before decoding.
func TestHugeImage(t *testing.T) {
	s := testServer(t)
	img := encodeImage(t, "png", 4, 4, 255, 0)
	// Patch the IHDR width and height to 60000x60000 and fix its CRC.
	ihdr := img[12:29]
	copy(ihdr[4:], []byte{0, 0, 0xea, 0x60, 0, 0, 0xea, 0x60})
	crc := crc32IEEE(ihdr)
	copy(img[29:33], []byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	r := do(s, "POST", "/api/predict?model=letters", "image/png", img)
	if r.status != 413 {
		t.Errorf("predict with a 60000x60000 PNG header: status %d, want 413; body %s", r.status, r.body)
	}
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if r.status != 200 {
		t.Fatalf("status %d, want 200; body %s", r.status, r.body)
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
	return v
}

func TestStatic(t *testing.T) {
	s := testServer(t)
	for _, p := range []string{"/", "/index.html", "/app.js", "/style.css"} {
		r := do(s, "GET", p, "", nil)
		if r.status != 200 || len(r.body) == 0 {
			t.Errorf("GET %s: status %d, %d bytes", p, r.status, len(r.body))
		}
	}
	if ct := do(s, "GET", "/app.js", "", nil).header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("GET /app.js: Content-Type %q, want JavaScript", ct)
	}
	r := do(s, "HEAD", "/", "", nil)
	if r.status != 200 {
		t.Errorf("HEAD /: status %d", r.status)
	}
}

func TestNewServerErrors(t *testing.T) {
	c := classifier(t, letters(t), model.ClassifierOptions{})
	tests := []struct {
		name   string
		models []Model
		want   string
	}{
		{"bad name", []Model{{"a/b", c}}, "model name"},
		{"empty name", []Model{{"", c}}, "model name"},
		{"duplicate", []Model{{"a", c}, {"a", c}}, "two models"},
		{"no classifier", []Model{{"a", nil}}, "no classifier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewServer(tt.models, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewServer: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestBadMeta(t *testing.T) {
	m := letters(t)
	m.Meta["history"] = "[1,2"
	m.Meta["evaluation"] = `{"matrix":[[1]]}`
	var log bytes.Buffer
	s, err := NewServer([]Model{{"m", classifier(t, m, model.ClassifierOptions{})}}, Options{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if m := s.byName["m"]; m.history != nil || m.evaluation != nil {
		t.Errorf("malformed metadata was accepted")
	}
	if !strings.Contains(log.String(), "history") || !strings.Contains(log.String(), "matrix has 1 rows") {
		t.Errorf("log = %q, want warnings about history and evaluation", log.String())
	}
}

func TestNoModels(t *testing.T) {
	s, err := NewServer(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := decode[struct{ Models []modelInfo }](t, do(s, "GET", "/api/models", "", nil))
	if got.Models == nil || len(got.Models) != 0 {
		t.Errorf("models = %v, want an empty list", got.Models)
	}
	r := do(s, "POST", "/api/predict?model=x", "application/json", nil)
	if r.status != 404 || !bytes.Contains(r.body, []byte("no models are served")) {
		t.Errorf("predict with no models: %d %s", r.status, r.body)
	}
}

func TestHealth(t *testing.T) {
	s := testServer(t)
	got := decode[struct {
		Status string
		Models int
	}](t, do(s, "GET", "/healthz", "", nil))
	if got.Status != "ok" || got.Models != 2 {
		t.Errorf("GET /healthz = %+v, want ok and 2 models", got)
	}
}

// TestTimeoutIsJSON holds a request body open past the timeout: the 503
// that http.TimeoutHandler writes must be JSON like every other error.
func TestTimeoutIsJSON(t *testing.T) {
	s, err := NewServer([]Model{{"letters", classifier(t, letters(t), model.ClassifierOptions{})}}, Options{Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	body, open := io.Pipe()
	defer open.Close()
	req := httptest.NewRequest("POST", "/api/predict", body)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	var e errorBody
	if rec.Code != 503 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") ||
		json.Unmarshal(rec.Body.Bytes(), &e) != nil || !strings.Contains(e.Error, "longer than 50ms") {
		t.Errorf("a request past the timeout: status %d, Content-Type %q, body %s; want a JSON 503", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
}

// TestStalledUpload sends the headers and half a body, then nothing: the
// request must end at the timeout and give its work slot back, so that the
// next request is answered.
func TestStalledUpload(t *testing.T) {
	s, err := NewServer([]Model{{"letters", classifier(t, letters(t), model.ClassifierOptions{})}}, Options{Timeout: 300 * time.Millisecond, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	url := startServer(t, s)
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := pixelsJSON(64, 0)
	fmt.Fprintf(conn, "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:len(body)/2])
	time.Sleep(600 * time.Millisecond) // the stalled request times out, its read with it
	client := &http.Client{Timeout: 2 * time.Second}
	start := time.Now()
	resp, err := client.Post(url+"/api/predict", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("a request after a stalled upload: %v (after %v)", err, time.Since(start))
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("a request after a stalled upload: status %d after %v, want 200", resp.StatusCode, time.Since(start))
	}
}

// panicky is a real layer made to panic in Forward when its input starts
// with the value trigger.
type panicky struct{ nn.Layer }

const triggerPixel = 13

var trigger = float32(triggerPixel) * float32(1.0/255) // after rescaling

func (p *panicky) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	if x.Data[0] == trigger {
		panic("injected panic")
	}
	return p.Layer.Forward(x, training)
}

// TestPanicKeepsPool makes the model panic in predict, saliency and
// activations, with one model copy and one work slot: both must be given
// back, so that the next request is answered at once.
func TestPanicKeepsPool(t *testing.T) {
	m := letters(t)
	m.Layers[0] = &panicky{m.Layers[0]}
	var log bytes.Buffer // written by the handlers before do returns
	s, err := NewServer([]Model{{"letters", classifier(t, m, model.ClassifierOptions{Workers: 1})}}, Options{Concurrency: 1, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(pixelsJSON(64, 0), "0", fmt.Sprint(triggerPixel), 1)
	for _, path := range []string{"/api/predict", "/api/predict", "/api/saliency", "/api/saliency", "/api/activations"} {
		r := do(s, "POST", path, "application/json", []byte(bad))
		var e errorBody
		if r.status != 500 || json.Unmarshal(r.body, &e) != nil || e.Error != "internal error" {
			t.Errorf("POST %s that panics: status %d, body %s; want a JSON 500", path, r.status, r.body)
		}
	}
	if n := strings.Count(log.String(), "injected panic"); n != 5 {
		t.Errorf("the log holds %d of the 5 panics:\n%s", n, log.String())
	}
	for _, path := range []string{"/api/predict", "/api/saliency", "/api/activations?saliency=1"} {
		done := make(chan response, 1)
		go func() { done <- do(s, "POST", path, "application/json", []byte(pixelsJSON(64, 0))) }()
		select {
		case r := <-done:
			if r.status != 200 {
				t.Errorf("POST %s after the panics: status %d, body %s", path, r.status, r.body)
			}
		case <-time.After(time.Second):
			t.Fatalf("POST %s after the panics: no answer within 1 s: the model pool or the work slots shrank", path)
		}
	}
}

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }
