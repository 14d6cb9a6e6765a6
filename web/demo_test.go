package web

import (
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/model/pretrained"
)

// demoServer serves the built-in models, as "convnet serve" does, then the
// extra ones.
func demoServer(t testing.TB, extra ...Model) *Server {
	t.Helper()
	var models []Model
	for _, name := range pretrained.Names() {
		m, err := pretrained.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, Model{name, classifier(t, m, model.ClassifierOptions{})})
	}
	s, err := NewServer(append(models, extra...), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
