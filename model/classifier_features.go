package model

import (
	"context"
	"fmt"
	"slices"
)

// FeatureLayer returns the layer whose output the last layer reads: the
// features a network's decision rests on (-1: the model's input, for a
// model of one layer, or a last layer of several inputs).
func (m *Model) FeatureLayer() int {
	if in := m.Inbound(len(m.Layers) - 1); len(in) == 1 {
		return in[0]
	}
	return -1
}

// Features returns, for each raw image px (as [Classifier.ClassifyPixels]
// takes them), the output of layer for it, flattened: the image's features
// at that layer, such as those of [Model.FeatureLayer] for a map of how the
// network groups images, or for finding similar images (Keras's
// Model(inputs, model.layers[-2].output).predict). Layer -1 gives the
// standardised input. The images run in batches of at most
// [ClassifierOptions].BatchSize.
func (c *Classifier) Features(ctx context.Context, px [][]float32, layer int) ([][]float32, error) {
	if layer < -1 || layer >= len(c.model.Layers) {
		return nil, fmt.Errorf("features: layer %d: the model has layers 0..%d", layer, len(c.model.Layers)-1)
	}
	for i, p := range px {
		if err := c.check(p); err != nil {
			return nil, fmt.Errorf("input %d: %w", i+1, err)
		}
	}
	out := make([][]float32, 0, len(px))
	for lo := 0; lo < len(px); lo += c.opts.BatchSize {
		batch := px[lo:min(lo+c.opts.BatchSize, len(px))]
		err := c.run(ctx, func(m *Sequential) {
			x := c.input(nil, m, batch...)
			f := x
			if layer >= 0 {
				f = m.ForwardAll(x)[layer]
			}
			size := f.Len() / len(batch)
			for i := range batch {
				out = append(out, slices.Clone(f.Data[i*size:(i+1)*size]))
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
