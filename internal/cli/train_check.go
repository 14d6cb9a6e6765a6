package cli

import (
	"slices"
	"strconv"
	"strings"
)

// check validates what flag parsing cannot, then makes the augmentation and
// the optimizer the flags describe.
func (o *trainOptions) check() error {
	if err := firstErr(
		inRange("epochs", o.Epochs, "[1, 100000]"),
		inRange("batch-size", o.BatchSize, "[1, 65536]"),
		inRange("workers", o.Workers, "[1, 256]"),
		inRange("lr", o.LR, "(0, 10]"),
		inRange("rho", o.Rho, "[0, 1)"),
		inRange("momentum", o.Momentum, "[0, 1)"),
		inRange("beta1", o.Beta1, "[0, 1)"),
		inRange("beta2", o.Beta2, "[0, 1)"),
		inRange("epsilon", o.Epsilon, "[0, 1]"),
		inRange("weight-decay", o.WeightDecay, "[0, 1)"),
		inRange("clipnorm", o.Clip.ClipNorm, "[0, 1e+30]"),
		inRange("clipvalue", o.Clip.ClipValue, "[0, 1e+30]"),
		inRange("global-clipnorm", o.Clip.GlobalClipNorm, "[0, 1e+30]"),
		inRange("ema", o.EMA, "[0, 1)"),
		inRange("ema-overwrite-frequency", o.EMAEvery, "[0, 1000000000]"),
		inRange("gradient-accumulation-steps", o.Accumulate, "[0, 1000000]"),
		inRange("swa-start", o.SWAStart, "[0, 100000]"),
		inRange("swa-lr", o.SWALR, "[0, 10]"),
		inRange("swa-anneal-epochs", o.SWAAnneal, "[0, 100000]"),
		inRange("label-smoothing", o.LabelSmoothing, "[0, 1)"),
		inRange("step-every", o.StepEvery, "[1, 100000]"),
		inRange("step-factor", o.StepFactor, "(0, 1]"),
		inRange("cosine-alpha", o.CosineAlpha, "[0, 1]"),
		inRange("plateau-factor", o.PlateauFactor, "(0, 1)"),
		inRange("plateau-patience", o.PlateauPatient, "[0, 100000]"),
		inRange("plateau-min-lr", o.PlateauMinLR, "[0, 10]"),
		inRange("plateau-min-delta", o.PlateauDelta, "[0, 1]"),
		inRange("plateau-cooldown", o.PlateauCool, "[0, 100000]"),
		inRange("rescale", o.Rescale, "(0, 1]"),
		inRange("validation-split", o.ValSplit, "[0, 1)"),
		inRange("validation-freq", o.ValFreq, "[1, 100000]"),
		inRange("early-stopping", o.EarlyPatience, "[0, 100000]"),
		inRange("early-stopping-min-delta", o.EarlyDelta, "[0, 1e+30]"),
		inRange("early-stopping-start-from-epoch", o.EarlyStart, "[0, 100000]"),
	); err != nil {
		return err
	}
	switch {
	case o.ValData != "" && o.ValData != "test":
		return usagef(`--validation-data %q: the only value is "test"`, o.ValData)
	case o.ValData != "" && o.ValSplit > 0:
		return usagef("give --validation-split or --validation-data, not both")
	case o.set["validation-freq"] && o.ValSplit == 0 && o.ValData == "":
		return usagef("--validation-freq %d says how often to validate, but there is no validation data (use --validation-split or --validation-data test)", o.ValFreq)
	case o.ValFreq > 1 && o.Checkpoint != "" && !o.CkptBestOnly && strings.Contains(o.Checkpoint, "{val_"):
		return usagef("--checkpoint %s names a validation metric, which the epochs --validation-freq %d leaves without validation do not have: add --checkpoint-best-only or leave it out of the name", o.Checkpoint, o.ValFreq)
	case len(o.clipping()) > 1:
		c := o.clipping()
		return usagef("give one of --clipnorm, --clipvalue and --global-clipnorm, not --%s and --%s", c[0].flag, c[1].flag)
	case o.WarmupEpochs > 0 && o.Schedule == "plateau":
		return usagef("--warmup-epochs %d: the plateau schedule lowers the rate from the metrics of the epochs, after no warmup; give --schedule constant, step or cosine", o.WarmupEpochs)
	case o.WarmupEpochs < 0 || o.WarmupEpochs >= o.Epochs && o.WarmupEpochs > 0:
		return usagef("--warmup-epochs %d: want 0 to %d, fewer than the %d epochs", o.WarmupEpochs, o.Epochs-1, o.Epochs)
	case o.NoDecay != "" && o.WeightDecay == 0 && !strings.EqualFold(o.Optimizer, "adamw"):
		return usagef("--exclude-from-weight-decay %s: without --weight-decay (or adamw) there is no weight decay to leave out", o.NoDecay)
	case o.Accumulate == 1:
		return usagef("--gradient-accumulation-steps 1: every step updates the weights already; give 2 or more (or 0)")
	case o.EarlyPatience == 0 && (o.EarlyDelta != 0 || o.EarlyBaseline != "" || o.EarlyStart != 0):
		return usagef("--early-stopping-min-delta, --early-stopping-baseline and --early-stopping-start-from-epoch tune --early-stopping N, which is off")
	case o.LRFind && (o.Resume != "" || o.Watch):
		return usagef("--lr-find sweeps the rate of a new run: not with --resume or --watch")
	case o.LRFind && !(o.LRFindStart > 0 && o.LRFindEnd > o.LRFindStart && o.LRFindEnd <= 1e6):
		return usagef("--lr-find-start %g and --lr-find-end %g: want 0 < start < end <= 1e6", o.LRFindStart, o.LRFindEnd)
	case o.LRFind && (o.LRFindSteps < 20 || o.LRFindSteps > 100000):
		return usagef("--lr-find-steps %d: want 20 to 100000 (the suggestion leaves out the first 10)", o.LRFindSteps)
	case o.SWAStart > o.Epochs:
		return usagef("--swa-start %d: want an epoch of the run's %d", o.SWAStart, o.Epochs)
	case o.SWAStart > 0 && o.EMA > 0:
		return usagef("--swa-start averages the weights, and so does --ema: choose one")
	case o.SWAStart > 0 && o.EarlyPatience > 0:
		return usagef("--swa-start averages the last epochs' weights: not with --early-stopping, which may end the run before or while it averages (and whose --restore-best would put other weights back)")
	case o.LRFind && o.SWAStart > 0:
		return usagef("--lr-find sweeps the rate over steps and saves no model: not with --swa-start")
	case o.EMAEvery > 0 && o.EMA == 0:
		return usagef("--ema-overwrite-frequency %d: without --ema there is no moving average to put in place", o.EMAEvery)
	case o.LRFind && (o.Checkpoint != "" || o.CSVLog != "" || o.TensorBoard != "" || o.EarlyPatience > 0):
		return usagef("--lr-find sweeps the rate over steps and saves no model: not with --checkpoint, --csv-log, --tensorboard or --early-stopping")
	case o.HistogramFreq < 0:
		return usagef("--tensorboard-histogram-freq %d: want a number of epochs, or 0 for none", o.HistogramFreq)
	case o.HistogramFreq > 0 && o.TensorBoard == "":
		return usagef("--tensorboard-histogram-freq %d: without --tensorboard there are no event files to write the histograms to", o.HistogramFreq)
	case o.UpdateFreq > 0 && o.TensorBoard == "":
		return usagef("--tensorboard-update-freq %d: without --tensorboard there are no event files to write the batch figures to", o.UpdateFreq)
	case o.StepsPerSec && o.TensorBoard == "":
		return usagef("--tensorboard-write-steps-per-second: without --tensorboard there are no event files to write the steps per second to")
	case o.WriteImages && o.HistogramFreq == 0:
		return usagef("--tensorboard-write-images: the weights are drawn with their histograms, as Keras's write_images: give --tensorboard-histogram-freq N too")
	case o.ValMode == "writers" && (o.Source.Images != "" || o.Source.CSV != "" || !strings.EqualFold(o.Source.Dataset, "ahcd") || o.Source.Limit > 0):
		return usagef("--validation-mode writers holds out whole writers of AHCD's training set, whose rows come in blocks of one writer each: it needs --dataset ahcd without --limit")
	}
	for _, f := range []struct {
		name, v string
		want    []string
	}{
		{"validation-mode", o.ValMode, []string{"random", "stratified", "writers"}},
		{"center", o.Center, []string{"image", "channel", "none"}},
		{"schedule", o.Schedule, []string{"constant", "step", "cosine", "plateau"}},
		{"swa-anneal-strategy", o.SWAStrategy, []string{"cos", "linear"}},
		{"loss", o.Loss, []string{"categorical_crossentropy", "sparse_categorical_crossentropy"}},
	} {
		if !slices.Contains(f.want, f.v) {
			return usagef("--%s %q: want %s", f.name, f.v, orList(f.want))
		}
	}
	if o.ClassWeight != "" {
		if _, _, err := parseClassWeight(o.ClassWeight); err != nil {
			return err
		}
	}
	aug, err := o.Aug.config()
	if err != nil {
		return err
	}
	if !o.NoAug && aug.Enabled() {
		o.aug = aug
	}
	if o.mix, err = o.Aug.mix(); err != nil {
		return err
	}
	if o.mix.Enabled() && o.sparse() {
		return usagef("--mixup and --cutmix mix the one-hot targets of two images, which --loss sparse_categorical_crossentropy cannot hold: use categorical_crossentropy")
	}
	if o.opt, err = o.optimizer(); err != nil {
		return usageError{err}
	}
	return o.checkTuning()
}

// inRange returns a usage error naming the flag, its value and the interval
// when v lies outside interval, written "[lo, hi]" with "(" or ")" for an
// open end. NaN lies outside every interval.
func inRange[T int | float64](flag string, v T, interval string) error {
	lo, hi, ok := strings.Cut(interval[1:len(interval)-1], ", ")
	a, err1 := strconv.ParseFloat(lo, 64)
	b, err2 := strconv.ParseFloat(hi, 64)
	if !ok || err1 != nil || err2 != nil {
		panic("cli: inRange: malformed interval " + interval)
	}
	x := float64(v)
	above := x > a || x == a && interval[0] == '['
	below := x < b || x == b && interval[len(interval)-1] == ']'
	if above && below {
		return nil
	}
	return usagef("--%s %v: want a value in %s", flag, v, interval)
}

// firstErr returns the first error of errs that is not nil.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// orList joins words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
