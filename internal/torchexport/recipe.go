package torchexport

import (
	"cmp"
	"fmt"
	"math"
	"strings"

	"github.com/convnet-go/convnet/data/augment"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
)

// Recipe is how to train: the options of convnet train.
type Recipe struct {
	// Command is the command line that asked for the project, quoted in it.
	Command   string
	Epochs    int
	BatchSize int // the global batch, shared out among the processes
	DropLast  bool
	Seed      uint64

	Optimizer   optim.Optimizer
	Loss        nn.CrossEntropy
	ClassWeight *ClassWeight // nil: every image weighs 1
	Schedule    Schedule
	Augment     *augment.Config // nil: none
	Mix         augment.Mix     // MixUp and CutMix; the zero value: none

	SWA SWA // zero Start: none

	Data          Data
	Validation    Validation
	EarlyStopping EarlyStopping
	CSVLog        string // "": none
	TensorBoard   string // the folder of TensorBoard's event files, "": none
	HistogramFreq int    // with TensorBoard, the weights' histograms every this many epochs (0: none)
	WriteImages   bool   // with the histograms, the weights as images (Keras's write_images)
	UpdateFreq    int    // with TensorBoard, batch_loss and batch_accuracy every this many steps (0: none; Keras's update_freq)
	StepsPerSec   bool   // with TensorBoard, the steps per second (Keras's write_steps_per_second)
	NoEvaluate    bool
	BF16          bool // train under torch.autocast to bfloat16 (convnet train --bf16)
}

// ClassWeight is convnet train's --class-weight: Balanced (class c weighs
// n / (classes · n_c) over the training labels), or the weights of the
// classes named, each by its name, a word of its name or its index, the
// others 1.
type ClassWeight struct {
	Balanced bool
	Classes  []string
	Weights  []float64
}

// python writes w as train.py's CLASS_WEIGHT: "balanced" or a dict.
func (w *ClassWeight) python() string {
	if w.Balanced {
		return pyStr("balanced")
	}
	var items []string
	for i, c := range w.Classes {
		items = append(items, pyStr(c)+": "+pyFloat(w.Weights[i]))
	}
	return "{" + strings.Join(items, ", ") + "}"
}

// Schedule is a learning-rate schedule, as convnet train's --schedule.
type Schedule struct {
	Kind        string // constant (or ""), step, cosine or plateau
	StepEvery   int
	StepFactor  float64
	CosineAlpha float64
	// WarmupEpochs: epochs of a straight rise from 0 to the rate before
	// the schedule (for cosine, Keras's CosineDecay warmup); not for plateau.
	WarmupEpochs int
	Plateau      *optim.ReduceLROnPlateau // for plateau
}

// SWA is convnet train's stochastic weight averaging (see model.SWA): from
// epoch Start (from 1) on; zero Start means none.
type SWA struct {
	Start        int
	LR           float64 // 0: the rate epoch Start ended with
	AnnealEpochs int
	Strategy     string // cos or linear
}

// Data is where the training data comes from: a named data set, an image
// folder or a CSV file, as convnet train's source flags.
type Data struct {
	Dataset    string // "ahcd" or "mnist", when Images and CSV are empty
	DataDir    string
	Images     string
	TestImages string
	Height     int
	Width      int
	ColorMode  string
	// Crop fits images of another shape: the centred region of the
	// size read, this fraction of the largest that fits (0: resized
	// whole), as data.ImageFolderOptions.Crop.
	Crop      float64
	CSV       string
	TestCSV   string
	CSVLabel  string
	Limit     int
	TestLimit int
	// SkipChecksum loads files of a named data set that are not the
	// published ones.
	SkipChecksum bool
}

// Validation is the held-out data evaluated after each epoch, or after
// every Freq-th.
type Validation struct {
	Split float64 // a fraction of the training set, 0: none
	Mode  string  // random, stratified or writers
	Test  bool    // the test set
	// Freq is Keras's validation_freq: validate after epochs Freq, 2·Freq,
	// ... (from 1) only; 0 and 1 mean every epoch.
	Freq int
}

// EarlyStopping is Keras's callback; zero Patience means off.
type EarlyStopping struct {
	Patience       int
	Monitor        string
	RestoreBest    bool
	MinDelta       float64  // Keras's min_delta
	Baseline       *float64 // Keras's baseline; nil: none
	StartFromEpoch int      // Keras's start_from_epoch
}

// trainData fills train.py.tmpl: Python literals and code fragments.
type trainData struct {
	Title, Version, Command string
	Epochs, BatchSize       int
	DropLast, Evaluate      string
	Seed                    uint64
	Opt                     optData
	LabelSmoothing          string
	ClassWeight             string // the CLASS_WEIGHT literal, "" for none
	Sched                   schedData
	Augment                 string // the AUGMENT dict, "" for none
	Mix                     bool   // MixUp or CutMix
	MixUp, CutMix           string // their alphas
	Validation              string // the constants of a split, "" for none
	ValidateOnTest          bool
	ValidationFreq          int    // with a validation split or the test set: every this many epochs (1: each); 0: no validation
	SWA                     string // its constants, "" for none
	EarlyStopping           string // its constants, "" for none
	RestoreBest             bool
	CSVLog                  string
	TensorBoard             string
	HistogramFreq           int
	WriteImages             bool
	UpdateFreq              int
	StepsPerSec             bool
	BF16                    string // True or False
	Data                    dataData
}

type optData struct {
	Kind, Name                 string // rmsprop, adam (and adamw), sgd, adagrad, adadelta, adamax, nadam, lion; the optimizer's own name
	LR, Rho, Epsilon, Momentum string
	Beta1, Beta2, WeightDecay  string
	Nesterov                   string
	InitialAccumulator         string // Adagrad's initial_accumulator_value
	Clip, ClipBound            string // clipnorm, clipvalue or global_clipnorm, and its bound; "" when off
	EMA, EMAEvery              string // the momentum of the weights' moving average ("" when off) and the updates between overwrites ("None": none)
	Accumulate                 int    // steps per update (gradient accumulation); 0 when off
	NoDecay                    string // the tensors of Net weight decay leaves alone, a Python set; "" for none
}

type schedData struct {
	Kind, StepFactor, CosineAlpha    string
	StepEvery, WarmupEpochs          int
	Monitor, Factor, MinLR, MinDelta string
	Patience, Cooldown               int
}

func (p Project) trainData() (trainData, error) {
	r := p.Recipe
	d := trainData{
		Title: pyDoc(p.Title), Version: pyDoc(p.Version), Command: pyDoc(r.Command),
		Epochs: r.Epochs, BatchSize: r.BatchSize, DropLast: pyBool(r.DropLast), Seed: r.Seed,
		Evaluate: pyBool(!r.NoEvaluate), LabelSmoothing: pyFloat(r.Loss.LabelSmoothing), BF16: pyBool(r.BF16),
	}
	if r.ClassWeight != nil {
		d.ClassWeight = r.ClassWeight.python()
	}
	if r.Epochs < 1 || r.BatchSize < 1 {
		return d, fmt.Errorf("torchexport: %d epochs of batches of %d", r.Epochs, r.BatchSize)
	}
	var err error
	if d.Opt, err = optimizer(r.Optimizer); err != nil {
		return d, err
	}
	if d.Sched, err = schedule(r.Schedule); err != nil {
		return d, err
	}
	if a := r.Augment; a != nil && a.Enabled() {
		d.Augment = augmentDict(a)
	}
	if err := r.Mix.Validate(); err != nil {
		return d, fmt.Errorf("torchexport: %v", err)
	}
	d.Mix, d.MixUp, d.CutMix = r.Mix.Enabled(), pyFloat(r.Mix.MixUp), pyFloat(r.Mix.CutMix)
	if v := r.Validation; v.Split > 0 {
		d.Validation = fmt.Sprintf("VALIDATION_SPLIT = %s  # held out of the training set\nVALIDATION_MODE = %s  # random, stratified or writers",
			pyFloat(v.Split), pyStr(v.Mode))
	} else {
		d.ValidateOnTest = v.Test
	}
	if v := r.Validation; v.Split > 0 || v.Test {
		if v.Freq < 0 {
			return d, fmt.Errorf("torchexport: validation every %d epochs", v.Freq)
		}
		d.ValidationFreq = max(1, v.Freq)
	}
	if w := r.SWA; w.Start > 0 {
		lr := "None"
		if w.LR > 0 {
			lr = pyFloat(w.LR)
		}
		d.SWA = fmt.Sprintf("SWA_START = %d  # the first epoch whose weights are averaged\nSWA_LR = %s  # the rate to go to after it (None: the rate it ended with)\n"+
			"SWA_ANNEAL_EPOCHS = %d\nSWA_ANNEAL_STRATEGY = %s  # cos or linear", w.Start, lr, w.AnnealEpochs, pyStr(cmp.Or(w.Strategy, "cos")))
	}
	if e := r.EarlyStopping; e.Patience > 0 {
		baseline := "None"
		if e.Baseline != nil {
			baseline = pyFloat(*e.Baseline)
		}
		d.EarlyStopping = fmt.Sprintf("EARLY_STOPPING_PATIENCE = %d  # epochs without improvement\nEARLY_STOPPING_MONITOR = %s\n"+
			"EARLY_STOPPING_MIN_DELTA = %s  # the smallest change that improves\n"+
			"EARLY_STOPPING_BASELINE = %s  # a value the metric must beat for the patience to start over (None: any improvement)\n"+
			"EARLY_STOPPING_START_FROM_EPOCH = %d  # epochs before the metric is watched",
			e.Patience, pyStr(e.Monitor), pyFloat(math.Abs(e.MinDelta)), baseline, e.StartFromEpoch)
		d.RestoreBest = e.RestoreBest
	}
	if r.CSVLog != "" {
		d.CSVLog = pyStr(r.CSVLog)
	}
	if r.TensorBoard != "" {
		d.TensorBoard, d.HistogramFreq, d.WriteImages = pyStr(r.TensorBoard), r.HistogramFreq, r.WriteImages
		d.UpdateFreq, d.StepsPerSec = r.UpdateFreq, r.StepsPerSec
	}
	d.Data, err = dataSource(r.Data)
	return d, err
}

// optimizer describes o's update for optimizer.py.tmpl, from its Keras config.
func optimizer(o optim.Optimizer) (optData, error) {
	if o == nil {
		return optData{}, fmt.Errorf("torchexport: no optimizer")
	}
	c := o.Config()
	num := func(key string) string {
		v, _ := c[key].(float64)
		return pyFloat(v)
	}
	d := optData{Name: o.Name(), LR: num("learning_rate"), WeightDecay: num("weight_decay")}
	switch o.Name() {
	case "rmsprop":
		if c["centered"] == true || c["epsilon_inside_sqrt"] == true {
			return d, unsupported("optimizer rmsprop", "the centred variant and epsilon inside the square root are not in the PyTorch project")
		}
		d.Kind, d.Rho, d.Epsilon, d.Momentum = "rmsprop", num("rho"), num("epsilon"), num("momentum")
	case "adam", "adamw":
		d.Kind, d.Beta1, d.Beta2, d.Epsilon = "adam", num("beta_1"), num("beta_2"), num("epsilon")
	case "sgd":
		d.Kind, d.Momentum, d.Nesterov = "sgd", num("momentum"), pyBool(c["nesterov"] == true)
	case "adamax", "nadam":
		d.Kind, d.Beta1, d.Beta2, d.Epsilon = o.Name(), num("beta_1"), num("beta_2"), num("epsilon")
	case "adagrad":
		d.Kind, d.InitialAccumulator, d.Epsilon = "adagrad", num("initial_accumulator_value"), num("epsilon")
	case "adadelta":
		d.Kind, d.Rho, d.Epsilon = "adadelta", num("rho"), num("epsilon")
	case "lion":
		d.Kind, d.Beta1, d.Beta2 = "lion", num("beta_1"), num("beta_2")
	default:
		return d, unsupported("optimizer "+o.Name(), "the PyTorch project has no translation for it")
	}
	for _, key := range []string{"clipnorm", "clipvalue", "global_clipnorm"} {
		if v, ok := c[key].(float64); ok && v > 0 {
			d.Clip, d.ClipBound = key, pyFloat(v)
		}
	}
	if c["use_ema"] == true {
		d.EMA, d.EMAEvery = num("ema_momentum"), "None"
		if n, ok := c["ema_overwrite_frequency"].(int); ok && n > 0 {
			d.EMAEvery = fmt.Sprint(n)
		}
	}
	d.Accumulate, _ = c["gradient_accumulation_steps"].(int)
	return d, nil
}

func schedule(s Schedule) (schedData, error) {
	d := schedData{Kind: s.Kind, WarmupEpochs: s.WarmupEpochs}
	switch s.Kind {
	case "", "constant":
		d.Kind = "constant"
	case "step":
		d.StepEvery, d.StepFactor = s.StepEvery, pyFloat(s.StepFactor)
	case "cosine":
		d.CosineAlpha = pyFloat(s.CosineAlpha)
	case "plateau":
		p := s.Plateau
		if s.WarmupEpochs > 0 {
			return d, unsupported("--schedule plateau", "a warmup of %d epochs: the plateau schedule has none", s.WarmupEpochs)
		}
		if p == nil {
			return d, fmt.Errorf("torchexport: plateau schedule without its settings")
		}
		if p.Mode != "" && p.Mode != "auto" {
			return d, unsupported("--schedule plateau", "mode %q: the PyTorch project decides min or max from the metric's name, as mode auto", p.Mode)
		}
		d.Monitor, d.Factor, d.MinLR, d.MinDelta = pyStr(p.Monitor), pyFloat(p.Factor), pyFloat(p.MinLR), pyFloat(p.MinDelta)
		d.Patience, d.Cooldown = p.Patience, p.Cooldown
	default:
		return d, unsupported("--schedule "+s.Kind, "unknown schedule")
	}
	return d, nil
}

// augmentDict writes the AUGMENT constant: Augment's arguments.
func augmentDict(a *augment.Config) string {
	zoom := a.ZoomRange
	if zoom == [2]float64{} {
		zoom = [2]float64{1, 1}
	}
	fill := a.FillMode
	if fill == "" {
		fill = "nearest"
	}
	brightness := "None"
	if b := a.BrightnessRange; b != [2]float64{} {
		brightness = fmt.Sprintf("(%s, %s)", pyFloat(b[0]), pyFloat(b[1]))
	}
	erasing := ""
	if a.Erasing > 0 {
		sc, r := a.ErasingScale, a.ErasingRatio
		if sc == [2]float64{} {
			sc = [2]float64{0.02, 0.33}
		}
		if r == [2]float64{} {
			r = [2]float64{0.3, 3.3}
		}
		erasing = fmt.Sprintf("    erasing=%s,  # the probability of a rectangle filled with erasing_value\n"+
			"    erasing_scale=(%s, %s),  # its area, a fraction of the image's\n    erasing_ratio=(%s, %s),  # its height / width\n"+
			"    erasing_value=%s,\n", pyFloat(a.Erasing), pyFloat(sc[0]), pyFloat(sc[1]), pyFloat(r[0]), pyFloat(r[1]), pyFloat(a.ErasingValue))
	}
	return fmt.Sprintf("dict(\n    rotation=%s,  # degrees\n    width_shift=%s,  # below 1: a fraction of the width, else pixels\n"+
		"    height_shift=%s,\n    shear=%s,  # degrees\n    zoom=(%s, %s),  # a factor above 1 shrinks the content\n"+
		"    hflip=%s,\n    vflip=%s,\n    fill_mode=%s,  # outside the image: nearest, constant, reflect or wrap\n"+
		"    cval=%s,  # the constant fill\n    brightness=%s,\n    stroke=%s,  # largest stroke-width change\n%s)",
		pyFloat(a.RotationRange), pyFloat(a.WidthShiftRange), pyFloat(a.HeightShiftRange), pyFloat(a.ShearRange),
		pyFloat(zoom[0]), pyFloat(zoom[1]), pyBool(a.HorizontalFlip), pyBool(a.VerticalFlip), pyStr(fill),
		pyFloat(a.Cval), brightness, pyFloat(a.StrokeRange), erasing)
}
