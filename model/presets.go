package model

import (
	"fmt"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/nn"
)

// preset describes a built-in architecture for a number of classes: a
// stack of layers or a graph.
type preset struct {
	about  string
	layers func(classes int) []nn.Layer
	graph  func(in *Node, classes int) (out *Node)
}

var presets = map[string]preset{
	"tutorial": {
		about:  "the Keras AHCD tutorial's network: 4 conv, 2 pool, 3 dense, dropout (1,203,708 params at 32x32x1, 28 classes)",
		layers: tutorialLayers,
	},
	"elsawy2017": {
		about:  "after El-Sawy, Loey and El-Bakry (2017): 2 valid 5x5 conv with max pooling, dense 1024",
		layers: elsawyLayers,
	},
	"lenet5": {
		about:  "LeCun et al. (1998) LeNet-5 with tanh: conv 6, avg pool, conv 16, avg pool, dense 120, 84",
		layers: lenetLayers,
	},
	"resnet": {
		about: "a small ResNet: a 3x3 stem of 32 filters, two basic residual blocks of 64 filters at half resolution " +
			"and two of 128 at a quarter (batch normalization, strided 1x1 projection shortcuts), " +
			"each channel's global average and maximum, dense softmax (666,812 params at 32x32x1, 28 classes)",
		graph: func(in *Node, classes int) *Node { return resnet(in, classes, 32, []int{64, 128}, []int{2, 2}) },
	},
	"convnet-bn": {
		about:  "VGG-style: three blocks of two 3x3 conv + batch normalization + ReLU (32, 64, 128 filters), max pooling and dropout, then dense 256",
		layers: convnetBNLayers,
	},
}

func pair(n int) [2]int { return [2]int{n, n} }

func tutorialLayers(classes int) []nn.Layer {
	return []nn.Layer{
		&nn.Conv2D{Filters: 32, KernelSize: pair(5), Padding: "same", Activation: "relu"},
		&nn.Conv2D{Filters: 32, KernelSize: pair(5), Padding: "same", Activation: "relu"},
		&nn.MaxPool2D{PoolSize: pair(2)},
		&nn.Dropout{Rate: 0.25},
		&nn.Conv2D{Filters: 64, KernelSize: pair(3), Padding: "same", Activation: "relu"},
		&nn.Conv2D{Filters: 64, KernelSize: pair(3), Padding: "same", Activation: "relu"},
		&nn.MaxPool2D{PoolSize: pair(2), Strides: pair(2)},
		&nn.Dropout{Rate: 0.25},
		&nn.Flatten{},
		&nn.Dense{Units: 256, Activation: "relu"},
		&nn.Dense{Units: 256, Activation: "relu"},
		&nn.Dropout{Rate: 0.5},
		&nn.Dense{Units: classes, Activation: "softmax"},
	}
}

func elsawyLayers(classes int) []nn.Layer {
	return []nn.Layer{
		&nn.Conv2D{Filters: 32, KernelSize: pair(5), Activation: "relu"},
		&nn.MaxPool2D{PoolSize: pair(2)},
		&nn.Conv2D{Filters: 64, KernelSize: pair(5), Activation: "relu"},
		&nn.MaxPool2D{PoolSize: pair(2)},
		&nn.Flatten{},
		&nn.Dense{Units: 1024, Activation: "relu"},
		&nn.Dense{Units: classes, Activation: "softmax"},
	}
}

func lenetLayers(classes int) []nn.Layer {
	return []nn.Layer{
		&nn.Conv2D{Filters: 6, KernelSize: pair(5), Padding: "same", Activation: "tanh"},
		&nn.AveragePooling2D{PoolSize: pair(2)},
		&nn.Conv2D{Filters: 16, KernelSize: pair(5), Activation: "tanh"},
		&nn.AveragePooling2D{PoolSize: pair(2)},
		&nn.Flatten{},
		&nn.Dense{Units: 120, Activation: "tanh"},
		&nn.Dense{Units: 84, Activation: "tanh"},
		&nn.Dense{Units: classes, Activation: "softmax"},
	}
}

func convnetBNLayers(classes int) []nn.Layer {
	var ls []nn.Layer
	block := func(filters int) {
		ls = append(ls,
			&nn.Conv2D{Filters: filters, KernelSize: pair(3), Padding: "same", NoBias: true, KernelInit: "he_uniform"},
			&nn.BatchNormalization{},
			&nn.ReLU{})
	}
	rates := []float64{0.1, 0.2, 0.3}
	for i, filters := range []int{32, 64, 128} {
		block(filters)
		block(filters)
		ls = append(ls, &nn.MaxPool2D{PoolSize: pair(2)}, &nn.Dropout{Rate: rates[i]})
	}
	return append(ls,
		&nn.Flatten{},
		&nn.Dense{Units: 256, NoBias: true, KernelInit: "he_uniform"},
		&nn.BatchNormalization{},
		&nn.ReLU{},
		&nn.Dropout{Rate: 0.3},
		&nn.Dense{Units: classes, Activation: "softmax"},
	)
}

// PresetNames returns the names of the built-in architectures, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// PresetAbout returns a one-line description of a preset ("" if unknown).
func PresetAbout(name string) string { return presets[name].about }

// Preset returns the built-in architecture called name for 32x32x1 inputs
// and 28 classes (AHCD), unbuilt: call Build(nil, seed).
func Preset(name string) (*Model, error) {
	return PresetFor(name, []int{32, 32, 1}, 28)
}

// PresetFor returns the built-in architecture called name for inputs of
// inputShape and numClasses outputs (for MNIST: [28 28 1], 10), unbuilt:
// call Build(nil, seed), which uses inputShape. An unknown name is an error
// listing the presets.
func PresetFor(name string, inputShape []int, numClasses int) (*Model, error) {
	p, ok := presets[name]
	if !ok {
		return nil, fmt.Errorf("unknown model preset %q (valid: %s)", name, strings.Join(PresetNames(), ", "))
	}
	if numClasses < 2 {
		return nil, fmt.Errorf("preset %s: %d classes, want at least 2", name, numClasses)
	}
	if err := checkInputShape(inputShape); err != nil {
		return nil, fmt.Errorf("preset %s: %w", name, err)
	}
	if p.graph != nil {
		in := Input(inputShape...)
		return NewGraph(in, p.graph(in, numClasses))
	}
	m := New(p.layers(numClasses)...)
	m.input = slices.Clone(inputShape)
	return m, nil
}

// resnet returns a ResNet (He et al., "Deep Residual Learning for Image
// Recognition", 2016, https://arxiv.org/abs/1512.03385) on in: a 3x3 stem
// convolution of stem filters at full resolution, then stages of basic
// blocks, stage s of widths[s] filters with blocks[s] blocks, each stage
// halving the image at its first block, then each channel's mean and
// maximum over the image side by side, and the classifier. A basic block
// is conv 3x3, batch normalization, ReLU, conv 3x3, batch normalization,
// added to the shortcut (the block's input, or where the shape changes a
// strided 1x1 convolution and batch normalization of it), then ReLU. The convolutions have no bias (batch normalization
// follows) and He initialisation. The maximum beside the mean (as
// fast.ai's AdaptiveConcatPool2d) keeps a small feature, such as the dot
// that tells many Arabic letters apart, from being averaged away over the
// map.
func resnet(in *Node, classes, stem int, widths, blocks []int) *Node {
	conv := func(x *Node, filters, k, stride int) *Node {
		c := &nn.Conv2D{Filters: filters, KernelSize: pair(k), Strides: pair(stride), Padding: "same", NoBias: true, KernelInit: "he_uniform"}
		return Call(&nn.BatchNormalization{}, Call(c, x))
	}
	x := Call(&nn.ReLU{}, conv(in, stem, 3, 1))
	channels := stem
	for s, w := range widths {
		for b := range blocks[s] {
			stride := 1
			if b == 0 {
				stride = 2
			}
			y := conv(Call(&nn.ReLU{}, conv(x, w, 3, stride)), w, 3, 1)
			shortcut := x
			if stride != 1 || channels != w {
				shortcut = conv(x, w, 1, stride)
			}
			x = Call(&nn.ReLU{}, Call(&nn.Add{}, y, shortcut))
			channels = w
		}
	}
	x = Call(&nn.Concatenate{}, Call(&nn.GlobalAveragePooling2D{}, x), Call(&nn.GlobalMaxPooling2D{}, x))
	return Call(&nn.Dense{Units: classes, Activation: "softmax"}, x)
}
