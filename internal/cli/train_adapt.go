package cli

import (
	"fmt"
	"iter"
	"strings"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// adapt measures the statistics of the model's Normalization layers that
// were not given theirs on the training images, preprocessed as training
// feeds them but not augmented (as Keras's adapt on x_train), in batches
// of the training's size (the memory --max-memory allowed), and says what
// it found.
func (t *trainer) adapt() error {
	if !t.m.NeedsAdapt() {
		return nil
	}
	l := data.NewLoader(t.train, data.LoaderOptions{BatchSize: t.o.BatchSize, Standardizer: t.std, NumClasses: len(t.train.ClassNames)})
	defer l.Close()
	batches := func() iter.Seq[*tensor.Tensor] {
		return func(yield func(*tensor.Tensor) bool) {
			for b := range l.Epoch(0) {
				if !yield(b.X) {
					return
				}
			}
		}
	}
	if err := t.m.Adapt(batches); err != nil {
		return fmt.Errorf("%s: %w", t.o.Model, err)
	}
	for _, layer := range t.m.Layers {
		if n, ok := layer.(*nn.Normalization); ok && len(n.Params()) > 0 {
			mean, variance := n.Stats()
			fmt.Fprintf(t.stderr, "Adapted %s (Normalization) on the %d training images: mean %s, variance %s.\n",
				n.Name(), t.train.Len(), brief(mean), brief(variance))
		}
	}
	return nil
}

// brief writes up to four values, and how many there are beyond.
func brief(v []float32) string {
	var parts []string
	for _, x := range v[:min(len(v), 4)] {
		parts = append(parts, fmt.Sprintf("%.4g", x))
	}
	s := strings.Join(parts, " ")
	if len(v) > 4 {
		s += fmt.Sprintf(" … (%d values)", len(v))
	}
	return s
}
