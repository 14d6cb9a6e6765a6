package model

import (
	"fmt"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/internal/onnxpb"
)

// Reading the graph before its nodes turn into layers: the initializers,
// the one input, and the nodes in an order where producers come first.

// readInitializers parses every initializer into a constant.
func (b *onnxBuilder) readInitializers(g *onnxpb.GraphProto) error {
	for _, t := range g.GetInitializer() {
		name := t.GetName()
		if _, dup := b.values[name]; dup || name == "" {
			return onnxErr("initializer %q: empty or duplicate name", name)
		}
		c, err := parseTensor(t)
		if err != nil {
			return onnxErr("initializer %q: %v", name, err)
		}
		b.values[name] = &onnxValue{konst: c}
	}
	return nil
}

// readInput finds the graph's one computed input and returns its shape
// per sample in convnet's order.
func (b *onnxBuilder) readInput(g *onnxpb.GraphProto, override []int) ([]int, error) {
	var in *onnxpb.ValueInfoProto
	for _, vi := range g.GetInput() {
		if _, isInit := b.values[vi.GetName()]; isInit {
			continue
		}
		if in != nil {
			return nil, onnxErr("graph has two inputs, %q and %q: want one image or vector input", in.GetName(), vi.GetName())
		}
		in = vi
	}
	if in == nil {
		return nil, onnxErr("graph has no input")
	}
	tt := in.GetType().GetTensorType()
	if tt == nil || tt.GetElemType() != int32(onnxpb.TensorProto_FLOAT) {
		return nil, onnxErr("input %q is not a float32 tensor", in.GetName())
	}
	dims := tt.GetShape().GetDim()
	if len(dims) != 4 && len(dims) != 2 {
		return nil, onnxErr("input %q has rank %d, want [N C H W] or [N F]", in.GetName(), len(dims))
	}
	sample := make([]int, len(dims)-1) // ONNX order; 0 where symbolic
	for i, d := range dims[1:] {
		if v := d.GetDimValue(); v > 0 && v <= maxInputDim {
			sample[i] = int(v)
		} else if v != 0 {
			return nil, onnxErr("input %q: dimension %d of size %d, want 1 to %d", in.GetName(), i+1, v, maxInputDim)
		}
	}
	shape := sample
	if len(sample) == 3 {
		shape = []int{sample[1], sample[2], sample[0]}
	}
	if override != nil {
		if len(override) != len(shape) {
			return nil, onnxErr("input shape %v given for input %q of rank %d", override, in.GetName(), len(dims))
		}
		for i, d := range shape {
			if d != 0 && d != override[i] {
				return nil, onnxErr("input shape %v given, the graph's input %q is %v (convnet order, 0: any)", override, in.GetName(), shape)
			}
		}
		shape = slices.Clone(override)
	}
	if slices.Contains(shape, 0) {
		return nil, onnxErr("input %q has shape %v (convnet order, 0: symbolic): give the input shape", in.GetName(), shape)
	}
	if err := checkInputShape(shape); err != nil {
		return nil, onnxErr("input %q: %v", in.GetName(), err)
	}
	b.in = Input(shape...)
	b.values[in.GetName()] = &onnxValue{node: b.in, shape: nchw(shape)}
	return shape, nil
}

// sortNodes checks that every node input is produced by something, that
// every value is produced once, and returns the nodes in an order where
// producers come first; a cycle is an error naming one of its nodes.
func (b *onnxBuilder) sortNodes(nodes []*onnxpb.NodeProto, out string) ([]*onnxpb.NodeProto, error) {
	producer := map[string]int{}
	for i, n := range nodes {
		for _, out := range n.GetOutput() {
			if out == "" {
				continue
			}
			if _, dup := producer[out]; dup {
				return nil, nodeErr(n, "output %q is also produced by another node", out)
			}
			if _, dup := b.values[out]; dup {
				return nil, nodeErr(n, "output %q is also a graph input or initializer", out)
			}
			producer[out] = i
		}
	}
	b.inputs, b.readers = map[string]int{}, map[string][]string{}
	waiting := make([]int, len(nodes)) // inputs not yet produced
	users := map[int][]int{}           // producer -> nodes waiting on it
	for i, n := range nodes {
		for _, in := range n.GetInput() {
			if in == "" {
				continue // an optional input left out
			}
			b.inputs[in]++
			b.readers[in] = append(b.readers[in], n.GetOpType())
			if _, ok := b.values[in]; ok {
				continue
			}
			p, ok := producer[in]
			if !ok {
				return nil, nodeErr(n, "input %q is not produced by any node, initializer or graph input", in)
			}
			waiting[i]++
			users[p] = append(users[p], i)
		}
	}
	if _, ok := producer[out]; !ok {
		if _, ok := b.values[out]; !ok {
			return nil, onnxErr("graph output %q is not produced by any node", out)
		}
	}
	b.inputs[out]++
	var order []*onnxpb.NodeProto
	var ready []int
	for i := range nodes {
		if waiting[i] == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		i := ready[0]
		ready = ready[1:]
		order = append(order, nodes[i])
		for _, u := range users[i] {
			if waiting[u]--; waiting[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	if len(order) < len(nodes) {
		return nil, cycleErr(nodes, producer, waiting)
	}
	return order, nil
}

// cycleErr names the nodes of a cycle among the nodes still waiting for an
// input. Every waiting node has a waiting producer, so walking from one
// producer to the next comes back to a node already seen: the cycle runs
// from there.
func cycleErr(nodes []*onnxpb.NodeProto, producer map[string]int, waiting []int) error {
	waitingProducer := func(i int) int {
		for _, in := range nodes[i].GetInput() {
			if p, ok := producer[in]; ok && waiting[p] > 0 {
				return p
			}
		}
		panic("model: a waiting node without a waiting producer")
	}
	i := slices.IndexFunc(waiting, func(w int) bool { return w > 0 })
	seen := map[int]int{} // node -> its position on the walk
	var walk []int
	for _, ok := seen[i]; !ok; _, ok = seen[i] {
		seen[i] = len(walk)
		walk = append(walk, i)
		i = waitingProducer(i)
	}
	// The walk goes from reader to producer: the cycle in the order values
	// flow is its reverse, told from the node that comes first in the file.
	cycle := walk[seen[i]:]
	slices.Reverse(cycle)
	first := slices.Index(cycle, slices.Min(cycle))
	cycle = slices.Concat(cycle[first:], cycle[:first], cycle[first:first+1])
	var names []string
	for _, j := range cycle {
		names = append(names, fmt.Sprintf("%q", nodeName(nodes[j])))
	}
	return nodeErr(nodes[cycle[0]], "the graph has a cycle: %s", strings.Join(names, " -> "))
}
