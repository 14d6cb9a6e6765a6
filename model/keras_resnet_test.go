package model

import (
	"fmt"
	"testing"
)

// resNet50 writes the document Keras 3's model.to_json() gives for
// keras.applications.ResNet50(weights=None) on size×size RGB images with
// classes outputs, following keras/src/applications/resnet.py: a
// ZeroPadding2D of 3 and a 7×7 convolution of stride 2, a ZeroPadding2D of
// 1 and a 3×3 max pool, four stacks of bottleneck blocks (1×1, 3×3 "same",
// 1×1 convolutions with biases, batch normalizations of epsilon 1.001e-5;
// the first block of each stack strided, its shortcut a 1×1 convolution),
// and global average pooling and a Dense on top.
func resNet50(size, classes int) []byte {
	var d appDoc
	init := kerasInitializer("GlorotUniform", map[string]any{"seed": nil})
	conv := func(name string, x kerasTensor, filters, k, stride int, padding string) kerasTensor {
		return d.bnEpsilon(name[:len(name)-4]+"bn", d.convWith(name, x, filters, k, stride, padding, init, "linear", true), 1.001e-5)
	}
	x := d.input(size, 3)
	x = d.activation("conv1_relu", "relu", conv("conv1_conv", d.pad("conv1_pad", x, 3), 64, 7, 2, "valid"))
	x = d.pool("MaxPooling2D", "pool1_pool", d.pad("pool1_pad", x, 1), 3, 2, "valid")
	for s, stack := range []struct{ filters, blocks, stride int }{{64, 3, 1}, {128, 4, 2}, {256, 6, 2}, {512, 3, 2}} {
		for b := 1; b <= stack.blocks; b++ {
			name, stride, shortcut := fmt.Sprintf("conv%d_block%d", s+2, b), 1, x
			if b == 1 {
				stride = stack.stride
				shortcut = conv(name+"_0_conv", x, 4*stack.filters, 1, stride, "valid")
			}
			x = d.activation(name+"_1_relu", "relu", conv(name+"_1_conv", x, stack.filters, 1, stride, "valid"))
			x = d.activation(name+"_2_relu", "relu", conv(name+"_2_conv", x, stack.filters, 3, 1, "same"))
			x = conv(name+"_3_conv", x, 4*stack.filters, 1, 1, "valid")
			x = d.activation(name+"_out", "relu", d.layer("Add", name+"_add", map[string]any{}, x, shortcut, x))
		}
	}
	x = d.classifier(x, classes, init)
	return d.json("resnet50", x)
}

// TestKerasResNet50 reads Keras's ResNet50 (weights=None) as Keras 3
// writes it: 25,636,712 parameters, 25,583,592 trainable (Keras's
// summary's counts); a small one takes a training step.
func TestKerasResNet50(t *testing.T) {
	bigApp(t)
	m := parseBuilt(t, resNet50(224, 1000))
	counts(t, m, 25583592, 25636712)
	if got := m.Layer("conv5_block3_out").OutputShape(); got[0] != 7 || got[2] != 2048 {
		t.Errorf("conv5_block3_out's output %v, want [7 7 2048]", got)
	}
	trainsOneStep(t, parseBuilt(t, resNet50(32, 5)))
}
