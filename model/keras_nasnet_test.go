package model

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// nasNet writes the document Keras 3's model.to_json() gives for
// keras.applications.NASNetMobile(weights=None) on size×size RGB images
// with classes outputs, following keras/src/applications/nasnet.py
// (NASNet with penultimate_filters 1056, num_blocks 4, stem_block_filters
// 32, skip_reduction False): normal and reduction cells of separable
// convolutions, poolings, Adds and Concatenates, and the adjustment of the
// previous cell's output, which shifts a map by a pixel with a
// ZeroPadding2D and a Cropping2D.
func nasNet(size, classes int) []byte {
	var d appDoc
	he := "he_normal"
	const momentum = 0.9997
	relu := func(name string, x kerasTensor) kerasTensor { return d.activation(name, "relu", x) }
	add := func(name string, a, b kerasTensor) kerasTensor {
		return d.layer("Add", name, map[string]any{}, a, a, b)
	}
	concat := func(name string, xs ...kerasTensor) kerasTensor {
		out := xs[0]
		for _, x := range xs[1:] {
			out.c += x.c
		}
		return d.layer("Concatenate", name, map[string]any{"axis": -1}, out, xs...)
	}
	separable := func(name string, x kerasTensor, filters, k, stride int, padding string) kerasTensor {
		out := kerasTensor{h: outSize(x.h, k, stride, padding), w: outSize(x.w, k, stride, padding), c: filters}
		glorot := kerasInitializer("GlorotUniform", map[string]any{"seed": nil})
		return d.layer("SeparableConv2D", name, weighted(map[string]any{"filters": filters, "kernel_size": []int{k, k},
			"strides": []int{stride, stride}, "padding": padding, "data_format": "channels_last", "dilation_rate": []int{1, 1},
			"depth_multiplier": 1, "activation": "linear", "use_bias": false, "depthwise_initializer": glorot, "pointwise_initializer": glorot,
			"depthwise_regularizer": nil, "pointwise_regularizer": nil, "depthwise_constraint": nil, "pointwise_constraint": nil}), out, x)
	}
	sepBlock := func(x kerasTensor, filters, k, stride int, id string) kerasTensor {
		x = relu("", x)
		padding := "same"
		if stride == 2 {
			x, padding = d.correctPad("separable_conv_1_pad_"+id, x, k), "valid"
		}
		x = d.bn("separable_conv_1_bn_"+id, separable("separable_conv_1_"+id, x, filters, k, stride, padding), momentum)
		x = relu("", x)
		return d.bn("separable_conv_2_bn_"+id, separable("separable_conv_2_"+id, x, filters, k, 1, "same"), momentum)
	}
	adjust := func(p *kerasTensor, ip kerasTensor, filters int, id string) kerasTensor {
		switch {
		case p == nil:
			return ip
		case p.h != ip.h:
			q := relu("adjust_relu_1_"+id, *p)
			p1 := d.conv("adjust_conv_1_"+id, d.pool("AveragePooling2D", "adjust_avg_pool_1_"+id, q, 1, 2, "valid"), filters/2, 1, 1, "same", he)
			p2 := d.layer("ZeroPadding2D", "", map[string]any{"padding": [][]int{{0, 1}, {0, 1}}, "data_format": "channels_last"}, kerasTensor{h: q.h + 1, w: q.w + 1, c: q.c}, q)
			p2 = d.layer("Cropping2D", "", map[string]any{"cropping": [][]int{{1, 0}, {1, 0}}, "data_format": "channels_last"}, q, p2)
			p2 = d.conv("adjust_conv_2_"+id, d.pool("AveragePooling2D", "adjust_avg_pool_2_"+id, p2, 1, 2, "valid"), filters/2, 1, 1, "same", he)
			return d.bn("adjust_bn_"+id, concat("", p1, p2), momentum)
		case p.c != filters:
			q := d.conv("adjust_conv_projection_"+id, relu("", *p), filters, 1, 1, "same", he)
			return d.bn("adjust_bn_"+id, q, momentum)
		}
		return *p
	}
	normal := func(ip kerasTensor, prev *kerasTensor, filters int, id string) (kerasTensor, *kerasTensor) {
		p := adjust(prev, ip, filters, id)
		h := d.bn("normal_bn_1_"+id, d.conv("normal_conv_1_"+id, relu("", ip), filters, 1, 1, "same", he), momentum)
		x1 := add("normal_add_1_"+id, sepBlock(h, filters, 5, 1, "normal_left1_"+id), sepBlock(p, filters, 3, 1, "normal_right1_"+id))
		x2 := add("normal_add_2_"+id, sepBlock(p, filters, 5, 1, "normal_left2_"+id), sepBlock(p, filters, 3, 1, "normal_right2_"+id))
		x3 := add("normal_add_3_"+id, d.pool("AveragePooling2D", "normal_left3_"+id, h, 3, 1, "same"), p)
		x4 := add("normal_add_4_"+id, d.pool("AveragePooling2D", "normal_left4_"+id, p, 3, 1, "same"), d.pool("AveragePooling2D", "normal_right4_"+id, p, 3, 1, "same"))
		x5 := add("normal_add_5_"+id, sepBlock(h, filters, 3, 1, "normal_left5_"+id), h)
		return concat("normal_concat_"+id, p, x1, x2, x3, x4, x5), &ip
	}
	reduction := func(ip kerasTensor, prev *kerasTensor, filters int, id string) (kerasTensor, *kerasTensor) {
		p := adjust(prev, ip, filters, id)
		h := d.bn("reduction_bn_1_"+id, d.conv("reduction_conv_1_"+id, relu("", ip), filters, 1, 1, "same", he), momentum)
		h3 := d.correctPad("reduction_pad_1_"+id, h, 3)
		x1 := add("reduction_add_1_"+id, sepBlock(h, filters, 5, 2, "reduction_left1_"+id), sepBlock(p, filters, 7, 2, "reduction_right1_"+id))
		x2 := add("reduction_add_2_"+id, d.pool("MaxPooling2D", "reduction_left2_"+id, h3, 3, 2, "valid"), sepBlock(p, filters, 7, 2, "reduction_right2_"+id))
		x3 := add("reduction_add3_"+id, d.pool("AveragePooling2D", "reduction_left3_"+id, h3, 3, 2, "valid"), sepBlock(p, filters, 5, 2, "reduction_right3_"+id))
		x4 := add("", x2, d.pool("AveragePooling2D", "reduction_left4_"+id, x1, 3, 1, "same"))
		x5 := add("reduction_add4_"+id, sepBlock(x1, filters, 3, 1, "reduction_left4_"+id), d.pool("MaxPooling2D", "reduction_right5_"+id, h3, 3, 2, "valid"))
		return concat("reduction_concat_"+id, x2, x3, x4, x5), &ip
	}

	const filters, blocks, multiplier = 1056 / 24, 4, 2
	x := d.input(size, 3)
	x = d.bn("stem_bn1", d.conv("stem_conv1", x, 32, 3, 2, "valid", he), momentum)
	var p *kerasTensor
	x, p = reduction(x, p, filters/(multiplier*multiplier), "stem_1")
	x, p = reduction(x, p, filters/multiplier, "stem_2")
	for stage, f := range []int{filters, filters * multiplier, filters * multiplier * multiplier} {
		if stage > 0 {
			x, p = reduction(x, p, f, fmt.Sprintf("reduce_%d", stage*blocks))
		}
		for i := range blocks {
			x, p = normal(x, p, f, fmt.Sprint(stage*blocks+i+min(stage, 1)))
		}
	}
	x = d.layer("GlobalAveragePooling2D", "", map[string]any{"data_format": "channels_last", "keepdims": false}, x, relu("", x))
	x = d.layer("Dense", "predictions", weighted(map[string]any{"units": classes, "activation": "softmax", "use_bias": true,
		"kernel_initializer": kerasInitializer("GlorotUniform", map[string]any{"seed": nil}), "kernel_regularizer": nil, "kernel_constraint": nil}), x, x)
	return d.json("NASNet", x)
}

// TestKerasNASNetMobile reads Keras's NASNetMobile (weights=None) as
// Keras 3 writes it and counts the parameters Keras's summary counts:
// 5,326,716, of which 36,738 are the batch normalizations' moving
// statistics; its separable convolutions come in as a DepthwiseConv2D and
// a 1×1 Conv2D each, and its adjustments hold a Cropping2D. A small one
// gives the same probabilities after a round trip through the model file.
func TestKerasNASNetMobile(t *testing.T) {
	bigApp(t)
	m, err := ParseArchitecture(nasNet(224, 1000))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	trainable, non := m.ParamCount()
	if trainable+non != 5326716 || trainable != 5289978 || non != 36738 {
		t.Errorf("NASNetMobile: %d params, %d trainable, %d not; Keras counts 5,326,716, 5,289,978 and 36,738", trainable+non, trainable, non)
	}
	crops := 0
	for _, l := range m.Layers {
		if l.Type() == "Cropping2D" {
			crops++
		}
	}
	if crops != 4 {
		t.Errorf("%d Cropping2D layers, want 4 (the adjustments of the cells after a reduction)", crops)
	}

	small, err := ParseArchitecture(nasNet(32, 5))
	if err != nil {
		t.Fatal(err)
	}
	if err := small.Build(nil, 2); err != nil {
		t.Fatal(err)
	}
	x := tensor.New(2, 32, 32, 3)
	for i := range x.Data {
		x.Data[i] = float32(i%29)/14 - 1
	}
	want := tensor.New(2, 5)
	small.Predict(want, x)
	path := filepath.Join(t.TempDir(), "nasnet.safetensors")
	if err := Save(path, small, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	got := tensor.New(2, 5)
	back.Predict(got, x)
	if !slices.Equal(got.Data, want.Data) || math.Abs(float64(want.Data[0]+want.Data[1]+want.Data[2]+want.Data[3]+want.Data[4])-1) > 1e-5 {
		t.Errorf("probabilities %v after the model file, %v before", got.Data, want.Data)
	}
}
