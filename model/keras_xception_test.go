package model

import (
	"fmt"
	"testing"

	"github.com/convnet-go/convnet/nn"
)

// xception writes the document Keras 3's model.to_json() gives for
// keras.applications.Xception(weights=None) on size×size RGB images with
// classes outputs, following keras/src/applications/xception.py: two
// "valid" convolutions, then blocks of SeparableConv2D, each with a
// batch normalization, joined to 1×1 strided convolutions by layers.add
// after a "same" max pool (entry and exit flows) or to their input (the
// eight middle blocks), and global average pooling and a Dense on top.
func xception(size, classes int) []byte {
	var d appDoc
	init := kerasInitializer("GlorotUniform", map[string]any{"seed": nil})
	bn := func(name string, x kerasTensor) kerasTensor {
		if name == "" {
			name = d.defaultName("batch_normalization")
		}
		return d.bn(name, x, 0.99)
	}
	relu := func(name string, x kerasTensor) kerasTensor { return d.activation(name, "relu", x) }
	sep := func(name string, x kerasTensor, filters int) kerasTensor {
		return d.layer("SeparableConv2D", name, weighted(map[string]any{"depth_multiplier": 1, "filters": filters, "kernel_size": []int{3, 3},
			"strides": []int{1, 1}, "padding": "same", "data_format": "channels_last", "dilation_rate": []int{1, 1}, "activation": "linear",
			"use_bias": false, "depthwise_initializer": init, "pointwise_initializer": init, "depthwise_regularizer": nil,
			"pointwise_regularizer": nil, "depthwise_constraint": nil, "pointwise_constraint": nil}), kerasTensor{h: x.h, w: x.w, c: filters}, x)
	}
	shortcut := func(x kerasTensor, filters int) kerasTensor {
		return bn("", d.conv(d.defaultName("conv2d"), x, filters, 1, 2, "same", init))
	}
	pooled := func(name string, x, residual kerasTensor) kerasTensor {
		x = d.pool("MaxPooling2D", name, x, 3, 2, "same")
		return d.layer("Add", d.defaultName("add"), map[string]any{}, x, x, residual)
	}

	x := d.input(size, 3)
	x = relu("block1_conv1_act", bn("block1_conv1_bn", d.conv("block1_conv1", x, 32, 3, 2, "valid", init)))
	x = relu("block1_conv2_act", bn("block1_conv2_bn", d.conv("block1_conv2", x, 64, 3, 1, "valid", init)))
	for i, filters := range []int{128, 256, 728} {
		block := fmt.Sprintf("block%d", i+2)
		residual := shortcut(x, filters)
		if i > 0 {
			x = relu(block+"_sepconv1_act", x)
		}
		x = bn(block+"_sepconv1_bn", sep(block+"_sepconv1", x, filters))
		x = bn(block+"_sepconv2_bn", sep(block+"_sepconv2", relu(block+"_sepconv2_act", x), filters))
		x = pooled(block+"_pool", x, residual)
	}
	for i := range 8 {
		residual, block := x, fmt.Sprintf("block%d", i+5)
		for j := 1; j <= 3; j++ {
			conv := fmt.Sprintf("%s_sepconv%d", block, j)
			x = bn(conv+"_bn", sep(conv, relu(conv+"_act", x), 728))
		}
		x = d.layer("Add", d.defaultName("add"), map[string]any{}, x, x, residual)
	}
	residual := shortcut(x, 1024)
	x = bn("block13_sepconv1_bn", sep("block13_sepconv1", relu("block13_sepconv1_act", x), 728))
	x = bn("block13_sepconv2_bn", sep("block13_sepconv2", relu("block13_sepconv2_act", x), 1024))
	x = pooled("block13_pool", x, residual)
	x = relu("block14_sepconv1_act", bn("block14_sepconv1_bn", sep("block14_sepconv1", x, 1536)))
	x = relu("block14_sepconv2_act", bn("block14_sepconv2_bn", sep("block14_sepconv2", x, 2048)))
	x = d.classifier(x, classes, init)
	return d.json("xception", x)
}

// TestKerasXception reads Keras's Xception (weights=None) as Keras 3
// writes it, its 34 SeparableConv2D layers each a DepthwiseConv2D and a
// 1x1 Conv2D: 22,910,480 parameters, 22,855,952 trainable (Keras's
// summary's counts); a small one takes a training step.
func TestKerasXception(t *testing.T) {
	bigApp(t)
	m := parseBuilt(t, xception(299, 1000))
	counts(t, m, 22855952, 22910480)
	depthwise := 0
	for _, l := range m.Layers {
		if _, ok := l.(*nn.DepthwiseConv2D); ok {
			depthwise++
		}
	}
	if depthwise != 34 {
		t.Errorf("%d DepthwiseConv2D layers, want Xception's 34 separable convolutions", depthwise)
	}
	trainsOneStep(t, parseBuilt(t, xception(32, 5)))
}
