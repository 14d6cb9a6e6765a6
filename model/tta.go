package model

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/convnet-go/convnet/data/augment"
)

// TTA is test-time augmentation, as fastai's Learner.tta does it: each
// image is classified as it is and in Copies randomly augmented copies, and
// its probabilities are Beta·p(image) + (1-Beta)·mean(p(copies)).
type TTA struct {
	Augment augment.Config // the random changes, as in training; it must change something
	Copies  int            // augmented copies of each image, at least 1 (fastai's n: 4)
	Beta    float64        // the weight of the image's own prediction, in [0, 1] (fastai's 0.25)
	// The copies of the i-th image come from a generator seeded with
	// (Seed, First+i): the same whatever the batches, First being the index
	// of the first image in a larger set.
	Seed  uint64
	First int
}

// Validate reports options [Classifier.ClassifyPixelsTTA] cannot use.
func (t *TTA) Validate() error {
	switch {
	case t.Copies < 1:
		return fmt.Errorf("test-time augmentation: %d copies, want at least 1", t.Copies)
	case !(t.Beta >= 0 && t.Beta <= 1):
		return fmt.Errorf("test-time augmentation: beta %v, want 0 to 1", t.Beta)
	case !t.Augment.Enabled():
		return fmt.Errorf("test-time augmentation: the augmentation changes nothing")
	}
	return t.Augment.Validate()
}

// ClassifyPixelsTTA classifies raw images as [Classifier.ClassifyPixels]
// does, each with t's augmented copies, in batches of
// [ClassifierOptions].BatchSize images and copies.
func (c *Classifier) ClassifyPixelsTTA(ctx context.Context, px [][]float32, k int, t TTA) ([]Result, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	for i, p := range px {
		if err := c.check(p); err != nil {
			return nil, fmt.Errorf("input %d: %w", i+1, err)
		}
	}
	h, w, ch := c.shape[0], c.shape[1], c.shape[2]
	size, n, group := h*w*ch, len(c.classes), t.Copies+1
	per := max(1, c.opts.BatchSize/group) // images whose copies make a batch
	all := make([][]float32, 0, per*group)
	buf := make([]float32, per*t.Copies*size)
	out := make([]Result, 0, len(px))
	for lo := 0; lo < len(px); lo += per {
		all = all[:0]
		for i, p := range px[lo:min(lo+per, len(px))] {
			rng := rand.New(rand.NewPCG(t.Seed, uint64(t.First+lo+i)))
			all = append(all, p)
			for j := range t.Copies {
				dst := buf[(i*t.Copies+j)*size : (i*t.Copies+j+1)*size]
				t.Augment.Apply(dst, p, h, w, ch, rng)
				all = append(all, dst)
			}
		}
		rs, err := c.ClassifyPixels(ctx, all, 1)
		if nf := new(NonFiniteError); errors.As(err, &nf) {
			return nil, &NonFiniteError{Index: lo + nf.Index/group} // the image whose copy it is
		} else if err != nil {
			return nil, err
		}
		for i := 0; i < len(rs); i += group {
			p := make([]float32, n)
			for j := range p {
				mean := 0.0
				for _, r := range rs[i+1 : i+group] {
					mean += float64(r.Probabilities[j])
				}
				mean /= float64(t.Copies)
				p[j] = float32(t.Beta*float64(rs[i].Probabilities[j]) + (1-t.Beta)*mean)
			}
			out = append(out, Result{Top: c.top(p, k), Probabilities: p})
		}
	}
	return out, nil
}
