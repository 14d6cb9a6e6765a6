package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// testServer serves two tiny networks, "letters" (8x8x1, 5 classes, with
// history and evaluation) and "digits" (6x6x1, 3 classes).
func testServer(t testing.TB) *Server {
	t.Helper()
	letters := newTinyNet(8, 8, 1, 5, 1)
	letters.meta["history"] = `{"epoch":[1,2],"loss":[1.5,0.9],"accuracy":[0.4,0.7],"val_loss":[1.4,1.0],"val_accuracy":[0.45,0.65],"learning_rate":[0.001,0.001]}`
	ev := evaluation{Classes: letters.ClassNames(), Accuracy: 0.6, Count: 10, ImageShape: []int{8, 8, 1}}
	ev.Matrix = make([][]int, 5)
	for i := range ev.Matrix {
		ev.Matrix[i] = make([]int, 5)
		ev.Matrix[i][i] = 2
	}
	ev.Matrix[1][2] = 1
	ev.Samples = []*sample{{True: 1, Pred: 2, Index: 7, Pixels: bytes.Repeat([]byte{200}, 64)}, {True: 0, Pred: 0, Index: 3, Pixels: make([]byte, 64)}}
	b, _ := json.Marshal(ev)
	letters.meta["evaluation"] = string(b)
	s, err := NewServer([]Model{{"letters", letters}, {"digits", newTinyNet(6, 6, 1, 3, 2)}}, Options{MaxBodyBytes: 1 << 16, Clones: 2})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pixelsJSON(n int, v float64) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprint(v)
	}
	return `{"pixels":[` + strings.Join(parts, ",") + `]}`
}

func encodeImage(t testing.TB, format string, w, h int, ink, paper uint8) []byte {
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
		{"too many pixels", "POST", "/api/activations?model=letters", "application/json", pixelsJSON(65, 1), 400, "got 65 values"},
		{"wrong size for model", "POST", "/api/predict?model=digits", "application/json", ok, 400, "want 36"},
		{"above 255", "POST", "/api/predict?model=letters", "application/json", strings.Replace(ok, "10", "256", 1), 400, "pixels[0] = 256"},
		{"negative", "POST", "/api/saliency?model=letters", "application/json", strings.Replace(ok, "10", "-1", 1), 400, "pixels[0] = -1"},
		{"huge number", "POST", "/api/predict?model=letters", "application/json", strings.Replace(ok, "10", "1e999", 1), 400, "malformed JSON"},
		{"oversized body", "POST", "/api/predict?model=letters", "application/json", `{"pixels":[` + strings.Repeat("1,", 40000) + `1]}`, 413, "larger than"},
		{"unknown model", "POST", "/api/predict?model=nope", "application/json", ok, 404, `unknown model "nope"`},
		{"missing model", "POST", "/api/predict", "application/json", ok, 400, "missing model"},
		{"no content type", "POST", "/api/predict?model=letters", "", ok, 415, "missing Content-Type"},
		{"text body", "POST", "/api/predict?model=letters", "text/plain", "hello", 415, "unsupported Content-Type"},
		{"bad content type", "POST", "/api/predict?model=letters", "image/", "x", 415, "bad Content-Type"},
		{"not a png", "POST", "/api/predict?model=letters", "image/png", "not a png", 400, "decoding"},
		{"truncated png", "POST", "/api/predict?model=letters", "image/png", string(encodeImage(t, "png", 40, 40, 255, 0)[:60]), 400, "decoding"},
		{"bad k", "POST", "/api/predict?model=letters&k=0", "application/json", ok, 400, "parameter k"},
		{"k too big", "POST", "/api/predict?model=letters&k=6", "application/json", ok, 400, "parameter k"},
		{"bad class", "POST", "/api/saliency?model=letters&class=5", "application/json", ok, 400, "parameter class"},
		{"bad full", "POST", "/api/activations?model=letters&full=9", "application/json", ok, 400, "parameter full"},
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

func TestModels(t *testing.T) {
	s := testServer(t)
	got := decode[struct{ Models []modelInfo }](t, do(s, "GET", "/api/models", "", nil))
	if len(got.Models) != 2 || got.Models[0].Name != "letters" || got.Models[1].Name != "digits" {
		t.Fatalf("GET /api/models: %+v, want letters and digits", got.Models)
	}
	m := got.Models[0]
	if fmt.Sprint(m.InputShape) != "[8 8 1]" || len(m.Classes) != 5 || len(m.Layers) != 4 || !m.HasHistory || !m.HasEvaluation {
		t.Errorf("letters: %+v", m)
	}
	if c := m.Classes[0]; c.Short != "alef" || c.Glyph != "ا" || c.Name != "alef ا" {
		t.Errorf("letters class 0 = %+v, want alef ا split", c)
	}
	if l := m.Layers[0]; l.Type != "Conv2D" || len(l.Params) != 2 || fmt.Sprint(l.Params[0].Shape) != "[3 3 1 4]" {
		t.Errorf("letters layer 0 = %+v", l)
	}
	if got.Models[1].HasHistory {
		t.Errorf("digits has_history = true, want false")
	}
}

func TestPredict(t *testing.T) {
	s := testServer(t)
	tests := []struct {
		name, target, ctype string
		body                []byte
		k                   int
		inverted            bool
	}{
		{"json", "/api/predict?model=letters", "application/json", []byte(pixelsJSON(64, 30)), 5, false},
		{"json k=2", "/api/predict?model=letters&k=2", "application/json; charset=utf-8", []byte(pixelsJSON(64, 30)), 2, false},
		{"png white on black", "/api/predict?model=letters", "image/png", encodeImage(t, "png", 300, 200, 255, 0), 5, false},
		{"png ink on paper", "/api/predict?model=letters", "image/png", encodeImage(t, "png", 64, 64, 0, 255), 5, true},
		{"jpeg", "/api/predict?model=digits&k=3", "image/jpeg", encodeImage(t, "jpeg", 50, 70, 0, 240), 3, true},
		{"tiny png", "/api/predict?model=digits", "image/png", encodeImage(t, "png", 1, 1, 0, 0), 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decode[predictAnswer](t, do(s, "POST", tt.target, tt.ctype, tt.body))
			if len(got.Top) != tt.k {
				t.Fatalf("POST %s: %d predictions, want %d", tt.target, len(got.Top), tt.k)
			}
			var sum float32
			for i, p := range got.Top {
				sum += p.Probability
				if i > 0 && p.Probability > got.Top[i-1].Probability {
					t.Errorf("POST %s: top not sorted: %+v", tt.target, got.Top)
				}
				if p.Name == "" {
					t.Errorf("POST %s: prediction %d has no name", tt.target, i)
				}
			}
			if sum > 1.0001 || (tt.k == len(s.byName[got.Model].classes) && math.Abs(float64(sum)-1) > 1e-4) {
				t.Errorf("POST %s: probabilities sum to %v", tt.target, sum)
			}
			if got.Inverted != tt.inverted {
				t.Errorf("POST %s: inverted = %v, want %v", tt.target, got.Inverted, tt.inverted)
			}
		})
	}
}

// TestPredictMatchesNetwork checks the answer against a direct computation.
func TestPredictMatchesNetwork(t *testing.T) {
	s := testServer(t)
	px := make([]float32, 64)
	body := `{"pixels":[`
	for i := range px {
		px[i] = float32(i * 3)
		if i > 0 {
			body += ","
		}
		body += fmt.Sprint(i * 3)
	}
	body += "]}"
	got := decode[predictAnswer](t, do(s, "POST", "/api/predict?model=letters&k=5", "application/json", []byte(body)))
	net := newTinyNet(8, 8, 1, 5, 1)
	x := s.byName["letters"].input(net, px)
	want := net.Forward(x)[3].Data
	for _, p := range got.Top {
		if math.Abs(float64(p.Probability-want[p.Label])) > 1e-6 {
			t.Errorf("probability of class %d = %v, want %v", p.Label, p.Probability, want[p.Label])
		}
	}
}

func TestActivations(t *testing.T) {
	s := testServer(t)
	type answer struct {
		Pixels   []byte
		Input    encoded
		Layers   []encoded
		Top      []prediction
		Saliency *saliencyAnswer
	}
	got := decode[answer](t, do(s, "POST", "/api/activations?model=letters&full=-1,0&saliency=1", "application/json", []byte(pixelsJSON(64, 255))))
	if len(got.Pixels) != 64 || got.Pixels[0] != 255 {
		t.Errorf("pixels = %v, want 64 values of 255", got.Pixels)
	}
	if len(got.Layers) != 4 || len(got.Top) != 5 || got.Saliency == nil {
		t.Fatalf("activations: %d layers, %d top, saliency %v", len(got.Layers), len(got.Top), got.Saliency)
	}
	if got.Input.Encoding != "f32" || got.Input.Min != 1 || got.Input.Max != 1 {
		t.Errorf("input = %+v, want f32 of ones", got.Input)
	}
	net := newTinyNet(8, 8, 1, 5, 1)
	px := make([]float32, 64)
	for i := range px {
		px[i] = 255
	}
	want := net.Forward(s.byName["letters"].input(net, px))
	for i, l := range got.Layers {
		raw, err := base64.StdEncoding.DecodeString(l.Data)
		if err != nil {
			t.Fatalf("layer %d data: %v", i, err)
		}
		w := want[i].Data
		if fmt.Sprint(l.Shape) != fmt.Sprint(want[i].Shape[1:]) {
			t.Errorf("layer %d shape %v, want %v", i, l.Shape, want[i].Shape[1:])
		}
		for j := range w {
			var v float32
			switch l.Encoding {
			case "f32":
				v = math.Float32frombits(uint32(raw[4*j]) | uint32(raw[4*j+1])<<8 | uint32(raw[4*j+2])<<16 | uint32(raw[4*j+3])<<24)
			case "u8":
				v = l.Min + float32(raw[j])/255*(l.Max-l.Min)
			}
			tol := 1e-6 + float64(l.Max-l.Min)/510
			if l.Encoding == "f32" {
				tol = 0
			}
			if math.Abs(float64(v-w[j])) > tol+1e-6 {
				t.Fatalf("layer %d (%s) value %d = %v, want %v", i, l.Encoding, j, v, w[j])
			}
		}
		if wantEnc := map[bool]string{true: "f32", false: "u8"}[i == 0]; l.Encoding != wantEnc {
			t.Errorf("layer %d encoding %q, want %q", i, l.Encoding, wantEnc)
		}
	}
	if got.Saliency.Class != got.Top[0].Label || fmt.Sprint(got.Saliency.Shape) != "[8 8]" {
		t.Errorf("saliency = %+v, want class %d of shape [8 8]", got.Saliency, got.Top[0].Label)
	}
}

func TestSaliency(t *testing.T) {
	s := testServer(t)
	got := decode[saliencyAnswer](t, do(s, "POST", "/api/saliency?model=letters&class=3", "application/json", []byte(pixelsJSON(64, 100))))
	raw, _ := base64.StdEncoding.DecodeString(got.Data)
	if got.Class != 3 || len(raw) != 64 || got.Max <= 0 {
		t.Fatalf("saliency = %+v (%d values), want class 3, 64 values, max > 0", got, len(raw))
	}
	top := 0
	for _, v := range raw {
		top = max(top, int(v))
	}
	if top != 255 {
		t.Errorf("saliency maximum level = %d, want 255", top)
	}
}

func TestKernel(t *testing.T) {
	s := testServer(t)
	net := s.byName["letters"].layers
	got := decode[kernelAnswer](t, do(s, "GET", "/api/models/letters/layers/0/kernel?channel=2", "", nil))
	if fmt.Sprint(got.Shape) != "[3 3 1]" || len(got.Values) != 9 || got.Bias == nil {
		t.Fatalf("kernel = %+v", got)
	}
	k := net[0].Params[0].Value
	for j, v := range got.Values {
		if w := k.Data[j*4+2]; v != w {
			t.Errorf("kernel value %d = %v, want %v", j, v, w)
		}
	}
	if *got.Bias != net[0].Params[1].Value.Data[2] {
		t.Errorf("bias = %v, want %v", *got.Bias, net[0].Params[1].Value.Data[2])
	}
	d := decode[kernelAnswer](t, do(s, "GET", "/api/models/letters/layers/3/kernel?channel=4", "", nil))
	if fmt.Sprint(d.Shape) != "[64]" || len(d.Values) != 64 {
		t.Errorf("dense kernel shape %v with %d values, want [64]", d.Shape, len(d.Values))
	}
}

func TestHistoryAndEvaluation(t *testing.T) {
	s := testServer(t)
	h := decode[map[string][]float64](t, do(s, "GET", "/api/models/letters/history", "", nil))
	if len(h["val_accuracy"]) != 2 || h["loss"][1] != 0.9 {
		t.Errorf("history = %v", h)
	}
	type evalAnswer struct {
		Matrix       [][]int
		SampleCounts [][]int `json:"sample_counts"`
		Samples      []sample
		Accuracy     float64
	}
	e := decode[evalAnswer](t, do(s, "GET", "/api/models/letters/evaluation", "", nil))
	if len(e.Matrix) != 5 || e.Matrix[1][2] != 1 || e.SampleCounts[1][2] != 1 || e.Samples != nil || e.Accuracy != 0.6 {
		t.Errorf("evaluation = %+v", e)
	}
	type samplesAnswer struct {
		Count   int
		Samples []sample
	}
	sm := decode[samplesAnswer](t, do(s, "GET", "/api/models/letters/evaluation/samples?true=1&pred=2", "", nil))
	if sm.Count != 1 || len(sm.Samples) != 1 || sm.Samples[0].Index != 7 || len(sm.Samples[0].Pixels) != 64 || sm.Samples[0].Pixels[0] != 200 {
		t.Errorf("samples(1,2) = %+v", sm)
	}
	empty := decode[samplesAnswer](t, do(s, "GET", "/api/models/letters/evaluation/samples?true=3&pred=4", "", nil))
	if empty.Count != 0 || len(empty.Samples) != 0 {
		t.Errorf("samples(3,4) = %+v, want none", empty)
	}
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
	net := newTinyNet(8, 8, 1, 5, 1)
	tests := []struct {
		name   string
		models []Model
		want   string
	}{
		{"bad name", []Model{{"a/b", net}}, "model name"},
		{"empty name", []Model{{"", net}}, "model name"},
		{"duplicate", []Model{{"a", net}, {"a", net}}, "two models"},
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
	net := newTinyNet(8, 8, 1, 5, 1)
	net.meta["history"] = "[1,2"
	net.meta["evaluation"] = `{"matrix":[[1]]}`
	var log bytes.Buffer
	s, err := NewServer([]Model{{"m", net}}, Options{Log: &log})
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
	_ = io.EOF
}

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }
