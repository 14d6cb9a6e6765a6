package torchexport

import (
	"fmt"
	"strings"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// pyLayer is one layer's share of model.py: its module, its statements in
// Net.forward, and those of load_convnet and save_convnet, which copy its
// weights from and to the model file.
type pyLayer struct {
	Comment string                 // what the layer is, for the reader
	Attr    string                 // the module's attribute of Net; "" when it has none
	Init    string                 // the module, such as "nn.Conv2d(1, 32, (5, 5), padding=(2, 2))"
	Forward []string               // statements computing the layer's output variable from its inputs'
	Load    []string               // statements of load_convnet
	Save    []string               // statements of save_convnet
	torch   map[string]torchWeight // each weight's tensor in Net by its name in the model file
}

// torchWeight is a weight's tensor in Net (such as "dense.weight") and the
// expressions that turn a tensor of convnet's layout into PyTorch's and
// back ("%s" stands for the tensor).
type torchWeight struct {
	dst, toTorch, toConvnet string
}

// weight adds the statements that copy the parameter name of convnet's
// layer (of the given shape) into net's attribute dst, and back: toTorch
// turns a tensor in convnet's layout into PyTorch's, toConvnet the other
// way ("%s" stands for the tensor).
func (p *pyLayer) weight(dst, name string, shape []int, toTorch, toConvnet string) {
	args := []string{pyStr(name)}
	for _, d := range shape {
		args = append(args, fmt.Sprint(d))
	}
	if p.torch == nil {
		p.torch = map[string]torchWeight{}
	}
	p.torch[name] = torchWeight{dst, toTorch, toConvnet}
	p.Load = append(p.Load, fmt.Sprintf("net.%s.copy_(%s)", dst, fmt.Sprintf(toTorch, "tensor("+strings.Join(args, ", ")+")")))
	p.Save = append(p.Save, fmt.Sprintf("tensors[%s] = %s", pyStr(name), fmt.Sprintf(toConvnet, "net."+dst)))
}

// helpers says which of model.py's helper definitions the layers use.
type helpers struct {
	SameConv, SameMaxPool, SameAvgPool bool
	BatchNorm                          bool
	ChannelShuffle                     bool
	FromHWC                            bool
	PReLU                              bool
	GaussianNoise, GaussianDropout     bool
	Normalization                      bool
	LayerNorm                          bool
	GroupNorm                          bool
	LayerScale                         bool
	NoiseShapeDropout                  bool
	Rescaling                          bool
	NearestExact                       bool
}

// Same reports whether a layer needs Keras's uneven "same" padding.
func (h helpers) Same() bool { return h.SameConv || h.SameMaxPool || h.SameAvgPool }

// walker turns layers into Python, one at a time, carrying what a layer
// needs to know about those before it.
type walker struct {
	helpers helpers
	attrs   map[string]bool // Python names taken
	// flat maps a variable of Net.forward to the (c, h, w) shape of the
	// image whose flattening gave its features, when PyTorch's order of them
	// differs from convnet's: per-feature weights read from the model file
	// are reordered until a Dense mixes the features.
	flat map[string]*[3]int
	// softmax is set when the last layer's softmax is left out of the
	// network, which returns the logits the loss takes.
	softmax bool
	// inference reports whether a layer runs as in inference also in
	// training (see model.InferenceInTraining).
	inference func(nn.Layer) bool
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

// value is an input of a layer: the variable of Net.forward holding it and
// its shape in convnet's order, without the batch axis.
type value struct {
	name  string
	shape []int
}

// layers turns the model's layers into Python, walking them in the order
// they run, each called on the values its inbound layers computed, and
// returns them with the variable holding the model's output. The input is
// x; in a chain of layers every output is x again, in a graph each layer's
// output is a variable named as its module.
func (w *walker) layers(m *model.Model) ([]pyLayer, string, error) {
	chain := true
	for i := range m.Layers {
		if in := m.Inbound(i); len(in) != 1 || in[0] != i-1 {
			chain = false
		}
	}
	vars := make([]string, len(m.Layers))
	var out []pyLayer
	for i, l := range m.Layers {
		var ins []value
		for _, j := range m.Inbound(i) {
			if j < 0 {
				ins = append(ins, value{"x", m.InputShape()})
			} else {
				ins = append(ins, value{vars[j], m.Layers[j].OutputShape()})
			}
		}
		id := w.attr(l.Name())
		vars[i] = "x"
		if !chain {
			vars[i] = id
		}
		p, err := w.layer(l, id, ins, vars[i], i == len(m.Layers)-1)
		if err != nil {
			return nil, "", err
		}
		out = append(out, p)
	}
	w.softmax = endsInSoftmax(m.Layers[len(m.Layers)-1])
	return out, vars[len(vars)-1], nil
}

// layer returns the Python of l, called on ins, its module named id and its
// output assigned to the variable out. The last layer leaves out a final
// softmax: the network returns logits, which the loss takes.
func (w *walker) layer(l nn.Layer, id string, ins []value, out string, last bool) (pyLayer, error) {
	name := l.Name()
	p := pyLayer{Comment: fmt.Sprintf("%s (%s)", name, l.Type())}
	if _, ok := l.(nn.MultiInput); ok {
		return p, w.merge(&p, l, ins, out)
	}
	if len(ins) != 1 {
		return p, fmt.Errorf("torchexport: layer %s called on %d inputs", name, len(ins))
	}
	x, in, flat := ins[0].name, ins[0].shape, w.flat[ins[0].name]
	w.flat[out] = nil
	module := func(init string) {
		p.Attr, p.Init = id, init
	}
	call := func(act string) {
		p.Forward = append(p.Forward, fmt.Sprintf("%s = %s", out, apply(act, fmt.Sprintf("self.%s(%s)", id, x))))
	}
	switch l := l.(type) {
	case *nn.Conv2D, *nn.DepthwiseConv2D:
		cv := convolutionOf(l, in[2])
		pads := [4]int{}
		if cv.padding == "same" {
			pads = samePads(in[0], in[1], cv.span(), cv.s)
		}
		bias, extra := biasArg(cv.noBias), dilationArg(cv.d)
		if cv.groups > 1 {
			extra = fmt.Sprintf(", groups=%d", cv.groups) + extra
		}
		act, err := activation(l, cv.act, last)
		if err != nil {
			return p, err
		}
		if symmetric(pads) {
			module(fmt.Sprintf("nn.Conv2d(%d, %d, %s%s%s%s%s)", in[2], cv.filters, pyPair(cv.k), strideArg(cv.s), paddingArg(pads), extra, bias))
		} else {
			w.helpers.SameConv = true
			module(fmt.Sprintf("SameConv2d(%d, %d, %s, %s, %s%s%s)", in[2], cv.filters, pyPair(cv.k), pyPair(cv.s), pyInts(pads[:]), extra, bias))
		}
		p.Comment += fmt.Sprintf(": %s %dx%d%s%s, %s padding%s", cv.what, cv.k[0], cv.k[1], strideNote(cv.s), dilationNote(cv.d), paddingName(cv.padding), actNote(cv.act, last))
		call(act)
		p.weight(id+".weight", name+"/"+cv.param, cv.shape, cv.toTorch, cv.toConvnet)
		if !cv.noBias {
			p.weight(id+".bias", name+"/bias", []int{cv.filters}, "%s", "%s")
		}
	case *nn.Dense:
		act, err := activation(l, l.Activation, last)
		if err != nil {
			return p, err
		}
		if len(in) == 3 {
			// Keras's Dense on an image weighs each pixel's channels: a
			// 1×1 convolution, whose weight [U, C, 1, 1] is the kernel [C, U].
			c, u := in[2], l.Units
			module(fmt.Sprintf("nn.Conv2d(%d, %d, 1%s)", c, u, biasArg(l.NoBias)))
			p.Comment += fmt.Sprintf(": %d units at each pixel, a 1x1 convolution%s", u, actNote(l.Activation, last))
			call(act)
			p.weight(id+".weight", name+"/kernel", []int{c, u}, fmt.Sprintf("%%s.t().reshape(%d, %d, 1, 1)", u, c), fmt.Sprintf("%%s.reshape(%d, %d).t()", u, c))
			if !l.NoBias {
				p.weight(id+".bias", name+"/bias", []int{u}, "%s", "%s")
			}
			break
		}
		module(fmt.Sprintf("nn.Linear(%d, %d%s)", in[0], l.Units, biasArg(l.NoBias)))
		p.Comment += fmt.Sprintf(": %d units%s", l.Units, actNote(l.Activation, last))
		call(act)
		// convnet's kernel is [in, out], nn.Linear's weight [out, in].
		toTorch, toConvnet := "%s.t()", "%s.t()"
		if flat != nil {
			toTorch, toConvnet = fmt.Sprintf(w.fromHWC(flat), "%s")+".t()", fmt.Sprintf(w.toHWC(flat), "%s.t()")
			p.Comment += "; its rows follow the flattened image"
		}
		p.weight(id+".weight", name+"/kernel", []int{in[0], l.Units}, toTorch, toConvnet)
		if !l.NoBias {
			p.weight(id+".bias", name+"/bias", []int{l.Units}, "%s", "%s")
		}
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
	case *nn.Dropout, *nn.AlphaDropout, *nn.GaussianNoise, *nn.GaussianDropout, *nn.SpatialDropout2D:
		if w.inference(l) {
			module("nn.Identity()")
			p.Comment += ": called with training=False, so never active"
			call("")
			w.flat[out] = flat
			break
		}
		if l, ok := l.(*nn.SpatialDropout2D); ok {
			module(fmt.Sprintf("nn.Dropout2d(%s)", pyFloat(l.Rate)))
			p.Comment += fmt.Sprintf(": whole channels at rate %s, only in training", pyFloat(l.Rate))
			call("")
			break
		}
		init, what := w.trainingOnly(l, in)
		module(init)
		p.Comment += ": " + what + ", only in training"
		call("")
		w.flat[out] = flat
	case *nn.Reshape:
		if err := w.reshape(&p, l, in, x, out, flat); err != nil {
			return p, err
		}
	case *nn.Flatten:
		module("nn.Flatten()")
		call("")
		w.flat[out] = flat
		if len(in) == 3 {
			p.Comment += ": PyTorch flattens in (c, h, w) order, convnet in (h, w, c)"
			w.flat[out] = nil
			if c, hw := in[2], in[0]*in[1]; c > 1 && hw > 1 {
				w.flat[out] = &[3]int{in[2], in[0], in[1]}
				p.Comment += "; the weights after it are reordered"
			}
		}
	case *nn.ZeroPadding2D:
		pad := l.Padding
		module(fmt.Sprintf("nn.ZeroPad2d((%d, %d, %d, %d))", pad[1][0], pad[1][1], pad[0][0], pad[0][1])) // left, right, top, bottom
		p.Comment += fmt.Sprintf(": %d rows above, %d below, %d columns left, %d right", pad[0][0], pad[0][1], pad[1][0], pad[1][1])
		call("")
	case *nn.Cropping2D:
		c := l.Cropping
		p.Comment += fmt.Sprintf(": %d rows off the top, %d off the bottom, %d columns off the left, %d off the right", c[0][0], c[0][1], c[1][0], c[1][1])
		p.Forward = append(p.Forward, fmt.Sprintf("%s = %s[:, :, %d:%d, %d:%d]", out, x, c[0][0], in[0]-c[0][1], c[1][0], in[1]-c[1][1]))
	case *nn.UpSampling2D, *nn.Resizing:
		w.resample(&p, l, id, x, out, in)
	case *nn.GlobalAveragePooling2D:
		p.Comment += ": the mean of each channel"
		if l.KeepDims {
			// An image of one cell, [N, C, 1, 1], which a squeeze-and-excitation
			// block convolves and multiplies a map by (PyTorch broadcasts it).
			module("nn.AdaptiveAvgPool2d(1)")
			p.Comment += ", kept as an image of one cell"
		} else {
			module("nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())")
		}
		call("")
	case *nn.GlobalMaxPooling2D:
		p.Comment += ": the maximum of each channel"
		if l.KeepDims {
			module("nn.AdaptiveMaxPool2d(1)")
			p.Comment += ", kept as an image of one cell"
		} else {
			module("nn.Sequential(nn.AdaptiveMaxPool2d(1), nn.Flatten())")
		}
		call("")
	case *nn.ChannelShuffle:
		if flat != nil {
			return p, flatChannels(l)
		}
		w.helpers.ChannelShuffle = true
		module(fmt.Sprintf("ChannelShuffle(%d)", l.Groups))
		p.Comment += fmt.Sprintf(": %d channels in %d groups, interleaved", in[len(in)-1], l.Groups)
		call("")
	case *nn.ChannelSlice:
		if flat != nil {
			return p, flatChannels(l)
		}
		// The channels are axis 1 in PyTorch, of an image as of a vector.
		p.Comment += fmt.Sprintf(": channels %d to %d", l.Start, l.End-1)
		p.Forward = append(p.Forward, fmt.Sprintf("%s = %s[:, %d:%d]", out, x, l.Start, l.End))
	case *nn.Rescaling:
		if scale, offset := l.PerChannel(); scale != nil {
			if len(in) != 1 && len(in) != 3 {
				return p, unsupported(name+" (Rescaling)", "an input of shape %v: the PyTorch project takes images and vectors", in)
			}
			w.helpers.Rescaling = true
			c := []int{len(scale)}
			s, o := torchList(scale, c, flat), torchList(offset, c, flat)
			if l.Scales == nil { // one for every channel
				s = pyFloat(float64(scale[0]))
			}
			if l.Offsets == nil {
				o = pyFloat(float64(offset[0]))
			}
			module(fmt.Sprintf("KerasRescaling(%s, %s, image=%s)", s, o, pyBool(len(in) == 3)))
			p.Comment += ": every value times its channel's scale, plus its channel's offset"
			call("")
			w.flat[out] = flat
			break
		}
		expr := x
		if l.Scale != 1 {
			expr += " * " + pyFloat(l.Scale)
		}
		switch {
		case l.Offset > 0:
			expr += " + " + pyFloat(l.Offset)
		case l.Offset < 0:
			expr += " - " + pyFloat(-l.Offset)
		}
		p.Comment += ": every value times the scale, plus the offset"
		p.Forward = append(p.Forward, fmt.Sprintf("%s = %s", out, expr))
		w.flat[out] = flat
	case *nn.BatchNormalization:
		w.batchNorm(&p, l, id, in, flat)
		call("")
		w.flat[out] = flat
	case *nn.PReLU:
		w.prelu(&p, l, id, in, flat)
		call("")
		w.flat[out] = flat
	case *nn.Normalization:
		if err := w.normalization(&p, l, id, in, flat); err != nil {
			return p, err
		}
		call("")
		w.flat[out] = flat
	case *nn.LayerNormalization:
		if err := w.layerNorm(&p, l, id, in, flat); err != nil {
			return p, err
		}
		call("")
		w.flat[out] = flat
	case *nn.GroupNormalization:
		if err := w.groupNorm(&p, l, id, in, flat); err != nil {
			return p, err
		}
		call("")
		w.flat[out] = flat
	case *nn.LayerScale:
		c := in[len(in)-1]
		if flat != nil || (len(in) != 1 && len(in) != 3) {
			return p, unsupported(name+" (LayerScale)", "an input of shape %v: the PyTorch project scales the channels of images and vectors", in)
		}
		w.helpers.LayerScale = true
		module(fmt.Sprintf("LayerScale(%d, %s, image=%s)", c, pyFloat(l.InitValues), pyBool(len(in) == 3)))
		p.Comment += ": each channel times its learned scale"
		call("")
		p.weight(id+".gamma", name+"/gamma", []int{c}, "%s", "%s")
	case *nn.ReLU, *nn.LeakyReLU, *nn.ELU, *nn.Softmax, *nn.Activation:
		fn, alpha := activationOf(l)
		a, err := activations(l, fn, alpha)
		if err != nil {
			return p, err
		}
		switch {
		case fn == "softmax" && last:
			p.Comment += ": left out, the loss takes the logits"
			if out != x {
				p.Forward = append(p.Forward, fmt.Sprintf("%s = %s", out, x))
			}
		case a.module != "":
			module(a.module)
			call("")
		case out != x:
			p.Forward = append(p.Forward, fmt.Sprintf("%s = %s", out, x))
		}
		w.flat[out] = flat
	default:
		return p, unsupported(fmt.Sprintf("layer %s (%s)", name, l.Type()), "the PyTorch export has no translation for this layer type")
	}
	return p, nil
}

func (w *walker) fromHWC(f *[3]int) string {
	w.helpers.FromHWC = true
	return fmt.Sprintf("from_hwc(%%s, %d, %d, %d)", f[0], f[1], f[2])
}

func (w *walker) toHWC(f *[3]int) string {
	w.helpers.FromHWC = true
	return fmt.Sprintf("to_hwc(%%s, %d, %d, %d)", f[0], f[1], f[2])
}

// flatChannels refuses a layer that picks or reorders the channels of the
// features of a flattened image: convnet's last axis is then all of them,
// in an order that differs from PyTorch's.
func flatChannels(l nn.Layer) error {
	return unsupported(fmt.Sprintf("layer %s (%s)", l.Name(), l.Type()), "it works on the features of a flattened image as channels, whose order differs between convnet and PyTorch")
}

// one reports whether a shape holds a single value.
func one(shape []int) bool {
	for _, d := range shape {
		if d != 1 {
			return false
		}
	}
	return true
}
