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
// their Add layers (two inputs each) made Subtract, Maximum or Minimum:
// each becomes that layer, and the architecture written back reads back
// the same; a Subtract of three inputs is refused by name.
func TestKerasSubtract(t *testing.T) {
	for _, class := range []string{"Subtract", "Maximum", "Minimum"} {
		for _, name := range []string{"residual_keras3.json", "residual_functional.json"} {
			doc, err := os.ReadFile(filepath.Join("testdata", "keras", name))
			if err != nil {
				t.Fatal(err)
			}
			doc = bytes.ReplaceAll(doc, []byte(`"class_name": "Add"`), []byte(`"class_name": "`+class+`"`))
			check := func(what string, m *Model) {
				t.Helper()
				n := 0
				for i, l := range m.Layers {
					if l.Type() == class {
						n++
						if len(m.Inbound(i)) != 2 {
							t.Errorf("%s %s: %s reads %d inputs", name, what, l.Name(), len(m.Inbound(i)))
						}
					}
				}
				if n != 2 {
					t.Fatalf("%s %s: %d %s layers, want 2", name, what, n, class)
				}
			}
			kerasRoundTrip(t, doc, check, `"class_name":"`+class+`"`)
		}
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

// TestKerasReshape reads a Reshape as Keras writes it (target_shape a
// list, -1 allowed), builds it and writes it back; a target that does not
// hold the input's values is refused naming the layer.
func TestKerasReshape(t *testing.T) {
	doc := []byte(`{"class_name": "Sequential", "config": {"name": "s", "layers": [
	  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 2], "dtype": "float32", "name": "in"}},
	  {"class_name": "GlobalAveragePooling2D", "config": {"name": "gap", "data_format": "channels_last"}},
	  {"module": "keras.layers", "class_name": "Reshape", "config": {"name": "se", "trainable": true, "dtype": "float32", "target_shape": [1, 1, -1]}, "registered_name": null},
	  {"class_name": "Conv2D", "config": {"name": "c", "filters": 3, "kernel_size": [1, 1]}},
	  {"class_name": "Flatten", "config": {"name": "f"}},
	  {"class_name": "Dense", "config": {"name": "d", "units": 2, "activation": "softmax"}}]}}`)
	check := func(what string, m *Model) {
		t.Helper()
		r, ok := m.Layers[1].(*nn.Reshape)
		if !ok || r.Name() != "se" || len(r.TargetShape) != 3 || r.TargetShape[2] != -1 {
			t.Fatalf("%s: layer 1 %v, want the Reshape se to [1 1 -1]", what, m.Layers[1].Config())
		}
	}
	m := kerasRoundTrip(t, doc, check, `"target_shape":[1,1,-1]`)
	if s := m.Layers[1].OutputShape(); len(s) != 3 || s[2] != 2 {
		t.Errorf("the reshape gives %v, want [1 1 2]", s)
	}
	m, err := ParseArchitecture(bytes.Replace(doc, []byte(`[1, 1, -1]`), []byte(`[1, 3, -1]`), 1))
	if err == nil {
		err = m.Build(nil, 1)
	}
	if err == nil || !strings.Contains(err.Error(), "se (Reshape): target_shape [1 3 -1] holds more than the 2 values of the input [2]") {
		t.Errorf("a target of 3 cells: %v", err)
	}
}
