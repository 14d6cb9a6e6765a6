package model

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/convnet-go/convnet/nn"
)

// TestGraphDocument checks the graph's document of a graph with every
// merge layer: each layer's call lists, in Keras 3's form, the tensors of
// the layers it is called on (a merge's as one list),
// and the document reads back as the same graph; a stack whose batch
// normalization runs as in inference is a Functional chain whose call says
// training false.
func TestGraphDocument(t *testing.T) {
	m := branchy(t, "relu", "softmax", true)
	if err := m.Build([]int{8, 8, 2}, 1); err != nil {
		t.Fatal(err)
	}
	doc, err := m.graphDocument()
	if err != nil {
		t.Fatal(err)
	}
	type document struct {
		ClassName string `json:"class_name"`
		Config    struct {
			Layers []struct {
				Config       struct{ Name string }
				InboundNodes []struct {
					Args   []json.RawMessage
					Kwargs map[string]any
				} `json:"inbound_nodes"`
			}
		}
	}
	var d document
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	if d.ClassName != "Functional" || len(d.Config.Layers) != len(m.Layers)+1 {
		t.Fatalf("%s of %d layers, want Functional of %d", d.ClassName, len(d.Config.Layers), len(m.Layers)+1)
	}
	type tensor struct {
		ClassName string `json:"class_name"`
		Config    struct {
			KerasHistory []any `json:"keras_history"`
		}
	}
	for i, l := range m.Layers {
		nodes := d.Config.Layers[i+1].InboundNodes
		if len(nodes) != 1 || len(nodes[0].Args) != 1 || len(nodes[0].Kwargs) != 0 {
			t.Fatalf("%s: inbound nodes %+v, want one call of one argument", l.Name(), nodes)
		}
		var ts []tensor
		if len(m.Inbound(i)) > 1 {
			if err := json.Unmarshal(nodes[0].Args[0], &ts); err != nil {
				t.Fatalf("%s: a merge's argument: %v", l.Name(), err)
			}
		} else {
			ts = make([]tensor, 1)
			if err := json.Unmarshal(nodes[0].Args[0], &ts[0]); err != nil {
				t.Fatalf("%s: %v", l.Name(), err)
			}
		}
		var names []string
		for k, j := range m.Inbound(i) {
			from := m.InputName()
			if j >= 0 {
				from = m.Layers[j].Name()
			}
			names = append(names, from)
			if ts[k].ClassName != "__keras_tensor__" || !slices.Equal(ts[k].Config.KerasHistory, []any{from, 0.0, 0.0}) {
				t.Errorf("%s: argument %d %+v, want the tensor of %s", l.Name(), k, ts[k], from)
			}
		}
		if len(ts) != len(names) {
			t.Errorf("%s: %d tensors, want %v", l.Name(), len(ts), names)
		}
	}
	back, err := ParseArchitecture(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Layers) != len(m.Layers) {
		t.Fatalf("read back: %d layers, want %d", len(back.Layers), len(m.Layers))
	}
	for i := range m.Layers {
		if back.Layers[i].Name() != m.Layers[i].Name() || !slices.Equal(back.Inbound(i), m.Inbound(i)) {
			t.Errorf("read back: layer %d %s on %v, want %s on %v", i, back.Layers[i].Name(), back.Inbound(i), m.Layers[i].Name(), m.Inbound(i))
		}
	}

	s := New(&nn.Conv2D{Filters: 2, KernelSize: pair(3)}, &nn.BatchNormalization{}, &nn.Flatten{}, &nn.Dense{Units: 3, Activation: "softmax"})
	if err := s.Build([]int{6, 6, 1}, 1); err != nil {
		t.Fatal(err)
	}
	d = document{}
	if doc, _ := s.graphDocument(); json.Unmarshal(doc, &d) != nil || d.ClassName != "Sequential" || d.Config.Layers[2].InboundNodes != nil {
		t.Fatalf("a stack: %s", doc)
	}
	if err := s.SetInferenceInTraining(true, s.Layers[1]); err != nil {
		t.Fatal(err)
	}
	doc, _ = s.graphDocument()
	d = document{}
	if err := json.Unmarshal(doc, &d); err != nil || d.ClassName != "Functional" {
		t.Fatalf("a stack with a layer in inference: %s", doc)
	}
	for i, l := range d.Config.Layers[1:] {
		if want := i == 1; len(l.InboundNodes) != 1 || (l.InboundNodes[0].Kwargs["training"] == false) != want {
			t.Errorf("%s: call %+v, want training false: %v", l.Config.Name, l.InboundNodes, want)
		}
	}
	back, err = ParseArchitecture(doc)
	if err != nil || !back.inference[back.Layers[1]] {
		t.Errorf("read back: %v, inference %v", err, back != nil && back.inference[back.Layers[1]])
	}
}
