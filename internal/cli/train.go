package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
)

// The train command, file by file: train_options.go parses and checks the
// flags, train_output.go checks and names the files a run writes,
// train_data.go loads and splits the data, train_model.go builds the model,
// train_base.go starts it from a model file (transfer learning),
// train_resume.go writes and reads the run's checkpoint, and this file runs
// the training.

func init() {
	register(command{name: "train", summary: "train a model on a data set (the tutorial's recipe by default)", run: runTrain})
}

// onTrainBatch, when set, is called after every training step with the
// run's context; tests use it to interrupt a run at a chosen step.
var onTrainBatch func(ctx context.Context, epoch, step int, loss float64)

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseTrain(args, stderr)
	if err != nil {
		return err
	}
	t := &trainer{o: o, args: args, stdout: stdout, stderr: stderr, head: -1}
	if o.Resume != "" {
		if err := t.resume(o.Resume, o); err != nil {
			return err
		}
	}
	return t.run(ctx)
}

// trainer carries one training run.
type trainer struct {
	o              *trainOptions
	args           []string // the command line that started the run
	stdout, stderr io.Writer

	// When resuming: the checkpoint, its model and where the run stopped.
	from    string
	resumed *model.Sequential
	state   trainState

	dir              string // the working directory the run started in, recorded in its checkpoints
	out, ckpt        string // the trained model; the run's own checkpoint, rewritten every epoch
	best             string // where --restore-best keeps the best epoch's weights for a resumed run
	train, val, test *data.Dataset
	base             *model.Model // the model file a run starts from (--model), until buildModel
	head             int          // where the head fromBase gave it starts in its layers; -1: none given
	m                *model.Sequential
	std              *data.Standardizer
}

// errInterrupted is the error of a run stopped by its context (Ctrl+C).
var errInterrupted = errors.New("training interrupted")

func (t *trainer) run(ctx context.Context) (err error) {
	o := t.o
	// Checked here, not with the other options: the PyTorch project of a
	// --bf16 recipe (convnet export) runs anywhere.
	if err := checkBF16(o.BF16); err != nil {
		return err
	}
	if t.dir = t.state.Dir; t.dir == "" {
		if t.dir, err = os.Getwd(); err != nil {
			return err
		}
	}
	if o.LRFind {
		t.out = o.outPath()
		if err := checkWritable(t.sibling(".lr-find.png")); err != nil {
			return err
		}
	} else if err := t.checkOutputs(); err != nil {
		return err
	}
	switch {
	case t.resumed != nil:
		t.sizeImages(t.resumed)
	case o.modelFile:
		if err := t.loadBase(); err != nil {
			return err
		}
		t.sizeImages(t.base)
	}
	if err := t.loadData(ctx); err != nil {
		return err
	}
	if err := t.buildModel(); err != nil {
		return err
	}
	m := t.m
	m.UseBF16(o.BF16)
	loader := data.NewLoader(t.train, data.LoaderOptions{
		BatchSize: o.BatchSize, Shuffle: true, Seed: o.Seed, Augment: o.aug, Mix: o.mix, DropLast: o.DropLast,
		Standardizer: t.std, NumClasses: len(m.ClassNames), Workers: o.Workers, Prefetch: 4,
	})
	defer loader.Close()
	steps := loader.Len()
	if steps == 0 {
		return usagef("--batch-size %d is larger than the %d training images", o.BatchSize, t.train.Len())
	}
	if n := o.Accumulate; n > steps*o.Epochs {
		return usagef("--gradient-accumulation-steps %d: the run has %d steps (%d per epoch, %d epochs), which would make no update", n, steps*o.Epochs, steps, o.Epochs)
	}
	fit, err := t.fitOptions(ctx, loader)
	if err != nil {
		return err
	}
	if o.LRFind {
		return t.findLR(ctx, fit, steps)
	}
	if t.val != nil {
		// Validation and the final test run in the training batch size, so
		// that they reuse the layers' buffers instead of growing them.
		vl := data.NewLoader(t.val, data.LoaderOptions{BatchSize: o.BatchSize, Standardizer: t.std, NumClasses: len(m.ClassNames)})
		defer vl.Close()
		fit.Validation, fit.ValidationFreq = model.ValidateOn(vl, o.sparse()), o.ValFreq
	}
	if o.Watch {
		w, werr := t.startWatch()
		if werr != nil {
			return werr
		}
		defer func() { w.end(err) }()
		// Before the run's own checkpoint, which comes last.
		fit.Callbacks = slices.Insert(fit.Callbacks, len(fit.Callbacks)-1, model.Callback(w))
	}
	if t.resumed != nil {
		if err := t.resumeAt(&fit); err != nil {
			return err
		}
	} else {
		opt := m.Optimizer()
		clip := ""
		for _, c := range o.clipping() {
			clip = fmt.Sprintf(", %s %g", c.key, c.v)
		}
		if o.EMA > 0 {
			clip += fmt.Sprintf(", ema %g", o.EMA)
			if o.EMAEvery > 0 {
				clip += fmt.Sprintf(" (in place every %d steps)", o.EMAEvery)
			}
		}
		if o.SWAStart > 0 {
			clip += fmt.Sprintf(", weights averaged from epoch %d", o.SWAStart)
			if o.SWALR > 0 {
				clip += fmt.Sprintf(" (the rate to %g over %d epochs, %s)", o.SWALR, o.SWAAnneal, o.SWAStrategy)
			}
		}
		if o.Accumulate > 0 {
			clip += fmt.Sprintf(", an update every %d steps (gradient accumulation: batches of %d)", o.Accumulate, o.Accumulate*o.BatchSize)
		}
		if o.BF16 {
			clip += ", products in bfloat16"
		}
		if o.NoDecay != "" {
			clip += fmt.Sprintf(", no weight decay on %s", strings.ReplaceAll(o.NoDecay, ",", ", "))
		}
		fmt.Fprintf(t.stderr, "Training %s on %s: %d images (%d steps of %d per epoch), %d epochs, %s lr %g%s, seed %d.\n",
			o.Model, o.Source.describe(), t.train.Len(), steps, o.BatchSize, o.Epochs, opt.Name(), opt.LR(), clip, o.Seed)
	}
	if mx := o.mix; mx.Enabled() {
		fmt.Fprintf(t.stderr, "Mixing the images of each batch two by two: %s; the training accuracy is against each mixed target's larger share.\n", describeMix(mx))
	}
	if fit.ClassWeight != nil {
		fmt.Fprintf(t.stderr, "Class weights (%s): %s.\n", o.ClassWeight, describeClassWeights(fit.ClassWeight, t.train.ClassNames))
	}
	if ctx.Err() != nil {
		return errors.New("training interrupted before its first step")
	}
	start := time.Now()
	hist, err := m.Fit(ctx, fit)
	if hist != nil {
		m.SetHistory(hist)
	}
	var intr *model.Interrupted
	var nan *model.NonFiniteLoss
	switch {
	case errors.As(err, &intr):
		if serr := t.saveCheckpoint(intr.Epoch, intr.Step, fit.Plateau); serr != nil {
			return fmt.Errorf("%v; saving the checkpoint failed: %w", err, serr)
		}
		fmt.Fprintf(t.stderr, "\nStopped %s. Checkpoint saved to %s.\nResume with: convnet train --resume %s\n", err, t.ckpt, t.ckpt)
		return errInterrupted
	case errors.As(err, &nan):
		if _, serr := os.Stat(t.ckpt); serr == nil {
			return fmt.Errorf("%w; the last good checkpoint is %s (end of the last complete epoch)", err, t.ckpt)
		}
		return fmt.Errorf("%w; no epoch completed, so there is no checkpoint", err)
	case err != nil:
		return err
	}
	elapsed := time.Since(start)
	t.reportEnd(fit)
	// A training step allocates nothing, so the collector may not have run since
	// the data were loaded and the model built: the garbage they left still
	// takes memory. Collecting it now lets the evaluation and the saving
	// reuse that memory instead of growing the process by as much again.
	runtime.GC()
	return t.finish(hist, elapsed)
}

// reportEnd says, as Keras does, what the end of training did to the
// weights: the moving average put in their place, an early stop, the best
// epoch's weights put back.
func (t *trainer) reportEnd(fit model.FitOptions) {
	if t.o.EMA > 0 {
		fmt.Fprintf(t.stderr, "The weights are their exponential moving average (momentum %g).\n", t.o.EMA)
	}
	if s := t.o.SWAStart; s > 0 {
		again := ""
		if hasBatchNorm(t.m) {
			again = ", the batch normalizations' statistics computed again over the training data"
		}
		fmt.Fprintf(t.stderr, "The weights are the average of epochs %d to %d's (stochastic weight averaging)%s.\n", s, t.o.Epochs, again)
	}
	for _, cb := range fit.Callbacks {
		if es, ok := cb.(*model.EarlyStopping); ok {
			if es.Stopped > 0 {
				fmt.Fprintf(t.stderr, "Epoch %d: early stopping\n", es.Stopped)
			}
			if es.Restored > 0 {
				fmt.Fprintf(t.stderr, "Restoring model weights from the end of the best epoch: %d.\n", es.Restored)
			}
		}
	}
}

// fitOptions sets up Fit: the training batches, the learning-rate schedule
// and the callbacks the flags ask for.
func (t *trainer) fitOptions(ctx context.Context, loader *data.Loader) (model.FitOptions, error) {
	o := t.o
	steps := loader.Len()
	fit := model.FitOptions{
		Epochs:        o.Epochs,
		StepsPerEpoch: steps,
		Train:         model.TrainOn(loader, o.sparse()),
		Progress:      model.NewProgbar(t.stderr, isTerminal(t.stderr)),
		OnBatchEnd: func(epoch, step int, loss float64) {
			if onTrainBatch != nil {
				onTrainBatch(ctx, epoch, step, loss)
			}
		},
	}
	if o.ClassWeight != "" {
		w, err := classWeights(o.ClassWeight, t.train)
		if err != nil {
			return fit, err
		}
		fit.ClassWeight = w
	}
	fit.Schedule = o.lrSchedule(steps)
	if o.SWAStart > 0 {
		fit.SWA = &model.SWA{Start: o.SWAStart, LR: o.SWALR, AnnealEpochs: o.SWAAnneal, AnnealStrategy: o.SWAStrategy}
	}
	switch o.Schedule {
	case "plateau":
		p := optim.NewReduceLROnPlateau(o.PlateauMonitor)
		p.Factor, p.Patience, p.MinLR, p.MinDelta, p.Cooldown = o.PlateauFactor, o.PlateauPatient, o.PlateauMinLR, o.PlateauDelta, o.PlateauCool
		if err := p.Validate(); err != nil {
			return fit, usageError{fmt.Errorf("--schedule plateau: %w", err)}
		}
		if t.val == nil && strings.HasPrefix(o.PlateauMonitor, "val_") {
			return fit, usagef("--schedule plateau watches %s but there is no validation data (use --validation-split or --plateau-monitor loss)", o.PlateauMonitor)
		}
		fit.Plateau = p
	}
	for _, w := range []struct {
		on            bool
		flag, monitor string
		other         string
	}{
		{o.EarlyPatience > 0, "--early-stopping", o.EarlyMonitor, "--early-stopping-monitor loss"},
		{o.Checkpoint != "" && o.CkptBestOnly, "--checkpoint-best-only", o.CkptMonitor, "--checkpoint-monitor loss"},
	} {
		if w.on && t.val == nil && strings.HasPrefix(w.monitor, "val_") {
			return fit, usagef("%s watches %s but there is no validation data (use --validation-split, --validation-data test or %s)", w.flag, w.monitor, w.other)
		}
	}
	if o.EarlyPatience > 0 {
		opts, err := o.earlyStopping()
		if err != nil {
			return fit, err
		}
		es, err := model.NewEarlyStopping(opts)
		if err != nil {
			return fit, usageError{err}
		}
		if opts.RestoreBestWeights {
			es.BestPath = t.best
		}
		fit.Callbacks = append(fit.Callbacks, es)
	}
	if o.Checkpoint != "" {
		mc, err := model.NewModelCheckpoint(o.Checkpoint, o.CkptMonitor, "auto", o.CkptBestOnly)
		if err != nil {
			return fit, usageError{err}
		}
		mc.Meta = func(m *model.Sequential, h *model.History) { m.SetHistory(h) }
		fit.Callbacks = append(fit.Callbacks, mc)
	}
	if o.CSVLog != "" {
		fit.Callbacks = append(fit.Callbacks, &model.CSVLogger{Path: o.CSVLog})
	}
	if o.TensorBoard != "" {
		fit.Callbacks = append(fit.Callbacks, &model.TensorBoard{Dir: o.TensorBoard, HistogramFreq: o.HistogramFreq, WriteImages: o.WriteImages,
			UpdateFreq: o.UpdateFreq, WriteStepsPerSecond: o.StepsPerSec})
	}
	// The run's own checkpoint comes last, after every other callback has
	// seen the epoch.
	fit.Callbacks = append(fit.Callbacks, &epochCheckpoint{t: t, plateau: fit.Plateau})
	return fit, nil
}

// lrSchedule returns the learning-rate schedule of a run of steps steps
// per epoch: nil for a constant rate without a warmup or the plateau
// schedule, which Fit drives from the epochs' metrics.
func (o *trainOptions) lrSchedule(steps int) optim.Schedule {
	w := o.WarmupEpochs
	var after optim.Schedule
	switch o.Schedule {
	case "step":
		after = optim.StepDecay{Initial: o.LR, Factor: o.StepFactor, Every: o.StepEvery}
	case "cosine": // with a warmup, Keras's CosineDecay(0, decay_steps, alpha, warmup_target=lr, warmup_steps): the same rates
		after = optim.Cosine{Initial: o.LR, DecaySteps: steps * (o.Epochs - w), Alpha: o.CosineAlpha}
	case "constant":
		if w > 0 {
			after = optim.Constant{Value: o.LR}
		}
	}
	if w > 0 && after != nil {
		return optim.Warmup{Target: o.LR, Steps: steps * w, Epochs: w, After: after}
	}
	return after
}

// finish evaluates the trained model on the test set, saves it with its
// curves and removes the run's checkpoint.
func (t *trainer) finish(hist *model.History, elapsed time.Duration) error {
	o, m := t.o, t.m
	// The model file predicts in float32: so does the test that it keeps.
	m.UseBF16(false)
	if t.test != nil && !o.NoEval {
		ev, err := evaluateModel(m, t.test, o.BatchSize)
		if err != nil {
			return err
		}
		ev.Dataset = o.Source.describe()
		if err := ev.store(m, t.test); err != nil {
			return err
		}
		fmt.Fprintf(t.stdout, "Test loss: %.4f - test accuracy: %.4f (%d images)\n", ev.Loss, ev.Accuracy, t.test.Len())
	}
	delete(m.Meta, trainStateKey)
	if err := model.Save(t.out, m, model.SaveOptions{Overwrite: true}); err != nil {
		return err
	}
	curves := t.sibling(".curves.png")
	if err := writeCurves(curves, hist, fmt.Sprintf("%s on %s", o.Model, o.Source.describe())); err != nil {
		return err
	}
	os.Remove(t.ckpt)
	os.Remove(t.best)
	fmt.Fprintf(t.stdout, "Saved %s (training took %s); curves in %s\n", t.out, elapsed.Round(time.Second), curves)
	if o.TensorBoard != "" {
		fmt.Fprintf(t.stdout, "TensorBoard's event files in %s: tensorboard --logdir %s\n", o.TensorBoard, o.TensorBoard)
	}
	return nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// hasBatchNorm tells whether a layer of m is a BatchNormalization that
// trains, whose statistics SWA computes again.
func hasBatchNorm(m *model.Sequential) bool {
	for _, l := range m.Layers {
		if _, ok := l.(*nn.BatchNormalization); ok && !m.InferenceInTraining(l) {
			return true
		}
	}
	return false
}
