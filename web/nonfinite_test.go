package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
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

// TestNonFiniteHiddenLayer: a model whose first layer overflows while its
// output stays finite (a tanh saturates the infinities) answers the
// requests that would hold that layer's values with a 422 naming it, never
// a 500 from encoding an infinity; the others are answered.
func TestNonFiniteHiddenLayer(t *testing.T) {
	m := model.New(
		&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, Padding: "same"},
		&nn.Activation{Func: "tanh"},
		&nn.Flatten{},
		&nn.Dense{Units: 3, Activation: "softmax"},
	)
	if err := m.Build([]int{8, 8, 1}, 1); err != nil {
		t.Fatal(err)
	}
	m.ClassNames = []string{"a", "b", "c"}
	for i := range m.Layers[0].Params()[0].Value.Data {
		m.Layers[0].Params()[0].Value.Data[i] = 3e38
	}
	s, err := NewServer([]Model{{"hidden", classifier(t, m, model.ClassifierOptions{Workers: 1})}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(pixelsJSON(64, 200))
	for _, target := range []string{"/api/activations", "/api/activations?full=0&saliency=1", "/api/activations?layers=0,3"} {
		r := do(s, "POST", target, "application/json", body)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "layer 0 (conv2d) outputs values that are not finite") {
			t.Errorf("POST %s: %d %s, want 422 naming layer 0", target, r.status, r.body)
		}
	}
	for _, target := range []string{"/api/predict", "/api/activations?layers=1-3"} {
		if r := do(s, "POST", target, "application/json", body); r.status != http.StatusOK {
			t.Errorf("POST %s: %d %s, want 200: the values it answers are finite", target, r.status, r.body)
		}
	}
	if r := do(s, "GET", "/api/models/hidden/layers/0/pattern", "", nil); r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "not finite") {
		t.Errorf("GET layer 0's pattern: %d %s, want 422 saying its mean is not finite", r.status, r.body)
	}
}
