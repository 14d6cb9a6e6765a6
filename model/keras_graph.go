package model

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// functional makes the graph a Functional config describes. Layers are
// called once (on one inbound node); the model has one input and one
// output. Layers that do not lead to the output, names used twice, unknown
// or cyclic references are errors naming the layers. A Sequential or a
// Functional model called as a layer comes in as its layers in place.
func (km *kerasModel) functional() (*Model, error) {
	g, err := km.nodes()
	if err != nil {
		return nil, err
	}
	return g.model()
}

// nodes makes the nodes of the graph a Functional config describes (see
// functional), its input node a stand-in when it is a model inside another.
func (km *kerasModel) nodes() (*kerasNodes, error) {
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
		node    *Node // what other layers read
		head    *Node // what reads the inbound layers: node, or the layer before it
		inbound []string
		state   int // 0 unresolved, 1 resolving, 2 resolved
	}
	byName := map[string]*pending{}
	var names []string
	g := newKerasNodes()
	for i, e := range km.Layers {
		p := &pending{}
		var name string
		if e.ClassName == "InputLayer" {
			n, shape, err := inputLayer(e)
			if err != nil {
				return nil, fmt.Errorf("layers[%d]: %w", i, err)
			}
			name = n
			p.node = &Node{input: true, shape: shape, name: name}
		} else if e.ClassName == "Sequential" || e.ClassName == "Functional" || e.ClassName == "Model" {
			// A model called as a layer (Keras's ConvNeXt's stem and
			// downsampling, a keras.applications base): its layers in
			// place, its input a stand-in for what it is called on.
			name, _ = e.Config["name"].(string)
			if name == "" {
				return nil, fmt.Errorf("layers[%d] (%s) has no name", i, e.ClassName)
			}
			inner, err := e.innerNodes(km.depth + 1)
			if err != nil {
				return nil, fmt.Errorf("layers[%d]: %w", i, err)
			}
			var inference bool
			if p.inbound, inference, err = inboundNames(e.InboundNodes); err != nil {
				return nil, fmt.Errorf("%s (%s): inbound_nodes: %w", name, e.ClassName, err)
			}
			g.merge(inner, inference)
			p.head, p.node = inner.in, inner.out
		} else if l, inbound, ok, err := scalarOp(e); ok {
			if err != nil {
				return nil, fmt.Errorf("layers[%d]: %w", i, err)
			}
			name, p.inbound = l.Name(), inbound
			p.node = &Node{layer: l}
			p.head = p.node
		} else {
			kl, err := e.layer()
			if err != nil {
				return nil, fmt.Errorf("layers[%d]: %w", i, err)
			}
			name = kl.layer.Name()
			if name == "" {
				return nil, fmt.Errorf("layers[%d] (%s) has no name", i, e.ClassName)
			}
			var inference bool
			if p.inbound, inference, err = inboundNames(e.InboundNodes); err != nil {
				return nil, fmt.Errorf("%s (%s): inbound_nodes: %w", name, e.ClassName, err)
			}
			g.layer(kl, inference)
			p.node = &Node{layer: kl.layer}
			p.head = p.node
			if kl.before != nil {
				p.head = &Node{layer: kl.before}
				p.node.in = []*Node{p.head}
			}
		}
		if byName[name] != nil {
			return nil, fmt.Errorf("two layers are named %q", name)
		}
		byName[name] = p
		names = append(names, name)
	}
	in, out := byName[inName], byName[outName]
	if in == nil || !in.node.input {
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
		p.head.in = append(p.head.in, q.node)
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
	g.in, g.out = in.node, out.node
	g.joinStandIns()
	g.freezeAll(km.Trainable)
	return g, nil
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
	name, _, err := tensorRef(list)
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	return name, nil
}

// tensorRef reads [name, node_index, tensor_index] (Keras 2 adds the call's
// kwargs), which must refer to the only output of the only call of a layer;
// inference reports a call with training false.
func tensorRef(ref []any) (name string, inference bool, err error) {
	if len(ref) >= 3 {
		name, _ = ref[0].(string)
	}
	if name == "" {
		return "", false, fmt.Errorf("%s: want [name, node_index, tensor_index]", jsonText(ref))
	}
	if ref[1] != 0.0 || ref[2] != 0.0 {
		return "", false, fmt.Errorf("%s: convnet supports only node 0, tensor 0 (layers called once)", jsonText(ref))
	}
	if len(ref) > 3 {
		if inference, err = callKwargs(ref[3]); err != nil {
			return "", false, fmt.Errorf("%s: %w", jsonText(ref), err)
		}
	}
	return name, inference, nil
}

// callKwargs reads the keyword arguments of a call: none, nulls (Keras 3
// may record mask: null), or training false, which makes the layer, or
// every layer of the model called, run as in inference also in training
// (Keras's base_model(x, training=False)); inference reports it.
func callKwargs(v any) (inference bool, err error) {
	kw, ok := v.(map[string]any)
	if v != nil && !ok {
		return false, fmt.Errorf("call arguments %s: want an object", jsonText(v))
	}
	for k, x := range kw {
		switch {
		case x == nil:
		case k == "training" && x == false:
			inference = true
		default:
			return false, fmt.Errorf("call argument %s = %s is not supported", k, jsonText(x))
		}
	}
	return inference, nil
}

// inboundNames reads a layer's inbound_nodes, which must hold one call:
// Keras 2's [[["conv2d", 0, 0, {}], ...]] or Keras 3's [{"args": [...],
// "kwargs": {}}], whose args are keras tensors {"class_name":
// "__keras_tensor__", "config": {"keras_history": ["conv2d", 0, 0]}} or a
// list of them.
func inboundNames(v any) (names []string, inference bool, err error) {
	nodes, ok := v.([]any)
	if !ok || len(nodes) == 0 {
		return nil, false, errors.New("the layer is not called on anything")
	}
	if len(nodes) > 1 {
		return nil, false, fmt.Errorf("the layer is called %d times: layers with shared weights are not supported", len(nodes))
	}
	var refs []any
	switch node := nodes[0].(type) {
	case []any: // Keras 2
		refs = node
	case map[string]any: // Keras 3
		for k := range node {
			if k != "args" && k != "kwargs" {
				return nil, false, fmt.Errorf("unknown field %q", k)
			}
		}
		if inference, err = callKwargs(node["kwargs"]); err != nil {
			return nil, false, err
		}
		// One argument, a tensor or a list of them (a merge layer's), or
		// tensors one by one (Keras 3's operations: x + y is an Add of two).
		args, _ := node["args"].([]any)
		if len(args) == 0 {
			return nil, false, errors.New("no call arguments: want a tensor, a list of tensors, or tensors")
		}
		refs = args
		if list, ok := args[0].([]any); ok && len(args) == 1 {
			refs = list
		}
		for i, r := range refs {
			t, _ := r.(map[string]any)
			cfg, _ := t["config"].(map[string]any)
			if t["class_name"] != "__keras_tensor__" || cfg == nil {
				return nil, false, fmt.Errorf("argument %s: want a __keras_tensor__", jsonText(r))
			}
			refs[i] = cfg["keras_history"]
		}
	default:
		return nil, false, fmt.Errorf("%s: want a list of tensors", jsonText(node))
	}
	for _, r := range refs {
		ref, ok := r.([]any)
		if !ok {
			return nil, false, fmt.Errorf("%s: want [name, node_index, tensor_index]", jsonText(r))
		}
		name, inf, err := tensorRef(ref)
		if err != nil {
			return nil, false, err
		}
		names, inference = append(names, name), inference || inf
	}
	if len(names) == 0 {
		return nil, false, errors.New("the layer is called on no tensor")
	}
	return names, inference, nil
}
