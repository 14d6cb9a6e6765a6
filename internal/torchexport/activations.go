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

// activation returns the Python expression of a convnet activation, with
// "%s" for its input, or "" for none. The softmax of the last layer is left
// out: the network returns logits. alpha, when not zero, is the slope of
// the leaky ReLU or the scale of the ELU; zero means the values the
// activation names have in convnet (0.2 and 1, as in Keras).
func activation(l nn.Layer, fn string, last bool, alpha float64) (string, error) {
	switch fn {
	case "", "linear":
		return "", nil
	case "relu":
		return "torch.relu(%s)", nil
	case "leaky_relu":
		if alpha == 0 {
			alpha = 0.2
		}
		return "F.leaky_relu(%s, " + pyFloat(alpha) + ")", nil
	case "elu":
		if alpha == 0 {
			alpha = 1
		}
		return "F.elu(%s, " + pyFloat(alpha) + ")", nil
	case "sigmoid":
		return "torch.sigmoid(%s)", nil
	case "tanh":
		return "torch.tanh(%s)", nil
	case "softmax":
		if last {
			return "", nil
		}
		return "torch.softmax(%s, dim=1)", nil // the channels of an image, the features of a vector
	}
	return "", unsupported(fmt.Sprintf("layer %s (%s)", l.Name(), l.Type()), "activation %q has no PyTorch translation", fn)
}

// activationModule returns the module of an activation layer, "" for the
// identity.
func activationModule(l nn.Layer, fn string, alpha float64) (string, error) {
	switch fn {
	case "", "linear":
		return "", nil
	case "relu":
		return "nn.ReLU()", nil
	case "leaky_relu":
		if alpha == 0 {
			alpha = 0.2
		}
		return "nn.LeakyReLU(" + pyFloat(alpha) + ")", nil
	case "elu":
		if alpha == 0 {
			alpha = 1
		}
		return "nn.ELU(" + pyFloat(alpha) + ")", nil
	case "sigmoid":
		return "nn.Sigmoid()", nil
	case "tanh":
		return "nn.Tanh()", nil
	case "softmax":
		return "nn.Softmax(dim=1)", nil // the channels of an image, the features of a vector
	}
	return "", unsupported(fmt.Sprintf("layer %s (%s)", l.Name(), l.Type()), "activation %q has no PyTorch translation", fn)
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
