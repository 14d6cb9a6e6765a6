package model

import (
	"math"
	"slices"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
)

// normalization writes a Normalization as a Sub of the mean and a Div by
// the divisors (Invert: a Mul by the divisors and an Add of the mean),
// rounded as convnet rounds them, the constants in ONNX's order of the
// input, (C, H, W) for an image, with 1 along the shared axes.
func (e *onnxWriter) normalization(l *nn.Normalization) {
	name := l.Name()
	dims := l.StatsShape()
	mean, _ := l.Stats()
	div := l.Divisors()
	if len(dims) == 3 {
		mean, div = hwioToOIHW(mean, dims[0], dims[1], 1, dims[2]), hwioToOIHW(div, dims[0], dims[1], 1, dims[2])
		dims = nchw(dims)
	}
	if l.Invert {
		e.apply("Mul", name+"/scale", []string{e.weight(name+"/divisor", dims, div)})
		e.apply("Add", name, []string{e.weight(name+"/mean", dims, mean)})
		return
	}
	e.apply("Sub", name+"/center", []string{e.weight(name+"/mean", dims, mean)})
	e.apply("Div", name, []string{e.weight(name+"/divisor", dims, div)})
}

// normalize makes arithmetic with a constant of more than one value on a
// layer's output a Normalization: x - c its mean, x / c its divisor, x·c
// an inverted one's divisor, x + c an inverted one's mean (but x·c with c
// one value per channel that no Normalization divides by, such as a
// negative one, a per-channel Rescaling, and x + c with c one per channel
// on the output of a Rescaling without an offset, its offsets); its parameters
// hold them (the variance whose square root the divisor is; a count of 1,
// which ONNX does not carry, marks them measured). A Div that only reads
// a Normalization's output with its mean alone (from a Sub) becomes its
// divisor, and an Add after a Mul its mean, so that a Normalization
// convnet exported comes back as one layer. Divisors must be at least
// 1e-7, the least a Normalization divides by, and have a float32 square.
func (b *onnxBuilder) normalize(n *onnxpb.NodeProto, op string, xi int, x *onnxValue, c *onnxConst) error {
	name := n.GetInput()[1-xi]
	if xi == 1 && op != "Add" && op != "Mul" {
		return nodeErr(n, "the constant %q comes first: c %s x is not a convnet layer", name, map[string]string{"Sub": "-", "Div": "/"}[op])
	}
	dims, data, _, err := inConvnetOrder(n, x, c, "constant", name)
	if err != nil {
		return err
	}
	var keep []int
	for a, d := range dims {
		if d > 1 {
			keep = append(keep, a+1)
		}
	}
	if slices.Equal(keep, []int{len(dims)}) { // one value per channel
		if r, ok := x.fold.(*nn.Rescaling); ok && op == "Add" && r.Offset == 0 && r.Offsets == nil && b.soleReader(n.GetInput()[xi]) {
			r.Offsets = float64s(data)
			b.name(n, r)
			y := x.after(x.node)
			y.fold = r
			return b.output(n, y)
		}
		if op == "Mul" && slices.ContainsFunc(data, func(v float32) bool { return !(v >= 1e-7 && v <= maxDivisor) }) {
			return b.rescaleChannels(n, x, data)
		}
	}
	// k is the statistic the constant gives: the mean (0), or the
	// variance (1) whose square root the divisor v is.
	values, k := slices.Clone(data), 0
	if op == "Div" || op == "Mul" {
		k = 1
		for i, v := range values {
			if !(v >= 1e-7 && v <= maxDivisor) {
				return nodeErr(n, "%s by %q, whose value %d is %v: a Normalization's divisor is from 1e-7 to %.3g (its square, the variance, a float32)", op, name, i, v, maxDivisor)
			}
			values[i] = float32(float64(v) * float64(v))
		}
	}
	invert := op == "Mul" || op == "Add"
	// A Div after a Sub, an Add after a Mul: the second half of a layer.
	second := op == "Div" || op == "Add"
	if prev, ok := x.fold.(*nn.Normalization); ok && second && b.soleReader(n.GetInput()[xi]) && prev.Invert == invert && slices.Equal(prev.Axis, keep) {
		ws := b.weights[prev]
		// Its statistic of this half still the identity (0 or 1).
		if len(ws) == 3 && len(ws[k].f) == len(values) && allAre(ws[k].f, float32(k)) {
			ws[k].f = values
			b.name(n, prev)
			return b.output(n, x.after(x.node))
		}
	}
	stats := []*onnxConst{{dims: dims, f: make([]float32, len(values))}, {dims: dims, f: slices.Repeat([]float32{1}, len(values))}, {dims: []int{1}, f: []float32{1}}}
	stats[k].f = values
	l := &nn.Normalization{Axis: keep, Invert: invert}
	y := x.after(b.add(n, l, x, stats...))
	y.fold = l
	return b.output(n, y)
}

// maxDivisor is the largest divisor whose square is a float32.
var maxDivisor = float32(math.Sqrt(math.MaxFloat32))

// allAre reports whether every value of v is x.
func allAre(v []float32, x float32) bool {
	for _, e := range v {
		if e != x {
			return false
		}
	}
	return true
}

// rescaling writes a Rescaling as a Mul by its scale, then an Add of its
// offset, rounded as convnet rounds them, each left out when it changes
// nothing; a part given per channel is a constant of shape (C, 1, 1) for
// an image, (C,) for a vector, the other one value.
func (e *onnxWriter) rescaling(r *nn.Rescaling) {
	name := r.Name()
	scale, offset := r.PerChannel()
	if scale == nil {
		scale, offset = []float32{float32(r.Scale)}, []float32{float32(r.Offset)}
	}
	dims := func(v []float32, perChannel bool) ([]int, []float32) {
		switch {
		case !perChannel:
			return nil, v[:1]
		case len(e.shape) == 3:
			return []int{len(v), 1, 1}, v
		}
		return []int{len(v)}, v
	}
	scaled, offsets := !allAre(scale, 1), !allAre(offset, 0)
	mul := name
	if offsets {
		mul = name + "/scale"
	}
	if scaled || !offsets {
		d, v := dims(scale, r.Scales != nil)
		e.apply("Mul", mul, []string{e.weight(name+"/scale_value", d, v)})
	}
	if offsets {
		d, v := dims(offset, r.Offsets != nil)
		e.apply("Add", name, []string{e.weight(name+"/offset_value", d, v)})
	}
}

// batchNorm writes a BatchNormalization as a BatchNormalization node; a
// gamma or beta left out (Keras's scale or center false) is 1 or 0.
func (e *onnxWriter) batchNorm(l *nn.BatchNormalization) {
	cfg, name := l.Config(), l.Name()
	eps, _ := cfg["epsilon"].(float64)
	mom, _ := cfg["momentum"].(float64)
	c := e.shape[len(e.shape)-1]
	params := map[string][]float32{}
	for _, p := range l.Params() {
		params[p.Name] = p.Value.Data
	}
	gamma, beta := params["gamma"], params["beta"]
	if gamma == nil {
		gamma = slices.Repeat([]float32{1}, c)
	}
	if beta == nil {
		beta = make([]float32, c)
	}
	e.apply("BatchNormalization", name, []string{
		e.weight(name+"/gamma", []int{c}, gamma),
		e.weight(name+"/beta", []int{c}, beta),
		e.weight(name+"/moving_mean", []int{c}, params["moving_mean"]),
		e.weight(name+"/moving_variance", []int{c}, params["moving_variance"]),
	}, attrFloat("epsilon", eps), attrFloat("momentum", mom))
}
