package model

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/convnet-go/convnet/nn"
)

// Node is a value of a graph under construction, the part Keras's symbolic
// tensors play in its Functional API: the model's input, made by [Input], or
// the output of a layer called on other nodes, made by [Call].
//
//	in := model.Input(32, 32, 1)
//	x := model.Call(&nn.Conv2D{Filters: 16, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "relu"}, in)
//	y := model.Call(&nn.Conv2D{Filters: 16, KernelSize: [2]int{3, 3}, Padding: "same"}, x)
//	x = model.Call(&nn.Add{}, x, y) // a skip connection
//	out := model.Call(&nn.Dense{Units: 28, Activation: "softmax"}, model.Call(&nn.GlobalAveragePooling2D{}, x))
//	m, err := model.NewGraph(in, out)
type Node struct {
	input bool     // the model's input, made by Input
	layer nn.Layer // the layer called, for the other nodes
	in    []*Node
	shape []int  // the input's shape
	name  string // the input's name, as a Keras document gives it; "" lets NewGraph name it
}

// Input returns the input node of a graph for samples of the given shape,
// without the batch axis (such as 32, 32, 1).
func Input(shape ...int) *Node { return &Node{input: true, shape: slices.Clone(shape)} }

// Call returns the output of layer l called on the outputs of the nodes in:
// Keras's l(x), or l([a, b]) for a merge layer such as [nn.Add]. NewGraph
// reports a nil layer, a layer called twice or on the wrong number of
// inputs.
func Call(l nn.Layer, in ...*Node) *Node { return &Node{layer: l, in: slices.Clone(in)} }

// graph holds how the layers of a graph are connected.
type graph struct {
	inputName string
	layers    []nn.Layer // Model.Layers as NewGraph made them, to notice changes
	inbound   [][]int    // per layer, the nodes it is called on: 0 is the input, i+1 is layers[i]
}

// NewGraph returns the unbuilt model that computes out from in, Keras's
// Model(inputs, outputs). Its layers are every layer that out depends on,
// ordered as Keras orders a Functional model's layers: by decreasing depth
// (the longest path to the output), ties in the order a depth-first walk
// from the output, through each layer's inputs in order, first meets them.
// Every layer comes after the layers it is called on.
//
// Layers without names get Keras's default names (conv2d, conv2d_1, add,
// ...) in that order, and the input "input_1". A layer called twice (shared
// weights are not supported), called on a number of inputs it cannot take
// (merge layers need at least two, other layers one), or an output that does
// not depend on in, or depends on another input, is an error naming the
// layers. Shapes are checked by Build.
func NewGraph(in, out *Node) (*Model, error) {
	if in == nil || !in.input {
		return nil, errors.New("graph: the input must be a node made by Input")
	}
	if err := checkInputShape(in.shape); err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	if out == nil {
		return nil, errors.New("graph: no output")
	}
	nodes, post, err := walk(out)
	if err != nil {
		return nil, err
	}
	if out.input {
		if out != in {
			return nil, errors.New("graph: disconnected: the output is an input other than the model's")
		}
		return nil, errors.New("graph: the output is the input: the model has no layers")
	}
	g := &graph{inputName: in.name}
	order := kerasOrder(nodes, post)
	for _, n := range order {
		if !n.input {
			g.layers = append(g.layers, n.layer)
		}
	}
	m := &Model{Layers: slices.Clone(g.layers), graph: g, input: slices.Clone(in.shape)}
	if err := m.assignNames(); err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	for _, n := range nodes {
		if !n.input && len(n.in) == 0 {
			return nil, fmt.Errorf("graph: %s is called on no input", labelOf(n))
		}
		for _, p := range n.in {
			if p.input && p != in {
				return nil, fmt.Errorf("graph: disconnected: %s is called on %s, which is not the model's input", labelOf(n), labelOf(p))
			}
		}
	}
	// Every path from the output ends at in, so in comes first.
	index := map[*Node]int{}
	for i, n := range order {
		index[n] = i
	}
	for _, n := range order[1:] {
		ins := make([]int, len(n.in))
		for k, p := range n.in {
			ins[k] = index[p]
		}
		g.inbound = append(g.inbound, ins)
	}
	for i, l := range g.layers {
		_, merge := l.(nn.MultiInput)
		switch n := len(g.inbound[i]); {
		case merge && n < 2:
			return nil, fmt.Errorf("graph: %s is called on %d input: a merge layer takes at least 2", labelOf(order[i+1]), n)
		case !merge && n != 1:
			return nil, fmt.Errorf("graph: %s is called on %d inputs (%s) but takes one: join them first with a merge layer such as Add or Concatenate",
				labelOf(order[i+1]), n, m.inboundNames(i))
		}
	}
	return m, nil
}

// walk returns every node out depends on, in the order a depth-first walk
// from out, through each node's inputs in order, first meets them, and the
// same nodes in post-order (each after its inputs). It checks for nil nodes
// and layers, cycles and layers called more than once. It does not recurse:
// a graph read from a file may chain many layers.
func walk(out *Node) (pre, post []*Node, err error) {
	const (
		open = 1
		done = 2
	)
	state := map[*Node]int{}
	called := map[nn.Layer]bool{}
	type frame struct {
		n    *Node
		next int
	}
	var stack []frame
	enter := func(n, from *Node) error {
		switch {
		case n == nil:
			return fmt.Errorf("graph: %s is called on a nil node", labelOf(from))
		case state[n] == open:
			return fmt.Errorf("graph: %s is part of a cycle", labelOf(n))
		case state[n] == done:
			return nil
		case !n.input && n.layer == nil:
			return errors.New("graph: Call with a nil layer")
		case n.layer != nil && called[n.layer]:
			return fmt.Errorf("graph: %s is called twice: layers with shared weights are not supported", labelOf(n))
		}
		if n.layer != nil {
			called[n.layer] = true
		}
		state[n] = open
		pre = append(pre, n)
		stack = append(stack, frame{n: n})
		return nil
	}
	if err := enter(out, nil); err != nil {
		return nil, nil, err
	}
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if f.next == len(f.n.in) {
			state[f.n] = done
			post = append(post, f.n)
			stack = stack[:len(stack)-1]
			continue
		}
		p := f.n.in[f.next]
		f.next++
		if err := enter(p, f.n); err != nil {
			return nil, nil, err
		}
	}
	return pre, post, nil
}

// kerasOrder sorts the nodes by decreasing depth, the length of the longest
// path to the output, ties in the order of pre (the walk's first meetings),
// as Keras's _map_graph_network orders a Functional model's layers. post
// lists every node after its inputs, so in reverse each node comes before
// its inputs and its depth is final when its inputs get theirs.
func kerasOrder(pre, post []*Node) []*Node {
	first := map[*Node]int{}
	for i, n := range pre {
		first[n] = i
	}
	depth := map[*Node]int{}
	for i := len(post) - 1; i >= 0; i-- {
		n := post[i]
		for _, p := range n.in {
			depth[p] = max(depth[p], depth[n]+1)
		}
	}
	order := slices.Clone(pre)
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if depth[a] != depth[b] {
			return depth[a] > depth[b]
		}
		return first[a] < first[b]
	})
	return order
}

// labelOf names a node in messages: "name (Type)" for a layer, "input_1
// (InputLayer)" for an input.
func labelOf(n *Node) string {
	switch {
	case n == nil:
		return "a node"
	case n.input:
		if n.name == "" {
			return "an input"
		}
		return n.name + " (InputLayer)"
	case n.layer == nil:
		return "a nil layer"
	case n.layer.Name() == "":
		return n.layer.Type()
	}
	return n.layer.Name() + " (" + n.layer.Type() + ")"
}

// inboundNames lists the names of the layers (or the input) that Layers[i]
// is called on, as "conv2d, input_1".
func (m *Model) inboundNames(i int) string {
	var names []string
	for _, j := range m.inbound(i) {
		names = append(names, m.nodeName(j))
	}
	return strings.Join(names, ", ")
}

// nodeName returns the name of node j: the input for 0, else Layers[j-1].
func (m *Model) nodeName(j int) string {
	if j == 0 {
		return m.InputName()
	}
	return m.Layers[j-1].Name()
}

// inbound returns the nodes Layers[i] is called on (0 is the input, j > 0
// is Layers[j-1]).
func (m *Model) inbound(i int) []int {
	if m.graph != nil && i < len(m.graph.inbound) {
		return m.graph.inbound[i]
	}
	return []int{i}
}

// Inbound returns the indices in Layers of the layers whose outputs
// Layers[i] is called on, in order; -1 stands for the model's input. For a
// stack it is [i-1]. A graph's branches can be drawn from it.
func (m *Model) Inbound(i int) []int {
	if i < 0 || i >= len(m.Layers) {
		panic(fmt.Sprintf("model: Inbound(%d) of %d layers", i, len(m.Layers)))
	}
	in := slices.Clone(m.inbound(i))
	for k := range in {
		in[k]--
	}
	return in
}

// IsGraph reports whether the model was made as a graph (by [NewGraph] or
// from a Keras Functional architecture) rather than as a stack of layers.
func (m *Model) IsGraph() bool { return m.graph != nil }

// InputName returns the name of a graph's input, such as "input_1" (for a
// stack, Keras's name "<first layer>_input").
func (m *Model) InputName() string {
	if m.graph != nil {
		return m.graph.inputName
	}
	if len(m.Layers) > 0 && m.Layers[0] != nil {
		return m.Layers[0].Name() + "_input"
	}
	return "input"
}

// checkGraph returns an error unless Layers still holds the layers the
// graph was made with.
func (m *Model) checkGraph() error {
	if m.graph == nil {
		return nil
	}
	if len(m.Layers) != len(m.graph.layers) {
		return fmt.Errorf("the graph has %d layers but Layers holds %d: a graph's layers cannot be changed", len(m.graph.layers), len(m.Layers))
	}
	for i, l := range m.Layers {
		if l != m.graph.layers[i] {
			return fmt.Errorf("layer %d is not the one the graph was made with: a graph's layers cannot be changed", i+1)
		}
	}
	return nil
}
