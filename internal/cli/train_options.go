package cli

import (
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/convnet-go/convnet/data/augment"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/model/pretrained"
	"github.com/convnet-go/convnet/optim"
)

// trainOptions are the flags of convnet train. Their defaults are the
// tutorial's recipe; --recipe selects another set of defaults.
type trainOptions struct {
	Recipe string
	Source sourceFlags
	Model  string // preset name, JSON architecture file or model file
	Freeze string // layers that do not train: "none", names and ranges A..B
	// InferenceMode: layers that run as in inference in training, as Freeze
	InferenceMode string
	Out           string
	Force         bool
	Seed          uint64

	Epochs    int
	BatchSize int
	DropLast  bool
	Workers   int
	MaxMemory int64 // what a training batch may need (0: defaultTrainMemory)

	Optimizer   string
	LR          float64
	Rho         float64
	Momentum    float64
	Nesterov    bool
	Beta1       float64
	Beta2       float64
	Epsilon     float64
	WeightDecay float64
	Clip        optim.Clipping // --clipnorm, --clipvalue, --global-clipnorm
	EMA         float64        // --ema: the momentum of the weights' moving average (0: none)
	EMAEvery    int            // --ema-overwrite-frequency
	Accumulate  int            // --gradient-accumulation-steps (0: off)
	SWAStart    int            // --swa-start: the first epoch averaged (0: no averaging)
	SWALR       float64        // --swa-lr
	SWAAnneal   int            // --swa-anneal-epochs
	SWAStrategy string         // --swa-anneal-strategy
	NoDecay     string         // --exclude-from-weight-decay: comma-separated names

	Loss           string
	LabelSmoothing float64
	ClassWeight    string // "": none; "balanced" or CLASS:WEIGHT pairs (train_classweight.go)

	Schedule       string // constant, step, cosine, plateau
	StepEvery      int
	StepFactor     float64
	CosineAlpha    float64
	WarmupEpochs   int // epochs of linear warmup from 0 to LR before the schedule
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
	ValFreq  int    // --validation-freq: validate after every this many epochs

	EarlyPatience int // 0: off
	EarlyMonitor  string
	EarlyDelta    float64 // --early-stopping-min-delta
	EarlyBaseline string  // --early-stopping-baseline: a number, or "" for none
	EarlyStart    int     // --early-stopping-start-from-epoch
	RestoreBest   bool
	Checkpoint    string
	CkptBestOnly  bool
	CkptMonitor   string
	CSVLog        string
	TensorBoard   string // "": none
	HistogramFreq int    // --tensorboard-histogram-freq
	WriteImages   bool   // --tensorboard-write-images
	UpdateFreq    int    // --tensorboard-update-freq: 0 epoch, n steps
	StepsPerSec   bool   // --tensorboard-write-steps-per-second

	BF16 bool // --bf16

	Resume string

	// LRFind runs a learning-rate range test instead of the training.
	LRFind                 bool
	LRFindStart, LRFindEnd float64
	LRFindSteps            int
	NoEval                 bool

	// Watch serves the demo page on WatchAddr while the model trains
	// (train_watch.go); not a training option: a resumed run takes them
	// from its own command line.
	Watch     bool
	WatchAddr string

	// Made from the flags once, by check.
	aug       *augment.Config // nil: no augmentation
	mix       augment.Mix     // --mixup, --cutmix
	modelFile bool            // Model is a model file to start from
	set       map[string]bool // the flags given
	opt       optim.Optimizer
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
	// with a random stroke width, 60 epochs: an AHCD run takes about 23
	// minutes on 2 cores.
	"resnet": {
		"model": "resnet", "optimizer": "adam", "lr": "0.002", "schedule": "cosine",
		"epochs": "60", "batch-size": "64", "label-smoothing": "0.1", "stroke": "0.6",
	},
}

func recipeNames() []string {
	var names []string
	for n := range recipes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (o *trainOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.Recipe, "recipe", "tutorial", "a named set of defaults: "+strings.Join(recipeNames(), ", "))
	o.Source.register(fs, "ahcd")
	fs.StringVar(&o.Model, "model", "tutorial", "a preset ("+strings.Join(model.PresetNames(), ", ")+"), a JSON architecture file, or a trained model to go on from: a model file (.safetensors) or a built-in model ("+strings.Join(pretrained.Names(), ", ")+"), with a new head if the data's classes are not its own")
	fs.StringVar(&o.InferenceMode, "inference-mode", "", `layers that run as in inference also in training, as Keras's base_model(x, training=False) runs a base: batch normalization on its moving statistics, no dropout; their weights train unless frozen. Names and ranges as --freeze, or "none" (default: none, or the model file's)`)
	fs.StringVar(&o.Freeze, "freeze", "", `layers that do not train: names and ranges such as conv2d..flatten (both included; ..flatten from the first layer), "base" (every layer before the head) or "none" (default: none, or the model file's)`)
	fs.StringVar(&o.Out, "out", "", "the trained model file (default: <model>.safetensors)")
	fs.BoolVar(&o.Force, "force", false, "overwrite existing output files")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed: weights, shuffling, augmentation and dropout")

	fs.IntVar(&o.Epochs, "epochs", 30, "number of epochs")
	fs.IntVar(&o.BatchSize, "batch-size", 100, "batch size")
	fs.BoolVar(&o.DropLast, "drop-last", true, "end each epoch before a last, smaller batch (the tutorial's steps_per_epoch = N // batch size)")
	fs.IntVar(&o.Workers, "workers", 1, "goroutines preparing batches (augmentation)")
	trainMemoryFlag(fs, &o.MaxMemory)

	fs.StringVar(&o.Optimizer, "optimizer", "rmsprop", "sgd, rmsprop, adam, adamw, adagrad, adadelta, adamax, nadam or lion (Keras's rules and defaults)")
	fs.Float64Var(&o.LR, "lr", 0.001, "learning rate")
	fs.Float64Var(&o.Rho, "rho", 0, "decay of the squared-gradient average of RMSprop and Adadelta (default: 0.9 and 0.95)")
	fs.Float64Var(&o.Momentum, "momentum", 0, "momentum (SGD, RMSprop)")
	fs.BoolVar(&o.Nesterov, "nesterov", false, "Nesterov momentum (SGD)")
	fs.Float64Var(&o.Beta1, "beta1", 0, "beta_1 of Adam, AdamW, Adamax, Nadam and Lion (default: 0.9)")
	fs.Float64Var(&o.Beta2, "beta2", 0, "beta_2 of Adam, AdamW, Adamax, Nadam and Lion (default: 0.999; 0.99 for Lion)")
	fs.Float64Var(&o.Epsilon, "epsilon", 0, "epsilon (default: 1e-8 for RMSprop, 1e-7 for the others; SGD and Lion have none)")
	fs.Float64Var(&o.WeightDecay, "weight-decay", 0, "decoupled weight decay")
	fs.StringVar(&o.NoDecay, "exclude-from-weight-decay", "", `parameters weight decay leaves alone, by name, comma-separated regular expressions such as "bias,gamma,beta" (Keras's exclude_from_weight_decay)`)
	fs.Float64Var(&o.Clip.ClipNorm, "clipnorm", 0, "clip each parameter's gradient to this L2 norm (Keras's clipnorm; 0: off)")
	fs.Float64Var(&o.Clip.ClipValue, "clipvalue", 0, "clip each gradient value to [-v, v] (Keras's clipvalue; 0: off)")
	fs.Float64Var(&o.Clip.GlobalClipNorm, "global-clipnorm", 0, "scale all gradients together down to this L2 norm (Keras's global_clipnorm, PyTorch's clip_grad_norm_; 0: off)")
	fs.Float64Var(&o.EMA, "ema", 0, "keep an exponential moving average of the weights with this momentum, such as 0.99, and end training on it (Keras's use_ema and ema_momentum; 0: off)")
	fs.IntVar(&o.EMAEvery, "ema-overwrite-frequency", 0, "with --ema: also put the average in place of the weights every this many steps (Keras's ema_overwrite_frequency; 0: only at the end)")
	fs.IntVar(&o.SWAStart, "swa-start", 0, "average the weights at the end of each epoch from this one (from 1) on and end training on their average, the batch normalizations' statistics computed again over the training data (stochastic weight averaging, PyTorch's swa_utils; 0: off)")
	fs.Float64Var(&o.SWALR, "swa-lr", 0, "with --swa-start: the learning rate to go to after its epoch, in place of the schedule (PyTorch's SWALR swa_lr; 0: the rate that epoch ended with)")
	fs.IntVar(&o.SWAAnneal, "swa-anneal-epochs", model.DefaultSWAAnnealEpochs, "with --swa-start: the epochs over which the rate goes to --swa-lr (SWALR's anneal_epochs)")
	fs.StringVar(&o.SWAStrategy, "swa-anneal-strategy", "cos", "with --swa-start: how the rate goes to --swa-lr: cos or linear (SWALR's anneal_strategy)")
	fs.IntVar(&o.Accumulate, "gradient-accumulation-steps", 0, "update the weights once every this many steps (2 or more), on the mean of their gradients: the step of a batch this many times larger, in the memory of one (Keras's gradient_accumulation_steps; 0: every step)")

	fs.StringVar(&o.Loss, "loss", "categorical_crossentropy", "categorical_crossentropy or sparse_categorical_crossentropy")
	fs.Float64Var(&o.LabelSmoothing, "label-smoothing", 0, "label smoothing in [0, 1)")
	fs.StringVar(&o.ClassWeight, "class-weight", "", `weigh each image's loss by its class (Keras's class_weight): "balanced" (n / (classes · n_class)) or CLASS:WEIGHT pairs such as 0:1,5:2.5 or alef:2 (others weigh 1)`)

	fs.StringVar(&o.Schedule, "schedule", "constant", "learning-rate schedule: constant, step, cosine or plateau")
	fs.IntVar(&o.StepEvery, "step-every", 10, "step schedule: epochs between decays")
	fs.Float64Var(&o.StepFactor, "step-factor", 0.5, "step schedule: factor of each decay")
	fs.Float64Var(&o.CosineAlpha, "cosine-alpha", 0, "cosine schedule: final rate as a fraction of the first")
	fs.IntVar(&o.WarmupEpochs, "warmup-epochs", 0, "first raise the rate from 0 to --lr in a straight line over this many epochs, step by step; then the schedule starts, its epochs counted from there (cosine: Keras's CosineDecay warmup_target and warmup_steps; constant, step: PyTorch's SequentialLR after a LinearLR)")
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
	fs.IntVar(&o.ValFreq, "validation-freq", 1, "validate at the end of every this many epochs only: epochs N, 2N, ... (Keras's validation_freq); the others have no val_ figures, and early stopping, the plateau schedule and --checkpoint-best-only skip them when they watch one")

	fs.IntVar(&o.EarlyPatience, "early-stopping", 0, "stop after this many epochs without improvement (0: off)")
	fs.StringVar(&o.EarlyMonitor, "early-stopping-monitor", "val_loss", "metric watched by early stopping")
	fs.Float64Var(&o.EarlyDelta, "early-stopping-min-delta", 0, "early stopping: smallest change of the metric that counts as an improvement (Keras's min_delta)")
	fs.StringVar(&o.EarlyBaseline, "early-stopping-baseline", "", "early stopping: a value the metric must beat, or training stops after the patience (Keras's baseline; default: none)")
	fs.IntVar(&o.EarlyStart, "early-stopping-start-from-epoch", 0, "early stopping: epochs to wait before watching the metric, while the network warms up (Keras's start_from_epoch)")
	fs.BoolVar(&o.RestoreBest, "restore-best", false, "early stopping restores the best epoch's weights")
	fs.StringVar(&o.Checkpoint, "checkpoint", "", "save a checkpoint after every epoch to this path (may hold {epoch:02d}, {val_loss:.4f}, ...)")
	fs.BoolVar(&o.CkptBestOnly, "checkpoint-best-only", false, "save a checkpoint only when the monitored metric improves")
	fs.StringVar(&o.CkptMonitor, "checkpoint-monitor", "val_loss", "metric watched by --checkpoint-best-only")
	fs.StringVar(&o.CSVLog, "csv-log", "", "write the history to this CSV file after every epoch")
	fs.StringVar(&o.TensorBoard, "tensorboard", "", "write the history as TensorBoard event files in a folder after every epoch, laid out as Keras's TensorBoard callback lays them out: FOLDER/train and FOLDER/validation (then: tensorboard --logdir FOLDER)")
	fs.IntVar(&o.HistogramFreq, "tensorboard-histogram-freq", 0, "--tensorboard: every this many epochs, the histogram of every weight too (Keras's histogram_freq; 0: none)")
	fs.BoolVar(&o.WriteImages, "tensorboard-write-images", false, "--tensorboard: with the histograms, each weight as images too, for TensorBoard's Images tab (Keras's write_images)")
	fs.Var(updateFreq{&o.UpdateFreq}, "tensorboard-update-freq", "--tensorboard: epoch, or batch or N to write batch_loss and batch_accuracy (the epoch's running means) every training step or every N steps too, the step counted over the run (Keras's update_freq)")
	fs.BoolVar(&o.StepsPerSec, "tensorboard-write-steps-per-second", false, "--tensorboard: epoch_steps_per_second too, and with --tensorboard-update-freq batch_steps_per_second (Keras's write_steps_per_second)")

	bf16Flag(fs, &o.BF16, "the products of the convolutions and dense layers while training and validating; the weights stay float32, and the model saved predicts in float32, as does the final test")
	fs.StringVar(&o.Resume, "resume", "", "continue the run saved in this checkpoint (its options are reused)")
	fs.BoolVar(&o.LRFind, "lr-find", false, "instead of training, sweep the learning rate up over --lr-find-steps steps of this run and suggest one (fastai's and PyTorch Lightning's lr_find): writes the loss against the rate to --out's name with .lr-find.png, saves no model")
	fs.Float64Var(&o.LRFindStart, "lr-find-start", 1e-6, "--lr-find: the first rate")
	fs.Float64Var(&o.LRFindEnd, "lr-find-end", 1, "--lr-find: the rate the sweep rises towards")
	fs.IntVar(&o.LRFindSteps, "lr-find-steps", 300, "--lr-find: the steps of the sweep, at most (it stops when the loss diverges); the tutorial's network needs about 100 steps before its loss moves at all")
	fs.BoolVar(&o.NoEval, "no-evaluate", false, "do not evaluate on the test set at the end")
	fs.BoolVar(&o.Watch, "watch", false, "serve the demo page while training: live curves, the confusion matrix and your drawing through each epoch's network")
	fs.StringVar(&o.WatchAddr, "addr", "127.0.0.1:8080", "address the --watch page listens on")
}

// parseTrain parses the command line. When it resumes a run, only --resume
// and --workers are set: the other options are the checkpoint's.
func parseTrain(args []string, stderr io.Writer) (*trainOptions, error) {
	o := &trainOptions{}
	fs := newFlagSet("train", "[flags]", stderr)
	o.register(fs)
	if _, err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if err := o.settle(fs); err != nil {
		return nil, err
	}
	return o, nil
}

// settle applies the recipe's defaults to the flags not given and checks
// the result.
func (o *trainOptions) settle(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o.set = set
	if o.Resume != "" {
		for name := range set {
			if !slices.Contains([]string{"resume", "workers", "max-memory", "watch", "addr"}, name) {
				return usagef("--%s cannot be changed when resuming: the checkpoint's options are used", name)
			}
		}
		return inRange("workers", o.Workers, "[1, 256]")
	}
	recipe, ok := recipes[o.Recipe]
	if !ok {
		return usagef("--recipe %q: want %s", o.Recipe, orList(recipeNames()))
	}
	for name, v := range recipe {
		if !set[name] {
			if err := fs.Set(name, v); err != nil {
				return fmt.Errorf("recipe %s: %s=%s: %w", o.Recipe, name, v, err)
			}
		}
	}
	o.modelFile = isModelFile(o.Model)
	return o.check()
}

// sparse reports whether the loss takes class indices rather than one-hot rows.
func (o *trainOptions) sparse() bool { return o.Loss == "sparse_categorical_crossentropy" }

// earlyStopping returns the options of --early-stopping and the flags that
// tune it, checked.
func (o *trainOptions) earlyStopping() (model.EarlyStoppingOptions, error) {
	e := model.EarlyStoppingOptions{Monitor: o.EarlyMonitor, Patience: o.EarlyPatience, MinDelta: o.EarlyDelta,
		RestoreBestWeights: o.RestoreBest, StartFromEpoch: o.EarlyStart}
	if o.EarlyBaseline != "" {
		b, err := strconv.ParseFloat(o.EarlyBaseline, 64)
		if err != nil || math.IsNaN(b) || math.IsInf(b, 0) {
			return e, usagef("--early-stopping-baseline %q: want a number", o.EarlyBaseline)
		}
		e.Baseline = &b
	}
	if _, err := model.NewEarlyStopping(e); err != nil {
		return e, usageError{err}
	}
	return e, nil
}
