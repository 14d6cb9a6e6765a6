package torchexport

import (
	"fmt"
	"slices"

	"github.com/convnet-go/convnet/nn"
)

// layerNorm writes a LayerNormalization: nn.LayerNorm when it normalises
// the whole of each sample, (c, h, w) of an image or the features of a
// vector, with gamma and beta both or neither; else a KerasLayerNorm over
// the dimensions of PyTorch's order it normalises, whose weight and bias
// have the input's shape with 1 along the others.
func (w *walker) layerNorm(p *pyLayer, l *nn.LayerNormalization, id string, in []int, flat *[3]int) error {
	if len(in) != 1 && len(in) != 3 {
		return unsupported(l.Name()+" (LayerNormalization)", "an input of shape %v: the PyTorch project takes images and vectors", in)
	}
	axes, eps := l.Axes(), pyFloat(l.Config()["epsilon"].(float64))
	var shape, full, dims []int // gamma's shape in convnet, convnet's input with 1 along the other axes, PyTorch's dims
	for a := range in {
		full = append(full, 1)
		if slices.Contains(axes, a+1) {
			shape, full[a] = append(shape, in[a]), in[a]
			dims = append(dims, a+1)
			if len(in) == 3 {
				dims[len(dims)-1] = []int{2, 3, 1}[a]
			}
		}
	}
	slices.Sort(dims)
	toTorch, toConvnet := "%s", "%s"
	switch {
	case len(in) == 3:
		toTorch = fmt.Sprintf("%%s.reshape%s.permute(2, 0, 1)", pyInts(full))
		toConvnet = "%s.permute(1, 2, 0).reshape" + pyInts(shape)
		full = []int{full[2], full[0], full[1]}
	case flat != nil:
		toTorch, toConvnet = w.fromHWC(flat), w.toHWC(flat)
	}
	params := l.Params()
	what := "per sample"
	if len(axes) < len(in) {
		what = fmt.Sprintf("over the dims %v of each sample", dims)
	}
	p.Comment += fmt.Sprintf(": (x - mean) / sqrt(variance + %s) %s", eps, what)
	switch {
	case len(axes) == len(in) && (len(params) == 2 || len(params) == 0):
		p.Attr, p.Init = id, fmt.Sprintf("nn.LayerNorm(%s, eps=%s%s)", pyInts(full), eps, map[bool]string{true: ", elementwise_affine=False"}[len(params) == 0])
	default:
		w.helpers.LayerNorm = true
		p.Attr, p.Init = id, fmt.Sprintf("KerasLayerNorm(%s, %s, eps=%s%s%s)", pyInts(full), pyInts(dims), eps,
			map[bool]string{true: ", scale=False"}[l.NoScale], map[bool]string{true: ", center=False"}[l.NoCenter])
	}
	if len(params) > 0 {
		p.Comment += ", times gamma plus beta"
	}
	for _, pr := range params {
		p.weight(id+"."+map[string]string{"gamma": "weight", "beta": "bias"}[pr.Name], l.Name()+"/"+pr.Name, shape, toTorch, toConvnet)
	}
	return nil
}

// groupNorm writes a GroupNormalization: nn.GroupNorm on an image, with
// gamma and beta both or neither, else a KerasGroupNorm. On the features of a flattened
// image, whose order differs in PyTorch, only one group holds the same
// features.
func (w *walker) groupNorm(p *pyLayer, l *nn.GroupNormalization, id string, in []int, flat *[3]int) error {
	g, c := l.GroupCount(), in[len(in)-1]
	if len(in) != 1 && len(in) != 3 {
		return unsupported(l.Name()+" (GroupNormalization)", "an input of shape %v: the PyTorch project takes images and vectors", in)
	}
	toTorch, toConvnet := "%s", "%s"
	if flat != nil {
		if g != 1 {
			return unsupported(l.Name()+" (GroupNormalization)", "%d groups of the features of a flattened image: PyTorch flattens it channel-first, its groups would hold other features", g)
		}
		toTorch, toConvnet = w.fromHWC(flat), w.toHWC(flat)
	}
	eps, params := pyFloat(l.Config()["epsilon"].(float64)), l.Params()
	p.Comment += fmt.Sprintf(": (x - mean) / sqrt(variance + %s) over each of %d groups of %d channels", eps, g, c/g)
	switch {
	case len(in) == 3 && (len(params) == 2 || len(params) == 0):
		p.Attr, p.Init = id, fmt.Sprintf("nn.GroupNorm(%d, %d, eps=%s%s)", g, c, eps, map[bool]string{true: ", affine=False"}[len(params) == 0])
	default:
		w.helpers.GroupNorm = true
		p.Attr, p.Init = id, fmt.Sprintf("KerasGroupNorm(%d, %d, eps=%s%s%s)", g, c, eps,
			map[bool]string{true: ", scale=False"}[l.NoScale], map[bool]string{true: ", center=False"}[l.NoCenter])
	}
	if len(params) > 0 {
		p.Comment += ", times gamma plus beta"
	}
	for _, pr := range params {
		p.weight(id+"."+map[string]string{"gamma": "weight", "beta": "bias"}[pr.Name], l.Name()+"/"+pr.Name, []int{c}, toTorch, toConvnet)
	}
	return nil
}
