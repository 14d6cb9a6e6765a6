package model

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// SWA is stochastic weight averaging (Izmailov et al., 2018,
// arXiv:1803.05407), as PyTorch's torch.optim.swa_utils does it in its
// usual loop: from epoch Start (counted from 1) on, the trainable weights at
// the end of each epoch join an equal average (AveragedModel); after epoch
// Start the learning rate goes from the rate epoch Start ended with, r0, to
// LR over AnnealEpochs epochs (SWALR), the schedule and a plateau's
// reductions giving way:
//
//	rate of epoch Start+j = LR·a(t) + r0·(1 - a(t)),  t = min(1, j/AnnealEpochs)
//	a(t) = (1 - cos(pi·t))/2 ("cos"), or t ("linear")
//
// Training ends on the average, and the moving statistics of every
// BatchNormalization that trains are computed again over one more pass of
// the training batches, each batch counting alike (update_bn). The
// average, how many epochs it holds and r0 are part of the training state
// a checkpoint saves.
type SWA struct {
	Start          int
	LR             float64 // 0 keeps r0
	AnnealEpochs   int     // 0 goes to LR at once
	AnnealStrategy string  // "cos" (the default, "") or "linear"
}

// DefaultSWAAnnealEpochs is PyTorch's SWALR anneal_epochs.
const DefaultSWAAnnealEpochs = 10

func (s *SWA) check(epochs int) error {
	switch {
	case s.Start < 1 || s.Start > epochs:
		return fmt.Errorf("fit: SWA from epoch %d of %d: want an epoch of the run", s.Start, epochs)
	case !(s.LR >= 0) || math.IsInf(s.LR, 0):
		return fmt.Errorf("fit: SWA learning rate %v: want a finite number >= 0", s.LR)
	case s.AnnealEpochs < 0:
		return fmt.Errorf("fit: SWA anneal epochs %d: want >= 0", s.AnnealEpochs)
	case s.AnnealStrategy != "" && s.AnnealStrategy != "cos" && s.AnnealStrategy != "linear":
		return fmt.Errorf("fit: SWA anneal strategy %q: want cos or linear", s.AnnealStrategy)
	}
	return nil
}

// rate is the learning rate of epoch e (from 0) once averaging has begun,
// r0 the rate epoch Start ended with.
func (s *SWA) rate(e int, r0 float64) float64 {
	target := s.LR
	if target == 0 {
		return r0
	}
	t := 1.0
	if s.AnnealEpochs > 0 {
		t = min(1, float64(e+1-s.Start)/float64(s.AnnealEpochs))
	}
	a := t
	if s.AnnealStrategy != "linear" {
		a = (1 - math.Cos(math.Pi*t)) / 2
	}
	return target*a + r0*(1-a)
}

// swaState is the running average of the trainable weights.
type swaState struct {
	params []*nn.Param      // the weights averaged, in the model's order
	avg    []*tensor.Tensor // their average
	n      int              // the epochs averaged
	r0     float64          // the rate the first averaged epoch ended with
}

// swaFor returns the model's average for a run with SWA, the one a
// checkpoint brought back if it is of the same weights, else a new one.
func (m *Model) swaFor() *swaState {
	var params []*nn.Param
	for _, p := range m.params {
		if p.Trainable && p.Grad != nil {
			params = append(params, p)
		}
	}
	if s := m.swa; s != nil && slices.Equal(s.params, params) {
		return s
	}
	s := &swaState{params: params, avg: make([]*tensor.Tensor, len(params))}
	for i, p := range params {
		s.avg[i] = tensor.New(p.Value.Shape...)
	}
	return s
}

// add puts the weights into the average: a + (w - a)/(n+1), as
// AveragedModel's update_parameters.
func (s *swaState) add() {
	s.n++
	for i, p := range s.params {
		a := s.avg[i].Data
		if s.n == 1 {
			copy(a, p.Value.Data)
			continue
		}
		k := float32(s.n)
		for j, w := range p.Value.Data {
			a[j] += (w - a[j]) / k
		}
	}
}

// finishSWA puts the average in place of the weights and computes the
// batch normalizations' moving statistics again over train's batches
// (PyTorch's update_bn: in training mode, dropout and all, each batch
// weighing alike). It reports whether it did: not before an epoch was
// averaged.
func (m *Model) finishSWA(s *swaState, train func(epoch, skip int) (Batches, error), epoch int) (bool, error) {
	if s == nil || s.n == 0 {
		return false, nil
	}
	for i, p := range s.params {
		copy(p.Value.Data, s.avg[i].Data)
	}
	var bns []*nn.BatchNormalization
	for _, l := range m.Layers {
		if bn, ok := l.(*nn.BatchNormalization); ok && !m.InferenceInTraining(l) {
			bns = append(bns, bn)
		}
	}
	if len(bns) == 0 {
		return true, nil
	}
	momentum := make([]float64, len(bns))
	for i, bn := range bns {
		momentum[i] = bn.Momentum
		clear(bn.Params()[len(bn.Params())-2].Value.Data)
		v := bn.Params()[len(bn.Params())-1].Value.Data
		for j := range v {
			v[j] = 1
		}
	}
	defer func() {
		for i, bn := range bns {
			bn.Momentum = momentum[i]
		}
	}()
	batches, err := train(epoch, 0)
	if err != nil {
		return true, err
	}
	k := 0
	for {
		b, ok := batches.Next()
		if !ok {
			break
		}
		k++
		// The k-th batch's statistics weigh 1/k: a cumulative average.
		// Momentum 0 means Keras's 0.99; the smallest float64 above it
		// keeps the first batch's statistics alone.
		mom := max(1-1/float64(k), math.SmallestNonzeroFloat64)
		for _, bn := range bns {
			bn.Momentum = mom
		}
		m.forward(b.X, trainingPass)
	}
	if k == 0 {
		return true, errors.New("fit: SWA: no training batches to compute the batch normalizations' statistics over")
	}
	return true, nil
}
