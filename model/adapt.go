package model

import (
	"fmt"
	"iter"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// Adapt measures the statistics of the model's Normalization layers that
// were not given theirs, as Keras's adapt: each on the values that reach it
// when the model runs in inference mode on the batches (of the model's
// input shape, as the model would be fed them), in the order of Layers, so
// that a layer after another sees it adapted. batches is called once for
// each layer that needs a pass; a layer that reads the input itself takes
// the batches as they are. Layers already adapted are measured again.
func (m *Model) Adapt(batches func() iter.Seq[*tensor.Tensor]) error {
	m.mustBeBuilt("Adapt")
	for i, l := range m.Layers {
		n, ok := l.(*nn.Normalization)
		if !ok || len(n.Params()) == 0 {
			continue
		}
		from := m.Inbound(i)[0]
		var seq iter.Seq[*tensor.Tensor]
		var bad error
		if from < 0 {
			seq = batches()
		} else {
			seq = func(yield func(*tensor.Tensor) bool) {
				k := 0
				for x := range batches() {
					if err := m.CheckInput(x); err != nil {
						bad = fmt.Errorf("model: adapting %s: batch %d: %w", l.Name(), k, err)
						return
					}
					if !yield(m.ForwardAll(x)[from]) {
						return
					}
					k++
				}
			}
		}
		err := n.Adapt(seq)
		if bad != nil {
			return bad
		}
		if err != nil {
			return fmt.Errorf("model: %w", err)
		}
	}
	return nil
}

// NeedsAdapt reports whether the model has a Normalization layer whose
// statistics were neither given nor measured (see [Model.Adapt]).
func (m *Model) NeedsAdapt() bool {
	for _, l := range m.Layers {
		if n, ok := l.(*nn.Normalization); ok && !n.Adapted() {
			return true
		}
	}
	return false
}
