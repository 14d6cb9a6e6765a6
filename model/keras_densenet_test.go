package model

import (
	"fmt"
	"testing"
)

// denseNet writes the document Keras 3's model.to_json() gives for
// keras.applications.DenseNet121(weights=None) (blocks 6, 12, 24, 16) on
// size×size RGB images with classes outputs, following
// keras/src/applications/densenet.py: the ResNet stem (its ZeroPadding2D
// layers named by default), dense blocks whose layers each add 32
// channels by a Concatenate (batch normalization, relu, 1×1 convolution of
// 128, batch normalization, relu, 3×3 "same" convolution of 32), transition
// blocks halving the channels (a 1×1 convolution) and the size (a 2×2
// average pool), a last batch normalization, and global average pooling
// and a Dense on top.
func denseNet(blocks []int, size, classes int) []byte {
	var d appDoc
	init := kerasInitializer("GlorotUniform", map[string]any{"seed": nil})
	bn := func(name string, x kerasTensor) kerasTensor { return d.bnEpsilon(name, x, 1.001e-5) }
	relu := func(name string, x kerasTensor) kerasTensor { return d.activation(name, "relu", x) }

	x := d.input(size, 3)
	x = d.conv("conv1_conv", d.pad(d.defaultName("zero_padding2d"), x, 3), 64, 7, 2, "valid", init)
	x = relu("conv1_relu", bn("conv1_bn", x))
	x = d.pool("MaxPooling2D", "pool1", d.pad(d.defaultName("zero_padding2d"), x, 1), 3, 2, "valid")
	for s, n := range blocks {
		for b := 1; b <= n; b++ {
			name := fmt.Sprintf("conv%d_block%d", s+2, b)
			y := relu(name+"_0_relu", bn(name+"_0_bn", x))
			y = relu(name+"_1_relu", bn(name+"_1_bn", d.conv(name+"_1_conv", y, 128, 1, 1, "valid", init)))
			y = d.conv(name+"_2_conv", y, 32, 3, 1, "same", init)
			x = d.layer("Concatenate", name+"_concat", map[string]any{"axis": -1}, kerasTensor{h: x.h, w: x.w, c: x.c + 32}, x, y)
		}
		if s < len(blocks)-1 {
			name := fmt.Sprintf("pool%d", s+2)
			x = d.conv(name+"_conv", relu(name+"_relu", bn(name+"_bn", x)), x.c/2, 1, 1, "valid", init)
			x = d.pool("AveragePooling2D", name+"_pool", x, 2, 2, "valid")
		}
	}
	x = relu("relu", bn("bn", x))
	x = d.classifier(x, classes, init)
	return d.json("densenet121", x)
}

// TestKerasDenseNet121 reads Keras's DenseNet121 (weights=None) as Keras 3
// writes it, its 58 Concatenate layers: 8,062,504 parameters, 7,978,856
// trainable (Keras's summary's counts); a small one takes a training step.
func TestKerasDenseNet121(t *testing.T) {
	blocks := []int{6, 12, 24, 16}
	m := parseBuilt(t, denseNet(blocks, 224, 1000))
	counts(t, m, 7978856, 8062504)
	if got := m.Layer("conv5_block16_concat").OutputShape(); got[0] != 7 || got[2] != 1024 {
		t.Errorf("conv5_block16_concat's output %v, want [7 7 1024]", got)
	}
	trainsOneStep(t, parseBuilt(t, denseNet(blocks, 32, 5)))
}
