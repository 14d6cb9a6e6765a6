package torchexport

import (
	"fmt"
	"strings"

	"github.com/convnet-go/convnet/nn"
)

// normalization writes a Normalization as a KerasNormalization, whose
// buffers mean and variance have the statistics' shape in PyTorch's order:
// (c, h, w) for an image, with 1 along the shared axes, or (features,) in
// the order of PyTorch's flattening. Adapted statistics travel with the
// model file's other weights; given ones are written into the module.
func (w *walker) normalization(p *pyLayer, l *nn.Normalization, id string, in []int, flat *[3]int) error {
	s := l.StatsShape()
	shape, toTorch, toConvnet := s, "%s", "%s"
	switch {
	case len(s) == 3:
		shape, toTorch, toConvnet = []int{s[2], s[0], s[1]}, "%s.permute(2, 0, 1)", "%s.permute(1, 2, 0)"
	case len(s) == 1 && flat != nil && s[0] > 1:
		toTorch, toConvnet = w.fromHWC(flat), w.toHWC(flat)
	case len(s) != 1:
		return unsupported(l.Name()+" (Normalization)", "an input of shape %v: the PyTorch project takes images and vectors", in)
	}
	w.helpers.Normalization = true
	what := "(x - mean) / max(√variance, 1e-7)"
	if l.Invert {
		what = "mean + x·max(√variance, 1e-7), the inverse"
	}
	p.Attr = id
	if len(l.Params()) > 0 {
		p.Init = fmt.Sprintf("KerasNormalization(%s%s)", pyInts(shape), invertArg(l.Invert))
		p.Comment += fmt.Sprintf(": %s, the statistics of shape %v measured on the training data", what, s)
		for _, name := range []string{"mean", "variance"} {
			p.weight(id+"."+name, l.Name()+"/"+name, s, toTorch, toConvnet)
		}
		p.weight(id+".count", l.Name()+"/count", []int{1}, "%s", "%s")
		return nil
	}
	mean, variance := l.Stats()
	p.Init = fmt.Sprintf("KerasNormalization(%s%s, mean=%s, variance=%s)", pyInts(shape), invertArg(l.Invert), torchList(mean, s, flat), torchList(variance, s, flat))
	p.Comment += fmt.Sprintf(": %s, the statistics of shape %v given", what, s)
	return nil
}

func invertArg(invert bool) string {
	if invert {
		return ", invert=True"
	}
	return ""
}

// torchList writes values of convnet's shape s as a Python list in
// PyTorch's order.
func torchList(v []float32, s []int, flat *[3]int) string {
	c, h, w := 1, 1, len(v) // a vector in one order
	switch {
	case len(s) == 3:
		h, w, c = s[0], s[1], s[2]
	case flat != nil && len(v) > 1:
		c, h, w = flat[0], flat[1], flat[2]
	}
	parts := make([]string, len(v))
	for i := range v { // PyTorch's index (k, y, x), convnet's (y, x, k)
		k, y, x := i/(h*w), i/w%h, i%w
		parts[i] = pyFloat(float64(v[(y*w+x)*c+k]))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// batchNorm writes a BatchNormalization as a KerasBatchNorm, its weights
// per channel in the order of PyTorch's flattening after a Flatten; a
// gamma or beta left out is a buffer of ones or zeros there. A frozen one,
// or one called with training=False, normalises with its moving statistics
// in training too.
func (w *walker) batchNorm(p *pyLayer, l *nn.BatchNormalization, id string, in []int, flat *[3]int) {
	cfg := l.Config()
	c := in[len(in)-1]
	w.helpers.BatchNorm = true
	args := ""
	if l.NoScale {
		args += ", scale=False"
	}
	if l.NoCenter {
		args += ", center=False"
	}
	if w.inference(l) {
		args += ", inference=True"
	}
	p.Attr, p.Init = id, fmt.Sprintf("KerasBatchNorm(%d, momentum=%s, eps=%s%s)", c, pyFloat(cfg["momentum"].(float64)), pyFloat(cfg["epsilon"].(float64)), args)
	toTorch, toConvnet := "%s", "%s"
	if flat != nil {
		toTorch, toConvnet = w.fromHWC(flat), w.toHWC(flat)
	}
	for _, pn := range [][2]string{{"weight", "gamma"}, {"bias", "beta"}, {"running_mean", "moving_mean"}, {"running_var", "moving_variance"}} {
		if pn[1] == "gamma" && l.NoScale || pn[1] == "beta" && l.NoCenter {
			continue
		}
		p.weight(id+"."+pn[0], l.Name()+"/"+pn[1], []int{c}, toTorch, toConvnet)
	}
}
