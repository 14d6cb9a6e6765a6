package model

import (
	"bytes"
	"fmt"
	"math"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// efficientNet writes the document Keras 3's model.to_json() gives for
// keras.applications.EfficientNet(width, depth, ...) on size×size images
// of the given channels with classes outputs, following
// keras/src/applications/efficientnet.py: its Rescaling and Normalization
// stem (with weights="imagenet", a Rescaling of one scale per channel
// after them), ZeroPadding2D with correct_pad before each strided
// convolution, inverted residual blocks with squeeze and excitation (a
// Reshape, two 1×1 convolutions and a Multiply) and drop connect (a
// Dropout of noise shape (None, 1, 1, 1) before the Add), VarianceScaling
// initializers, and the GlobalAveragePooling2D, Dropout and Dense on top.
func efficientNet(width, depth float64, size, channels, classes int, imagenet bool) []byte {
	var d appDoc
	convInit := kerasInitializer("VarianceScaling", map[string]any{"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal", "seed": nil})
	roundFilters := func(f int) int {
		x := float64(f) * width
		n := max(8, int(x+4)/8*8)
		if float64(n) < 0.9*x {
			n += 8
		}
		return n
	}
	roundRepeats := func(r int) int { return int(math.Ceil(depth * float64(r))) }

	x := d.input(size, channels)
	x = d.layer("Rescaling", "rescaling", map[string]any{"scale": 1.0 / 255, "offset": 0.0}, x, x)
	x = d.layer("Normalization", "normalization", map[string]any{"axis": []int{3}, "invert": false, "mean": nil, "variance": nil}, x, x)
	if imagenet { // 1/sqrt of ImageNet's standard deviations, per channel
		x = d.layer("Rescaling", "rescaling_1", map[string]any{"scale": []float64{1 / math.Sqrt(0.229), 1 / math.Sqrt(0.224), 1 / math.Sqrt(0.225)}, "offset": 0.0}, x, x)
	}
	x = d.conv("stem_conv", d.correctPad("stem_conv_pad", x, 3), roundFilters(32), 3, 2, "valid", convInit)
	x = d.activation("stem_activation", "swish", d.bn("stem_bn", x, 0.99))

	blocks := []struct{ k, repeats, in, out, expand, stride int }{
		{3, 1, 32, 16, 1, 1}, {3, 2, 16, 24, 6, 2}, {5, 2, 24, 40, 6, 2}, {3, 3, 40, 80, 6, 2},
		{5, 3, 80, 112, 6, 1}, {5, 4, 112, 192, 6, 2}, {3, 1, 192, 320, 6, 1},
	}
	total := 0
	for _, b := range blocks {
		total += roundRepeats(b.repeats)
	}
	n := 0
	for i, b := range blocks {
		in, out, stride := roundFilters(b.in), roundFilters(b.out), b.stride
		for j := range roundRepeats(b.repeats) {
			if j > 0 {
				stride, in = 1, out
			}
			name := fmt.Sprintf("block%d%c_", i+1, 'a'+j)
			inputs, filters := x, in*b.expand
			if b.expand != 1 {
				x = d.activation(name+"expand_activation", "swish", d.bn(name+"expand_bn", d.conv(name+"expand_conv", x, filters, 1, 1, "same", convInit), 0.99))
			}
			padding := "same"
			if stride == 2 {
				x, padding = d.correctPad(name+"dwconv_pad", x, b.k), "valid"
			}
			x = d.layer("DepthwiseConv2D", name+"dwconv", weighted(map[string]any{"kernel_size": []int{b.k, b.k}, "strides": []int{stride, stride},
				"padding": padding, "data_format": "channels_last", "dilation_rate": []int{1, 1}, "activation": "linear", "use_bias": false,
				"depth_multiplier": 1, "depthwise_initializer": convInit, "depthwise_regularizer": nil, "depthwise_constraint": nil}),
				kerasTensor{h: outSize(x.h, b.k, stride, padding), w: outSize(x.w, b.k, stride, padding), c: x.c}, x)
			x = d.activation(name+"activation", "swish", d.bn(name+"bn", x, 0.99))
			one := kerasTensor{h: 1, w: 1, c: filters}
			se := d.layer("GlobalAveragePooling2D", name+"se_squeeze", map[string]any{"data_format": "channels_last", "keepdims": false}, one, x)
			se = d.layer("Reshape", name+"se_reshape", map[string]any{"target_shape": []int{1, 1, filters}}, one, se)
			se = d.convWith(name+"se_reduce", se, max(1, in/4), 1, 1, "same", convInit, "swish", true)
			se = d.convWith(name+"se_expand", se, filters, 1, 1, "same", convInit, "sigmoid", true)
			x = d.layer("Multiply", name+"se_excite", map[string]any{}, x, x, se)
			x = d.bn(name+"project_bn", d.conv(name+"project_conv", x, out, 1, 1, "same", convInit), 0.99)
			if stride == 1 && in == out {
				if rate := 0.2 * float64(n) / float64(total); rate > 0 {
					x = d.layer("Dropout", name+"drop", map[string]any{"rate": rate, "seed": nil, "noise_shape": []any{nil, 1, 1, 1}}, x, x)
				}
				x = d.layer("Add", name+"add", map[string]any{}, x, x, inputs)
			}
			n++
		}
	}
	x = d.activation("top_activation", "swish", d.bn("top_bn", d.conv("top_conv", x, roundFilters(1280), 1, 1, "same", convInit), 0.99))
	x = d.layer("GlobalAveragePooling2D", "avg_pool", map[string]any{"data_format": "channels_last", "keepdims": false}, x, x)
	x = d.layer("Dropout", "top_dropout", map[string]any{"rate": 0.2, "seed": nil, "noise_shape": nil}, x, x)
	x = d.layer("Dense", "predictions", weighted(map[string]any{"units": classes, "activation": "softmax", "use_bias": true,
		"kernel_initializer": kerasInitializer("VarianceScaling", map[string]any{"scale": 1.0 / 3, "mode": "fan_out", "distribution": "uniform", "seed": nil}),
		"kernel_regularizer": nil, "kernel_constraint": nil}), x, x)
	return d.json("efficientnet", x)
}

// trainsOneStep compiles m (5 classes) with Adam and checks that a
// training step on 4 images gives a finite, positive loss.
func trainsOneStep(t *testing.T, m *Model) {
	t.Helper()
	if err := m.Compile(&optim.Adam{}, nn.CrossEntropy{}); err != nil {
		t.Fatal(err)
	}
	k := m.NumClasses()
	x, y := tensor.New(append([]int{4}, m.InputShape()...)...), tensor.New(4, k)
	for i := range x.Data {
		x.Data[i] = float32(i * 37 % 256)
	}
	for i := range 4 {
		y.Data[i*k+i%k] = 1
	}
	if loss, _ := m.TrainStep(x, y); math.IsNaN(loss) || loss <= 0 {
		t.Errorf("a training step's loss is %v", loss)
	}
}

// TestKerasEfficientNet reads Keras's EfficientNetB0 and B1 (weights=None,
// and B0's architecture for weights="imagenet") as Keras 3 writes them and
// counts the parameters Keras's summary counts:
// 5,330,571 for B0 (5,288,548 trainable, 42,023 not: the batch
// normalizations' moving statistics and the Normalization's mean, variance
// and count), 7,856,239 for B1. A small B0's kernels start as their
// VarianceScaling initializers draw, it takes a training step (its drop
// connect on), and written back, the document keeps both and reads again.
func TestKerasEfficientNet(t *testing.T) {
	bigApp(t)
	for _, tt := range []struct {
		name                  string
		width, depth          float64
		size                  int
		imagenet              bool
		total, trainable, non int
	}{
		{"B0", 1, 1, 224, false, 5330571, 5288548, 42023},
		{"B0 imagenet", 1, 1, 224, true, 5330571, 5288548, 42023},
		{"B1", 1, 1.1, 240, false, 7856239, 0, 0}, // Keras's summaries give the total
	} {
		m, err := ParseArchitecture(efficientNet(tt.width, tt.depth, tt.size, 3, 1000, tt.imagenet))
		if err != nil {
			t.Fatalf("EfficientNet%s: %v", tt.name, err)
		}
		if err := m.Build(nil, 1); err != nil {
			t.Fatalf("EfficientNet%s: %v", tt.name, err)
		}
		trainable, non := m.ParamCount()
		if trainable+non != tt.total || tt.trainable > 0 && (trainable != tt.trainable || non != tt.non) {
			t.Errorf("EfficientNet%s: %d params, %d trainable, %d not; Keras counts %d, %d and %d", tt.name, trainable+non, trainable, non, tt.total, tt.trainable, tt.non)
		}
	}

	m, err := ParseArchitecture(efficientNet(1, 1, 32, 3, 5, false))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 3); err != nil {
		t.Fatal(err)
	}
	trainable, non0 := m.ParamCount()
	stem := m.Layer("stem_conv").(*nn.Conv2D)
	if stem.KernelInit != "variance_scaling(scale=2, mode=fan_out, distribution=truncated_normal)" {
		t.Errorf("stem_conv's initializer %q", stem.KernelInit)
	}
	// fan_out of a 3×3 kernel of 32 filters: 288; a truncated normal of
	// deviation sqrt(2/288)/0.8796 before truncation lies within twice it.
	bound := float32(2 * math.Sqrt(2.0/288) / 0.87962566103423978)
	for _, v := range stem.Params()[0].Value.Data {
		if v < -bound || v > bound {
			t.Fatalf("stem_conv's kernel holds %v, beyond ±%v", v, bound)
		}
	}
	drop := m.Layer("block2b_drop").(*nn.Dropout)
	if drop.Rate != 0.2*2/16 || len(drop.NoiseShape) != 4 || drop.NoiseShape[1] != 1 {
		t.Errorf("block2b_drop: rate %v, noise shape %v; want 0.025, (None, 1, 1, 1)", drop.Rate, drop.NoiseShape)
	}
	trainsOneStep(t, m)
	a, err := m.Architecture()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"class_name": "VarianceScaling",
            "config": {
              "distribution": "truncated_normal",
              "mode": "fan_out",
              "scale": 2,`, `"noise_shape": [
            null,
            1,
            1,
            1
          ],`} {
		if !bytes.Contains(a, []byte(want)) {
			t.Errorf("written back without %s", want)
		}
	}
	back, err := ParseArchitecture(a)
	if err == nil {
		err = back.Build(nil, 3)
	}
	if err != nil {
		t.Fatalf("written back: %v", err)
	}
	if tr, non := back.ParamCount(); tr != trainable || non != non0 {
		t.Errorf("written back: %d and %d parameters, want %d and %d", tr, non, trainable, non0)
	}
}
