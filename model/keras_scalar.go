package model

import (
	"fmt"
	"math"

	"github.com/convnet-go/convnet/nn"
)

// scalarOp reads a Keras 3 operation of a tensor and a number, such as
// Keras's MobileNetV3 writes its hard sigmoid, layers.ReLU(6.0)(x + 3.0) *
// (1.0 / 6.0): an Add, Subtract, Multiply or (True)Divide whose call
// arguments are a tensor and a number, in either order. It is the
// Rescaling x·scale + offset it computes, named as the operation; ok is
// false for anything else (a layer, or an operation of two tensors).
func scalarOp(e kerasEntry) (l *nn.Rescaling, inbound []string, ok bool, err error) {
	switch e.ClassName {
	case "Add", "Subtract", "Multiply", "TrueDivide", "Divide":
	default:
		return nil, nil, false, nil
	}
	nodes, _ := e.InboundNodes.([]any)
	if len(nodes) != 1 {
		return nil, nil, false, nil
	}
	node, _ := nodes[0].(map[string]any)
	args, _ := node["args"].([]any)
	if len(args) != 2 {
		return nil, nil, false, nil
	}
	c, first := args[1].(float64)
	tensor := args[0]
	if !first {
		if c, ok = args[0].(float64); !ok {
			return nil, nil, false, nil
		}
		tensor = args[1]
	}
	name, _ := e.Config["name"].(string)
	if name == "" {
		return nil, nil, true, fmt.Errorf("%s operation of a tensor and %v has no name", e.ClassName, c)
	}
	where := fmt.Sprintf("%s (%s of a tensor and %v)", name, e.ClassName, c)
	for k, v := range e.Config {
		if k == "dtype" && (v == nil || isFloat32(v)) || k == "name" {
			continue
		}
		return nil, nil, true, fmt.Errorf("%s: config field %s = %s: convnet knows only name and a float32 dtype", where, k, jsonText(v))
	}
	scale, offset := 1.0, 0.0
	switch e.ClassName {
	case "Add":
		offset = c
	case "Subtract":
		if offset = -c; !first {
			scale, offset = -1, c // c - x
		}
	case "Multiply":
		scale = c
	default: // x / c
		if !first {
			return nil, nil, true, fmt.Errorf("%s: a number divided by a tensor: convnet supports only a tensor divided by a number", where)
		}
		scale = 1 / c
	}
	if scale == 0 || math.IsInf(scale, 0) || math.IsNaN(scale) || math.IsInf(offset, 0) || math.IsNaN(offset) {
		return nil, nil, true, fmt.Errorf("%s: the scale %v and offset %v it makes must be finite, the scale not 0", where, scale, offset)
	}
	if inbound, err = inboundNames([]any{map[string]any{"args": []any{tensor}, "kwargs": node["kwargs"]}}); err != nil {
		return nil, nil, true, fmt.Errorf("%s: inbound_nodes: %w", where, err)
	}
	l = &nn.Rescaling{Scale: scale, Offset: offset}
	l.SetName(name)
	return l, inbound, true, nil
}
