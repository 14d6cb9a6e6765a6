package web

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// wantError checks that r is a JSON error of the given status whose
// message contains want.
func wantError(t *testing.T, what string, r response, status int, want string) {
	t.Helper()
	var e errorBody
	if r.status != status || json.Unmarshal(r.body, &e) != nil || !strings.Contains(e.Error, want) {
		t.Errorf("%s: %d %s, want %d with an error containing %q", what, r.status, r.body, status, want)
	}
}

// TestActivationOverflow checks that values whose activation is beyond
// float32 (selu's scale times nearly the largest float32) are refused with
// a 400 naming the value, not a 500 from encoding an infinity.
func TestActivationOverflow(t *testing.T) {
	m := model.New(
		&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, Activation: "selu"},
		&nn.Flatten{},
		&nn.Dense{Units: 3, Activation: "softmax"},
	)
	if err := m.Build([]int{6, 6, 1}, 1); err != nil {
		t.Fatal(err)
	}
	m.ClassNames = []string{"a", "b", "c"}
	s, err := NewServer([]Model{{"selu", classifier(t, m, model.ClassifierOptions{})}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	target := "/api/models/selu/layers/0/activation?z=1,3.4e38"
	wantError(t, "GET "+target, do(s, "GET", target, "", nil), 400, `parameter z: value 1 "3.4e38": selu gives +Inf`)
	got := decode[activationAnswer](t, do(s, "GET", "/api/models/selu/layers/0/activation?z=3e38,-3.4e38", "", nil))
	if len(got.Values) != 2 || !(got.Values[0] > 3.15e38 && got.Values[0] < 3.16e38) || math.Abs(float64(got.Values[1])+nn.SELUScale*nn.SELUAlpha) > 1e-6 {
		t.Errorf("selu(3e38, -3.4e38) = %v, want 3.15e38 and %v", got.Values, -nn.SELUScale*nn.SELUAlpha)
	}
}

// TestModelInPath checks that the model named in the path is the one
// answered: a "model" parameter naming another is refused rather than
// answered for in its place; one naming the same model is accepted.
func TestModelInPath(t *testing.T) {
	s := testServer(t)
	for _, target := range []string{
		"/api/models/letters/layers/0/kernel?model=digits",
		"/api/models/digits/history?model=letters",
		"/api/models/digits/layers/0/activation?z=1&model=letters",
	} {
		wantError(t, "GET "+target, do(s, "GET", target, "", nil), 400, `parameter model="`)
	}
	if got := decode[kernelAnswer](t, do(s, "GET", "/api/models/digits/layers/0/kernel?model=digits", "", nil)); got.Model != "digits" {
		t.Errorf("kernel of digits with model=digits: model %q", got.Model)
	}
}

// TestQueryErrors checks that an API query that does not parse, or that
// gives a parameter twice, is refused: net/url drops a malformed pair (the
// default took its place) and a handler reads the first of repeated values.
func TestQueryErrors(t *testing.T) {
	s := testServer(t)
	ok := pixelsJSON(64, 10)
	for _, tt := range []struct{ method, target, want string }{
		{"POST", "/api/predict?model=letters&k=%zz", `bad query: invalid URL escape "%zz"`},
		{"POST", "/api/predict?model=letters;k=1", "bad query"},
		{"POST", "/api/predict?model=letters&k=1&k=5", "parameter k given 2 times"},
		{"POST", "/api/predict?model=letters&model=digits", "parameter model given 2 times"},
		{"POST", "/api/activations?model=letters&layers=0&layers=1", "parameter layers given 2 times"},
		{"GET", "/api/models/letters/layers/0/activation?z=1&z=2", "parameter z given 2 times"},
		{"GET", "/api/models/letters/layers/0/kernel?channel=%ff%", "bad query"},
	} {
		r := do(s, tt.method, tt.target, "application/json", []byte(ok))
		wantError(t, tt.method+" "+tt.target, r, 400, tt.want)
	}
	// The page is not the API: its query is the page's own.
	if r := do(s, "GET", "/?model=a&model=b&x=%zz", "", nil); r.status != 200 {
		t.Errorf("GET /?model=a&model=b&x=%%zz: %d, want the page", r.status)
	}
}

// TestUnknownParams refuses a parameter the endpoint does not take (a
// misspelt one would leave its default in place), naming those it takes;
// the health checks take any.
func TestUnknownParams(t *testing.T) {
	s := testServer(t)
	ok := pixelsJSON(64, 10)
	for _, tt := range []struct{ method, target, want string }{
		{"POST", "/api/predict?model=letters&top=3", `unknown parameter "top": /api/predict takes model, k`},
		{"POST", "/api/activations?model=letters&salency=1", `unknown parameter "salency": /api/activations takes model, k, layers, full, saliency, cam, camlayer, class, embed`},
		{"POST", "/api/saliency?model=letters&k=2", `unknown parameter "k": /api/saliency takes model, class`},
		{"GET", "/api/models/letters/layers/0/kernel?chanel=1", `unknown parameter "chanel": /api/models/letters/layers/0/kernel takes model, channel`},
		{"GET", "/api/models/letters/history?epoch=1", `unknown parameter "epoch": /api/models/letters/history takes model`},
		{"GET", "/api/models?verbose=1", `unknown parameter "verbose": /api/models takes none`},
	} {
		r := do(s, tt.method, tt.target, "application/json", []byte(ok))
		wantError(t, tt.method+" "+tt.target, r, 400, tt.want)
	}
	for _, target := range []string{"/healthz?probe=1", "/readyz?from=lb"} {
		if r := do(s, "GET", target, "", nil); r.status != 200 {
			t.Errorf("GET %s: %d, want 200", target, r.status)
		}
	}
}

// TestSwitchParams checks the on/off parameters of /api/activations: 1 or
// true turns saliency on, 0 or false leaves it off, and anything else is
// refused rather than taken for off.
func TestSwitchParams(t *testing.T) {
	s := testServer(t)
	ok := []byte(pixelsJSON(64, 10))
	for _, tt := range []struct {
		query    string
		saliency bool
	}{{"saliency=1", true}, {"saliency=true", true}, {"saliency=0", false}, {"saliency=false", false}, {"saliency=", false}, {"", false}} {
		target := "/api/activations?model=letters&" + tt.query
		if got := decode[activationsAnswer](t, do(s, "POST", target, "application/json", ok)); (got.Saliency != nil) != tt.saliency {
			t.Errorf("POST %s: saliency %v, want %v", target, got.Saliency != nil, tt.saliency)
		}
	}
	for _, tt := range []struct{ query, want string }{
		{"saliency=yes", `parameter saliency="yes": want 1 or 0`},
		{"embed=on", `parameter embed="on": want 1 or 0`},
	} {
		target := "/api/activations?model=letters&" + tt.query
		wantError(t, "POST "+target, do(s, "POST", target, "application/json", ok), 400, tt.want)
	}
}

// TestFullRangeFromInput checks that full takes a range from the input,
// -1-1, as its error message says (ranges a-b in -1..N), and that layers,
// from 0, still refuses it.
func TestFullRangeFromInput(t *testing.T) {
	s := testServer(t)
	ok := []byte(pixelsJSON(64, 10))
	got := decode[activationsAnswer](t, do(s, "POST", "/api/activations?model=letters&full=-1-1", "application/json", ok))
	var enc []string
	for _, l := range got.Layers {
		enc = append(enc, l.Encoding)
	}
	if got.Input.Encoding != "f32" || strings.Join(enc, " ") != "f32 f32 u8 u8" {
		t.Errorf("full=-1-1: input %s, layers %v; want f32, then f32 f32 u8 u8", got.Input.Encoding, enc)
	}
	target := "/api/activations?model=letters&layers=-1-1"
	wantError(t, "POST "+target, do(s, "POST", target, "application/json", ok), 400, `parameter layers="-1-1": want layer indices or ranges a-b in 0..3`)
}

// TestCAMLayerWithoutCAM checks that /api/activations refuses a camlayer
// without the cam it would be the layer of, rather than answering without
// a class activation map.
func TestCAMLayerWithoutCAM(t *testing.T) {
	s := testServer(t)
	ok := []byte(pixelsJSON(64, 10))
	target := "/api/activations?model=letters&camlayer=0"
	wantError(t, "POST "+target, do(s, "POST", target, "application/json", ok), 400, "parameter camlayer=\"0\": the layer of cam=gradcam or cam=hirescam, and there is no cam")
	if got := decode[activationsAnswer](t, do(s, "POST", "/api/activations?model=letters&cam=gradcam&camlayer=0", "application/json", ok)); got.CAM == nil || got.CAM.Layer != 0 {
		t.Errorf("cam=gradcam&camlayer=0: cam %+v, want layer 0's", got.CAM)
	}
}
