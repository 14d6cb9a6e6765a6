package cli

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// The PyTorch project's checks run Debian's python3-torch and
// python3-torchvision on the projects convnet export --format pytorch
// writes (skipped without them, failing in CI: see missingRuntime).

// batch returns the images standardised as m's preprocessing does, and the
// one-hot labels.
func batch(m *model.Sequential, images [][]float32, labels []int) (x, y *tensor.Tensor) {
	shape := append([]int{len(images)}, m.InputShape()...)
	x = tensor.New(shape...)
	for i, img := range images {
		copy(x.Data[i*len(img):], img)
	}
	if m.Standardizer != nil {
		m.Standardizer.Apply(x, x)
	}
	y = tensor.New(len(images), m.NumClasses())
	data.OneHot(y, labels, m.NumClasses())
	return x, y
}

// logits returns convnet's logits for x: the output of the last layer,
// which leaves out its softmax (see nn.FinalSoftmax); ForwardAll gives the
// probabilities in its place, so the last layer runs again on its input.
func logits(m *model.Sequential, x *tensor.Tensor) []float32 {
	outs := m.ForwardAll(x)
	last := len(m.Layers) - 1
	in := m.Inbound(last)
	if len(in) != 1 {
		return outs[last].Clone().Data // a merge layer: no softmax
	}
	h := x
	if in[0] >= 0 {
		h = outs[in[0]]
	}
	return m.Layers[last].Forward(h, false).Clone().Data
}

// maxDiff returns the largest |a-b| and the largest |b|.
func maxDiff(a, b []float32) (diff, scale float64) {
	for i := range b {
		diff = max(diff, math.Abs(float64(a[i])-float64(b[i])))
		scale = max(scale, math.Abs(float64(b[i])))
	}
	return diff, scale
}

// noDropout sets the rate of every dropout layer of m to 0.
func noDropout(m *model.Sequential) {
	for _, l := range m.Layers {
		switch d := l.(type) {
		case *nn.Dropout:
			d.Rate = 0
		case *nn.SpatialDropout2D:
			d.Rate = 0
		case *nn.AlphaDropout:
			d.Rate = 0
		case *nn.GaussianNoise:
			d.Stddev = 0
		case *nn.GaussianDropout:
			d.Rate = 0
		}
	}
}

// ahcdBatch returns n AHCD test images, spread over the classes, and their
// labels.
func ahcdBatch(t *testing.T, n int) (train *data.Dataset, images [][]float32, labels []int) {
	t.Helper()
	train, test, err := data.LoadAHCD(context.Background(), filepath.Join(dataDir(t), "ahcd", "ahcd_csv.zip"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		k := i * test.Len() / n
		images = append(images, test.Image(k))
		labels = append(labels, test.Y[k])
	}
	return train, images, labels
}

// graphModel returns a graph with every merge layer: two branches joined
// along the channels (one with an even kernel's uneven padding), a 1x1
// convolution of them added back scaled by 0.17 (an Inception-ResNet
// block's ScaledAdd), a sigmoid gate, a concatenation along the width, then, after a Flatten, two Dense
// layers averaged and added to one of them and to a Dense layer of the
// image's global maximum of each channel.
func graphModel(t *testing.T) *model.Sequential {
	t.Helper()
	in := model.Input(12, 10, 3)
	a := model.Call(&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "relu"}, in)
	b := model.Call(&nn.Conv2D{Filters: 3, KernelSize: [2]int{2, 2}, Padding: "same"}, in)
	c := model.Call(&nn.Concatenate{}, a, b)
	c = model.Call(&nn.ScaledAdd{Scale: 0.17}, c, model.Call(&nn.Conv2D{Filters: 7, KernelSize: [2]int{1, 1}}, c))
	gate := model.Call(&nn.Conv2D{Filters: 7, KernelSize: [2]int{1, 1}, Activation: "sigmoid"}, c)
	x := model.Call(&nn.Concatenate{Axis: 2}, model.Call(&nn.Multiply{}, c, gate), c)
	d3 := model.Call(&nn.Dense{Units: 16}, model.Call(&nn.GlobalMaxPooling2D{}, x))
	x = model.Call(&nn.Flatten{}, model.Call(&nn.MaxPool2D{}, x))
	d1 := model.Call(&nn.Dense{Units: 16, Activation: "tanh"}, x)
	d2 := model.Call(&nn.Dense{Units: 16, Activation: "relu"}, x)
	x = model.Call(&nn.Add{}, model.Call(&nn.Average{}, d1, d2), model.Call(&nn.Subtract{}, d1, d3), model.Call(&nn.Maximum{}, d3, d2, d1))
	x = model.Call(&nn.Minimum{}, x, d3)
	m, err := model.NewGraph(in, model.Call(&nn.Dense{Units: 5, Activation: "softmax"}, x))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 4); err != nil {
		t.Fatal(err)
	}
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255, FeaturewiseStd: true, Mean: []float32{0.5, 0.4, 0.45}, Std: []float32{0.3, 0.2, 0.25}}
	m.ClassNames = []string{"a", "b", "c", "d", "e"}
	return m
}

// squeezeExcitation returns a graph with a squeeze-and-excitation block
// (the channel means kept as an image of one cell, two grouped 1x1
// convolutions and a product that broadcasts them over the map), a mean that broadcasts
// them too, and the activations relu6, silu, hard_sigmoid and hard_silu, by their
// names and aliases, as layers and as those of Conv2D, DepthwiseConv2D and
// Dense.
func squeezeExcitation(t *testing.T) *model.Sequential {
	t.Helper()
	in := model.Input(12, 10, 3)
	x := model.Call(&nn.Conv2D{Filters: 8, KernelSize: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: "same", Activation: "hard_silu"}, in)
	x = model.Call(&nn.Activation{Func: "swish"}, model.Call(&nn.BatchNormalization{}, x))
	x = model.Call(&nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, Padding: "same", Activation: "silu"}, x)
	g := model.Call(&nn.GlobalAveragePooling2D{KeepDims: true}, x)
	g = model.Call(&nn.Conv2D{Filters: 4, KernelSize: [2]int{1, 1}, Groups: 4, Activation: "relu6"}, g)
	g = model.Call(&nn.Conv2D{Filters: 8, KernelSize: [2]int{1, 1}, Groups: 2, Activation: "hard_sigmoid"}, g)
	x = model.Call(&nn.Multiply{}, x, g)
	x = model.Call(&nn.Average{}, x, model.Call(&nn.Activation{Func: "hard_sigmoid"}, g))
	// Each map less its mean: a difference broadcast over the map.
	x = model.Call(&nn.Subtract{}, x, model.Call(&nn.GlobalAveragePooling2D{KeepDims: true}, x))
	// Scaled by the channels' maxima made an image of one cell (Keras's
	// EfficientNet reshapes its squeeze-and-excitation weights so).
	x = model.Call(&nn.Multiply{}, x, model.Call(&nn.Reshape{TargetShape: []int{1, 1, -1}}, model.Call(&nn.GlobalMaxPooling2D{}, x)))
	x = model.Call(&nn.Activation{Func: "hard_swish"}, x)
	x = model.Call(&nn.Flatten{}, model.Call(&nn.MaxPool2D{}, x))
	x = model.Call(&nn.Dense{Units: 16, Activation: "hard_swish"}, x)
	x = model.Call(&nn.Activation{Func: "silu"}, model.Call(&nn.Dense{Units: 12, Activation: "swish"}, x))
	m, err := model.NewGraph(in, model.Call(&nn.Dense{Units: 5, Activation: "softmax"}, x))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 6); err != nil {
		t.Fatal(err)
	}
	randomStats(m)
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255, FeaturewiseStd: true, Mean: []float32{0.5, 0.4, 0.45}, Std: []float32{0.3, 0.2, 0.25}}
	m.ClassNames = []string{"a", "b", "c", "d", "e"}
	return m
}

// smoothActivations returns a network with the activations selu, gelu,
// softplus, softsign and mish, as layers and as those of Conv2D,
// DepthwiseConv2D and Dense, and selu's AlphaDropout.
func smoothActivations(t *testing.T) *model.Sequential {
	t.Helper()
	m := model.New(
		&nn.Conv2D{Filters: 6, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "gelu"},
		&nn.Activation{Func: "mish"},
		&nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, Strides: [2]int{2, 2}, Activation: "selu"},
		&nn.Conv2D{Filters: 8, KernelSize: [2]int{1, 1}, Activation: "softsign"},
		&nn.Activation{Func: "softplus"},
		&nn.Conv2D{Filters: 8, KernelSize: [2]int{3, 3}, Activation: "mish"},
		&nn.Activation{Func: "gelu"},
		&nn.Flatten{},
		&nn.Dense{Units: 12, Activation: "softplus"},
		&nn.Activation{Func: "selu"},
		&nn.AlphaDropout{Rate: 0.1},
		&nn.Dense{Units: 10},
		&nn.Activation{Func: "softsign"},
		&nn.Dense{Units: 5, Activation: "softmax"},
	)
	if err := m.Build([]int{12, 10, 3}, 10); err != nil {
		t.Fatal(err)
	}
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255, FeaturewiseStd: true, Mean: []float32{0.5, 0.4, 0.45}, Std: []float32{0.3, 0.2, 0.25}}
	m.ClassNames = []string{"a", "b", "c", "d", "e"}
	return m
}

// grouped returns a chain of grouped convolutions: one of 2 groups with
// stride 2 and "same" padding on an even image (uneven pads, PyTorch's
// SameConv2d), a 1x1 one of 4 groups, and one of 4 groups with an even
// kernel height (uneven pads again) and no bias, on 4 channels.
func grouped(t *testing.T) *model.Sequential {
	t.Helper()
	m := model.New(
		&nn.Conv2D{Filters: 8, KernelSize: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: "same", Groups: 2, Activation: "relu"},
		&nn.BatchNormalization{},
		&nn.Conv2D{Filters: 8, KernelSize: [2]int{1, 1}, Groups: 4, Activation: "silu"},
		&nn.Conv2D{Filters: 12, KernelSize: [2]int{2, 3}, Padding: "same", Groups: 4, NoBias: true, Activation: "tanh"},
		&nn.MaxPool2D{},
		&nn.Flatten{},
		&nn.Dense{Units: 5, Activation: "softmax"},
	)
	if err := m.Build([]int{12, 10, 4}, 9); err != nil {
		t.Fatal(err)
	}
	randomStats(m)
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255, FeaturewiseStd: true, Mean: []float32{0.5, 0.4, 0.45, 0.6}, Std: []float32{0.3, 0.2, 0.25, 0.35}}
	m.ClassNames = []string{"a", "b", "c", "d", "e"}
	return m
}

// shuffleUnit returns a ShuffleNet v2 unit and a ShuffleNet v1 shuffle: the
// channels split in two by ChannelSlice, one half through a 1x1
// convolution, batch normalization, a depthwise 3x3 and another 1x1,
// joined to the other half and shuffled in 2 groups; then a 1x1 convolution
// of 4 groups shuffled in 4; then the channel means, a vector, sliced and
// shuffled in 3 groups before the last Dense. (No batch normalization right
// after a convolution: torch.onnx.export would fold it into the
// convolution, and the import would not give back the same layers.)
func shuffleUnit(t *testing.T) *model.Sequential {
	t.Helper()
	in := model.Input(12, 10, 3)
	x := model.Call(&nn.Conv2D{Filters: 8, KernelSize: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: "same", Activation: "relu"}, in)
	a := model.Call(&nn.ChannelSlice{Start: 0, End: 4}, x)
	b := model.Call(&nn.ChannelSlice{Start: 4, End: 8}, x)
	b = model.Call(&nn.Conv2D{Filters: 4, KernelSize: [2]int{1, 1}, Activation: "relu"}, b)
	b = model.Call(&nn.BatchNormalization{}, b)
	b = model.Call(&nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, Padding: "same", NoBias: true}, b)
	b = model.Call(&nn.Conv2D{Filters: 4, KernelSize: [2]int{1, 1}, Activation: "relu"}, b)
	x = model.Call(&nn.ChannelShuffle{Groups: 2}, model.Call(&nn.Concatenate{}, a, b))
	x = model.Call(&nn.Conv2D{Filters: 8, KernelSize: [2]int{1, 1}, Groups: 4, Activation: "relu"}, x)
	x = model.Call(&nn.ChannelShuffle{Groups: 4}, x)
	v := model.Call(&nn.GlobalAveragePooling2D{}, x)
	v = model.Call(&nn.ChannelShuffle{Groups: 3}, model.Call(&nn.ChannelSlice{Start: 2, End: 8}, v))
	m, err := model.NewGraph(in, model.Call(&nn.Dense{Units: 5, Activation: "softmax"}, v))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 10); err != nil {
		t.Fatal(err)
	}
	randomStats(m)
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255, FeaturewiseStd: true, Mean: []float32{0.5, 0.4, 0.45}, Std: []float32{0.3, 0.2, 0.25}}
	m.ClassNames = []string{"a", "b", "c", "d", "e"}
	return m
}

// TestExportPyTorchNumerics exports networks as PyTorch projects and runs
// them on the same batch as convnet: the logits and probabilities must
// agree within 1e-5, and one training step (dropout off) with the
// project's optimizer and loss must give the weights of convnet's step
// within 1e-5 (see compareStep). The weights after PyTorch's step come back
// through the project's model file and through its ONNX export and convnet
// import, so both ways back are checked too.
// The networks: the tutorial's, the built-in AHCD model, one with every
// layer type, the resnet preset, a graph with every merge layer, one
// with a squeeze-and-excitation block and the silu, hard_sigmoid and
// hard_silu activations, a chain of grouped convolutions, a ShuffleNet
// unit (channels split, joined and shuffled), one with frozen layers and
// one whose base Keras called with training=False.
func TestExportPyTorchNumerics(t *testing.T) {
	skipRace(t)
	python(t, "torch", "torchvision", "numpy")
	// convnet's convolutions summed as PyTorch's are, directly: Winograd's
	// transforms (kernels.SetWinograd) round otherwise, by a few millionths
	// of the terms' magnitudes, which the biases' gradients, sums that
	// cancel, turn into up to 6e-4 of their size after a step (measured on
	// the tutorial model), more than the 1e-5 each update is compared to.
	on := kernels.Winograd()
	t.Cleanup(func() { kernels.SetWinograd(on) }) // after the parallel subtests
	kernels.SetWinograd(kernels.WinogradOff)
	train, images, labels := ahcdBatch(t, 100)
	dir := t.TempDir()
	save := func(name string, m *model.Sequential) string {
		path := filepath.Join(dir, name+".safetensors")
		if err := model.Save(path, m, model.SaveOptions{}); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tutorial, err := model.Preset("tutorial")
	if err != nil {
		t.Fatal(err)
	}
	if err := tutorial.Build(nil, 7); err != nil {
		t.Fatal(err)
	}
	noDropout(tutorial)
	tutorial.ClassNames = data.AHCDClassNames()
	tutorial.Standardizer = &data.Standardizer{Rescale: 1.0 / 255, ImageCenter: true}
	tutorial.Standardizer.FitDataset(train)
	tutorialFile := save("tutorial", tutorial)
	type torchCase struct {
		name, model string
		flags       []string // the recipe; nil: no training step
		images      [][]float32
		labels      []int
	}
	// random saves m and gives it a batch of random images and labels.
	rng := rand.New(rand.NewPCG(5, 6))
	random := func(name string, m *model.Sequential, flags []string) torchCase {
		noDropout(m)
		images, labels := randomBatch(rng, m)
		return torchCase{name, save(name, m), flags, images, labels}
	}
	resnet, err := model.Preset("resnet")
	if err != nil {
		t.Fatal(err)
	}
	if err := resnet.Build(nil, 8); err != nil {
		t.Fatal(err)
	}
	resnet.ClassNames, resnet.Standardizer = tutorial.ClassNames, tutorial.Standardizer
	tests := []torchCase{
		{"builtin-ahcd", "../../model/pretrained/ahcd.safetensors", nil, images, labels},
		{"tutorial-rmsprop", tutorialFile, []string{}, images, labels},
		{"tutorial-adam", tutorialFile, []string{"--optimizer", "adam"}, images, labels},
		{"tutorial-sgd", tutorialFile, []string{"--optimizer", "sgd", "--momentum", "0.9", "--nesterov", "--lr", "0.05"}, images, labels},
		{"tutorial-adagrad", tutorialFile, []string{"--optimizer", "adagrad", "--lr", "0.01"}, images, labels},
		{"tutorial-adadelta", tutorialFile, []string{"--optimizer", "adadelta", "--lr", "1", "--weight-decay", "0.01"}, images, labels},
		{"tutorial-adamax", tutorialFile, []string{"--optimizer", "adamax"}, images, labels},
		{"tutorial-nadam", tutorialFile, []string{"--optimizer", "nadam", "--beta2", "0.99"}, images, labels},
		{"tutorial-lion", tutorialFile, []string{"--optimizer", "lion", "--lr", "1e-4"}, images, labels},
		// The first 70 images: classes of 20, 20, 20 and 10 images.
		{"tutorial-balanced", tutorialFile, []string{"--optimizer", "sgd", "--lr", "0.05", "--class-weight", "balanced"}, images[:70], labels[:70]},
		{"tutorial-class-weight", tutorialFile, []string{"--optimizer", "sgd", "--lr", "0.05", "--label-smoothing", "0.1", "--class-weight", "alef:3,ب:0.5,27:2"}, images, labels},
		// Each step's batch mixed (a fixed mixing: see mixingOf), the
		// class weights those of the larger share's class.
		{"tutorial-mixup", tutorialFile, []string{"--optimizer", "sgd", "--lr", "0.05", "--mixup", "0.2", "--class-weight", "alef:3,ب:0.5,27:2"}, images, labels},
		{"tutorial-cutmix", tutorialFile, []string{"--optimizer", "adam", "--cutmix", "1", "--label-smoothing", "0.1"}, images, labels},
		// Bounds that bind: the tutorial's gradients here have a norm of 0.74
		// together, 0.04 to 0.41 each, values up to 0.16.
		{"tutorial-global-clipnorm", tutorialFile, []string{"--optimizer", "sgd", "--lr", "0.05", "--global-clipnorm", "0.25"}, images, labels},
		{"tutorial-clipnorm", tutorialFile, []string{"--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9", "--clipnorm", "0.05"}, images, labels},
		{"tutorial-clipvalue", tutorialFile, []string{"--optimizer", "sgd", "--lr", "0.05", "--clipvalue", "0.01"}, images, labels},
		// Three steps (see emaSteps), the average then in place; the
		// second variant puts it in place after the second step too.
		{"tutorial-ema", tutorialFile, []string{"--optimizer", "sgd", "--lr", "0.01", "--ema", "0.5"}, images, labels},
		{"tutorial-ema-overwrite", tutorialFile, []string{"--optimizer", "adam", "--ema", "0.7", "--ema-overwrite-frequency", "2"}, images, labels},
		// Six steps on halves of the batch (see stepsOf): three updates on
		// the mean of two gradients, clipped (0.02 binds some of the mean's
		// values, more of the sum's); the average at every step (from the
		// third update on it differs from the weights between updates). Then
		// Adam's bias corrections, which count updates (9 steps on thirds),
		// with an epsilon that keeps the updates of small gradients
		// proportional to them: with 1e-7, a weight whose first mean
		// gradient is about 1e-6 moves by ±lr/2 as rounding decides, and
		// moves every gradient of the next update.
		{"tutorial-accumulate", tutorialFile, []string{"--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9", "--gradient-accumulation-steps", "2",
			"--clipvalue", "0.02", "--ema", "0.7"}, images, labels},
		{"tutorial-accumulate-adam", tutorialFile, []string{"--optimizer", "adam", "--epsilon", "1e-3", "--gradient-accumulation-steps", "3", "--weight-decay", "0.01"}, images, labels},
		random("every-layer", everyLayer(t), []string{"--momentum", "0.9", "--label-smoothing", "0.1", "--weight-decay", "0.01"}),
		// No step for the ResNet: its float32 gradients are not defined to 1e-5
		// (PyTorch's own differ from its float64 ones by about 5e-4 in the
		// first blocks, as convnet's do from PyTorch's). merges-graph checks
		// a graph's step.
		{"resnet-graph", save("resnet", resnet), nil, images, labels},
		random("merges-graph", graphModel(t), []string{}),
		random("squeeze-excitation", squeezeExcitation(t), []string{"--optimizer", "adam"}),
		random("resampling", resampling(t), []string{"--optimizer", "adam"}),
		random("group-normalizations", groupNormalizations(t), []string{"--optimizer", "adam"}),
		random("normalizations", normalizations(t), []string{"--momentum", "0.9"}),
		// A strong decay (0.5% of each weight at this rate), which the
		// normalizations' gamma and beta and the biases are left out of.
		random("exclude-from-weight-decay", normalizations(t), []string{"--optimizer", "sgd", "--lr", "0.01", "--weight-decay", "0.5",
			"--exclude-from-weight-decay", "gamma,beta,bias"}),
		random("pools-and-pads", poolsAndPads(t), []string{}),
		random("grouped", grouped(t), []string{"--optimizer", "sgd", "--momentum", "0.9", "--lr", "0.05"}),
		random("shuffle-unit", shuffleUnit(t), []string{}),
		random("smooth-activations", smoothActivations(t), []string{"--optimizer", "adam"}),
		random("frozen", frozenNet(t), []string{"--optimizer", "adam", "--ema", "0.5"}),
	}
	// Its dropout stays: the layer never drops, in convnet and in PyTorch.
	inference := calledForInference(t)
	images100, labels100 := randomBatch(rng, inference)
	tests = append(tests, torchCase{"called-for-inference", save("called-for-inference", inference), []string{"--optimizer", "sgd", "--lr", "0.1"}, images100, labels100})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Two at a time: most of a case is Python starting and PyTorch
			// loading, one core's work.
			t.Parallel()
			project := filepath.Join(t.TempDir(), "project")
			args := append([]string{"export", "--format", "pytorch", "--model", tc.model, "--out", project}, tc.flags...)
			if code, _, errs := runCLI(args...); code != 0 {
				t.Fatalf("convnet %s: exit %d: %s", strings.Join(args, " "), code, errs)
			}
			m, err := model.Load(tc.model)
			if err != nil {
				t.Fatal(err)
			}
			var extra []string
			if tc.flags != nil {
				steps, split := stepsOf(t, tc.flags)
				_, mix := mixingOf(tc.flags)
				extra = append([]string{"--step", "--steps", fmt.Sprint(steps), "--split", fmt.Sprint(split)}, mix...)
			}
			out := torchProject(t, project, tc.images, tc.labels, extra...)
			x, y := batch(m, tc.images, tc.labels)
			diff, scale := maxDiff(readFloats(t, filepath.Join(out, "logits.f32")), logits(m, x))
			t.Logf("logits: max |PyTorch - convnet| = %.3g (largest logit %.3g)", diff, scale)
			if diff > 1e-5*max(scale, 1) {
				t.Errorf("logits: max |PyTorch - convnet| = %.3g, want <= 1e-5 x max(1, largest logit %.3g)", diff, scale)
			}
			var want [][]float32
			want = append(want, probabilities(t, m, tc.images)...)
			compareProbabilities(t, "probabilities, PyTorch vs convnet", readFloats(t, filepath.Join(out, "probs.f32")), want, 1e-5)
			if tc.flags == nil {
				return
			}
			step(t, m, tc.flags, out, x, y)
		})
	}
}

// minGrad is the smallest gradient, at every update, for which a weight's update is compared.
// Below it, the first step of RMSprop or Adam, about lr·g/(c·|g| + ε),
// turns the float32 rounding of the gradient (summed in another order by
// PyTorch) into a visible change of the update: a gradient that is zero but
// for rounding, such as a bias's before batch normalization, gets a step of
// a random sign.
const minGrad = 1e-4
