package model

import (
	"fmt"
	"math"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// mobileNetV3 writes the document Keras 3's model.to_json() gives for
// keras.applications.MobileNetV3Small(weights=None), or MobileNetV3Large,
// on size×size RGB images with classes outputs, following
// keras/src/applications/mobilenet_v3.py: its Rescaling stem, inverted
// residual blocks (a ZeroPadding2D with correct_pad before each strided
// depthwise convolution), squeeze and excitation ending in the hard
// sigmoid layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0), two operations of a
// tensor and a number, and the hard_swish Activation; on top a global
// pool kept as an image, 1×1 convolutions, a Dropout and a Flatten.
func mobileNetV3(large bool, size, classes int) []byte {
	var d appDoc
	init := kerasInitializer("GlorotUniform", map[string]any{"seed": nil})
	depth := func(v float64) int {
		n := max(8, int(v+4)/8*8)
		if float64(n) < 0.9*v {
			n += 8
		}
		return n
	}
	relu := func(name string, max any, x kerasTensor) kerasTensor {
		if name == "" {
			name = d.defaultName("re_lu")
		}
		return d.layer("ReLU", name, map[string]any{"max_value": max, "negative_slope": 0.0, "threshold": 0.0}, x, x)
	}
	hardSwish := func(x kerasTensor) kerasTensor { return d.activation(d.defaultName("activation"), "hard_swish", x) }
	bn := func(name string, x kerasTensor) kerasTensor { return d.bn(name, x, 0.999) }

	x := d.input(size, 3)
	x = d.layer("Rescaling", "rescaling", map[string]any{"scale": 1.0 / 127.5, "offset": -1.0}, x, x)
	x = hardSwish(bn("conv_bn", d.conv("conv", x, 16, 3, 2, "same", init)))
	type block struct {
		expansion float64
		filters   int
		k, stride int
		se, hs    bool // squeeze and excitation; hard_swish (else relu)
	}
	blocks, lastPoint := []block{
		{1, 16, 3, 2, true, false}, {72.0 / 16, 24, 3, 2, false, false}, {88.0 / 24, 24, 3, 1, false, false},
		{4, 40, 5, 2, true, true}, {6, 40, 5, 1, true, true}, {6, 40, 5, 1, true, true}, {3, 48, 5, 1, true, true},
		{3, 48, 5, 1, true, true}, {6, 96, 5, 2, true, true}, {6, 96, 5, 1, true, true}, {6, 96, 5, 1, true, true},
	}, 1024
	if large {
		blocks, lastPoint = []block{
			{1, 16, 3, 1, false, false}, {4, 24, 3, 2, false, false}, {3, 24, 3, 1, false, false},
			{3, 40, 5, 2, true, false}, {3, 40, 5, 1, true, false}, {3, 40, 5, 1, true, false},
			{6, 80, 3, 2, false, true}, {2.5, 80, 3, 1, false, true}, {2.3, 80, 3, 1, false, true}, {2.3, 80, 3, 1, false, true},
			{6, 112, 3, 1, true, true}, {6, 112, 3, 1, true, true},
			{6, 160, 5, 2, true, true}, {6, 160, 5, 1, true, true}, {6, 160, 5, 1, true, true},
		}, 1280
	}
	for id, b := range blocks {
		act := func(x kerasTensor) kerasTensor {
			if b.hs {
				return hardSwish(x)
			}
			return relu("", nil, x)
		}
		shortcut, prefix, in := x, "expanded_conv_", x.c
		filters := depth(float64(in) * b.expansion)
		if id > 0 {
			prefix = fmt.Sprintf("expanded_conv_%d_", id)
			x = act(bn(prefix+"expand_bn", d.conv(prefix+"expand", x, filters, 1, 1, "same", init)))
		}
		padding := "same"
		if b.stride == 2 {
			x, padding = d.correctPad(prefix+"depthwise_pad", x, b.k), "valid"
		}
		x = d.layer("DepthwiseConv2D", prefix+"depthwise", weighted(map[string]any{"kernel_size": []int{b.k, b.k}, "strides": []int{b.stride, b.stride},
			"padding": padding, "data_format": "channels_last", "dilation_rate": []int{1, 1}, "activation": "linear", "use_bias": false,
			"depth_multiplier": 1, "depthwise_initializer": init, "depthwise_regularizer": nil, "depthwise_constraint": nil}),
			kerasTensor{h: outSize(x.h, b.k, b.stride, padding), w: outSize(x.w, b.k, b.stride, padding), c: x.c}, x)
		x = act(bn(prefix+"depthwise_bn", x))
		if b.se {
			one := kerasTensor{h: 1, w: 1, c: filters}
			se := d.layer("GlobalAveragePooling2D", prefix+"squeeze_excite_avg_pool", map[string]any{"data_format": "channels_last", "keepdims": true}, one, x)
			se = relu(prefix+"squeeze_excite_relu", nil, d.convWith(prefix+"squeeze_excite_conv", se, depth(float64(filters)*0.25), 1, 1, "same", init, "linear", true))
			se = d.convWith(prefix+"squeeze_excite_conv_1", se, filters, 1, 1, "same", init, "linear", true)
			se = d.op("Multiply", d.defaultName("multiply"), relu("", 6.0, d.op("Add", d.defaultName("add"), se, 3, false)), 1.0/6, false)
			x = d.layer("Multiply", prefix+"squeeze_excite_mul", map[string]any{}, x, x, se)
		}
		x = bn(prefix+"project_bn", d.conv(prefix+"project", x, b.filters, 1, 1, "same", init))
		if b.stride == 1 && in == b.filters {
			x = d.layer("Add", prefix+"add", map[string]any{}, x, shortcut, x)
		}
	}
	x = hardSwish(bn("conv_1_bn", d.conv("conv_1", x, depth(float64(x.c)*6), 1, 1, "same", init)))
	x = d.layer("GlobalAveragePooling2D", d.defaultName("global_average_pooling2d"), map[string]any{"data_format": "channels_last", "keepdims": true},
		kerasTensor{h: 1, w: 1, c: x.c}, x)
	x = hardSwish(d.convWith("conv_2", x, lastPoint, 1, 1, "same", init, "linear", true))
	x = d.layer("Dropout", d.defaultName("dropout"), map[string]any{"rate": 0.2, "seed": nil, "noise_shape": nil}, x, x)
	x = d.convWith("logits", x, classes, 1, 1, "same", init, "linear", true)
	x = d.layer("Flatten", d.defaultName("flatten"), map[string]any{"data_format": "channels_last"}, kerasTensor{c: classes}, x)
	x = d.activation("predictions", "softmax", x)
	name := "MobileNetV3Small"
	if large {
		name = "MobileNetV3Large"
	}
	return d.json(name, x)
}

// TestKerasMobileNetV3 reads Keras's MobileNetV3Small and MobileNetV3Large
// (weights=None) as Keras 3 writes them: 2,542,856 and 5,483,032
// trainable parameters, torchvision's mobilenet_v3_small's and
// mobilenet_v3_large's counts (sum(p.numel()), torchvision 0.14: the same
// networks, layer for layer), and 2,554,968 and 5,507,432 in all with the
// batch normalizations' moving statistics (their running means and
// variances). Each hard sigmoid reads as a ReLU(6)
// between two Rescaling layers, relu6(x + 3)/6, checked against its
// definition on a small copy that takes a training step.
func TestKerasMobileNetV3(t *testing.T) {
	for _, tt := range []struct {
		large            bool
		trainable, total int
	}{{false, 2542856, 2554968}, {true, 5483032, 5507432}} {
		counts(t, parseBuilt(t, mobileNetV3(tt.large, 224, 1000)), tt.trainable, tt.total)
	}
	small := parseBuilt(t, mobileNetV3(false, 32, 5))
	add, mul := small.Layer("add").(*nn.Rescaling), small.Layer("multiply").(*nn.Rescaling)
	if add.Scale != 1 || add.Offset != 3 || mul.Scale != 1.0/6 || mul.Offset != 0 {
		t.Fatalf("the hard sigmoid's operations read as %+v and %+v", add.Config(), mul.Config())
	}
	x := tensor.FromData([]float32{-5, -3, -1, 0, 2, 3, 7}, 1, 7)
	y := x
	for _, l := range []nn.Layer{&nn.Rescaling{Scale: 1, Offset: 3}, &nn.ReLU{MaxValue: 6}, &nn.Rescaling{Scale: 1.0 / 6}} {
		if _, err := l.Build([]int{7}, nil); err != nil {
			t.Fatal(err)
		}
		y = l.Forward(y, false)
	}
	for i, v := range x.Data {
		if want := math.Min(math.Max(float64(v)+3, 0), 6) / 6; math.Abs(float64(y.Data[i])-want) > 1e-7 {
			t.Errorf("hard sigmoid of %v: %v, want %v", v, y.Data[i], want)
		}
	}
	trainsOneStep(t, small)

	// Its head, the 1x1 convolution "logits" before a Flatten and the
	// softmax, is replaced for a new task, as in transfer learning.
	logits := small.Layer("logits")
	head, err := small.NewHead(3, 1)
	if err != nil {
		t.Fatal(err)
	}
	if head == logits || head.Name() != "logits" || small.Layer("logits") != head || head.(*nn.Conv2D).Filters != 3 || small.NumClasses() != 3 {
		t.Fatalf("NewHead(3): %s (%s), %d classes; want a logits convolution of 3 filters", head.Name(), head.Type(), small.NumClasses())
	}
	trainsOneStep(t, small)
}
