package model

import "github.com/convnet-go/convnet/nn"

// kerasSequential returns the Keras 2 document of a stack: a Sequential
// whose first layer is an InputLayer holding the input shape.
func (m *Model) kerasSequential() map[string]any {
	name := m.Name
	if name == "" {
		name = "sequential"
	}
	layers := []any{map[string]any{"class_name": "InputLayer", "config": inputConfig(m.InputName(), m.input)}}
	for _, l := range m.Layers {
		layers = append(layers, map[string]any{"class_name": kerasClass(l.Type()), "config": m.kerasConfig(l)})
	}
	return map[string]any{
		"class_name": "Sequential",
		"config":     map[string]any{"name": name, "layers": layers},
	}
}

// inputConfig is the config of Keras 2's InputLayer.
func inputConfig(name string, shape []int) map[string]any {
	batch := []any{nil}
	for _, d := range shape {
		batch = append(batch, d)
	}
	return map[string]any{"batch_input_shape": batch, "dtype": "float32", "sparse": false, "ragged": false, "name": name}
}

// kerasFunctional returns the Keras 2 document of a graph: each layer with
// its inbound node, [[["conv2d", 0, 0, {}], ...]], and the input and output
// layers.
func (m *Model) kerasFunctional() map[string]any {
	name := m.Name
	if name == "" {
		name = "model"
	}
	in := m.InputName()
	layers := []any{map[string]any{
		"class_name": "InputLayer", "config": inputConfig(in, m.input), "name": in, "inbound_nodes": []any{},
	}}
	for i, l := range m.Layers {
		var node []any
		kwargs := map[string]any{}
		if m.inference[l] {
			kwargs["training"] = false // Keras 2 records a call's kwargs with each input
		}
		for _, j := range m.inbound(i) {
			node = append(node, []any{m.nodeName(j), 0, 0, kwargs})
		}
		layers = append(layers, map[string]any{
			"class_name": kerasClass(l.Type()), "config": m.kerasConfig(l), "name": l.Name(), "inbound_nodes": []any{node},
		})
	}
	last := m.Layers[len(m.Layers)-1].Name()
	return map[string]any{
		"class_name": "Functional",
		"config": map[string]any{
			"name": name, "trainable": true, "layers": layers,
			"input_layers": []any{[]any{in, 0, 0}}, "output_layers": []any{[]any{last, 0, 0}},
		},
	}
}

// kerasConfig is the layer's Keras config, with "trainable" false if it is
// frozen.
func (m *Model) kerasConfig(l nn.Layer) map[string]any {
	cfg := kerasConfig(l)
	cfg["trainable"] = m.Trainable(l)
	return cfg
}
