package model

import (
	"fmt"
	"math"

	"github.com/convnet-go/convnet/nn"
)

// activation appends the node of an activation function (ActivationNames).
func (e *onnxWriter) activation(fn, name string, alpha float64) error {
	switch fn {
	case "relu":
		e.apply("Relu", name, nil)
	case "clipped_relu", "relu6": // alpha is the largest value
		if fn == "relu6" {
			alpha = 6
		}
		e.apply("Clip", name, []string{e.weight(name+"/min", nil, []float32{0}), e.weight(name+"/max", nil, []float32{float32(alpha)})})
	case "leaky_relu":
		e.apply("LeakyRelu", name, nil, attrFloat("alpha", alpha))
	case "elu":
		e.apply("Elu", name, nil, attrFloat("alpha", alpha))
	case "sigmoid":
		e.apply("Sigmoid", name, nil)
	case "tanh":
		e.apply("Tanh", name, nil)
	case "hard_sigmoid":
		e.apply("HardSigmoid", name, nil, attrFloat("alpha", 1.0/6), attrFloat("beta", 0.5))
	case "silu", "swish", "hard_silu", "hard_swish":
		// x times its gate, as PyTorch exports SiLU (HardSwish would need
		// opset 14).
		x := e.cur
		if fn == "silu" || fn == "swish" {
			e.apply("Sigmoid", name+"/sigmoid", nil)
		} else {
			e.apply("HardSigmoid", name+"/hard_sigmoid", nil, attrFloat("alpha", 1.0/6), attrFloat("beta", 0.5))
		}
		e.apply("Mul", name, []string{x})
	case "selu":
		e.apply("Selu", name, nil, attrFloat("alpha", nn.SELUAlpha), attrFloat("gamma", nn.SELUScale))
	case "softplus":
		e.apply("Softplus", name, nil)
	case "softsign":
		e.apply("Softsign", name, nil)
	case "gelu":
		// x·(erf(x/√2) + 1)·0.5, as PyTorch exports GELU (ONNX's Gelu
		// needs opset 20).
		x := e.cur
		e.apply("Div", name+"/div", []string{e.weight(name+"/sqrt2", nil, []float32{math.Sqrt2})})
		e.apply("Erf", name+"/erf", nil)
		e.apply("Add", name+"/add", []string{e.weight(name+"/one", nil, []float32{1})})
		e.apply("Mul", name+"/mul", []string{x})
		e.apply("Mul", name, []string{e.weight(name+"/half", nil, []float32{0.5})})
	case "mish":
		// x·tanh(softplus(x)), as PyTorch exports Mish (ONNX's Mish needs
		// opset 18).
		x := e.cur
		e.apply("Softplus", name+"/softplus", nil)
		e.apply("Tanh", name+"/tanh", nil)
		e.apply("Mul", name, []string{x})
	case "softmax":
		// convnet's softmax runs along the last axis: the channels of an
		// NHWC image, axis 1 in NCHW, and the features of a vector.
		e.apply("Softmax", name, nil, attrInt("axis", 1))
	default:
		return fmt.Errorf("no ONNX form for activation %q", fn)
	}
	return nil
}

// layerActivation returns the activation function a layer ends with, read
// from its config ("" when the layer has none, such as pooling), and its
// slope or scale for leaky_relu and elu.
func layerActivation(l nn.Layer) (fn string, alpha float64) {
	cfg := l.Config()
	alpha, _ = cfg["alpha"].(float64)
	switch l.Type() {
	case "ReLU":
		if m, _ := cfg["max_value"].(float64); m > 0 {
			return "clipped_relu", m
		}
		return "relu", 0
	case "LeakyReLU":
		return "leaky_relu", alpha
	case "ELU":
		return "elu", alpha
	case "Softmax":
		return "softmax", 0
	}
	fn, _ = cfg["activation"].(string)
	switch fn {
	case "leaky_relu":
		alpha = 0.2 // the function's slope in Keras, not the layer's 0.3
	case "elu":
		alpha = 1
	}
	return fn, alpha
}

func isActivationLayer(l nn.Layer) bool {
	switch l.Type() {
	case "ReLU", "LeakyReLU", "ELU", "Softmax", "Activation":
		return true
	}
	return false
}
