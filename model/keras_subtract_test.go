package model

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
)

// TestKerasSubtract reads Keras 3's and tf.keras's residual networks with
// their Add layers (two inputs each) made Subtract: each becomes a
// Subtract, and the architecture written back reads back the same; a
// Subtract of three inputs is refused by name.
func TestKerasSubtract(t *testing.T) {
	for _, name := range []string{"residual_keras3.json", "residual_functional.json"} {
		doc, err := os.ReadFile(filepath.Join("testdata", "keras", name))
		if err != nil {
			t.Fatal(err)
		}
		doc = bytes.ReplaceAll(doc, []byte(`"class_name": "Add"`), []byte(`"class_name": "Subtract"`))
		check := func(what string, m *Model) {
			t.Helper()
			n := 0
			for i, l := range m.Layers {
				if _, ok := l.(*nn.Subtract); ok {
					n++
					if len(m.Inbound(i)) != 2 {
						t.Errorf("%s %s: %s reads %d inputs", name, what, l.Name(), len(m.Inbound(i)))
					}
				}
			}
			if n != 2 {
				t.Fatalf("%s %s: %d Subtract layers, want 2", name, what, n)
			}
		}
		kerasRoundTrip(t, doc, check, `"class_name":"Subtract"`)
	}
	in := Input(3)
	a, b := Call(&nn.Dense{Units: 2}, in), Call(&nn.Dense{Units: 2}, in)
	m, err := NewGraph(in, Call(&nn.Subtract{}, a, b, a))
	if err == nil {
		err = m.Build(nil, 1)
	}
	if err == nil || !strings.Contains(err.Error(), "Subtract takes exactly 2 inputs, got 3") {
		t.Errorf("a Subtract of three inputs: %v", err)
	}
}
