package torchexport

import (
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/data/augment"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

func TestSamePads(t *testing.T) {
	tests := []struct {
		h, w int
		k, s [2]int
		want [4]int // top, bottom, left, right
	}{
		{32, 32, [2]int{5, 5}, [2]int{1, 1}, [4]int{2, 2, 2, 2}},   // total 4
		{32, 32, [2]int{4, 4}, [2]int{1, 1}, [4]int{1, 2, 1, 2}},   // total 3: the odd cell after
		{15, 14, [2]int{4, 4}, [2]int{2, 2}, [4]int{1, 2, 1, 1}},   // out 8, 7*2+4-15 = 3; out 7, 6*2+4-14 = 2
		{15, 14, [2]int{3, 2}, [2]int{2, 2}, [4]int{1, 1, 0, 0}},   // 14+3-15 = 2; 12+2-14 = 0
		{10, 9, [2]int{5, 3}, [2]int{3, 2}, [4]int{2, 2, 1, 1}},    // out 4, 9+5-10 = 4; out 5, 8+3-9 = 2
		{8, 8, [2]int{2, 2}, [2]int{1, 1}, [4]int{0, 1, 0, 1}},     // a 2x2 pool with stride 1
		{7, 7, [2]int{1, 1}, [2]int{3, 3}, [4]int{0, 0, 0, 0}},     // out 3, 6+1-7 = 0
		{1, 1, [2]int{3, 3}, [2]int{1, 1}, [4]int{1, 1, 1, 1}},     // a kernel larger than the image
		{5, 5, [2]int{2, 2}, [2]int{2, 2}, [4]int{0, 1, 0, 1}},     // the last window hangs over
		{11, 11, [2]int{3, 3}, [2]int{3, 3}, [4]int{0, 1, 0, 1}},   // out 4, 9+3-11 = 1
		{224, 224, [2]int{7, 7}, [2]int{2, 2}, [4]int{2, 3, 2, 3}}, // out 112, 222+7-224 = 5
	}
	for _, tt := range tests {
		if got := samePads(tt.h, tt.w, tt.k, tt.s); got != tt.want {
			t.Errorf("samePads(%d, %d, %v, %v) = %v, want %v", tt.h, tt.w, tt.k, tt.s, got, tt.want)
		}
	}
}

func TestPyLiterals(t *testing.T) {
	for v, want := range map[float64]string{0: "0.0", 1: "1.0", 0.001: "0.001", 1e-8: "1e-08", 0.9: "0.9", 1.0 / 255: "0.00392156862745098", 300: "300.0"} {
		if got := pyFloat(v); got != want {
			t.Errorf("pyFloat(%v) = %s, want %s", v, got, want)
		}
	}
	for s, want := range map[string]string{"alef ا": `"alef ا"`, `a"b\c`: `"a\"b\\c"`, "<&>": `"<&>"`, "line\nbreak": `"line\nbreak"`} {
		if got := pyStr(s); got != want {
			t.Errorf("pyStr(%q) = %s, want %s", s, got, want)
		}
	}
	if got := pyInts([]int{3}); got != "(3,)" {
		t.Errorf("pyInts([3]) = %s, want (3,)", got)
	}
}

func TestAttrNames(t *testing.T) {
	w := &walker{attrs: map[string]bool{}}
	for _, tt := range [][2]string{
		{"conv2d", "conv2d"}, {"conv2d ", "conv2d_"}, {"conv2d_", "conv2d__2"}, {"training", "training_"}, {"1st layer", "layer_1st_layer"},
		{"dense-out", "dense_out"}, {"_private", "layer__private"}, {"rescale", "rescale_"}, {"class", "class_"}, {"", "layer_"},
	} {
		if got := w.attr(tt[0]); got != tt[1] {
			t.Errorf("attr(%q) = %q, want %q", tt[0], got, tt[1])
		}
	}
}

// everyLayer returns a built model with every layer type convnet has,
// uneven "same" padding and a per-channel standardizer.
func everyLayer(t *testing.T) *model.Sequential {
	t.Helper()
	m := model.New(
		&nn.Conv2D{Filters: 6, KernelSize: [2]int{4, 4}, Strides: [2]int{2, 2}, Padding: "same", Activation: "leaky_relu"},
		&nn.BatchNormalization{},
		&nn.ELU{Alpha: 0.5},
		&nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: "same", DepthMultiplier: 2, Activation: "relu"},
		&nn.ZeroPadding2D{Padding: [2][2]int{{0, 2}, {1, 0}}},
		&nn.MaxPool2D{PoolSize: [2]int{2, 2}, Strides: [2]int{1, 1}, Padding: "same"},
		&nn.Conv2D{Filters: 5, KernelSize: [2]int{3, 2}, Activation: "elu"},
		&nn.LeakyReLU{},
		&nn.ReLU{MaxValue: 6},
		&nn.AveragePooling2D{PoolSize: [2]int{3, 2}, Strides: [2]int{2, 2}, Padding: "same"},
		&nn.Activation{Func: "sigmoid"},
		&nn.Conv2D{Filters: 4, KernelSize: [2]int{1, 1}, Activation: "tanh", NoBias: true},
		&nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, Padding: "same", NoBias: true},
		&nn.Dropout{Rate: 0.3},
		&nn.Flatten{},
		&nn.Dense{Units: 12, Activation: "relu"},
		&nn.BatchNormalization{Momentum: 0.9},
		&nn.Softmax{},
		&nn.Dense{Units: 5, Activation: "softmax"},
	)
	if err := m.Build([]int{15, 14, 3}, 5); err != nil {
		t.Fatal(err)
	}
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255, FeaturewiseStd: true, Mean: []float32{0.4, 0.5, 0.6}, Std: []float32{0.2, 0.3, 0.25}}
	m.ClassNames = []string{"a", "b", "c", "d", "e"}
	return m
}

func recipe() Recipe {
	return Recipe{Command: "convnet export --format pytorch", Epochs: 3, BatchSize: 10, DropLast: true, Seed: 1,
		Optimizer: &optim.RMSprop{}, Data: Data{Dataset: "ahcd"}}
}

func files(t *testing.T, p Project) map[string]string {
	t.Helper()
	fs, err := Generate(p)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range fs {
		out[f.Name] = string(f.Data)
	}
	return out
}

// TestGenerateModel checks the Python each layer becomes.
func TestGenerateModel(t *testing.T) {
	m := everyLayer(t)
	f := files(t, Project{Model: m, Title: "every layer", Recipe: recipe()})
	py := f["model.py"]
	holds(t, "model.py", py,
		"INPUT_SHAPE = (3, 15, 14)",
		`"conv2d": "conv2d",`,
		"self.conv2d = SameConv2d(3, 6, (4, 4), (2, 2), (1, 2, 1, 1))",
		"x = F.leaky_relu(self.conv2d(x), 0.2)",
		`net.conv2d.weight.copy_(tensor("conv2d/kernel", 4, 4, 3, 6).permute(3, 2, 0, 1))`,
		"self.batch_normalization = KerasBatchNorm(6, momentum=0.99, eps=0.001)",
		"self.elu = nn.ELU(0.5)",
		"self.zero_padding2d = nn.ZeroPad2d((1, 0, 0, 2))", // left, right, top, bottom
		"self.max_pooling2d = SameMaxPool2d((2, 2), (1, 1), (0, 1, 0, 1))",
		"self.depthwise_conv2d = SameConv2d(6, 12, (3, 3), (2, 2), (0, 1, 1, 1), groups=6)",
		`net.depthwise_conv2d.weight.copy_(tensor("depthwise_conv2d/depthwise_kernel", 3, 3, 6, 2).reshape(3, 3, 1, 12).permute(3, 2, 0, 1))`,
		`tensors["depthwise_conv2d/depthwise_kernel"] = net.depthwise_conv2d.weight.permute(2, 3, 1, 0).reshape(3, 3, 6, 2)`,
		"self.depthwise_conv2d_1 = nn.Conv2d(4, 4, (3, 3), padding=(1, 1), groups=4, bias=False)",
		"self.conv2d_1 = nn.Conv2d(12, 5, (3, 2))",
		"x = F.elu(self.conv2d_1(x), 1.0)",
		"self.leaky_re_lu = nn.LeakyReLU(0.3)",
		"self.re_lu = nn.Hardtanh(0.0, 6.0)",
		"self.average_pooling2d = SameAvgPool2d((3, 2), (2, 2), (0, 1, 0, 0))", // on 8x7: 3*2+3-8 = 1, 3*2+2-7 = 1
		"self.activation = nn.Sigmoid()",
		"self.conv2d_2 = nn.Conv2d(5, 4, (1, 1), bias=False)",
		"x = torch.tanh(self.conv2d_2(x))",
		"self.dropout = nn.Dropout(0.3)",
		"self.flatten = nn.Flatten()",
		`net.dense.weight.copy_(from_hwc(tensor("dense/kernel", 16, 12), 4, 2, 2).t())`,
		"self.batch_normalization_1 = KerasBatchNorm(12, momentum=0.9, eps=0.001)",
		`net.batch_normalization_1.running_var.copy_(tensor("batch_normalization_1/moving_variance", 12))`,
		"self.softmax = nn.Softmax(dim=1)",
		"x = self.dense_1(x)\n        return x",
		"return torch.softmax(self.net(x), dim=1)",
		`self.register_buffer("channel_std", torch.ones(1, 3, 1, 1))`,
		"x = x * self.rescale\n        x = x - self.channel_mean\n        x = x / self.channel_std",
	)
	if strings.Contains(py, "mean_image") {
		t.Error("model.py subtracts a mean image the model does not have")
	}
	// The per-feature weights after Flatten are reordered until a Dense mixes them.
	if strings.Contains(py, `from_hwc(tensor("dense_1/kernel"`) || strings.Contains(py, `from_hwc(tensor("batch_normalization_1`) {
		t.Error("model.py reorders weights after a Dense has mixed the features")
	}
	back, err := model.Decode(strings.NewReader(f[ModelFile]), int64(len(f[ModelFile])))
	if err != nil || len(back.Layers) != len(m.Layers) || back.Standardizer == nil {
		t.Errorf("%s: %v; want the model with its preprocessing", ModelFile, err)
	}
}

// compile checks the syntax of the project's Python files with python3's
// py_compile, when there is a python3.
func compile(t *testing.T, f map[string]string) {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		if py, err = exec.LookPath("python3"); err != nil {
			t.Log("no python3: the syntax of the Python files is not checked")
			return
		}
	}
	dir := t.TempDir()
	for _, name := range []string{"model.py", "train.py"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(f[name]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command(py, "-m", "py_compile", filepath.Join(dir, "model.py"), filepath.Join(dir, "train.py")).CombinedOutput(); err != nil {
		t.Errorf("py_compile: %v\n%s", err, out)
	}
}

// TestGenerateRecipes writes the train.py of each optimizer, schedule, data
// source and option: each compiles and holds the recipe's values.
func TestGenerateRecipes(t *testing.T) {
	m := everyLayer(t)
	plateau := optim.NewReduceLROnPlateau("val_accuracy")
	plateau.Patience = 4
	tutorialAug := &augment.Config{RotationRange: 10, WidthShiftRange: 0.1, HeightShiftRange: 0.1, ZoomRange: augment.ZoomRangeOf(0.1), FillMode: "nearest"}
	tests := []struct {
		name string
		edit func(r *Recipe)
		want []string
	}{
		{"rmsprop", func(r *Recipe) {
			r.Optimizer = &optim.RMSprop{Momentum: 0.5, WeightDecay: 0.01}
			r.Augment = tutorialAug
		},
			[]string{"class RMSprop", "RHO = 0.9\nEPSILON = 1e-08\nMOMENTUM = 0.5\nWEIGHT_DECAY = 0.01", "rotation=10.0", "zoom=(0.9, 1.1)", "fill_mode=\"nearest\"", "import zipfile", "CLASSES = [\"alef ا\""}},
		{"adam", func(r *Recipe) {
			r.Optimizer = &optim.Adam{LearningRate: 0.002, Options: optim.Options{EMA: optim.EMA{UseEMA: true, EMAMomentum: 0.9}}}
			r.Schedule = Schedule{Kind: "cosine", CosineAlpha: 0.1}
		},
			[]string{"class Adam", "OPTIMIZER = \"adam\"", "LEARNING_RATE = 0.002", "EPSILON = 1e-07", "COSINE_ALPHA = 0.1", "math.cos", "EMA_MOMENTUM = 0.9", "EMA_OVERWRITE_FREQUENCY = None", "class EMA:"}},
		{"adamw", func(r *Recipe) { r.Optimizer = &optim.AdamW{}; r.Loss.LabelSmoothing = 0.1 },
			[]string{"class Adam", "OPTIMIZER = \"adamw\"", "WEIGHT_DECAY = 0.004", "LABEL_SMOOTHING = 0.1", "(1 - s) * one-hot + s / classes"}},
		{"sgd", func(r *Recipe) {
			r.Optimizer = &optim.SGD{Momentum: 0.9, Nesterov: true}
			r.Schedule = Schedule{Kind: "step", StepEvery: 5, StepFactor: 0.5}
			r.Data = Data{Dataset: "mnist", Limit: 500}
		}, []string{"class SGD", "NESTEROV = True", "STEP_EVERY = 5", "STEP_FACTOR = 0.5", "import gzip", "def load_mnist", "default=500"}},
		{"plateau-validation", func(r *Recipe) {
			r.Schedule = Schedule{Kind: "plateau", Plateau: plateau}
			r.Validation = Validation{Split: 0.1, Mode: "writers"}
			r.EarlyStopping = EarlyStopping{Patience: 3, Monitor: "val_loss", RestoreBest: true}
			r.CSVLog = "history.csv"
			r.Optimizer = &optim.RMSprop{Options: optim.Options{EMA: optim.EMA{UseEMA: true, EMAOverwriteFrequency: 50}}}
		}, []string{`monitor="val_accuracy", factor=0.1, patience=4`, `VALIDATION_MODE = "writers"`, "def split(", "EARLY_STOPPING_PATIENCE = 3", "net.load_state_dict(self.weights)", `CSV_LOG = "history.csv"`,
			"EMA_MOMENTUM = 0.99", "EMA_OVERWRITE_FREQUENCY = 50", "ema.update(done)\n    model.constrain(net)", "ema.finalize()\n    log(", "stopper.train_end(net, log)"}},
		{"accumulate", func(r *Recipe) {
			r.Optimizer = &optim.Adam{Options: optim.Options{Accumulation: optim.Accumulation{GradientAccumulationSteps: 4}, Clipping: optim.Clipping{ClipNorm: 1}}}
		}, []string{"GRADIENT_ACCUMULATION_STEPS = 4", "import contextlib", "with train_net.no_sync() if distributed and not updates(step)[0] else contextlib.nullcontext():",
			"p.grad.div_(GRADIENT_ACCUMULATION_STEPS)\n        clip_gradients(params)\n        opt.step()\n        opt.zero_grad()", "an update every {GRADIENT_ACCUMULATION_STEPS} steps"}},
		{"exclude-from-weight-decay", func(r *Recipe) {
			r.Optimizer = &optim.AdamW{Adam: optim.Adam{Options: optim.Options{DecayExclusion: optim.DecayExclusion{ExcludeFromWeightDecay: []string{"bias", "gamma"}}}}}
		}, []string{`NO_WEIGHT_DECAY = {"conv2d.bias", `, "def param_groups(net):", "opt = make_optimizer(param_groups(net))"}},
		{"images", func(r *Recipe) {
			r.Data = Data{Images: "/data/train", TestImages: "/data/test", Height: 15, Width: 14, ColorMode: "rgb"}
			r.Validation = Validation{Test: true, Freq: 3}
		}, []string{`IMAGES = "/data/train"`, "HEIGHT, WIDTH = 15, 14", "from PIL import Image", "val = test",
			"VALIDATION_FREQ = 3", "if val is not None and (epoch + 1) % args.validation_freq == 0:", `p.add_argument("--validation-freq", type=int, default=VALIDATION_FREQ`}},
		{"csv", func(r *Recipe) { r.Data = Data{CSV: "/data/train.csv", CSVLabel: "digit"}; r.NoEvaluate = true },
			[]string{`CSV = "/data/train.csv"`, "TEST_CSV = None", `LABEL_COLUMN = "digit"`, "import csv", "EVALUATE = False"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := recipe()
			tt.edit(&r)
			f := files(t, Project{Model: m, Title: "every layer", Recipe: r})
			holds(t, "train.py", f["train.py"], tt.want...)
			if tt.name != "rmsprop" && strings.Contains(f["train.py"], "class Augment") {
				t.Error("train.py augments without augmentation")
			}
			compile(t, f)
		})
	}
}

// strange is a layer type the PyTorch export does not know.
type strange struct{ nn.Flatten }

func (strange) Type() string { return "Strange" }

// TestGenerateUnsupported: what the PyTorch side cannot reproduce exactly
// is an UnsupportedError naming it.
func TestGenerateUnsupported(t *testing.T) {
	build := func(layers ...nn.Layer) *model.Sequential {
		m := model.New(layers...)
		if err := m.Build([]int{6, 6, 1}, 1); err != nil {
			t.Fatal(err)
		}
		return m
	}
	samplewise := build(&nn.Flatten{}, &nn.Dense{Units: 3})
	samplewise.Standardizer = &data.Standardizer{SamplewiseCenter: true}
	vector := model.New(&nn.Dense{Units: 3})
	if err := vector.Build([]int{4}, 1); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		m    *model.Sequential
		edit func(r *Recipe)
		want string
	}{
		{"layer", build(&strange{}, &nn.Dense{Units: 3}), nil, "layer strange (Strange)"},
		{"samplewise", samplewise, nil, "preprocessing: samplewise"},
		{"vector input", vector, nil, "the model's input"},
		{"image output", build(&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}}), nil, "the model's output"},
		{"centred rmsprop", build(&nn.Flatten{}, &nn.Dense{Units: 3}), func(r *Recipe) { r.Optimizer = &optim.RMSprop{Centered: true} }, "optimizer rmsprop"},
		{"standard input", build(&nn.Flatten{}, &nn.Dense{Units: 3}), func(r *Recipe) { r.Data = Data{CSV: "-"} }, "--csv -"},
		{"plateau mode", build(&nn.Flatten{}, &nn.Dense{Units: 3}), func(r *Recipe) {
			r.Schedule = Schedule{Kind: "plateau", Plateau: &optim.ReduceLROnPlateau{Monitor: "loss", Mode: "max", Factor: 0.5}}
		}, "mode \"max\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := recipe()
			if tt.edit != nil {
				tt.edit(&r)
			}
			_, err := Generate(Project{Model: tt.m, Recipe: r})
			var ue *UnsupportedError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Generate: %v; want an UnsupportedError about %q", err, tt.want)
			}
		})
	}
}

// TestGenerateNoWeights: a network without weights still loads its
// preprocessing, and its load_convnet is valid Python; so are docstrings
// quoting a title and a command line with quotes and backslashes.
func TestGenerateNoWeights(t *testing.T) {
	m := model.New(&nn.MaxPool2D{}, &nn.Flatten{}, &nn.Softmax{})
	if err := m.Build([]int{4, 4, 2}, 1); err != nil {
		t.Fatal(err)
	}
	x := tensor.New(3, 4, 4, 2)
	for i := range x.Data {
		x.Data[i] = float32(rand.IntN(256))
	}
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255, ImageCenter: true}
	m.Standardizer.Fit(x)
	r := recipe()
	r.Command = `convnet export --format pytorch --out 'a """ \x'`
	f := files(t, Project{Model: m, Title: `the network of "a\b".safetensors`, Recipe: r})
	if !strings.Contains(f["model.py"], `net.mean_image.copy_(values("mean_image", 32).reshape(4, 4, 2).permute(2, 0, 1)[None])`) {
		t.Errorf("model.py does not load the mean image:\n%s", f["model.py"])
	}
	compile(t, f)
}

// holds reports each of wants that text, the file called name, lacks.
func holds(t *testing.T, name, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q", name, w)
		}
	}
}
