package torchexport

import (
	"fmt"

	"github.com/convnet-go/convnet/nn"
)

// activationOf returns the function and, for the leaky ReLU and the ELU, the
// slope or scale of an activation layer.
func activationOf(l nn.Layer) (fn string, alpha float64) {
	switch l := l.(type) {
	case *nn.ReLU:
		if l.MaxValue > 0 {
			return "clipped_relu", l.MaxValue
		}
		return "relu", 0
	case *nn.LeakyReLU:
		return "leaky_relu", l.Config()["alpha"].(float64)
	case *nn.ELU:
		return "elu", l.Config()["alpha"].(float64)
	case *nn.Softmax:
		return "softmax", 0
	case *nn.Activation:
		return l.Func, 0
	}
	panic("torchexport: activationOf " + l.Type())
}

// pyActivation is a convnet activation in PyTorch: a function applied to an
// expression ("%s" stands for it) and the same as a module.
type pyActivation struct{ fn, module string }

// activations returns the PyTorch of a convnet activation; fn "" or
// "linear" gives the zero pyActivation. alpha, when not zero, is the slope
// of the leaky ReLU or the scale of the ELU; zero means the values the
// names have in convnet (0.2 and 1, as in Keras). A softmax runs along the
// channels of an image or the features of a vector: axis 1 in NCHW. The
// aliases convnet takes ("swish", "hard_swish") are PyTorch's SiLU and
// Hardswish too.
func activations(l nn.Layer, fn string, alpha float64) (pyActivation, error) {
	switch fn {
	case "", "linear":
		return pyActivation{}, nil
	case "relu":
		return pyActivation{"torch.relu(%s)", "nn.ReLU()"}, nil
	case "relu6":
		return pyActivation{"F.relu6(%s)", "nn.ReLU6()"}, nil
	case "clipped_relu": // alpha is the largest value
		m := pyFloat(alpha)
		return pyActivation{"F.hardtanh(%s, 0.0, " + m + ")", "nn.Hardtanh(0.0, " + m + ")"}, nil
	case "leaky_relu", "elu":
		if alpha == 0 {
			alpha = map[string]float64{"leaky_relu": 0.2, "elu": 1}[fn]
		}
		a := pyFloat(alpha)
		if fn == "elu" {
			return pyActivation{"F.elu(%s, " + a + ")", "nn.ELU(" + a + ")"}, nil
		}
		return pyActivation{"F.leaky_relu(%s, " + a + ")", "nn.LeakyReLU(" + a + ")"}, nil
	case "sigmoid":
		return pyActivation{"torch.sigmoid(%s)", "nn.Sigmoid()"}, nil
	case "tanh":
		return pyActivation{"torch.tanh(%s)", "nn.Tanh()"}, nil
	case "softmax":
		return pyActivation{"torch.softmax(%s, dim=1)", "nn.Softmax(dim=1)"}, nil
	case "silu", "swish": // x·sigmoid(x)
		return pyActivation{"F.silu(%s)", "nn.SiLU()"}, nil
	case "hard_sigmoid": // min(max(x+3, 0), 6)/6
		return pyActivation{"F.hardsigmoid(%s)", "nn.Hardsigmoid()"}, nil
	case "hard_silu", "hard_swish": // x·hard_sigmoid(x)
		return pyActivation{"F.hardswish(%s)", "nn.Hardswish()"}, nil
	case "selu":
		return pyActivation{"F.selu(%s)", "nn.SELU()"}, nil
	case "gelu": // the exact one, PyTorch's default
		return pyActivation{"F.gelu(%s)", "nn.GELU()"}, nil
	case "softplus":
		return pyActivation{"F.softplus(%s)", "nn.Softplus()"}, nil
	case "softsign":
		return pyActivation{"F.softsign(%s)", "nn.Softsign()"}, nil
	case "mish":
		return pyActivation{"F.mish(%s)", "nn.Mish()"}, nil
	}
	return pyActivation{}, unsupported(fmt.Sprintf("layer %s (%s)", l.Name(), l.Type()), "activation %q has no PyTorch translation", fn)
}

// activation returns the expression of the activation of a Conv2D or
// Dense, with "%s" for its input, or "" for none. The softmax of the last
// layer is left out: the network returns logits.
func activation(l nn.Layer, fn string, last bool) (string, error) {
	if fn == "softmax" && last {
		return "", nil
	}
	a, err := activations(l, fn, 0)
	return a.fn, err
}

// endsInSoftmax reports whether l applies a softmax last, which the network
// leaves out of its last layer (see nn.FinalSoftmax).
func endsInSoftmax(l nn.Layer) bool {
	switch l := l.(type) {
	case *nn.Dense:
		return l.Activation == "softmax"
	case *nn.Conv2D:
		return l.Activation == "softmax"
	case *nn.DepthwiseConv2D:
		return l.Activation == "softmax"
	case *nn.Softmax:
		return true
	case *nn.Activation:
		return l.Func == "softmax"
	}
	return false
}

// apply fills the activation expression act with x, or returns x.
func apply(act, x string) string {
	if act == "" {
		return x
	}
	return fmt.Sprintf(act, x)
}

func actNote(fn string, last bool) string {
	switch {
	case fn == "" || fn == "linear":
		return ""
	case fn == "softmax" && last:
		return ", softmax (left out: the loss takes the logits)"
	}
	return ", " + fn
}
