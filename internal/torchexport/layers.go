package torchexport

import (
	"fmt"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/nn"
)

// pyLayer is one layer's share of model.py: its module, its statements in
// forward and the statements of load_convnet that fill it from the model
// file. Statements read and assign the variable x (a graph model will give
// each layer its own input and output names).
type pyLayer struct {
	Comment string   // what the layer is, for the reader
	Attr    string   // the module's attribute of Net; "" when it has none
	Init    string   // the module, such as "nn.Conv2d(1, 32, (5, 5), padding=(2, 2))"
	Forward []string // statements computing x from x
	Load    []string // statements of load_convnet
}

// helpers says which of model.py's helper definitions the layers use.
type helpers struct {
	SameConv, SameMaxPool, SameAvgPool bool
	BatchNorm                          bool
	FromHWC                            bool
}

// Same reports whether a layer needs Keras's uneven "same" padding.
func (h helpers) Same() bool { return h.SameConv || h.SameMaxPool || h.SameAvgPool }

// walker turns layers into Python, one at a time, carrying what a layer
// needs to know about those before it.
type walker struct {
	helpers helpers
	attrs   map[string]bool // attribute names taken
	// flat is the (c, h, w) shape of the image whose flattening gave the
	// features flowing now, when PyTorch's order of them differs from
	// convnet's: per-feature weights read from the model file are reordered
	// until a Dense mixes the features.
	flat *[3]int
}

// UnsupportedError reports a part of a model or recipe that the PyTorch
// project cannot reproduce exactly.
type UnsupportedError struct {
	What, Why string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s: %s", e.What, e.Why)
}

func unsupported(what, format string, args ...any) error {
	return &UnsupportedError{What: what, Why: fmt.Sprintf(format, args...)}
}

// layers turns the model's layers into Python, walking them in order from
// the input shape.
func (w *walker) layers(layers []nn.Layer, input []int) ([]pyLayer, error) {
	var out []pyLayer
	in := input
	for i, l := range layers {
		last := i == len(layers)-1
		p, err := w.layer(l, in, last)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
		in = l.OutputShape()
	}
	return out, nil
}

// layer returns the Python of l, whose input has shape in (convnet's order,
// without the batch axis). The last layer leaves out a final softmax: the
// network returns logits, which the loss takes.
func (w *walker) layer(l nn.Layer, in []int, last bool) (pyLayer, error) {
	name := l.Name()
	p := pyLayer{Comment: fmt.Sprintf("%s (%s)", name, l.Type())}
	module := func(init string) {
		p.Attr = w.attr(name)
		p.Init = init
	}
	call := func(act string) {
		p.Forward = append(p.Forward, "x = "+apply(act, fmt.Sprintf("self.%s(x)", p.Attr)))
	}
	switch l := l.(type) {
	case *nn.Conv2D:
		h, wd, c := in[0], in[1], in[2]
		k, s := l.KernelSize, orOne(l.Strides)
		pads := [4]int{}
		if l.Padding == "same" {
			pads = samePads(h, wd, k, s)
		}
		bias := biasArg(l.NoBias)
		act, err := activation(l, l.Activation, last)
		if err != nil {
			return p, err
		}
		if symmetric(pads) {
			module(fmt.Sprintf("nn.Conv2d(%d, %d, %s%s%s%s)", c, l.Filters, pyPair(k), strideArg(s), paddingArg(pads), bias))
		} else {
			w.helpers.SameConv = true
			module(fmt.Sprintf("SameConv2d(%d, %d, %s, %s, %s%s)", c, l.Filters, pyPair(k), pyPair(s), pyInts(pads[:]), bias))
		}
		p.Comment += fmt.Sprintf(": %d filters %dx%d%s, %s padding%s", l.Filters, k[0], k[1], strideNote(s), paddingName(l.Padding), actNote(l.Activation, last))
		call(act)
		p.Load = append(p.Load, fmt.Sprintf("net.%s.weight.copy_(tensor(%s, %d, %d, %d, %d).permute(3, 2, 0, 1))  # HWIO to OIHW",
			p.Attr, pyStr(name+"/kernel"), k[0], k[1], c, l.Filters))
		if !l.NoBias {
			p.Load = append(p.Load, fmt.Sprintf("net.%s.bias.copy_(tensor(%s, %d))", p.Attr, pyStr(name+"/bias"), l.Filters))
		}
		w.flat = nil
	case *nn.Dense:
		act, err := activation(l, l.Activation, last)
		if err != nil {
			return p, err
		}
		module(fmt.Sprintf("nn.Linear(%d, %d%s)", in[0], l.Units, biasArg(l.NoBias)))
		p.Comment += fmt.Sprintf(": %d units%s", l.Units, actNote(l.Activation, last))
		call(act)
		kernel := fmt.Sprintf("tensor(%s, %d, %d)", pyStr(name+"/kernel"), in[0], l.Units)
		note := "[in, out] to [out, in]"
		if w.flat != nil {
			kernel, note = w.fromHWC(kernel), note+"; rows from (h, w, c) to (c, h, w) order"
		}
		p.Load = append(p.Load, fmt.Sprintf("net.%s.weight.copy_(%s.t())  # %s", p.Attr, kernel, note))
		if !l.NoBias {
			p.Load = append(p.Load, fmt.Sprintf("net.%s.bias.copy_(tensor(%s, %d))", p.Attr, pyStr(name+"/bias"), l.Units))
		}
		w.flat = nil
	case *nn.MaxPool2D, *nn.AveragePooling2D:
		cfg := l.Config()
		k, s := configPair(cfg["pool_size"]), configPair(cfg["strides"])
		pads := [4]int{}
		if cfg["padding"] == "same" {
			pads = samePads(in[0], in[1], k, s)
		}
		_, isMax := l.(*nn.MaxPool2D)
		p.Comment += fmt.Sprintf(": %dx%d%s, %s padding", k[0], k[1], strideNote(s), cfg["padding"])
		switch {
		case isMax && symmetric(pads):
			module(fmt.Sprintf("nn.MaxPool2d(%s, %s%s)", pyPair(k), pyPair(s), paddingArg(pads)))
		case isMax:
			w.helpers.SameMaxPool = true
			module(fmt.Sprintf("SameMaxPool2d(%s, %s, %s)", pyPair(k), pyPair(s), pyInts(pads[:])))
		case symmetric(pads):
			// Keras averages over the cells inside the image only. (Without
			// padding it changes nothing, but torch.onnx.export would write a
			// Pad node for count_include_pad=True.)
			module(fmt.Sprintf("nn.AvgPool2d(%s, %s%s, count_include_pad=False)", pyPair(k), pyPair(s), paddingArg(pads)))
		default:
			w.helpers.SameAvgPool = true
			module(fmt.Sprintf("SameAvgPool2d(%s, %s, %s)", pyPair(k), pyPair(s), pyInts(pads[:])))
		}
		call("")
	case *nn.Dropout:
		module(fmt.Sprintf("nn.Dropout(%s)", pyFloat(l.Rate)))
		p.Comment += fmt.Sprintf(": rate %s, only in training", pyFloat(l.Rate))
		call("")
	case *nn.Flatten:
		module("nn.Flatten()")
		call("")
		if len(in) == 3 {
			p.Comment += ": PyTorch flattens in (c, h, w) order, convnet in (h, w, c)"
			if c, hw := in[2], in[0]*in[1]; c > 1 && hw > 1 {
				w.flat = &[3]int{in[2], in[0], in[1]}
				p.Comment += "; load_convnet reorders the weights after it"
			}
		}
	case *nn.GlobalAveragePooling2D:
		module("nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())")
		p.Comment += ": the mean of each channel"
		call("")
		w.flat = nil
	case *nn.BatchNormalization:
		cfg := l.Config()
		c := in[len(in)-1]
		w.helpers.BatchNorm = true
		module(fmt.Sprintf("KerasBatchNorm(%d, momentum=%s, eps=%s)", c, pyFloat(cfg["momentum"].(float64)), pyFloat(cfg["epsilon"].(float64))))
		call("")
		for _, pn := range [][2]string{{"weight", "gamma"}, {"bias", "beta"}, {"running_mean", "moving_mean"}, {"running_var", "moving_variance"}} {
			t := fmt.Sprintf("tensor(%s, %d)", pyStr(name+"/"+pn[1]), c)
			if w.flat != nil {
				t = w.fromHWC(t)
			}
			p.Load = append(p.Load, fmt.Sprintf("net.%s.%s.copy_(%s)", p.Attr, pn[0], t))
		}
	case *nn.ReLU, *nn.LeakyReLU, *nn.ELU, *nn.Softmax, *nn.Activation:
		fn, alpha := activationOf(l)
		a, err := activations(l, fn, alpha)
		if err != nil {
			return p, err
		}
		switch {
		case fn == "softmax" && last:
			p.Comment += ": left out, the loss takes the logits"
		case a.module != "":
			module(a.module)
			call("")
		}
	default:
		return p, unsupported(fmt.Sprintf("layer %s (%s)", name, l.Type()), "the PyTorch export has no translation for this layer type")
	}
	return p, nil
}

// fromHWC wraps a tensor expression in from_hwc for the flattened image.
func (w *walker) fromHWC(t string) string {
	w.helpers.FromHWC = true
	return fmt.Sprintf("from_hwc(%s, %d, %d, %d)", t, w.flat[0], w.flat[1], w.flat[2])
}

// samePads returns Keras's "same" padding (top, bottom, left, right) of a
// window k with strides s over an h x w image: the odd cell goes after.
func samePads(h, w int, k, s [2]int) [4]int {
	var p [4]int
	for i, n := range []int{h, w} {
		out, before := kernels.SamePadding(n, k[i], s[i])
		total := max((out-1)*s[i]+k[i]-n, 0)
		p[2*i], p[2*i+1] = before, total-before
	}
	return p
}

func symmetric(p [4]int) bool { return p[0] == p[1] && p[2] == p[3] }

func paddingArg(p [4]int) string {
	if p == [4]int{} {
		return ""
	}
	return fmt.Sprintf(", padding=(%d, %d)", p[0], p[2])
}

func biasArg(noBias bool) string {
	if noBias {
		return ", bias=False"
	}
	return ""
}

func strideArg(s [2]int) string {
	if s == [2]int{1, 1} {
		return ""
	}
	return ", stride=" + pyPair(s)
}

func strideNote(s [2]int) string {
	if s == [2]int{1, 1} {
		return ""
	}
	return fmt.Sprintf(" stride %dx%d", s[0], s[1])
}

func paddingName(p string) string {
	if p == "" {
		return "valid"
	}
	return p
}

func orOne(s [2]int) [2]int {
	if s == [2]int{} {
		return [2]int{1, 1}
	}
	return s
}

// configPair reads a pair from a layer's Config.
func configPair(v any) [2]int {
	p := v.([]int)
	return [2]int{p[0], p[1]}
}
