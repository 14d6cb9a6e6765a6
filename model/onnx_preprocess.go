package model

import (
	"errors"
	"math"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
)

// stdEpsilon is what data.Standardizer adds to a channel's std before
// dividing by it (Keras's guard against a zero std).
const stdEpsilon = 1e-6

// preprocess appends the nodes of s, in the order Standardizer.Apply runs
// its steps, on the NCHW input.
func (e *onnxWriter) preprocess(s *data.Standardizer) error {
	if len(e.shape) != 3 {
		return errors.New("export onnx: preprocessing of a vector input")
	}
	if err := s.Check(e.shape); err != nil {
		return err
	}
	h, w, c := e.shape[0], e.shape[1], e.shape[2]
	if s.Rescale != 0 {
		e.apply("Mul", "preprocess/rescale", []string{e.weight("preprocess/scale", nil, []float32{s.Rescale})})
	}
	if s.SamplewiseCenter || s.SamplewiseStd {
		x := e.cur
		all := attrInts("axes", 1, 2, 3)
		e.apply("ReduceMean", "preprocess/sample_mean", nil, all, attrInt("keepdims", 1))
		e.cur = x
		e.apply("Sub", "preprocess/sample_center", []string{"preprocess/sample_mean"})
		if s.SamplewiseStd {
			d := e.cur
			e.apply("Mul", "preprocess/sample_square", []string{d})
			e.apply("ReduceMean", "preprocess/sample_variance", nil, all, attrInt("keepdims", 1))
			e.apply("Sqrt", "preprocess/sample_std", nil)
			e.apply("Add", "preprocess/sample_divisor", []string{e.weight("preprocess/epsilon", nil, []float32{stdEpsilon})})
			divisor := e.cur
			e.cur = d
			e.apply("Div", "preprocess/sample_scale", []string{divisor})
		}
	}
	if s.ImageCenter {
		mean := make([]float32, len(s.MeanImage))
		for y := range h {
			for x := range w {
				for k := range c {
					mean[(k*h+y)*w+x] = s.MeanImage[(y*w+x)*c+k]
				}
			}
		}
		e.apply("Sub", "preprocess/image_center", []string{e.weight("preprocess/mean_image", []int{1, c, h, w}, mean)})
	}
	if s.FeaturewiseCenter || s.FeaturewiseStd {
		e.apply("Sub", "preprocess/channel_center", []string{e.weight("preprocess/channel_mean", []int{1, c, 1, 1}, s.Mean)})
	}
	if s.FeaturewiseStd {
		div := make([]float32, c)
		for k, v := range s.Std {
			div[k] = v + stdEpsilon // as Apply computes it, in float32
		}
		e.apply("Div", "preprocess/channel_scale", []string{e.weight("preprocess/channel_std", []int{1, c, 1, 1}, div)})
	}
	return nil
}

// The steps of a Standardizer, in the order it applies them. Preprocessing
// nodes must come in this order.
const (
	stageRescale = iota + 1
	stageImageCenter
	stageChannelCenter
	stageChannelStd
)

// importArithmetic handles Add, Sub, Mul and Div. Add, Sub and Mul of two
// computed tensors are merge layers. With a constant: on the model's input
// they are preprocessing steps; right after a MatMul an Add is its bias;
// right after an Add of k tensors a Div by k makes it an Average; else a
// constant of one value makes a Rescaling, one of more a Normalization.
func importArithmetic(b *onnxBuilder, n *onnxpb.NodeProto) error {
	if _, err := attrs(n); err != nil {
		return err
	}
	op := n.GetOpType()
	in := n.GetInput()
	if len(in) != 2 {
		return nodeErr(n, "%d inputs, want 2", len(in))
	}
	xi := 0
	if v := b.values[in[0]]; v != nil && v.konst != nil {
		xi = 1
	}
	if v := b.values[in[1-xi]]; xi == 0 && v != nil && v.konst == nil {
		if op != "Div" {
			return importMerge(b, n)
		}
		return nodeErr(n, "%s of two computed tensors is not a convnet layer (Add, Sum, Sub, Mul, Mean, Max, Min and Concat join tensors)", op)
	}
	x, err := b.tensor(n, in[xi])
	if err != nil {
		return err
	}
	c, err := b.constant(n, 1-xi, false)
	if err != nil {
		return err
	}
	if x.node != b.in {
		switch l := x.fold.(type) {
		case *nn.Dense:
			if op == "Add" && x.dense && b.soleReader(in[xi]) {
				return b.addBias(n, x, c)
			}
		case *nn.LayerNormalization, *nn.GroupNormalization:
			if b.soleReader(in[xi]) {
				if done, err := b.normAffine(n, op, xi, x, c, l); done {
					return err
				}
			}
		case *nn.Add:
			if op == "Div" && xi == 0 && b.soleReader(in[0]) && len(c.f) == 1 && c.f[0] == float32(len(x.node.in)) {
				avg := &nn.Average{}
				avg.SetName(l.Name())
				x.node.layer = avg
				return b.output(n, x.after(x.node))
			}
		}
		if len(c.f) > 1 {
			return b.normalize(n, op, xi, x, c)
		}
		return b.rescale(n, op, xi, x, c)
	}
	if b.stdFromFlags {
		return nodeErr(n, "the graph holds its own preprocessing: giving preprocessing as well would apply it twice")
	}
	// On the input, the model's preprocessing where it can take the step,
	// else a Rescaling layer where one value is the constant.
	scalar := len(c.f) == 1
	if xi == 1 && (op == "Sub" || op == "Div") || !b.soleReader(in[xi]) {
		if scalar {
			return b.rescale(n, op, xi, x, c)
		}
		if xi == 1 {
			return nodeErr(n, "the constant comes first: only input %s constant is a preprocessing step", map[string]string{"Sub": "-", "Div": "/"}[op])
		}
		return nodeErr(n, "preprocesses %q, which other nodes also read: preprocessing applies to every reader of the input", in[xi])
	}
	std, stage := b.std, b.stage
	if std != nil {
		b.std = new(*std) // the step may fail after changing it
	}
	err = b.preprocessStep(n, op, x, c)
	if err != nil {
		b.std, b.stage = std, stage
		if scalar {
			return b.rescale(n, op, xi, x, c)
		}
		if nerr := b.normalize(n, op, xi, x, c); nerr == nil {
			return nil
		}
	}
	return err
}

// preprocessStep adds one arithmetic node on the input to the model's
// Standardizer.
func (b *onnxBuilder) preprocessStep(n *onnxpb.NodeProto, op string, x *onnxValue, c *onnxConst) error {
	if len(x.shape) != 3 || c.f == nil {
		return nodeErr(n, "preprocessing is supported on image inputs with float constants")
	}
	ch, h, w := x.shape[0], x.shape[1], x.shape[2]
	kind, err := broadcastKind(c.dims, ch, h, w)
	if err != nil {
		return nodeErr(n, "constant of shape %v on images of shape [N %v]: %v", c.dims, x.shape, err)
	}
	if b.std == nil {
		b.std = &data.Standardizer{}
	}
	s := b.std
	perChannel := func(f func(float32) float32) []float32 {
		v := make([]float32, ch)
		for k := range v {
			v[k] = f(c.f[min(k, len(c.f)-1)])
		}
		return v
	}
	stage := 0
	switch {
	case (op == "Mul" || op == "Div") && kind == "scalar" && b.stage < stageRescale:
		stage, s.Rescale = stageRescale, c.f[0]
		if op == "Div" {
			s.Rescale = 1 / c.f[0]
		}
		if s.Rescale == 0 || isInf(s.Rescale) {
			return nodeErr(n, "scales by %v", s.Rescale)
		}
	case (op == "Sub" || op == "Add") && kind == "image":
		stage, s.ImageCenter, s.MeanImage = stageImageCenter, true, make([]float32, len(c.f))
		for k := range ch {
			for y := range h {
				for xx := range w {
					v := c.f[(k*h+y)*w+xx]
					if op == "Add" {
						v = -v
					}
					s.MeanImage[(y*w+xx)*ch+k] = v
				}
			}
		}
	case (op == "Sub" || op == "Add") && kind != "image":
		stage, s.FeaturewiseCenter = stageChannelCenter, true
		s.Mean = perChannel(func(v float32) float32 {
			if op == "Add" {
				return -v
			}
			return v
		})
	case (op == "Div" || op == "Mul") && kind != "image" && b.stage >= stageImageCenter:
		stage, s.FeaturewiseStd = stageChannelStd, true
		s.Std = perChannel(func(v float32) float32 {
			if op == "Mul" {
				v = 1 / v
			}
			return stdFor(v)
		})
		if s.Mean == nil {
			s.Mean = make([]float32, ch)
		}
		for _, v := range s.Std {
			if !(v > 0) || isInf(v) {
				return nodeErr(n, "divides by %v", v+stdEpsilon)
			}
		}
	default:
		return nodeErr(n, "%s by a constant of shape %v here is not a preprocessing step convnet has (rescale, mean image, channel mean, channel std, in that order)", op, c.dims)
	}
	if stage <= b.stage {
		return nodeErr(n, "comes after a preprocessing step convnet applies later (order: rescale, mean image, channel mean, channel std)")
	}
	b.stage = stage
	return b.output(n, x)
}

// broadcastKind classifies a constant that broadcasts over [N C H W]
// images: one value ("scalar"), one per channel ("channel") or one per
// pixel of every channel ("image").
func broadcastKind(dims []int, c, h, w int) (string, error) {
	if len(dims) > 4 || len(dims) == 4 && dims[0] != 1 {
		return "", errors.New("it does not broadcast over the batch")
	}
	d := append(make([]int, 4-len(dims)), dims...)
	for i := range 4 - len(dims) {
		d[i] = 1
	}
	switch {
	case d[1] == 1 && d[2] == 1 && d[3] == 1:
		return "scalar", nil
	case d[1] == c && d[2] == 1 && d[3] == 1:
		return "channel", nil
	case d[1] == c && d[2] == h && d[3] == w:
		return "image", nil
	}
	return "", errors.New("want one value, one per channel or one per pixel and channel")
}

// stdFor returns the std s for which the Standardizer divides by d:
// float32(s + 1e-6) == d, or the closest to it.
func stdFor(d float32) float32 {
	s := d - stdEpsilon
	for range 8 {
		switch sum := s + stdEpsilon; {
		case sum < d:
			s = math.Nextafter32(s, float32(math.Inf(1)))
		case sum > d:
			s = math.Nextafter32(s, float32(math.Inf(-1)))
		default:
			return s
		}
	}
	return s
}

func isInf(v float32) bool { return math.IsInf(float64(v), 0) }
