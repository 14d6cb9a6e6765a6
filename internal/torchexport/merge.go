package torchexport

import (
	"fmt"
	"strings"

	"github.com/convnet-go/convnet/nn"
)

// merge writes a merge layer: the element-wise sum, product, mean,
// difference, maximum or minimum of its inputs, the first plus the second
// scaled (x0 + x1 * scale), or their concatenation. The element-wise merges broadcast inputs
// of size 1 along an axis (convnet's inputs have one rank, so its axes and
// PyTorch's NCHW ones line up for the broadcast), as a squeeze-and-excitation
// block multiplies [N, C, H, W] by [N, C, 1, 1].
func (w *walker) merge(p *pyLayer, l nn.Layer, ins []value, out string) error {
	var names []string
	for _, v := range ins {
		names = append(names, v.name)
	}
	what := fmt.Sprintf("layer %s (%s)", l.Name(), l.Type())
	// The features of flattened images must come in one order; an input of
	// one value, broadcast over the others, has none.
	var flat *[3]int
	ordered := false
	for _, v := range ins {
		if one(v.shape) {
			continue
		}
		f := w.flat[v.name]
		if !ordered {
			flat, ordered = f, true
		} else if (f == nil) != (flat == nil) || f != nil && *f != *flat {
			return unsupported(what, "its inputs hold the features of flattened images in different orders, which the export does not follow")
		}
	}
	w.flat[out] = flat
	var expr string
	switch l := l.(type) {
	case *nn.Add:
		expr = strings.Join(names, " + ")
	case *nn.Multiply:
		expr = strings.Join(names, " * ")
	case *nn.Average:
		expr = fmt.Sprintf("(%s) / %d", strings.Join(names, " + "), len(names))
	case *nn.Subtract:
		expr = names[0] + " - " + names[1]
	case *nn.ScaledAdd:
		expr = names[0] + " + " + names[1] + " * " + pyFloat(l.Scale)
	case *nn.Maximum, *nn.Minimum:
		fn := "torch.maximum"
		if _, ok := l.(*nn.Minimum); ok {
			fn = "torch.minimum"
		}
		expr = names[0]
		for _, n := range names[1:] {
			expr = fmt.Sprintf("%s(%s, %s)", fn, expr, n)
		}
	case *nn.Concatenate:
		if flat != nil {
			return unsupported(what, "it joins the features of flattened images, whose order differs between convnet and PyTorch; the export does not follow it through a concatenation")
		}
		r := len(ins[0].shape)
		a := l.Axis // Keras's: the batch axis is 0, -1 (or 0 here) the last
		switch {
		case a == 0:
			a = r
		case a < 0:
			a += r + 1
		}
		dim := a // a vector's features: dim 1 in both
		if r == 3 {
			dim = map[int]int{1: 2, 2: 3, 3: 1}[a] // NHWC's height, width, channels in NCHW
		}
		expr = fmt.Sprintf("torch.cat([%s], dim=%d)", strings.Join(names, ", "), dim)
	default:
		return unsupported(what, "the PyTorch export has no translation for this merge layer")
	}
	p.Forward = append(p.Forward, out+" = "+expr)
	return nil
}

// fromHWC and toHWC return the conversions, with "%s" for the tensor, of
// per-feature weights of a flattened image between convnet's (h, w, c)
// order and PyTorch's (c, h, w).
