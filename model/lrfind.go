package model

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/convnet-go/convnet/optim"
)

// LRFindOptions configures [Model.FindLR]. The zero values of Start, End,
// Steps and DivergeFactor are PyTorch Lightning's defaults.
type LRFindOptions struct {
	Start, End float64 // the first rate and the one the sweep tends to: 1e-8 and 1
	Steps      int     // at most this many steps: 100
	// DivergeFactor stops the sweep when the smoothed loss passes this many
	// times its lowest: 4.
	DivergeFactor float64
	// Train and StepsPerEpoch give the batches, as for [FitOptions]; the
	// sweep goes on into the next epochs if one has fewer than Steps.
	Train         func(epoch, skip int) (Batches, error)
	StepsPerEpoch int
	ClassWeight   []float64
	// OnStep, when set, is called after each step with its index (from
	// 0), its rate and its smoothed loss.
	OnStep func(step int, lr, loss float64)
}

// LRFinding is the result of a learning-rate range test: the rate and the
// smoothed loss of each step, and the suggested rate.
type LRFinding struct {
	LR, Loss []float64
	// Diverged says the sweep stopped early, its loss past DivergeFactor
	// times the lowest (or not a number).
	Diverged bool
	// Suggestion is the rate where the smoothed loss falls fastest, at
	// index Suggested of LR; 0 (and -1) when the sweep is too short to
	// tell. See [SuggestLR].
	Suggestion float64
	Suggested  int
}

// FindLR runs the learning-rate range test (Smith, "Cyclical Learning
// Rates for Training Neural Networks", 2017) as PyTorch Lightning's
// lr_find does: from a copy of the compiled model, with a fresh copy of its
// optimizer, one training step per rate, the rate growing exponentially,
// Start·(End/Start)^(i/Steps) at step i; each step's loss is smoothed,
// s_i = (β·a_{i-1} + (1-β)·loss_i) / (1-β^(i+1)) with a the running
// average and β 0.98, and the sweep stops once s passes DivergeFactor
// times its lowest. m itself, its weights and its optimizer, is left as
// it was.
func (m *Model) FindLR(ctx context.Context, o LRFindOptions) (LRFinding, error) {
	f := LRFinding{Suggested: -1}
	if m.opt == nil {
		return f, errors.New("lr find: the model is not compiled")
	}
	if o.Start == 0 {
		o.Start = 1e-8
	}
	if o.End == 0 {
		o.End = 1
	}
	if o.Steps == 0 {
		o.Steps = 100
	}
	if o.DivergeFactor == 0 {
		o.DivergeFactor = 4
	}
	switch {
	case !(o.Start > 0 && o.End > o.Start) || math.IsInf(o.End, 0):
		return f, fmt.Errorf("lr find: rates from %g to %g: want 0 < start < end", o.Start, o.End)
	case o.Steps < 2:
		return f, fmt.Errorf("lr find: %d steps: want 2 or more", o.Steps)
	case !(o.DivergeFactor > 1):
		return f, fmt.Errorf("lr find: divergence factor %g: want more than 1", o.DivergeFactor)
	case o.StepsPerEpoch < 1:
		return f, fmt.Errorf("lr find: %d steps per epoch", o.StepsPerEpoch)
	}
	opt, err := optim.New(m.opt.Name(), m.opt.Config())
	if err != nil {
		return f, fmt.Errorf("lr find: a copy of the optimizer: %w", err)
	}
	c := m.Clone()
	if err := c.Compile(opt, m.loss); err != nil {
		return f, err
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	const beta = 0.98
	var avg, lowest float64
	sweep := lrSweep(o)
	_, err = c.Fit(ctx, FitOptions{
		Epochs: (o.Steps + o.StepsPerEpoch - 1) / o.StepsPerEpoch, StepsPerEpoch: o.StepsPerEpoch,
		Train: o.Train, ClassWeight: o.ClassWeight, Schedule: sweep,
		OnBatchEnd: func(epoch, step int, loss float64) {
			i := len(f.Loss)
			avg = beta*avg + (1-beta)*loss
			s := avg / (1 - math.Pow(beta, float64(i+1)))
			f.LR, f.Loss = append(f.LR, sweep.LR(i, epoch)), append(f.Loss, s)
			if o.OnStep != nil {
				o.OnStep(i, f.LR[i], s)
			}
			if i == 0 || s < lowest {
				lowest = s
			}
			if i > 1 && s > o.DivergeFactor*lowest {
				f.Diverged = true
				stop()
			}
			if len(f.Loss) == o.Steps {
				stop()
			}
		},
	})
	var nan *NonFiniteLoss
	var intr *Interrupted
	switch {
	case errors.As(err, &nan):
		f.Diverged = true // the step is not recorded: its loss is not a number
	case errors.As(err, &intr) && ctx.Err() != nil && (f.Diverged || len(f.Loss) == o.Steps):
		// The sweep's own stop, not the caller's.
	case err != nil:
		return f, err
	}
	f.Suggested = SuggestLR(f.Loss)
	if f.Suggested >= 0 {
		f.Suggestion = f.LR[f.Suggested]
	}
	return f, nil
}

// lrSweep is the sweep's schedule: Start·(End/Start)^(step/Steps).
type lrSweep LRFindOptions

func (s lrSweep) LR(step, _ int) float64 {
	return s.Start * math.Pow(s.End/s.Start, float64(step)/float64(s.Steps))
}

// SuggestLR returns the index of the steepest fall of a range test's
// smoothed losses, as PyTorch Lightning's suggestion: the first 10 and the
// last values left out, the slope at each point by central differences
// (one-sided at the ends, as torch.gradient), the most negative one; -1
// when fewer than 2 values remain or a loss is not finite.
func SuggestLR(losses []float64) int {
	const skipBegin, skipEnd = 10, 1
	if len(losses) < skipBegin+skipEnd+2 {
		return -1
	}
	l := losses[skipBegin : len(losses)-skipEnd]
	best, idx := math.Inf(1), -1
	for i := range l {
		if math.IsNaN(l[i]) || math.IsInf(l[i], 0) {
			return -1
		}
		var g float64
		switch i {
		case 0:
			g = l[1] - l[0]
		case len(l) - 1:
			g = l[i] - l[i-1]
		default:
			g = (l[i+1] - l[i-1]) / 2
		}
		if g < best {
			best, idx = g, i
		}
	}
	return idx + skipBegin
}
