package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
)

// TestNonFiniteModel: a model whose finite weights overflow answers the
// requests for its outputs with a JSON error that says so, never a 500 and
// never NaN in an answer. A saliency map, a gradient that stays finite
// where the outputs do not, is still answered.
func TestNonFiniteModel(t *testing.T) {
	m := tinyModel(t, 8, 8, 3, 1)
	for _, l := range m.Layers {
		if l.Name() == "dense" {
			for i := range l.Params()[0].Value.Data {
				l.Params()[0].Value.Data[i] = 3e38
			}
		}
	}
	s, err := NewServer([]Model{{"broken", classifier(t, m, model.ClassifierOptions{Workers: 1})}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(pixelsJSON(64, 200))
	for _, target := range []string{"/api/saliency", "/api/cam"} {
		if r := do(s, "POST", target, "application/json", body); r.status != http.StatusOK || strings.Contains(string(r.body), "NaN") {
			t.Errorf("POST %s: %d %s, want 200 and a finite map", target, r.status, r.body)
		}
	}
	if r := do(s, "GET", "/api/models/broken/layers/3/pattern?channel=0", "", nil); r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "not finite") {
		t.Errorf("GET the dense layer's pattern: %d %s, want 422 and an error saying the output is not finite", r.status, r.body)
	}
	for _, target := range []string{"/api/predict", "/api/activations", "/api/activations?saliency=1", "/api/activations?cam=hirescam"} {
		r := do(s, "POST", target, "application/json", body)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "not finite") || strings.Contains(string(r.body), "NaN,") {
			t.Errorf("POST %s: %d %s, want 422 and an error saying the output is not finite", target, r.status, r.body)
		}
	}
}
