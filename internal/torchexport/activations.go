package torchexport

import (
	"fmt"
	"strings"

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

// prelu writes a PReLU: nn.PReLU for one slope, or one per channel (of an
// image, or per feature of a vector), which PyTorch takes along axis 1;
// else KerasPReLU, whose weight is alpha in (c, h, w) order.
func (w *walker) prelu(p *pyLayer, l *nn.PReLU, id string, in []int, flat *[3]int) {
	a := l.Params()[0].Value.Shape
	init, toConvnet := pyFloat(l.AlphaInit), "%s.reshape"+pyInts(a)
	switch {
	case one(a):
		p.Attr, p.Init = id, "nn.PReLU(1, init="+init+")"
		p.Comment += ": one slope below 0 for every value, learned"
		p.weight(id+".weight", l.Name()+"/alpha", a, "%s.reshape(-1)", toConvnet)
	case len(a) == 1 || one(a[:len(a)-1]):
		c := a[len(a)-1]
		p.Attr, p.Init = id, fmt.Sprintf("nn.PReLU(%d, init=%s)", c, init)
		p.Comment += ": a slope below 0 for each channel, learned"
		toTorch := "%s.reshape(-1)"
		if len(a) == 1 && flat != nil {
			toTorch, toConvnet = w.fromHWC(flat), w.toHWC(flat)
			p.Comment = strings.Replace(p.Comment, "channel", "feature", 1) + "; they follow the flattened image"
		}
		p.weight(id+".weight", l.Name()+"/alpha", a, toTorch, toConvnet)
	default: // an image whose slopes vary along its height or width
		w.helpers.PReLU = true
		p.Attr, p.Init = id, fmt.Sprintf("KerasPReLU((%d, %d, %d), %s)", a[2], a[0], a[1], init)
		p.Comment += fmt.Sprintf(": slopes below 0 of shape %v (h, w, c), learned", a)
		p.weight(id+".weight", l.Name()+"/alpha", a, "%s.permute(2, 0, 1)", "%s.permute(1, 2, 0)")
	}
}
