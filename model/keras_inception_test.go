package model

import (
	"fmt"
	"testing"

	"github.com/convnet-go/convnet/nn"
)

// inceptionV3 writes the document Keras 3's model.to_json() gives for
// keras.applications.InceptionV3(weights=None) on size×size RGB images
// with classes outputs, following keras/src/applications/inception_v3.py:
// every convolution a conv2d_bn (no bias, a batch normalization without
// scale, a relu; layers named by default), "valid" stem convolutions and
// max pools, then the mixed blocks: branches of 1×1, 5×5, double 3×3,
// 1×7 and 7×1, and 1×3 and 3×1 convolutions and 3×3 "same" average pools
// joined by Concatenate layers, and global average pooling and a Dense on
// top.
func inceptionV3(size, classes int) []byte {
	var d appDoc
	init := kerasInitializer("GlorotUniform", map[string]any{"seed": nil})
	conv := func(x kerasTensor, filters, rows, cols, stride int, padding string) kerasTensor {
		out := kerasTensor{h: outSize(x.h, rows, stride, padding), w: outSize(x.w, cols, stride, padding), c: filters}
		x = d.layer("Conv2D", "", weighted(map[string]any{"filters": filters, "kernel_size": []int{rows, cols}, "strides": []int{stride, stride},
			"padding": padding, "data_format": "channels_last", "dilation_rate": []int{1, 1}, "groups": 1, "activation": "linear",
			"use_bias": false, "kernel_initializer": init, "kernel_regularizer": nil, "kernel_constraint": nil}), out, x)
		x = d.bn(d.defaultName("batch_normalization"), x, 0.99)
		d.setLast("scale", false)
		return d.activation(d.defaultName("activation"), "relu", x)
	}
	same := func(x kerasTensor, filters, rows, cols int) kerasTensor {
		return conv(x, filters, rows, cols, 1, "same")
	}
	concat := func(name string, xs ...kerasTensor) kerasTensor {
		if name == "" {
			name = d.defaultName("concatenate")
		}
		out := kerasTensor{h: xs[0].h, w: xs[0].w}
		for _, x := range xs {
			out.c += x.c
		}
		return d.layer("Concatenate", name, map[string]any{"axis": -1}, out, xs...)
	}
	maxPool := func(x kerasTensor) kerasTensor {
		return d.pool("MaxPooling2D", d.defaultName("max_pooling2d"), x, 3, 2, "valid")
	}
	avgPool := func(x kerasTensor) kerasTensor {
		return d.pool("AveragePooling2D", d.defaultName("average_pooling2d"), x, 3, 1, "same")
	}

	x := d.input(size, 3)
	x = conv(x, 32, 3, 3, 2, "valid")
	x = same(conv(x, 32, 3, 3, 1, "valid"), 64, 3, 3)
	x = maxPool(x)
	x = maxPool(conv(conv(x, 80, 1, 1, 1, "valid"), 192, 3, 3, 1, "valid"))
	for i, pool := range []int{32, 64, 64} { // mixed 0 to 2
		x = concat(fmt.Sprintf("mixed%d", i), same(x, 64, 1, 1), same(same(x, 48, 1, 1), 64, 5, 5),
			same(same(same(x, 64, 1, 1), 96, 3, 3), 96, 3, 3), same(avgPool(x), pool, 1, 1))
	}
	x = concat("mixed3", conv(x, 384, 3, 3, 2, "valid"), conv(same(same(x, 64, 1, 1), 96, 3, 3), 96, 3, 3, 2, "valid"), maxPool(x))
	for i, c := range []int{128, 160, 160, 192} { // mixed 4 to 7
		b7 := same(same(same(x, c, 1, 1), c, 1, 7), 192, 7, 1)
		b7dbl := same(same(same(same(same(x, c, 1, 1), c, 7, 1), c, 1, 7), c, 7, 1), 192, 1, 7)
		x = concat(fmt.Sprintf("mixed%d", i+4), same(x, 192, 1, 1), b7, b7dbl, same(avgPool(x), 192, 1, 1))
	}
	b3 := conv(same(x, 192, 1, 1), 320, 3, 3, 2, "valid")
	b7 := conv(same(same(same(x, 192, 1, 1), 192, 1, 7), 192, 7, 1), 192, 3, 3, 2, "valid")
	x = concat("mixed8", b3, b7, maxPool(x))
	for i := range 2 { // mixed 9 and 10
		b1 := same(x, 320, 1, 1)
		b3 := same(x, 384, 1, 1)
		b3 = concat(fmt.Sprintf("mixed9_%d", i), same(b3, 384, 1, 3), same(b3, 384, 3, 1))
		dbl := same(same(x, 448, 1, 1), 384, 3, 3)
		dbl = concat("", same(dbl, 384, 1, 3), same(dbl, 384, 3, 1))
		x = concat(fmt.Sprintf("mixed%d", 9+i), b1, b3, dbl, same(avgPool(x), 192, 1, 1))
	}
	x = d.classifier(x, classes, init)
	return d.json("inception_v3", x)
}

// TestKerasInceptionV3 reads Keras's InceptionV3 (weights=None) as Keras 3
// writes it, its 1×7 and 7×1 convolutions and its batch normalizations
// without scale (gamma fixed at 1): 23,851,784 parameters, 23,817,352
// trainable (Keras's summary's counts); a small one (75×75, the least it
// takes) takes a training step.
func TestKerasInceptionV3(t *testing.T) {
	bigApp(t)
	m := parseBuilt(t, inceptionV3(299, 1000))
	counts(t, m, 23817352, 23851784)
	if got := m.Layer("mixed10").OutputShape(); got[0] != 8 || got[2] != 2048 {
		t.Errorf("mixed10's output %v, want [8 8 2048]", got)
	}
	if bn := m.Layer("batch_normalization").(*nn.BatchNormalization); !bn.NoScale || bn.NoCenter || len(bn.Params()) != 3 {
		t.Errorf("batch_normalization: NoScale %v, NoCenter %v, %d parameters; want true, false, 3", bn.NoScale, bn.NoCenter, len(bn.Params()))
	}
	readsBack(t, m)
	trainsOneStep(t, parseBuilt(t, inceptionV3(75, 5)))
}
