package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/nn"
)

// The architecture documents read and written here are Keras's: what
// model.to_json() writes, {"class_name": "Sequential" or "Functional",
// "config": {...}}. See arch_json.go for the entry points.

// kerasDoc is the top of a Keras model document. Keras 3 adds module,
// registered_name, build_config and compile_config; tf.keras adds
// keras_version and backend. None of them changes the architecture.
type kerasDoc struct {
	ClassName      string       `json:"class_name"`
	Config         kerasModel   `json:"config"`
	KerasVersion   any          `json:"keras_version,omitempty"`
	Backend        any          `json:"backend,omitempty"`
	Module         any          `json:"module,omitempty"`
	RegisteredName any          `json:"registered_name,omitempty"`
	BuildConfig    *buildConfig `json:"build_config,omitempty"`
	CompileConfig  any          `json:"compile_config,omitempty"`
}

type buildConfig struct {
	InputShape any `json:"input_shape"`
}

// kerasModel is the config of a Sequential or Functional model, and
// convnet's own first architecture form ({"input_shape": [...], "layers":
// [...]}, which has no wrapper).
type kerasModel struct {
	Name            string       `json:"name,omitempty"`
	Trainable       *bool        `json:"trainable,omitempty"`
	DType           any          `json:"dtype,omitempty"`
	Layers          []kerasEntry `json:"layers"`
	InputLayers     any          `json:"input_layers,omitempty"`
	OutputLayers    any          `json:"output_layers,omitempty"`
	BuildInputShape any          `json:"build_input_shape,omitempty"`
	InputShape      []int        `json:"input_shape,omitempty"` // convnet's first form
}

// kerasEntry is one layer of a model's config.
type kerasEntry struct {
	ClassName      string         `json:"class_name"`
	Config         map[string]any `json:"config"`
	Name           string         `json:"name,omitempty"`
	InboundNodes   any            `json:"inbound_nodes,omitempty"`
	Module         any            `json:"module,omitempty"`
	RegisteredName any            `json:"registered_name,omitempty"`
	BuildConfig    *buildConfig   `json:"build_config,omitempty"`
}

// decodeStrict decodes JSON into v, refusing unknown fields.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}

// parseArchitecture reads an architecture document: a Keras model's
// to_json() (Sequential or Functional, Keras 2 or 3) or convnet's first
// form. It returns the unbuilt model, with the input shape the document
// gives (nil if none).
func parseArchitecture(b []byte) (*Model, error) {
	var probe struct {
		ClassName *string `json:"class_name"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, err
	}
	if probe.ClassName == nil {
		var km kerasModel
		if err := decodeStrict(b, &km); err != nil {
			return nil, err
		}
		return km.sequential()
	}
	var doc kerasDoc
	if err := decodeStrict(b, &doc); err != nil {
		return nil, err
	}
	km := &doc.Config
	if km.BuildInputShape == nil && doc.BuildConfig != nil {
		km.BuildInputShape = doc.BuildConfig.InputShape
	}
	var m *Model
	var err error
	switch doc.ClassName {
	case "Sequential":
		m, err = km.sequential()
	case "Functional", "Model":
		m, err = km.functional()
	default:
		return nil, fmt.Errorf("class_name %q: want Sequential or Functional", doc.ClassName)
	}
	if err != nil {
		return nil, err
	}
	m.Name = km.Name
	return m, nil
}

// common checks the model-level fields both kinds share.
func (km *kerasModel) common() error {
	if km.Trainable != nil && !*km.Trainable {
		return errors.New("trainable = false: convnet supports only trainable models")
	}
	if km.DType != nil && !isFloat32(km.DType) {
		return fmt.Errorf("dtype = %s: convnet supports only float32", jsonText(km.DType))
	}
	if len(km.Layers) == 0 {
		return errors.New("no layers")
	}
	return nil
}

// sequential makes the stack a Sequential config lists. The input shape
// comes from a first InputLayer, else from the first layer's
// batch_input_shape, else from build_input_shape or the first layer's
// build_config (Keras 3), else from convnet's input_shape.
func (km *kerasModel) sequential() (*Model, error) {
	if err := km.common(); err != nil {
		return nil, err
	}
	if km.InputLayers != nil || km.OutputLayers != nil {
		return nil, errors.New("a Sequential config has no input_layers or output_layers")
	}
	m := &Model{input: km.InputShape}
	var axes map[nn.Layer]int
	for i, e := range km.Layers {
		if e.InboundNodes != nil {
			return nil, fmt.Errorf("layers[%d]: inbound_nodes in a Sequential model", i)
		}
		if e.ClassName == "InputLayer" {
			if i > 0 {
				return nil, fmt.Errorf("layers[%d]: an InputLayer must come first", i)
			}
			_, shape, err := inputLayer(e)
			if err != nil {
				return nil, fmt.Errorf("layers[0]: %w", err)
			}
			m.input = shape
			continue
		}
		kl, err := e.layer()
		if err != nil {
			return nil, fmt.Errorf("layers[%d]: %w", i, err)
		}
		if len(m.Layers) == 0 && m.input == nil {
			m.input = kl.input
			if m.input == nil && e.BuildConfig != nil {
				m.input, _ = batchShape(e.BuildConfig.InputShape)
			}
		}
		if kl.axis != 0 {
			if axes == nil {
				axes = map[nn.Layer]int{}
			}
			axes[kl.layer] = kl.axis
		}
		m.Layers = append(m.Layers, kl.layer)
	}
	if m.input == nil && km.BuildInputShape != nil {
		s, err := batchShape(km.BuildInputShape)
		if err != nil {
			return nil, fmt.Errorf("build_input_shape: %w", err)
		}
		m.input = s
	}
	if len(m.Layers) == 0 {
		return nil, errors.New("no layers")
	}
	m.lastAxes = axes
	return m, nil
}

// layer makes the entry's layer; the entry's name must agree with its
// config's.
func (e kerasEntry) layer() (kerasLayer, error) {
	if e.ClassName == "" {
		return kerasLayer{}, errors.New("no class_name")
	}
	if _, ok := e.Config["name"]; !ok && e.Name != "" {
		e.Config["name"] = e.Name
	}
	kl, err := layerFromKeras(e.ClassName, e.Config)
	if err != nil {
		return kl, err
	}
	if e.Name != "" && kl.layer.Name() != e.Name {
		return kl, fmt.Errorf("layer %q has %q in its config", e.Name, kl.layer.Name())
	}
	return kl, nil
}

// inputLayer reads an InputLayer entry: its name and the shape of a sample.
func inputLayer(e kerasEntry) (string, []int, error) {
	cfg := e.Config
	name, _ := cfg["name"].(string)
	if name == "" {
		name = e.Name
	}
	var shape []int
	for key, v := range cfg {
		var err error
		switch key {
		case "name":
		case "batch_input_shape", "batch_shape":
			shape, err = batchShape(v)
		case "dtype":
			if !isFloat32(v) {
				err = fmt.Errorf("%s: convnet supports only float32", jsonText(v))
			}
		case "sparse", "ragged", "optional":
			if v != false {
				err = fmt.Errorf("%s: convnet supports only false", jsonText(v))
			}
		case "input_tensor":
			if v != nil {
				err = fmt.Errorf("%s: convnet supports only null", jsonText(v))
			}
		default:
			err = errors.New("unknown field")
		}
		if err != nil {
			return "", nil, fmt.Errorf("%s (InputLayer): %s: %w", name, key, err)
		}
	}
	if shape == nil {
		return "", nil, fmt.Errorf("%s (InputLayer): no batch_input_shape", name)
	}
	return name, shape, nil
}

// kerasSequential returns the Keras 2 document of a stack: a Sequential
// whose first layer is an InputLayer holding the input shape.
func (m *Model) kerasSequential() map[string]any {
	name := m.Name
	if name == "" {
		name = "sequential"
	}
	layers := []any{map[string]any{"class_name": "InputLayer", "config": inputConfig(m.InputName(), m.input)}}
	for _, l := range m.Layers {
		layers = append(layers, map[string]any{"class_name": kerasClass(l.Type()), "config": kerasConfig(l)})
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
		for _, j := range m.inbound(i) {
			node = append(node, []any{m.nodeName(j), 0, 0, map[string]any{}})
		}
		layers = append(layers, map[string]any{
			"class_name": kerasClass(l.Type()), "config": kerasConfig(l), "name": l.Name(), "inbound_nodes": []any{node},
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

// checkAxis returns an error if a layer read with a positive axis (see
// lastAxis) does not find it last in its input of shape in.
func (m *Model) checkAxis(l nn.Layer, in []int) error {
	if k, ok := m.lastAxes[l]; ok && k != len(in) {
		return fmt.Errorf("%s (%s): axis %d is not the last axis of its input (None, ...) of rank %d: convnet supports only the last axis",
			l.Name(), l.Type(), k, len(in)+1)
	}
	return nil
}

// functional makes the graph a Functional config describes. Layers are
// called once (on one inbound node); the model has one input and one
// output. Layers that do not lead to the output, names used twice, unknown
// or cyclic references are errors naming the layers.
func (km *kerasModel) functional() (*Model, error) {
	if err := km.common(); err != nil {
		return nil, err
	}
	inName, err := oneEnd("input_layers", km.InputLayers)
	if err != nil {
		return nil, err
	}
	outName, err := oneEnd("output_layers", km.OutputLayers)
	if err != nil {
		return nil, err
	}
	type pending struct {
		node    *Node
		inbound []string
		state   int // 0 unresolved, 1 resolving, 2 resolved
	}
	byName := map[string]*pending{}
	var names []string
	axes := map[nn.Layer]int{}
	for i, e := range km.Layers {
		p := &pending{}
		var name string
		if e.ClassName == "InputLayer" {
			n, shape, err := inputLayer(e)
			if err != nil {
				return nil, fmt.Errorf("layers[%d]: %w", i, err)
			}
			name = n
			p.node = &Node{shape: shape, name: name}
		} else {
			kl, err := e.layer()
			if err != nil {
				return nil, fmt.Errorf("layers[%d]: %w", i, err)
			}
			name = kl.layer.Name()
			if name == "" {
				return nil, fmt.Errorf("layers[%d] (%s) has no name", i, e.ClassName)
			}
			if kl.axis != 0 {
				axes[kl.layer] = kl.axis
			}
			p.node = &Node{layer: kl.layer}
			if p.inbound, err = inboundNames(e.InboundNodes); err != nil {
				return nil, fmt.Errorf("%s (%s): inbound_nodes: %w", name, e.ClassName, err)
			}
		}
		if byName[name] != nil {
			return nil, fmt.Errorf("two layers are named %q", name)
		}
		byName[name] = p
		names = append(names, name)
	}
	in, out := byName[inName], byName[outName]
	if in == nil || in.node.layer != nil {
		return nil, fmt.Errorf("input_layers: %q is not an InputLayer of the model", inName)
	}
	if out == nil {
		return nil, fmt.Errorf("output_layers: %q is not a layer of the model", outName)
	}
	// Resolve the references from the output, depth first without
	// recursion (a hostile document may chain many layers).
	type frame struct {
		name string
		next int
	}
	stack := []frame{{name: outName}}
	out.state = 1
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		p := byName[f.name]
		if f.next == len(p.inbound) {
			p.state = 2
			stack = stack[:len(stack)-1]
			continue
		}
		ref := p.inbound[f.next]
		f.next++
		q := byName[ref]
		switch {
		case q == nil:
			return nil, fmt.Errorf("%s is called on %q, which is not a layer of the model", labelOf(p.node), ref)
		case q.state == 1:
			var cycle []string
			for _, g := range stack {
				cycle = append(cycle, g.name)
			}
			i := slices.Index(cycle, ref)
			return nil, fmt.Errorf("layers %s form a cycle", strings.Join(append(cycle[i:], ref), " → "))
		}
		p.node.in = append(p.node.in, q.node)
		if q.state == 0 {
			q.state = 1
			stack = append(stack, frame{name: ref})
		}
	}
	if in.state != 2 {
		return nil, fmt.Errorf("the model's input %s does not lead to the output %s", labelOf(in.node), outName)
	}
	for _, name := range names {
		if p := byName[name]; p.state != 2 {
			return nil, fmt.Errorf("%s does not lead to the output %s", labelOf(p.node), outName)
		}
	}
	m, err := NewGraph(in.node, out.node)
	if err != nil {
		return nil, err
	}
	if len(axes) > 0 {
		m.lastAxes = axes
	}
	return m, nil
}

// oneEnd reads input_layers or output_layers: [["name", 0, 0]] or, as
// Keras 3 writes a single one, ["name", 0, 0].
func oneEnd(key string, v any) (string, error) {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return "", fmt.Errorf("%s = %s: want [[name, 0, 0]]", key, jsonText(v))
	}
	if _, nested := list[0].([]any); nested {
		if len(list) > 1 {
			return "", fmt.Errorf("%s lists %d layers: convnet models have one input and one output", key, len(list))
		}
		list = list[0].([]any)
	}
	name, err := tensorRef(list)
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	return name, nil
}

// tensorRef reads [name, node_index, tensor_index] (Keras 2 adds the call's
// kwargs), which must refer to the only output of the only call of a layer.
func tensorRef(ref []any) (string, error) {
	name, _ := ref[0].(string)
	if len(ref) < 3 || name == "" {
		return "", fmt.Errorf("%s: want [name, node_index, tensor_index]", jsonText(ref))
	}
	if ref[1] != 0.0 || ref[2] != 0.0 {
		return "", fmt.Errorf("%s: convnet supports only node 0, tensor 0 (layers called once)", jsonText(ref))
	}
	if len(ref) > 3 {
		if err := emptyKwargs(ref[3]); err != nil {
			return "", fmt.Errorf("%s: %w", jsonText(ref), err)
		}
	}
	return name, nil
}

// emptyKwargs accepts the keyword arguments of a call that convnet can
// ignore: none, or only nulls (Keras 3 may record mask: null).
func emptyKwargs(v any) error {
	kw, ok := v.(map[string]any)
	if v != nil && !ok {
		return fmt.Errorf("call arguments %s: want an object", jsonText(v))
	}
	for k, x := range kw {
		if x != nil {
			return fmt.Errorf("call argument %s = %s is not supported", k, jsonText(x))
		}
	}
	return nil
}

// inboundNames reads a layer's inbound_nodes, which must hold one call:
// Keras 2's [[["conv2d", 0, 0, {}], ...]] or Keras 3's [{"args": [...],
// "kwargs": {}}], whose args are keras tensors {"class_name":
// "__keras_tensor__", "config": {"keras_history": ["conv2d", 0, 0]}} or a
// list of them.
func inboundNames(v any) ([]string, error) {
	nodes, ok := v.([]any)
	if !ok || len(nodes) == 0 {
		return nil, errors.New("the layer is not called on anything")
	}
	if len(nodes) > 1 {
		return nil, fmt.Errorf("the layer is called %d times: layers with shared weights are not supported", len(nodes))
	}
	var refs []any
	switch node := nodes[0].(type) {
	case []any: // Keras 2
		refs = node
	case map[string]any: // Keras 3
		for k := range node {
			if k != "args" && k != "kwargs" {
				return nil, fmt.Errorf("unknown field %q", k)
			}
		}
		if err := emptyKwargs(node["kwargs"]); err != nil {
			return nil, err
		}
		args, _ := node["args"].([]any)
		if len(args) != 1 {
			return nil, fmt.Errorf("%d call arguments: want one (a tensor or a list of tensors)", len(args))
		}
		if list, ok := args[0].([]any); ok {
			refs = list
		} else {
			refs = args
		}
		for i, r := range refs {
			t, _ := r.(map[string]any)
			cfg, _ := t["config"].(map[string]any)
			if t["class_name"] != "__keras_tensor__" || cfg == nil {
				return nil, fmt.Errorf("argument %s: want a __keras_tensor__", jsonText(r))
			}
			refs[i] = cfg["keras_history"]
		}
	default:
		return nil, fmt.Errorf("%s: want a list of tensors", jsonText(node))
	}
	var names []string
	for _, r := range refs {
		ref, ok := r.([]any)
		if !ok {
			return nil, fmt.Errorf("%s: want [name, node_index, tensor_index]", jsonText(r))
		}
		name, err := tensorRef(ref)
		if err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, errors.New("the layer is called on no tensor")
	}
	return names, nil
}
