package torchexport

import (
	"fmt"

	"github.com/convnet-go/convnet/model"
)

// penalties returns the terms of model.py's regularization(net): for each
// weight with a regularizer, l1·Σ|w| and l2·Σw² of its tensor in Net, which
// the order of PyTorch's layouts does not change.
func penalties(m *model.Model, layers []pyLayer) ([]string, error) {
	var terms []string
	for i, l := range m.Layers {
		for _, p := range l.Params() {
			r := p.Regularizer
			if r.IsZero() {
				continue
			}
			t, ok := layers[i].torch[l.Name()+"/"+p.Name]
			if !ok {
				return nil, unsupported(fmt.Sprintf("layer %s (%s)", l.Name(), l.Type()), "a regularizer of %s, which the PyTorch network has no tensor for", p.Name)
			}
			if r.L1 != 0 {
				terms = append(terms, fmt.Sprintf("%s * net.%s.abs().sum()", pyFloat(r.L1), t))
			}
			if r.L2 != 0 {
				terms = append(terms, fmt.Sprintf("%s * net.%s.pow(2).sum()", pyFloat(r.L2), t))
			}
		}
	}
	return terms, nil
}
