package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/safefile"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/plot"
)

func init() {
	register(command{name: "train", summary: "train a model on a data set (the tutorial's recipe by default)", run: runTrain})
}

// trainOptions are the flags of convnet train. Their defaults are the
// tutorial's recipe; --recipe selects another set of defaults.
type trainOptions struct {
	Recipe string
	Source sourceFlags
	Model  string // preset name or JSON architecture file
	Out    string
	Force  bool
	Seed   uint64

	Epochs    int
	BatchSize int
	DropLast  bool
	Workers   int

	Optimizer   string
	LR          float64
	Rho         float64
	Momentum    float64
	Nesterov    bool
	Beta1       float64
	Beta2       float64
	Epsilon     float64
	WeightDecay float64

	Loss           string
	LabelSmoothing float64

	Schedule       string // constant, step, cosine, plateau
	StepEvery      int
	StepFactor     float64
	CosineAlpha    float64
	PlateauMonitor string
	PlateauFactor  float64
	PlateauPatient int
	PlateauMinLR   float64
	PlateauDelta   float64
	PlateauCool    int

	Aug   augmentFlags
	NoAug bool

	Rescale float64
	Center  string // image, channel, none
	Std     bool   // featurewise std normalisation

	ValSplit float64
	ValMode  string // random, stratified, writers
	ValData  string // "": none or split; "test": the test set

	EarlyPatience int // 0: off
	EarlyMonitor  string
	RestoreBest   bool
	Checkpoint    string
	CkptBestOnly  bool
	CkptMonitor   string
	CSVLog        string

	Resume string
	NoEval bool
}

// recipes are named sets of defaults for train's flags.
var recipes = map[string]map[string]string{
	// The Keras tutorial: RMSprop (Keras 2 rule), batch 100, 30 epochs,
	// real-time augmentation, pixels /255 with the mean image subtracted.
	"tutorial": {},
	// The stronger recipe: a batch-normalised network, Adam with a cosine
	// schedule over 45 epochs and label smoothing, the tutorial's augmentation.
	"strong": {
		"model": "convnet-bn", "optimizer": "adam", "lr": "0.002", "schedule": "cosine",
		"epochs": "45", "batch-size": "64", "label-smoothing": "0.1",
	},
	// The strong recipe's optimizer and augmentation for the resnet preset,
	// 40 epochs: a step costs about 1.5 times the strong recipe's, so an
	// AHCD run takes about 22 minutes on 2 cores.
	"resnet": {
		"model": "resnet", "optimizer": "adam", "lr": "0.002", "schedule": "cosine",
		"epochs": "40", "batch-size": "64", "label-smoothing": "0.1",
	},
}

func (o *trainOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.Recipe, "recipe", "tutorial", "a named set of defaults: "+strings.Join(recipeNames(), ", "))
	o.Source.register(fs, "ahcd")
	fs.StringVar(&o.Model, "model", "tutorial", "a preset ("+strings.Join(model.PresetNames(), ", ")+") or a JSON architecture file")
	fs.StringVar(&o.Out, "out", "", "the trained model file (default: <model>.safetensors)")
	fs.BoolVar(&o.Force, "force", false, "overwrite existing output files")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed: weights, shuffling, augmentation and dropout")

	fs.IntVar(&o.Epochs, "epochs", 30, "number of epochs")
	fs.IntVar(&o.BatchSize, "batch-size", 100, "batch size")
	fs.BoolVar(&o.DropLast, "drop-last", true, "end each epoch before a last, smaller batch (the tutorial's steps_per_epoch = N // batch size)")
	fs.IntVar(&o.Workers, "workers", 1, "goroutines preparing batches (augmentation)")

	fs.StringVar(&o.Optimizer, "optimizer", "rmsprop", "sgd, rmsprop, adam or adamw")
	fs.Float64Var(&o.LR, "lr", 0.001, "learning rate")
	fs.Float64Var(&o.Rho, "rho", 0.9, "RMSprop's decay of the squared-gradient average")
	fs.Float64Var(&o.Momentum, "momentum", 0, "momentum (SGD, RMSprop)")
	fs.BoolVar(&o.Nesterov, "nesterov", false, "Nesterov momentum (SGD)")
	fs.Float64Var(&o.Beta1, "beta1", 0.9, "Adam's beta_1")
	fs.Float64Var(&o.Beta2, "beta2", 0.999, "Adam's beta_2")
	fs.Float64Var(&o.Epsilon, "epsilon", 0, "epsilon (default: 1e-8 for RMSprop, 1e-7 for Adam)")
	fs.Float64Var(&o.WeightDecay, "weight-decay", 0, "decoupled weight decay")

	fs.StringVar(&o.Loss, "loss", "categorical_crossentropy", "categorical_crossentropy or sparse_categorical_crossentropy")
	fs.Float64Var(&o.LabelSmoothing, "label-smoothing", 0, "label smoothing in [0, 1)")

	fs.StringVar(&o.Schedule, "schedule", "constant", "learning-rate schedule: constant, step, cosine or plateau")
	fs.IntVar(&o.StepEvery, "step-every", 10, "step schedule: epochs between decays")
	fs.Float64Var(&o.StepFactor, "step-factor", 0.5, "step schedule: factor of each decay")
	fs.Float64Var(&o.CosineAlpha, "cosine-alpha", 0, "cosine schedule: final rate as a fraction of the first")
	fs.StringVar(&o.PlateauMonitor, "plateau-monitor", "val_loss", "plateau schedule: metric to watch")
	fs.Float64Var(&o.PlateauFactor, "plateau-factor", 0.5, "plateau schedule: factor of each reduction")
	fs.IntVar(&o.PlateauPatient, "plateau-patience", 3, "plateau schedule: epochs without improvement before a reduction")
	fs.Float64Var(&o.PlateauMinLR, "plateau-min-lr", 1e-5, "plateau schedule: lowest rate")
	fs.Float64Var(&o.PlateauDelta, "plateau-min-delta", 1e-4, "plateau schedule: smallest change that counts as an improvement")
	fs.IntVar(&o.PlateauCool, "plateau-cooldown", 0, "plateau schedule: epochs to wait after a reduction")

	o.Aug.register(fs)
	fs.BoolVar(&o.NoAug, "no-augment", false, "turn augmentation off")

	fs.Float64Var(&o.Rescale, "rescale", 1.0/255, "multiply pixel values by this (Keras's rescale)")
	fs.StringVar(&o.Center, "center", "image", "zero-centring: image (the mean image), channel (Keras's featurewise_center) or none")
	fs.BoolVar(&o.Std, "std", false, "divide by the per-channel standard deviation (Keras's featurewise_std_normalization)")

	fs.Float64Var(&o.ValSplit, "validation-split", 0, "fraction of the training set held out for validation")
	fs.StringVar(&o.ValMode, "validation-mode", "random", "how to hold it out: random, stratified or writers (AHCD's whole writer blocks)")
	fs.StringVar(&o.ValData, "validation-data", "", `"test" to validate on the test set (as the tutorial's Keras code does)`)

	fs.IntVar(&o.EarlyPatience, "early-stopping", 0, "stop after this many epochs without improvement (0: off)")
	fs.StringVar(&o.EarlyMonitor, "early-stopping-monitor", "val_loss", "metric watched by early stopping")
	fs.BoolVar(&o.RestoreBest, "restore-best", false, "early stopping restores the best epoch's weights")
	fs.StringVar(&o.Checkpoint, "checkpoint", "", "save a checkpoint after every epoch to this path (may hold {epoch:02d}, {val_loss:.4f}, ...)")
	fs.BoolVar(&o.CkptBestOnly, "checkpoint-best-only", false, "save a checkpoint only when the monitored metric improves")
	fs.StringVar(&o.CkptMonitor, "checkpoint-monitor", "val_loss", "metric watched by --checkpoint-best-only")
	fs.StringVar(&o.CSVLog, "csv-log", "", "write the history to this CSV file after every epoch")

	fs.StringVar(&o.Resume, "resume", "", "continue the run saved in this checkpoint (its options are reused)")
	fs.BoolVar(&o.NoEval, "no-evaluate", false, "do not evaluate on the test set at the end")
}

func recipeNames() []string {
	var names []string
	for n := range recipes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// parseRange reads "z" (meaning 1-z..1+z) or "lo,hi".
func parseRange(s string) ([2]float64, error) {
	lo, hi, pair := strings.Cut(s, ",")
	a, err := strconv.ParseFloat(strings.TrimSpace(lo), 64)
	if err != nil {
		return [2]float64{}, fmt.Errorf("%q is not a number or a pair lo,hi", s)
	}
	if !pair {
		return [2]float64{1 - a, 1 + a}, nil
	}
	b, err := strconv.ParseFloat(strings.TrimSpace(hi), 64)
	if err != nil || b < a {
		return [2]float64{}, fmt.Errorf("%q is not a range lo,hi with lo <= hi", s)
	}
	return [2]float64{a, b}, nil
}

// parseTrain parses args into options, applying the recipe's defaults to
// the flags not given.
func parseTrain(args []string, stderr io.Writer) (*trainOptions, error) {
	o := &trainOptions{}
	fs := newFlagSet("train", "[flags]", stderr)
	o.register(fs)
	if _, err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q", fs.Arg(0))
	}
	recipe, ok := recipes[o.Recipe]
	if !ok {
		return nil, usagef("unknown recipe %q: want %s", o.Recipe, strings.Join(recipeNames(), ", "))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, v := range recipe {
		if !set[name] {
			if err := fs.Set(name, v); err != nil {
				return nil, fmt.Errorf("recipe %s: %s=%s: %w", o.Recipe, name, v, err)
			}
		}
	}
	if o.Resume != "" {
		for name := range set {
			if name != "resume" && name != "workers" {
				return nil, usagef("--%s cannot be changed when resuming: the checkpoint's options are used", name)
			}
		}
	}
	return o, o.check()
}

// check validates values that flag parsing cannot.
func (o *trainOptions) check() error {
	switch {
	case o.Epochs < 1:
		return usagef("--epochs %d: want at least 1", o.Epochs)
	case o.BatchSize < 1:
		return usagef("--batch-size %d: want at least 1", o.BatchSize)
	case o.Workers < 1:
		return usagef("--workers %d: want at least 1", o.Workers)
	case !(o.LR > 0) || math.IsInf(o.LR, 0):
		return usagef("--lr %v: want a positive number", o.LR)
	case o.LabelSmoothing < 0 || o.LabelSmoothing >= 1:
		return usagef("--label-smoothing %v: want a value in [0, 1)", o.LabelSmoothing)
	case o.ValSplit < 0 || o.ValSplit >= 1:
		return usagef("--validation-split %v: want a fraction in [0, 1)", o.ValSplit)
	case o.ValData != "" && o.ValData != "test":
		return usagef(`--validation-data %q: the only value is "test"`, o.ValData)
	case o.ValData != "" && o.ValSplit > 0:
		return usagef("give --validation-split or --validation-data, not both")
	}
	if !slices.Contains([]string{"random", "stratified", "writers"}, o.ValMode) {
		return usagef("--validation-mode %q: want random, stratified or writers", o.ValMode)
	}
	if !slices.Contains([]string{"image", "channel", "none"}, o.Center) {
		return usagef("--center %q: want image, channel or none", o.Center)
	}
	if !slices.Contains([]string{"constant", "step", "cosine", "plateau"}, o.Schedule) {
		return usagef("--schedule %q: want constant, step, cosine or plateau", o.Schedule)
	}
	if !slices.Contains([]string{"categorical_crossentropy", "sparse_categorical_crossentropy"}, o.Loss) {
		return usagef("--loss %q: want categorical_crossentropy or sparse_categorical_crossentropy", o.Loss)
	}
	if _, err := o.Aug.config(); err != nil {
		return err
	}
	if _, err := o.optimizer(); err != nil {
		return usageError{err}
	}
	return nil
}

// optimizer builds the optimizer the flags describe.
func (o *trainOptions) optimizer() (optim.Optimizer, error) {
	cfg := map[string]any{"learning_rate": o.LR}
	name := strings.ToLower(o.Optimizer)
	switch name {
	case "sgd":
		cfg["momentum"], cfg["nesterov"] = o.Momentum, o.Nesterov
	case "rmsprop":
		cfg["rho"], cfg["momentum"] = o.Rho, o.Momentum
	case "adam", "adamw":
		cfg["beta_1"], cfg["beta_2"] = o.Beta1, o.Beta2
	}
	if o.Epsilon > 0 && name != "sgd" {
		cfg["epsilon"] = o.Epsilon
	}
	if o.WeightDecay > 0 {
		cfg["weight_decay"] = o.WeightDecay
	}
	opt, err := optim.New(name, cfg)
	if err != nil {
		return nil, fmt.Errorf("--optimizer %s: %w", o.Optimizer, err)
	}
	return opt, nil
}

// trainState is what a checkpoint records beyond the model and optimizer to
// resume a run: where it stopped and the command line that started it.
type trainState struct {
	Args    []string            `json:"args"`
	Epoch   int                 `json:"epoch"` // epoch in progress, from 0
	Step    int                 `json:"step"`  // steps of it done
	Plateau *optim.PlateauState `json:"plateau,omitempty"`
	Version int                 `json:"version"`
}

const trainStateKey = "train_state"

// onTrainBatch is called after every training step; tests use it to
// interrupt a run at a chosen step.
var onTrainBatch func(epoch, step int, loss float64)

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseTrain(args, stderr)
	if err != nil {
		return err
	}
	var resume *model.Sequential
	var state trainState
	if o.Resume != "" {
		if resume, err = model.Load(o.Resume); err != nil {
			return err
		}
		s, ok := resume.Meta[trainStateKey]
		if !ok {
			return fmt.Errorf("%s: not a training checkpoint (no %s)", o.Resume, trainStateKey)
		}
		if err := json.Unmarshal([]byte(s), &state); err != nil {
			return fmt.Errorf("%s: training state: %w", o.Resume, err)
		}
		workers := o.Workers
		if o, err = parseTrain(state.Args, stderr); err != nil {
			return fmt.Errorf("%s: stored options: %w", o.Resume, err)
		}
		o.Workers = workers
		o.Force = true // the run's own files
		args = state.Args
	}
	t := &trainer{o: o, args: args, stdout: stdout, stderr: stderr}
	return t.run(ctx, resume, state)
}

// trainer carries one training run.
type trainer struct {
	o              *trainOptions
	args           []string
	stdout, stderr io.Writer

	train, val, test *data.Dataset
	m                *model.Sequential
	std              *data.Standardizer
	ckpt             string // the run's own checkpoint, rewritten every epoch
}

func (t *trainer) outPath() string {
	if t.o.Out != "" {
		return t.o.Out
	}
	base := strings.TrimSuffix(filepath.Base(t.o.Model), filepath.Ext(t.o.Model))
	return base + ".safetensors"
}

// sibling returns the output path with its extension replaced by suffix.
func (t *trainer) sibling(suffix string) string {
	out := t.outPath()
	return strings.TrimSuffix(out, filepath.Ext(out)) + suffix
}

func (t *trainer) run(ctx context.Context, resume *model.Sequential, state trainState) error {
	o := t.o
	out := t.outPath()
	t.ckpt = t.sibling(".ckpt.safetensors")
	if resume == nil && !o.Force {
		for _, p := range []string{out, t.ckpt} {
			if _, err := os.Stat(p); err == nil {
				return fmt.Errorf("%s exists: use --force to overwrite it, or --resume %s to continue", p, t.ckpt)
			}
		}
	}
	if st, err := os.Stat(filepath.Dir(out)); err != nil || !st.IsDir() {
		return fmt.Errorf("cannot write %s: folder %s does not exist", out, filepath.Dir(out))
	}
	if err := t.loadData(); err != nil {
		return err
	}
	if err := t.buildModel(resume); err != nil {
		return err
	}
	m := t.m
	opt := m.Optimizer()

	steps := (t.train.Len() + o.BatchSize - 1) / o.BatchSize
	if o.DropLast {
		steps = t.train.Len() / o.BatchSize
	}
	if steps == 0 {
		return usagef("--batch-size %d is larger than the %d training images", o.BatchSize, t.train.Len())
	}
	aug, err := o.Aug.config()
	if err != nil {
		return err
	}
	if o.NoAug || !aug.Enabled() {
		aug = nil
	}
	loader := data.NewLoader(t.train, data.LoaderOptions{
		BatchSize: o.BatchSize, Shuffle: true, Seed: o.Seed, Augment: aug, DropLast: o.DropLast,
		Standardizer: t.std, NumClasses: len(m.ClassNames), Workers: o.Workers, Prefetch: 4,
	})
	defer loader.Close()
	sparse := o.Loss == "sparse_categorical_crossentropy"

	fit := model.FitOptions{
		Epochs:        o.Epochs,
		StepsPerEpoch: steps,
		Train: func(epoch, skip int) (model.Batches, error) {
			loader.Start(epoch)
			for range skip {
				if _, ok := loader.Next(); !ok {
					return nil, fmt.Errorf("resume: epoch %d has fewer than %d batches", epoch+1, skip)
				}
			}
			return &loaderBatches{l: loader, sparse: sparse}, nil
		},
		Progress:   model.NewProgbar(t.stderr, isTerminal(t.stderr)),
		OnBatchEnd: onTrainBatch,
	}
	if t.val != nil {
		vl := data.NewLoader(t.val, data.LoaderOptions{BatchSize: 256, Standardizer: t.std, NumClasses: len(m.ClassNames)})
		defer vl.Close()
		fit.Validation = func() (model.Batches, error) {
			vl.Start(0)
			return &loaderBatches{l: vl, sparse: sparse}, nil
		}
	}
	switch o.Schedule {
	case "step":
		fit.Schedule = optim.StepDecay{Initial: o.LR, Factor: o.StepFactor, Every: o.StepEvery}
	case "cosine":
		fit.Schedule = optim.Cosine{Initial: o.LR, DecaySteps: steps * o.Epochs, Alpha: o.CosineAlpha}
	case "plateau":
		p := optim.NewReduceLROnPlateau(o.PlateauMonitor)
		p.Factor, p.Patience, p.MinLR, p.MinDelta, p.Cooldown = o.PlateauFactor, o.PlateauPatient, o.PlateauMinLR, o.PlateauDelta, o.PlateauCool
		if err := p.Validate(); err != nil {
			return usageError{fmt.Errorf("--schedule plateau: %w", err)}
		}
		if t.val == nil && strings.HasPrefix(o.PlateauMonitor, "val_") {
			return usagef("--schedule plateau watches %s but there is no validation data (use --validation-split or --plateau-monitor loss)", o.PlateauMonitor)
		}
		fit.Plateau = p
	}
	if o.EarlyPatience > 0 {
		es, err := model.NewEarlyStopping(model.EarlyStoppingOptions{Monitor: o.EarlyMonitor, Patience: o.EarlyPatience, RestoreBestWeights: o.RestoreBest})
		if err != nil {
			return usageError{err}
		}
		fit.Callbacks = append(fit.Callbacks, es)
	}
	if o.Checkpoint != "" {
		mc, err := model.NewModelCheckpoint(o.Checkpoint, o.CkptMonitor, "auto", o.CkptBestOnly)
		if err != nil {
			return usageError{err}
		}
		mc.Meta = func(m *model.Sequential, h *model.History) { m.SetHistory(h) }
		fit.Callbacks = append(fit.Callbacks, mc)
	}
	if o.CSVLog != "" {
		fit.Callbacks = append(fit.Callbacks, &model.CSVLogger{Path: o.CSVLog})
	}
	// The run's own checkpoint comes last, after every other callback has
	// seen the epoch.
	fit.Callbacks = append(fit.Callbacks, &epochCheckpoint{t: t, plateau: fit.Plateau})

	if resume != nil {
		fit.InitialEpoch, fit.InitialStep = state.Epoch, state.Step
		if fit.InitialStep >= steps {
			fit.InitialEpoch, fit.InitialStep = fit.InitialEpoch+1, 0
		}
		h, err := m.History()
		if err != nil {
			return err
		}
		fit.History = h
		if fit.Plateau != nil && state.Plateau != nil {
			fit.Plateau.SetState(*state.Plateau)
		}
		fmt.Fprintf(t.stderr, "Resuming %s at epoch %d, step %d.\n", o.Resume, fit.InitialEpoch+1, fit.InitialStep)
	} else {
		fmt.Fprintf(t.stderr, "Training %s on %s: %d images (%d steps of %d per epoch), %d epochs, %s lr %g, seed %d.\n",
			o.Model, o.Source.describe(), t.train.Len(), steps, o.BatchSize, o.Epochs, opt.Name(), opt.LR(), o.Seed)
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
		return errors.New("training interrupted")
	case errors.As(err, &nan):
		if _, serr := os.Stat(t.ckpt); serr == nil {
			return fmt.Errorf("%w; the last good checkpoint is %s (end of the last complete epoch)", err, t.ckpt)
		}
		return fmt.Errorf("%w; no epoch completed, so there is no checkpoint", err)
	case err != nil:
		return err
	}
	elapsed := time.Since(start)

	if t.test != nil && !o.NoEval {
		ev, err := evaluateModel(m, t.test, 256)
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
	if err := model.Save(out, m, model.SaveOptions{Overwrite: true}); err != nil {
		return err
	}
	curves := t.sibling(".curves.png")
	if err := writeCurves(curves, hist, fmt.Sprintf("%s on %s", o.Model, o.Source.describe())); err != nil {
		return err
	}
	os.Remove(t.ckpt)
	fmt.Fprintf(t.stdout, "Saved %s (training took %s); curves in %s\n", out, elapsed.Round(time.Second), curves)
	return nil
}

// loadData loads the data set and splits off the validation set.
func (t *trainer) loadData() error {
	o := t.o
	train, test, err := o.Source.load()
	if err != nil {
		return err
	}
	t.train, t.test = train, test
	if o.ValSplit > 0 {
		var err error
		switch o.ValMode {
		case "random":
			t.train, t.val, err = data.SplitRandom(train, o.ValSplit, o.Seed)
		case "stratified":
			t.train, t.val, err = data.SplitStratified(train, o.ValSplit, o.Seed)
		case "writers":
			blocks := train.Len() / data.AHCDBlockSize
			n := max(1, int(math.Round(o.ValSplit*float64(blocks))))
			t.train, t.val, err = data.SplitBlocks(train, data.AHCDBlockSize, n, o.Seed)
		}
		if err != nil {
			return usageError{fmt.Errorf("--validation-split: %w", err)}
		}
	}
	if o.ValData == "test" {
		if test == nil {
			return usagef("--validation-data test: %s has no test set", o.Source.describe())
		}
		t.val = test
	}
	return nil
}

// buildModel builds the model (or takes the resumed one) and fits the
// preprocessing on the training set.
func (t *trainer) buildModel(resume *model.Sequential) error {
	o := t.o
	classes := t.train.ClassNames
	if resume != nil {
		t.m, t.std = resume, resume.Standardizer
		if !slices.Equal(resume.InputShape(), t.train.Shape()) || resume.NumClasses() != len(classes) {
			return fmt.Errorf("%s: the model takes %v with %d classes, the data has %v with %d classes",
				o.Resume, resume.InputShape(), resume.NumClasses(), t.train.Shape(), len(classes))
		}
		if !resume.Compiled() {
			return fmt.Errorf("%s: the checkpoint has no optimizer state", o.Resume)
		}
		return nil
	}
	var m *model.Sequential
	if slices.Contains(model.PresetNames(), o.Model) {
		var err error
		if m, err = model.PresetFor(o.Model, t.train.Shape(), len(classes)); err != nil {
			return err
		}
	} else {
		if _, err := os.Stat(o.Model); errors.Is(err, os.ErrNotExist) {
			return usagef("--model %q is neither a preset (%s) nor a file", o.Model, strings.Join(model.PresetNames(), ", "))
		}
		var err error
		if m, err = readArchitecture(o.Model); err != nil {
			return err
		}
	}
	if err := m.Build(t.train.Shape(), o.Seed); err != nil {
		return fmt.Errorf("%s: %w", o.Model, err)
	}
	if got := m.NumClasses(); got != len(classes) {
		return fmt.Errorf("%s: the model has %d outputs but %s has %d classes", o.Model, got, o.Source.describe(), len(classes))
	}
	opt, err := o.optimizer()
	if err != nil {
		return usageError{err}
	}
	loss := nn.CrossEntropy{Sparse: o.Loss == "sparse_categorical_crossentropy", LabelSmoothing: o.LabelSmoothing}
	if err := m.Compile(opt, loss); err != nil {
		return err
	}
	std := &data.Standardizer{Rescale: float32(o.Rescale)}
	switch o.Center {
	case "image":
		std.ImageCenter = true
	case "channel":
		std.FeaturewiseCenter = true
	}
	std.FeaturewiseStd = o.Std
	std.Fit(t.train.X)
	m.Standardizer = std
	m.ClassNames = classes
	if m.Meta == nil {
		m.Meta = map[string]string{}
	}
	m.Meta["dataset"] = o.Source.describe()
	m.Meta["command"] = "convnet train " + strings.Join(t.args, " ")
	t.m, t.std = m, std
	return nil
}

// saveCheckpoint writes the run's checkpoint: the model, the optimizer and
// the random state, the history, and where to resume.
func (t *trainer) saveCheckpoint(epoch, step int, plateau *optim.ReduceLROnPlateau) error {
	st := trainState{Args: t.args, Epoch: epoch, Step: step, Version: 1}
	if plateau != nil {
		ps := plateau.State()
		st.Plateau = &ps
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	t.m.Meta[trainStateKey] = string(b)
	defer delete(t.m.Meta, trainStateKey)
	return model.Save(t.ckpt, t.m, model.SaveOptions{Overwrite: true, IncludeOptimizer: true})
}

// epochCheckpoint saves the run's checkpoint at the end of every epoch, so
// a crash or a diverging loss leaves the last good state behind.
type epochCheckpoint struct {
	t       *trainer
	plateau *optim.ReduceLROnPlateau
}

func (c *epochCheckpoint) OnEpochEnd(m *model.Sequential, h *model.History) (bool, error) {
	m.SetHistory(h)
	return false, c.t.saveCheckpoint(h.Epochs[len(h.Epochs)-1].Epoch+1, 0, c.plateau)
}

func (c *epochCheckpoint) OnTrainEnd(*model.Sequential, *model.History) error { return nil }

// loaderBatches adapts a data.Loader epoch to model.Batches.
type loaderBatches struct {
	l      *data.Loader
	sparse bool
	labels *tensorBuf
}

func (b *loaderBatches) Next() (model.Batch, bool) {
	bt, ok := b.l.Next()
	if !ok {
		return model.Batch{}, false
	}
	if b.sparse {
		if b.labels == nil {
			b.labels = &tensorBuf{}
		}
		return model.Batch{X: bt.X, Y: b.labels.indices(bt.Labels)}, true
	}
	return model.Batch{X: bt.X, Y: bt.Y}, true
}

// writeCurves saves the loss and accuracy curves of a history as a PNG.
func writeCurves(path string, h *model.History, title string) error {
	var ph plot.History
	for _, e := range h.Epochs {
		ph.Epoch = append(ph.Epoch, e.Epoch+1)
		ph.Loss = append(ph.Loss, e.Loss)
		ph.Accuracy = append(ph.Accuracy, e.Accuracy)
		ph.LearningRate = append(ph.LearningRate, e.LearningRate)
		if e.HasValidation {
			ph.ValLoss = append(ph.ValLoss, e.ValLoss)
			ph.ValAccuracy = append(ph.ValAccuracy, e.ValAccuracy)
		}
	}
	if len(ph.ValLoss) != len(ph.Loss) {
		ph.ValLoss, ph.ValAccuracy = nil, nil
	}
	return safefile.Write(path, true, func(w io.Writer) error { return plot.Curves(w, ph, title) })
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
