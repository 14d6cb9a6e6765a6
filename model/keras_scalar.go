package model

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/nn"
)

// tfOps are the TensorFlow functions of tf.keras 2's TFOpLambda layers
// that scalarOp reads, by the Keras 3 operation they are.
var tfOps = map[string]string{
	"__operators__.add": "Add", "math.add": "Add", "math.subtract": "Subtract",
	"math.multiply": "Multiply", "math.truediv": "TrueDivide", "math.divide": "Divide",
}

// scalarOp reads an operation of a tensor and a number, such as Keras's
// MobileNetV3 writes its hard sigmoid, layers.ReLU(6.0)(x + 3.0) *
// (1.0 / 6.0): in Keras 3, an Add, Subtract, Multiply or (True)Divide whose
// call arguments are a tensor and a number, in either order; in tf.keras
// 2, a TFOpLambda layer of such a function called on a tensor with the
// number as its argument y. It is the Rescaling x·scale + offset it
// computes, named as the operation; ok is false for anything else (a
// layer, or an operation of two tensors).
func scalarOp(e kerasEntry) (l *nn.Rescaling, inbound []string, ok bool, err error) {
	op, c, first, node, ok := scalarCall(e)
	name, _ := e.Config["name"].(string)
	if !ok && e.ClassName == "TFOpLambda" {
		return nil, nil, true, fmt.Errorf("%s (TFOpLambda): function %s: convnet reads only %s, called on a tensor with a number y",
			name, jsonText(e.Config["function"]), strings.Join(slices.Sorted(maps.Keys(tfOps)), ", "))
	}
	if !ok {
		return nil, nil, false, nil
	}
	if name == "" {
		return nil, nil, true, fmt.Errorf("%s operation of a tensor and %v has no name", e.ClassName, c)
	}
	where := fmt.Sprintf("%s (%s of a tensor and %v)", name, e.ClassName, c)
	for k, v := range e.Config {
		switch {
		case k == "name", k == "function" && e.ClassName == "TFOpLambda", k == "dtype" && (v == nil || isFloat32(v)), k == "trainable" && (v == true || v == false):
			continue // an operation has no weights: frozen or not, it computes the same
		}
		return nil, nil, true, fmt.Errorf("%s: config field %s = %s: convnet knows only name, function, trainable and a float32 dtype", where, k, jsonText(v))
	}
	scale, offset := 1.0, 0.0
	switch op {
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
	if inbound, _, err = inboundNames([]any{node}); err != nil {
		return nil, nil, true, fmt.Errorf("%s: inbound_nodes: %w", where, err)
	}
	l = &nn.Rescaling{Scale: scale, Offset: offset}
	l.SetName(name)
	return l, inbound, true, nil
}

// scalarCall finds an operation of a tensor and a number: its Keras 3
// class (op), the number c, whether the tensor comes first, and the call
// with the number taken out, as inboundNames reads it.
func scalarCall(e kerasEntry) (op string, c float64, first bool, node any, ok bool) {
	nodes, _ := e.InboundNodes.([]any)
	if len(nodes) != 1 {
		return "", 0, false, nil, false
	}
	if e.ClassName == "TFOpLambda" { // [[["conv", 0, 0, {"y": 3.0, "name": null}]]]
		fn, _ := e.Config["function"].(string)
		refs, _ := nodes[0].([]any)
		if op = tfOps[fn]; op == "" || len(refs) != 1 {
			return "", 0, false, nil, false
		}
		ref, _ := refs[0].([]any)
		if len(ref) != 4 {
			return "", 0, false, nil, false
		}
		kw, _ := ref[3].(map[string]any)
		if c, ok = kw["y"].(float64); !ok || len(kw) > 2 || len(kw) == 2 && !hasNull(kw, "name") {
			return "", 0, false, nil, false
		}
		return op, c, true, []any{ref[:3]}, true
	}
	switch e.ClassName {
	case "Add", "Subtract", "Multiply", "TrueDivide", "Divide":
	default:
		return "", 0, false, nil, false
	}
	call, _ := nodes[0].(map[string]any)
	args, _ := call["args"].([]any)
	if len(args) != 2 {
		return "", 0, false, nil, false
	}
	tensor := args[0]
	if c, first = args[1].(float64); !first {
		if c, ok = args[0].(float64); !ok {
			return "", 0, false, nil, false
		}
		tensor = args[1]
	}
	return e.ClassName, c, first, map[string]any{"args": []any{tensor}, "kwargs": call["kwargs"]}, true
}

// hasNull reports whether m holds key with the value null.
func hasNull(m map[string]any, key string) bool {
	v, ok := m[key]
	return ok && v == nil
}
