package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// Batch is one batch of inputs and targets: X is [N, input...], Y holds class
// indices [N] for a sparse loss or one-hot rows [N, classes].
type Batch struct {
	X, Y *tensor.Tensor
}

// Batches yields the batches of one pass over a data set. The tensors of a
// batch may be reused by the source once Next is called again.
type Batches interface {
	Next() (Batch, bool)
}

// FitOptions configures [Model.Fit], Keras's model.fit.
type FitOptions struct {
	Epochs       int // the final epoch (Keras semantics with InitialEpoch)
	InitialEpoch int // epochs already done, when resuming
	InitialStep  int // steps of InitialEpoch already done, when resuming mid-epoch
	// StepsPerEpoch is the number of batches of an epoch: an epoch ends after
	// this many steps, or when Train's batches run out (Keras's steps_per_epoch).
	StepsPerEpoch int

	// Train returns the batches of epoch (counted from 0), skipping the first
	// skip batches (for resuming mid-epoch).
	Train func(epoch, skip int) (Batches, error)
	// Validation, when set, returns the validation batches, evaluated at the
	// end of every epoch, or of every ValidationFreq-th.
	Validation func() (Batches, error)
	// ValidationFreq is Keras's validation_freq: with Validation, evaluate
	// it at the end of epochs ValidationFreq, 2·ValidationFreq, ... (from
	// 1) only; 0 and 1 mean every epoch. The logs of the other epochs have
	// no validation figures (ValidationSkipped), and the plateau schedule,
	// early stopping and the best-only checkpoint skip those epochs when
	// they watch a validation metric.
	ValidationFreq int

	// ClassWeight weighs each training sample's loss by its class's weight,
	// one per class (Keras's class_weight; nil weighs all by 1): the loss
	// is the weighted sum over the batch divided by its size, and the
	// training accuracy is weighted too, as Keras's; validation is not.
	ClassWeight []float64

	Schedule optim.Schedule           // nil: the optimizer's rate stays as it is
	Plateau  *optim.ReduceLROnPlateau // nil: no plateau reduction
	// SWA, when set, averages the weights of the last epochs and ends
	// training on their average (see [SWA]); not with an optimizer that
	// keeps a moving average ([optim.EMA]).
	SWA       *SWA
	Callbacks []Callback

	// Progress receives Keras-style progress; nil is silent.
	Progress *Progbar
	// OnBatchEnd, when set, is called after every training step with the
	// epoch (from 0), the step within it (from 1) and the step's loss.
	OnBatchEnd func(epoch, step int, loss float64)

	// History holds the epochs already done, when resuming; Fit appends to it.
	History *History
}

// Interrupted is returned by [Model.Fit] when its context is cancelled:
// training stopped after a complete step, and Epoch and Step say where to resume.
type Interrupted struct {
	Epoch, Step int // the epoch in progress and the steps of it done
}

func (e *Interrupted) Error() string {
	return fmt.Sprintf("interrupted in epoch %d after step %d", e.Epoch+1, e.Step)
}

// NonFiniteLoss is returned by [Model.Fit] when a step's loss is NaN or
// infinite. The weights were updated with that step's gradients and are no
// longer usable: go back to the last checkpoint.
type NonFiniteLoss struct {
	Epoch, Step int // where it happened (epoch from 0, step from 1)
	Loss        float64
	LR          float64
}

func (e *NonFiniteLoss) Error() string {
	return fmt.Sprintf("loss is %v at epoch %d, step %d (learning rate %g): training diverged",
		e.Loss, e.Epoch+1, e.Step, e.LR)
}

// Fit trains the compiled model, epoch by epoch, like Keras's model.fit, and
// returns the history of every epoch (including those of opts.History). A
// batch the model cannot take, inputs of another shape or a target outside
// its classes (an unlabelled image's -1), is an error naming it.
//
// When ctx is cancelled, Fit stops after the step in progress and returns the
// history with an *[Interrupted] error; the model then holds the weights after
// that step, ready to be saved as a checkpoint.
//
// After the last epoch, an optimizer that keeps moving averages of the
// weights ([optim.EMA]) puts them in their place, as Keras's fit does, and
// so does [SWA] its average, before the callbacks' OnTrainEnd. When it
// returns, Fit lets go of the storage that only training needs (see
// [Model.ReleaseBackward]).
func (m *Model) Fit(ctx context.Context, opts FitOptions) (*History, error) {
	if m.opt == nil {
		return nil, errors.New("fit: the model is not compiled")
	}
	defer m.ReleaseBackward()
	if opts.Epochs < 1 || opts.InitialEpoch < 0 || opts.InitialEpoch > opts.Epochs {
		return nil, fmt.Errorf("fit: epochs %d with initial epoch %d", opts.Epochs, opts.InitialEpoch)
	}
	if opts.Train == nil {
		return nil, errors.New("fit: no training data")
	}
	hist := opts.History
	if hist == nil {
		hist = &History{}
	}
	if opts.Plateau != nil {
		if err := opts.Plateau.Validate(); err != nil {
			return hist, err
		}
	}
	if err := m.checkClassWeight(opts.ClassWeight); err != nil {
		return hist, err
	}
	if err := opts.checkValidationFreq(); err != nil {
		return hist, err
	}
	warned := map[string]bool{} // the skipping callbacks that warned
	var swa *swaState
	if opts.SWA != nil {
		if err := opts.SWA.check(opts.Epochs); err != nil {
			return hist, err
		}
		if _, ema := m.opt.Config()["use_ema"]; ema {
			return hist, errors.New("fit: SWA averages the weights, and so does the optimizer's moving average (use_ema): choose one")
		}
		swa = m.swaFor()
	}
	m.swa = swa
	m.classWeight = opts.ClassWeight
	defer func() { m.classWeight = nil }()
	if len(hist.Epochs) > 0 { // a resumed run: the callbacks take up the epochs done
		for _, cb := range opts.Callbacks {
			if r, ok := cb.(Resumer); ok {
				if err := r.Resume(m, hist); err != nil {
					return hist, err
				}
			}
		}
	}
	step := opts.InitialEpoch*opts.StepsPerEpoch + opts.InitialStep // global step
	for epoch := opts.InitialEpoch; epoch < opts.Epochs; epoch++ {
		skip := 0
		if epoch == opts.InitialEpoch {
			skip = opts.InitialStep
		}
		batches, err := opts.Train(epoch, skip)
		if err != nil {
			return hist, err
		}
		if opts.Progress != nil {
			opts.Progress.StartEpoch(epoch, opts.Epochs, opts.StepsPerEpoch)
		}
		start := time.Now()
		var sumLoss, right, weight float64
		var seen, s int
		for s = skip; opts.StepsPerEpoch <= 0 || s < opts.StepsPerEpoch; {
			if ctx.Err() != nil {
				return hist, &Interrupted{Epoch: epoch, Step: s}
			}
			b, ok := batches.Next()
			if !ok {
				break
			}
			if err := m.dataError(b.X, b.Y); err != nil {
				return hist, fmt.Errorf("fit: epoch %d, batch %d: %w", epoch+1, s+1, err)
			}
			switch {
			case swa != nil && epoch >= opts.SWA.Start && swa.n > 0: // (none averaged: resumed without the average)
				m.opt.SetLR(opts.SWA.rate(epoch, swa.r0))
			case opts.Schedule != nil:
				m.opt.SetLR(opts.Schedule.LR(step, epoch))
			}
			began := time.Now()
			r := m.trainStep(b.X, b.Y)
			took := time.Since(began).Seconds()
			loss := r.loss
			s++
			step++
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return hist, &NonFiniteLoss{Epoch: epoch, Step: s, Loss: loss, LR: m.opt.LR()}
			}
			n := b.X.Shape[0]
			sumLoss += loss * float64(n)
			seen += n
			right += r.right
			weight += r.weight
			if opts.Progress != nil {
				opts.Progress.Update(s, sumLoss/float64(seen), ratio(right, weight))
			}
			if opts.OnBatchEnd != nil {
				opts.OnBatchEnd(epoch, s, loss)
			}
			logs := BatchLogs{Epoch: epoch, Step: s, GlobalStep: step, Loss: sumLoss / float64(seen), Accuracy: ratio(right, weight), Seconds: took}
			for _, cb := range opts.Callbacks {
				if bc, ok := cb.(BatchCallback); ok {
					if err := bc.OnBatchEnd(m, logs); err != nil {
						return hist, err
					}
				}
			}
		}
		if seen == 0 {
			return hist, fmt.Errorf("fit: epoch %d had no training batches", epoch+1)
		}
		logs := EpochLogs{
			Epoch:        epoch,
			Loss:         sumLoss / float64(seen),
			Accuracy:     ratio(right, weight),
			LearningRate: m.opt.LR(),
		}
		validated := opts.validates(epoch)
		logs.ValidationSkipped = opts.Validation != nil && !validated
		if validated {
			vb, err := opts.Validation()
			if err != nil {
				return hist, err
			}
			logs.ValLoss, logs.ValAccuracy, err = m.Evaluate(vb)
			if err != nil {
				return hist, err
			}
			logs.HasValidation = true
		}
		logs.Seconds = time.Since(start).Seconds()
		if opts.Progress != nil {
			opts.Progress.EndEpoch(s, logs)
		}
		hist.Epochs = append(hist.Epochs, logs)
		skipWarnings(&opts, logs, warned)
		averaging := swa != nil && epoch+1 >= opts.SWA.Start
		if averaging {
			if swa.n == 0 {
				swa.r0 = m.opt.LR()
			}
			swa.add()
		}
		if opts.Plateau != nil && !averaging {
			// An epoch not validated is skipped, cooldown and all, as by Keras.
			v, ok := logs.Get(opts.Plateau.Monitor)
			if !ok && !logs.skips(opts.Plateau.Monitor) {
				return hist, fmt.Errorf("ReduceLROnPlateau: metric %q is not logged (have %v)", opts.Plateau.Monitor, logs.Names())
			}
			if ok {
				if lr, reduced := opts.Plateau.Update(v, m.opt.LR()); reduced {
					m.opt.SetLR(lr)
					if opts.Progress != nil {
						opts.Progress.Notef("Epoch %d: ReduceLROnPlateau reducing learning rate to %g.", epoch+1, lr)
					}
				}
			}
		}
		stop := false
		for _, cb := range opts.Callbacks {
			st, err := cb.OnEpochEnd(m, hist)
			if err != nil {
				return hist, err
			}
			stop = stop || st
		}
		if stop {
			break
		}
	}
	// As Keras's fit: the moving averages of the weights, if the optimizer
	// keeps them, take their place before the callbacks' end (where early
	// stopping may put back the weights of its best epoch).
	averaged, err := m.finishSWA(swa, opts.Train, opts.Epochs)
	if err != nil {
		return hist, err
	}
	m.swa = nil // the weights are the average: no checkpoint needs it now
	if (optim.Finalize(m.opt) || averaged) && m.keep {
		m.KeepPacked(true) // drops what was packed from the old weights
	}
	for _, cb := range opts.Callbacks {
		if err := cb.OnTrainEnd(m, hist); err != nil {
			return hist, err
		}
	}
	return hist, nil
}

// ratio is a/b, or 0 when b is (the samples so far all weigh 0).
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// checkClassWeight checks the class weights of a Fit: one per class,
// finite and not negative.
func (m *Model) checkClassWeight(w []float64) error {
	if w == nil {
		return nil
	}
	if n := m.NumClasses(); len(w) != n {
		return fmt.Errorf("fit: %d class weights for the model's %d classes", len(w), n)
	}
	for i, v := range w {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("fit: the weight of class %d is %v: want a finite number >= 0", i, v)
		}
	}
	return nil
}

// Evaluate runs the model in inference mode over every batch and returns the
// mean loss and the accuracy, weighting each batch by its size. A batch the
// model cannot take (inputs of another shape, a target outside its classes)
// is an error, as it is in Fit.
func (m *Model) Evaluate(batches Batches) (loss, accuracy float64, err error) {
	if !m.Built() {
		return 0, 0, errors.New("evaluate: the model is not built")
	}
	var sum float64
	var seen, correct, i int
	for ; ; i++ {
		b, ok := batches.Next()
		if !ok {
			break
		}
		if err := m.dataError(b.X, b.Y); err != nil {
			return 0, 0, fmt.Errorf("evaluate: batch %d: %w", i+1, err)
		}
		l, c := m.EvaluateBatch(b.X, b.Y)
		n := b.X.Shape[0]
		sum += l * float64(n)
		seen += n
		correct += c
	}
	if seen == 0 {
		return 0, 0, errors.New("evaluate: no data")
	}
	return sum / float64(seen), float64(correct) / float64(seen), nil
}
