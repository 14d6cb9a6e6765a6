package model

import (
	"errors"
	"fmt"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/tensor"
)

// LoaderBatches returns the batches of l's running epoch (begun with
// [data.Loader.Start]) as [Batches]. The targets are the loader's one-hot
// rows or, when sparse is set (for a loss with nn.CrossEntropy.Sparse), the
// class indices as an [N] tensor. An unlabelled image (label -1) has a
// one-hot row of zeros, which adds nothing to the loss, and a class index
// of -1, which [Model.Fit] and [Model.Evaluate] refuse. As with the loader,
// a batch's tensors are reused once Next is called again.
func LoaderBatches(l *data.Loader, sparse bool) Batches {
	return &loaderBatches{l: l, sparse: sparse}
}

// TrainOn returns a [FitOptions].Train function over the epochs of l: Fit's
// epoch e is the loader's epoch e, less its first skip batches when a run
// resumes mid-epoch. A loader's epoch depends on its seed and the epoch
// number alone, so a resumed run sees the batches an uninterrupted run sees.
// sparse is as for [LoaderBatches]; a loader that mixes its images
// ([data.Loader.Mixes]) needs one-hot targets, or the function fails.
func TrainOn(l *data.Loader, sparse bool) func(epoch, skip int) (Batches, error) {
	return func(epoch, skip int) (Batches, error) {
		if sparse && l.Mixes() {
			return nil, errors.New("fit: the loader mixes images two by two (MixUp, CutMix), and a sparse loss cannot hold their mixed targets: use one-hot targets")
		}
		l.Start(epoch)
		for range skip {
			if _, ok := l.Next(); !ok {
				return nil, fmt.Errorf("fit: epoch %d has fewer than %d batches to skip", epoch+1, skip)
			}
		}
		return LoaderBatches(l, sparse), nil
	}
}

// ValidateOn returns a [FitOptions].Validation function: one pass over l
// (its epoch 0) each time. sparse is as for [LoaderBatches].
func ValidateOn(l *data.Loader, sparse bool) func() (Batches, error) {
	return func() (Batches, error) {
		l.Start(0)
		return LoaderBatches(l, sparse), nil
	}
}

type loaderBatches struct {
	l       *data.Loader
	sparse  bool
	indices *tensor.Tensor // the sparse targets, reused
}

func (b *loaderBatches) Next() (Batch, bool) {
	bt, ok := b.l.Next()
	if !ok {
		return Batch{}, false
	}
	if !b.sparse {
		return Batch{X: bt.X, Y: bt.Y}, true
	}
	n := len(bt.Labels)
	if b.indices == nil || cap(b.indices.Data) < n {
		b.indices = tensor.New(n)
	}
	b.indices.Shape[0], b.indices.Data = n, b.indices.Data[:n]
	for i, c := range bt.Labels {
		b.indices.Data[i] = float32(c)
	}
	return Batch{X: bt.X, Y: b.indices}, true
}
