package torchexport

import (
	"fmt"

	"github.com/convnet-go/convnet/nn"
)

// reshape writes a Reshape of x (of convnet's shape in) to variable out:
// a vector as an image of one cell, x.view(N, C, 1, 1); an image as a
// vector, as Flatten (PyTorch's features in (c, h, w) order, the weights
// after it reordered); an image as another image, through (h, w, c) order.
func (w *walker) reshape(p *pyLayer, l *nn.Reshape, in []int, x, out string, flat *[3]int) error {
	to := l.OutputShape()
	what := fmt.Sprintf("layer %s (Reshape)", l.Name())
	switch {
	case len(in) == 1 && len(to) == 3 && to[0] == 1 && to[1] == 1:
		if flat != nil {
			return unsupported(what, "it makes an image of the features of a flattened image, whose order differs between convnet and PyTorch")
		}
		p.Comment += ": a vector as an image of one cell"
		p.Forward = append(p.Forward, fmt.Sprintf("%s = %s.view(%s.size(0), %d, 1, 1)", out, x, x, to[2]))
	case len(in) == 3 && len(to) == 1:
		p.Comment += ": PyTorch flattens in (c, h, w) order, convnet in (h, w, c)"
		p.Forward = append(p.Forward, fmt.Sprintf("%s = torch.flatten(%s, 1)", out, x))
		if c, hw := in[2], in[0]*in[1]; c > 1 && hw > 1 {
			w.flat[out] = &[3]int{in[2], in[0], in[1]}
			p.Comment += "; the weights after it are reordered"
		}
		return nil
	case len(in) == 3 && len(to) == 3:
		p.Comment += fmt.Sprintf(": the values in (h, w, c) order laid out as %v", to)
		p.Forward = append(p.Forward, fmt.Sprintf("%s = %s.permute(0, 2, 3, 1).reshape(%s.size(0), %d, %d, %d).permute(0, 3, 1, 2)", out, x, x, to[0], to[1], to[2]))
	case len(in) == 1 && len(to) == 1:
		p.Forward = append(p.Forward, fmt.Sprintf("%s = %s", out, x))
		w.flat[out] = flat
		return nil
	default:
		return unsupported(what, "a reshape of %v to %v: the PyTorch project takes images and vectors", in, to)
	}
	w.flat[out] = nil
	return nil
}
