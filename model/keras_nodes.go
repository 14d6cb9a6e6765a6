package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/convnet-go/convnet/nn"
)

// kerasNodes are the nodes of a Keras model read as a graph, from its input
// to its output, and what its layers carry beyond the graph. The input of a
// model inside another is a stand-in for what the model is called on,
// which joinStandIns takes out once it is known.
type kerasNodes struct {
	in, out   *Node
	axes      map[nn.Layer]int // see Model.lastAxes
	frozen    layerSet         // trainable false
	inference layerSet         // called with training false
	standIns  map[*Node]bool   // the inputs of the models inside
}

func newKerasNodes() *kerasNodes {
	return &kerasNodes{axes: map[nn.Layer]int{}, standIns: map[*Node]bool{}}
}

// model makes the graph of the nodes.
func (g *kerasNodes) model() (*Model, error) {
	m, err := NewGraph(g.in, g.out)
	if err != nil {
		return nil, err
	}
	if len(g.axes) > 0 {
		m.lastAxes = g.axes
	}
	m.frozen, m.inference = g.frozen, g.inference
	return m, nil
}

// stack makes the stack of the nodes, a chain.
func (g *kerasNodes) stack() *Model {
	layers := g.layers() // from the output back
	slices.Reverse(layers)
	m := &Model{Layers: layers, input: g.in.shape, frozen: g.frozen, inference: g.inference}
	if len(g.axes) > 0 {
		m.lastAxes = g.axes
	}
	return m
}

// layer notes what a layer read from Keras carries: a last axis, trainable
// false, a call with training false.
func (g *kerasNodes) layer(kl kerasLayer, inference bool) {
	if kl.axis != 0 {
		g.axes[kl.layer] = kl.axis
	}
	if kl.frozen {
		g.frozen.add(kl.before, kl.layer)
	}
	if inference {
		g.inference.add(kl.before, kl.layer)
	}
}

// merge takes in a model inside: what its layers carry, and its input as a
// stand-in. Called with training false, its layers all run as in
// inference.
func (g *kerasNodes) merge(inner *kerasNodes, inference bool) {
	for l, axis := range inner.axes {
		g.axes[l] = axis
	}
	g.frozen.add(slices.Collect(maps.Keys(inner.frozen))...)
	g.inference.add(slices.Collect(maps.Keys(inner.inference))...)
	if inference {
		g.inference.add(inner.layers()...)
	}
	g.standIns[inner.in] = true
}

// layers returns the layers between the input and the output.
func (g *kerasNodes) layers() []nn.Layer {
	var out []nn.Layer
	g.walk(func(n *Node) {
		if n.layer != nil {
			out = append(out, n.layer)
		}
	})
	return out
}

// walk calls f once for each node from the output back to the input, each
// before the nodes it reads.
func (g *kerasNodes) walk(f func(n *Node)) {
	seen := map[*Node]bool{g.in: true}
	stack := []*Node{g.out}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[n] {
			continue
		}
		seen[n] = true
		f(n)
		stack = append(stack, n.in...)
	}
}

// freezeAll freezes every layer when the model's config has trainable
// false, as Keras's model.trainable = False freezes every layer in it.
func (g *kerasNodes) freezeAll(trainable *bool) {
	if trainable != nil && !*trainable {
		g.frozen.add(g.layers()...)
	}
}

// joinStandIns makes the nodes that read the input of a model inside read
// what the model is called on.
func (g *kerasNodes) joinStandIns() {
	g.walk(func(n *Node) {
		for k, q := range n.in {
			for g.standIns[q] && len(q.in) == 1 {
				q = q.in[0]
			}
			n.in[k] = q
		}
	})
}

// innerNodes reads the entry of a Sequential or Functional model used as a
// layer of another (Keras writes its whole config there).
func (e kerasEntry) innerNodes(depth int) (*kerasNodes, error) {
	name, _ := e.Config["name"].(string)
	if depth > maxNesting {
		return nil, fmt.Errorf("%s (%s): models nested more than %d deep", name, e.ClassName, maxNesting)
	}
	b, err := json.Marshal(e.Config)
	km := kerasModel{depth: depth}
	if err == nil {
		err = decodeStrict(b, &km)
	}
	var g *kerasNodes
	if err == nil {
		if e.ClassName == "Sequential" {
			g, err = km.chainNodes()
		} else {
			g, err = km.nodes()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", name, e.ClassName, err)
	}
	return g, nil
}

// holdsFunctional reports whether a list of Keras layers holds a Functional
// model, directly or in a Sequential.
func holdsFunctional(layers []kerasEntry) bool {
	for _, e := range layers {
		switch e.ClassName {
		case "Functional", "Model":
			return true
		case "Sequential":
			var inner struct {
				Layers []kerasEntry `json:"layers"`
			}
			if b, err := json.Marshal(e.Config); err == nil && json.Unmarshal(b, &inner) == nil && holdsFunctional(inner.Layers) {
				return true
			}
		}
	}
	return false
}

// chainNodes makes the nodes of the chain a Sequential config lists, each
// layer reading the one before; a model inside comes in as its layers in
// place. The input node's shape is found as sequential says.
func (km *kerasModel) chainNodes() (*kerasNodes, error) {
	if err := km.common(); err != nil {
		return nil, err
	}
	if km.InputLayers != nil || km.OutputLayers != nil {
		return nil, errors.New("a Sequential config has no input_layers or output_layers")
	}
	g := newKerasNodes()
	g.in = &Node{input: true, shape: km.InputShape}
	prev := g.in
	for i, e := range km.Layers {
		if e.InboundNodes != nil {
			return nil, fmt.Errorf("layers[%d]: inbound_nodes in a Sequential model", i)
		}
		switch e.ClassName {
		case "InputLayer":
			if i > 0 {
				return nil, fmt.Errorf("layers[%d]: an InputLayer must come first", i)
			}
			name, shape, err := inputLayer(e)
			if err != nil {
				return nil, fmt.Errorf("layers[0]: %w", err)
			}
			g.in.name, g.in.shape = name, shape
			continue
		case "Sequential", "Functional", "Model":
			inner, err := e.innerNodes(km.depth + 1)
			if err != nil {
				return nil, fmt.Errorf("layers[%d]: %w", i, err)
			}
			if prev == g.in && g.in.shape == nil {
				g.in.shape, g.in.name = inner.in.shape, inner.in.name
			}
			g.merge(inner, false)
			inner.in.in = []*Node{prev}
			prev = inner.out
			continue
		}
		kl, err := e.layer()
		if err != nil {
			return nil, fmt.Errorf("layers[%d]: %w", i, err)
		}
		if prev == g.in && g.in.shape == nil {
			g.in.shape = kl.input
			if g.in.shape == nil && e.BuildConfig != nil {
				g.in.shape, _ = batchShape(e.BuildConfig.InputShape)
			}
		}
		g.layer(kl, false)
		if kl.before != nil {
			prev = &Node{layer: kl.before, in: []*Node{prev}}
		}
		prev = &Node{layer: kl.layer, in: []*Node{prev}}
	}
	if g.in.shape == nil && km.BuildInputShape != nil {
		s, err := batchShape(km.BuildInputShape)
		if err != nil {
			return nil, fmt.Errorf("build_input_shape: %w", err)
		}
		g.in.shape = s
	}
	if prev == g.in {
		return nil, errors.New("no layers")
	}
	g.out = prev
	g.joinStandIns()
	g.freezeAll(km.Trainable)
	return g, nil
}
