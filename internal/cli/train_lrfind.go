package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/convnet-go/convnet/internal/safefile"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/plot"
)

// findLR runs --lr-find: the learning-rate range test on the run's data,
// model and optimizer, in place of the training. It prints every tenth
// step as it goes, then the suggestion, and draws the sweep beside --out.
func (t *trainer) findLR(ctx context.Context, fit model.FitOptions, steps int) error {
	o := t.o
	fmt.Fprintf(t.stderr, "Sweeping the learning rate of %s from %g towards %g over at most %d steps of %d images (%s, %d steps an epoch).\n",
		t.m.Optimizer().Name(), o.LRFindStart, o.LRFindEnd, o.LRFindSteps, o.BatchSize, o.Model, steps)
	fmt.Fprintf(t.stdout, "%6s  %-12s %s\n", "step", "rate", "loss (smoothed)")
	row := func(i int, lr, loss float64, mark string) {
		fmt.Fprintf(t.stdout, "%6d  %-12.4g %.4f%s\n", i+1, lr, loss, mark)
	}
	f, err := t.m.FindLR(ctx, model.LRFindOptions{Start: o.LRFindStart, End: o.LRFindEnd, Steps: o.LRFindSteps,
		Train: fit.Train, StepsPerEpoch: steps, ClassWeight: fit.ClassWeight,
		OnStep: func(i int, lr, loss float64) {
			if i%10 == 0 {
				row(i, lr, loss, "")
			}
		}})
	if err != nil {
		return err
	}
	if last := len(f.LR) - 1; last%10 != 0 {
		row(last, f.LR[last], f.Loss[last], "")
	}
	if i := f.Suggested; i >= 0 {
		row(i, f.LR[i], f.Loss[i], "  <- the steepest fall")
	}
	if f.Diverged {
		fmt.Fprintf(t.stdout, "The loss diverged after %d steps, at a rate of %.3g: the sweep stopped there.\n", len(f.LR), f.LR[len(f.LR)-1])
	}
	png := t.sibling(".lr-find.png")
	if len(f.LR) > 0 {
		if err := safefile.Write(png, true, func(w io.Writer) error { return plot.LRFind(w, f.LR, f.Loss, f.Suggested) }); err != nil {
			return err
		}
	}
	if f.Suggested < 0 {
		return fmt.Errorf("lr find: the sweep stopped after %d steps, too few to suggest a rate (the suggestion leaves out the first 10 and the last): lower --lr-find-end, or give more --lr-find-steps", len(f.LR))
	}
	lr := strconv.FormatFloat(f.Suggestion, 'g', 2, 64)
	fmt.Fprintf(t.stdout, "Suggested learning rate: %s, where the smoothed loss falls fastest (PyTorch Lightning's suggestion); train with --lr %s. The sweep: %s\n", lr, lr, png)
	return nil
}
