package model

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
)

// inceptionResNetV2 writes the document Keras 3's model.to_json() gives for
// keras.applications.InceptionResNetV2(weights=None) on size×size RGB
// images with classes outputs, following
// keras/src/applications/inception_resnet_v2.py: every convolution a
// conv2d_bn (no bias, a batch normalization without scale, a relu; layers
// named by default unless given a name), the stem and mixed_5b, ten
// block35, mixed_6a, twenty block17, mixed_7a and ten block8 blocks, each
// a Concatenate of its branches, a 1×1 convolution with a bias and no
// normalization back to the block's channels, a CustomScaleLayer adding it
// scaled (0.17, 0.1, 0.2, 1 for the last) to the block's input and a relu
// (none after the last), then conv_7b and the classifier.
func inceptionResNetV2(size, classes int) []byte {
	var d appDoc
	init := kerasInitializer("GlorotUniform", map[string]any{"seed": nil})
	convBias := func(name string, x kerasTensor, filters, rows, cols, stride int, padding string, bias bool) kerasTensor {
		if name == "" {
			name = d.defaultName("conv2d")
		}
		out := kerasTensor{h: outSize(x.h, rows, stride, padding), w: outSize(x.w, cols, stride, padding), c: filters}
		return d.layer("Conv2D", name, weighted(map[string]any{"filters": filters, "kernel_size": []int{rows, cols}, "strides": []int{stride, stride},
			"padding": padding, "data_format": "channels_last", "dilation_rate": []int{1, 1}, "groups": 1, "activation": "linear",
			"use_bias": bias, "kernel_initializer": init, "kernel_regularizer": nil, "kernel_constraint": nil}), out, x)
	}
	conv := func(name string, x kerasTensor, filters, rows, cols, stride int, padding string) kerasTensor {
		x = convBias(name, x, filters, rows, cols, stride, padding, false)
		bn, ac := d.defaultName("batch_normalization"), d.defaultName("activation")
		if name != "" {
			bn, ac = name+"_bn", name+"_ac"
		}
		x = d.bn(bn, x, 0.99)
		d.setLast("scale", false)
		return d.activation(ac, "relu", x)
	}
	same := func(x kerasTensor, filters, rows, cols int) kerasTensor {
		return conv("", x, filters, rows, cols, 1, "same")
	}
	valid := func(x kerasTensor, filters, k, stride int) kerasTensor {
		return conv("", x, filters, k, k, stride, "valid")
	}
	concat := func(name string, xs ...kerasTensor) kerasTensor {
		out := kerasTensor{h: xs[0].h, w: xs[0].w}
		for _, x := range xs {
			out.c += x.c
		}
		return d.layer("Concatenate", name, map[string]any{"axis": 3}, out, xs...)
	}
	maxPool := func(x kerasTensor) kerasTensor {
		return d.pool("MaxPooling2D", d.defaultName("max_pooling2d"), x, 3, 2, "valid")
	}
	block := func(x kerasTensor, typ string, idx int, scale float64, relu bool) kerasTensor {
		var branches []kerasTensor
		switch typ {
		case "block35":
			branches = []kerasTensor{same(x, 32, 1, 1), same(same(x, 32, 1, 1), 32, 3, 3), same(same(same(x, 32, 1, 1), 48, 3, 3), 64, 3, 3)}
		case "block17":
			branches = []kerasTensor{same(x, 192, 1, 1), same(same(same(x, 128, 1, 1), 160, 1, 7), 192, 7, 1)}
		case "block8":
			branches = []kerasTensor{same(x, 192, 1, 1), same(same(same(x, 192, 1, 1), 224, 1, 3), 256, 3, 1)}
		}
		name := fmt.Sprintf("%s_%d", typ, idx)
		up := convBias(name+"_conv", concat(name+"_mixed", branches...), x.c, 1, 1, 1, "same", true)
		x = d.layer("CustomScaleLayer", "", map[string]any{"scale": scale}, x, x, up)
		last := d.layers[len(d.layers)-1].(map[string]any)
		last["module"], last["registered_name"] = "keras.src.applications.inception_resnet_v2", "CustomScaleLayer"
		if relu {
			x = d.activation(name+"_ac", "relu", x)
		}
		return x
	}

	x := d.input(size, 3)
	x = valid(valid(x, 32, 3, 2), 32, 3, 1)
	x = maxPool(same(x, 64, 3, 3))
	x = maxPool(valid(valid(x, 80, 1, 1), 192, 3, 1))
	pool := d.pool("AveragePooling2D", d.defaultName("average_pooling2d"), x, 3, 1, "same")
	x = concat("mixed_5b", same(x, 96, 1, 1), same(same(x, 48, 1, 1), 64, 5, 5),
		same(same(same(x, 64, 1, 1), 96, 3, 3), 96, 3, 3), same(pool, 64, 1, 1))
	for i := 1; i <= 10; i++ {
		x = block(x, "block35", i, 0.17, true)
	}
	x = concat("mixed_6a", valid(x, 384, 3, 2), valid(same(same(x, 256, 1, 1), 256, 3, 3), 384, 3, 2), maxPool(x))
	for i := 1; i <= 20; i++ {
		x = block(x, "block17", i, 0.1, true)
	}
	x = concat("mixed_7a", valid(same(x, 256, 1, 1), 384, 3, 2), valid(same(x, 256, 1, 1), 288, 3, 2),
		valid(same(same(x, 256, 1, 1), 288, 3, 3), 320, 3, 2), maxPool(x))
	for i := 1; i <= 9; i++ {
		x = block(x, "block8", i, 0.2, true)
	}
	x = block(x, "block8", 10, 1, false)
	x = conv("conv_7b", x, 1536, 1, 1, 1, "same")
	x = d.classifier(x, classes, init)
	return d.json("inception_resnet_v2", x)
}

// TestKerasInceptionResNetV2 reads Keras's InceptionResNetV2 (weights=None)
// as Keras 3 writes it, its 40 residual blocks each joined by a
// CustomScaleLayer (a ScaledAdd): 55,873,736 parameters, 55,813,192
// trainable (Keras's summary's counts; 60,544 moving statistics of the
// batch normalizations). Written back, each is a CustomScaleLayer with its
// scale, as Keras reads it; a small one (75×75, the least it takes) takes
// a training step.
func TestKerasInceptionResNetV2(t *testing.T) {
	bigApp(t)
	m := parseBuilt(t, inceptionResNetV2(299, 1000))
	counts(t, m, 55813192, 55873736)
	scales := map[float64]int{}
	for _, l := range m.Layers {
		if s, ok := l.(*nn.ScaledAdd); ok {
			scales[s.Scale]++
		}
	}
	if scales[0.17] != 10 || scales[0.1] != 20 || scales[0.2] != 9 || scales[1] != 1 || len(scales) != 4 {
		t.Errorf("ScaledAdd layers by scale %v, want 10 of 0.17, 20 of 0.1, 9 of 0.2 and 1 of 1", scales)
	}
	if got := m.Layer("conv_7b_ac").OutputShape(); got[0] != 8 || got[2] != 1536 {
		t.Errorf("conv_7b_ac's output %v, want [8 8 1536]", got)
	}
	back := readsBack(t, m)
	if s, ok := back.Layer("custom_scale_layer_39").(*nn.ScaledAdd); !ok || s.Scale != 1 {
		t.Errorf("read back, custom_scale_layer_39 is %#v, want a ScaledAdd of scale 1", back.Layer("custom_scale_layer_39"))
	}
	doc, _ := m.Architecture()
	var arch struct {
		Config struct {
			Layers []kerasLayerJSON `json:"layers"`
		} `json:"config"`
	}
	if err := json.Unmarshal(doc, &arch); err != nil {
		t.Fatal(err)
	}
	written := 0
	for _, l := range arch.Config.Layers {
		if l.Config["name"] != "custom_scale_layer" {
			continue
		}
		written++
		node := l.InboundNodes[0]
		if l.ClassName != "CustomScaleLayer" || l.Config["scale"] != 0.17 || len(node) != 2 || node[0][0] != "mixed_5b" || node[1][0] != "block35_1_conv" {
			t.Errorf("custom_scale_layer written as %s %v from %v, want a CustomScaleLayer of scale 0.17 on mixed_5b and block35_1_conv", l.ClassName, l.Config, node)
		}
	}
	if written != 1 {
		t.Errorf("%d layers named custom_scale_layer written, want 1", written)
	}
	trainsOneStep(t, parseBuilt(t, inceptionResNetV2(75, 5)))
}

// TestKerasCustomScaleLayerRefused checks that a CustomScaleLayer on other
// than two inputs, or without a numeric scale, is refused naming the layer
// and what it holds.
func TestKerasCustomScaleLayerRefused(t *testing.T) {
	doc := func(scale any, inputs int) []byte {
		var d appDoc
		x := d.input(4, 2)
		ins := []kerasTensor{x, d.activation("a", "relu", x), d.activation("b", "tanh", x)}[:inputs]
		cfg := map[string]any{"scale": scale}
		if scale == "absent" {
			cfg = map[string]any{}
		}
		return d.json("m", d.layer("CustomScaleLayer", "block35_1", cfg, x, ins...))
	}
	for _, tt := range []struct {
		doc  []byte
		want string
	}{
		{doc(0.17, 3), "block35_1 (ScaledAdd): ScaledAdd takes exactly 2 inputs (the shortcut and the branch), got 3"},
		{doc(0.17, 1), "block35_1"},
		{doc("absent", 2), `block35_1 (CustomScaleLayer): nn: CustomScaleLayer config: field "scale": want a number (the scale of the second input), got null`},
		{doc("0.17", 2), `block35_1 (CustomScaleLayer): nn: CustomScaleLayer config: field "scale": want a number, got "0.17"`},
		{doc(nil, 2), `field "scale": want a number (the scale of the second input), got null`},
	} {
		m, err := ParseArchitecture(tt.doc)
		if err == nil {
			err = m.Build(nil, 1)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error = %v, want it to contain %q", err, tt.want)
		}
	}
}
