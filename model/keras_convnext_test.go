package model

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// seqEntry is a layer's entry inside a Sequential, as Keras 3 writes it.
func seqEntry(class string, cfg map[string]any) map[string]any {
	return map[string]any{"module": "keras.layers", "class_name": class, "config": trainable(cfg), "registered_name": nil}
}

// sequential adds a Sequential model of the layers, called on x as a
// layer (Keras 3 writes its InputLayer first); its output has out's shape.
func (d *appDoc) sequential(name string, x, out kerasTensor, layers ...map[string]any) kerasTensor {
	shape := []any{nil, x.h, x.w, x.c}
	in := map[string]any{"module": "keras.layers", "class_name": "InputLayer", "registered_name": nil,
		"config": map[string]any{"batch_shape": shape, "dtype": "float32", "sparse": false, "name": name + "_input"}}
	d.layers = append(d.layers, map[string]any{"module": "keras", "class_name": "Sequential", "registered_name": nil,
		"build_config": map[string]any{"input_shape": shape}, "name": name,
		"config":        map[string]any{"name": name, "trainable": true, "dtype": nil, "layers": append([]any{in}, anys(layers)...), "build_input_shape": shape},
		"inbound_nodes": []any{map[string]any{"args": []any{tensorArg(x)}, "kwargs": map[string]any{}}}})
	out.name = name
	return out
}

func anys(ms []map[string]any) []any {
	out := make([]any, len(ms))
	for i, m := range ms {
		out[i] = m
	}
	return out
}

// add adds the Add operation Keras 3 writes for x + y: an operation of
// keras.src.ops.numpy called on two tensors.
func (d *appDoc) add(x, y kerasTensor) kerasTensor {
	name := d.defaultName("add")
	d.layers = append(d.layers, map[string]any{"module": "keras.src.ops.numpy", "class_name": "Add", "registered_name": "Add",
		"config": map[string]any{"name": name}, "name": name,
		"inbound_nodes": []any{map[string]any{"args": []any{tensorArg(x), tensorArg(y)}, "kwargs": map[string]any{}}}})
	x.name = name
	return x
}

func layerNormConfig(name string) map[string]any {
	return map[string]any{"name": name, "axis": -1, "epsilon": 1e-6, "center": true, "scale": true, "rms_scaling": false,
		"beta_initializer": kerasInitializer("Zeros", map[string]any{}), "gamma_initializer": kerasInitializer("Ones", map[string]any{}),
		"beta_regularizer": nil, "gamma_regularizer": nil, "beta_constraint": nil, "gamma_constraint": nil}
}

func convConfig(name string, filters, k, stride, groups int, padding string) map[string]any {
	return weighted(map[string]any{"name": name, "filters": filters, "kernel_size": []int{k, k}, "strides": []int{stride, stride},
		"padding": padding, "data_format": "channels_last", "dilation_rate": []int{1, 1}, "groups": groups, "activation": "linear",
		"use_bias": true, "kernel_initializer": kerasInitializer("GlorotUniform", map[string]any{"seed": nil}), "kernel_regularizer": nil, "kernel_constraint": nil})
}

func denseConfig(units int, activation string) map[string]any {
	return weighted(map[string]any{"units": units, "activation": activation, "use_bias": true,
		"kernel_initializer": kerasInitializer("GlorotUniform", map[string]any{"seed": nil}), "kernel_regularizer": nil, "kernel_constraint": nil})
}

// convnextDoc is the document of keras.applications' ConvNeXt (Keras 3's
// convnext.py) for size×size images of c channels, with the stages'
// depths and widths: the ImageNet normalization for three channels
// (PreStem), a Sequential stem and downsampling blocks, ConvNeXt blocks
// (a 7×7 convolution of one group per channel, LayerNormalization, Dense
// layers on the pixels, GELU, LayerScale, StochasticDepth or an identity,
// and x + y), and the head.
func convnextDoc(name string, size, c, classes int, depths, dims []int, dropPath float64) []byte {
	var d appDoc
	x := d.input(size, c)
	if c == 3 {
		x = d.layer("Normalization", name+"_prestem_normalization", map[string]any{"axis": -1, "invert": false,
			"mean":     []float64{0.485 * 255, 0.456 * 255, 0.406 * 255},
			"variance": []float64{math.Pow(0.229*255, 2), math.Pow(0.224*255, 2), math.Pow(0.225*255, 2)}}, x, x)
	}
	total, cur := 0, 0
	for _, n := range depths {
		total += n
	}
	for i, n := range depths {
		if i == 0 {
			out := kerasTensor{h: x.h / 4, w: x.w / 4, c: dims[0]}
			x = d.sequential(name+"_stem", x, out, seqEntry("Conv2D", convConfig(name+"_stem_conv", dims[0], 4, 4, 1, "valid")),
				seqEntry("LayerNormalization", layerNormConfig(name+"_stem_layernorm")))
		} else {
			out := kerasTensor{h: x.h / 2, w: x.w / 2, c: dims[i]}
			x = d.sequential(fmt.Sprintf("%s_downsampling_block_%d", name, i-1), x, out,
				seqEntry("LayerNormalization", layerNormConfig(fmt.Sprintf("%s_downsampling_layernorm_%d", name, i-1))),
				seqEntry("Conv2D", convConfig(fmt.Sprintf("%s_downsampling_conv_%d", name, i-1), dims[i], 2, 2, 1, "valid")))
		}
		for j := range n {
			rate := 0.0
			if total > 1 {
				rate = dropPath * float64(cur+j) / float64(total-1) // np.linspace(0, drop_path_rate, total)
			}
			block := fmt.Sprintf("%s_stage_%d_block_%d", name, i, j)
			in := x
			y := d.layer("Conv2D", block+"_depthwise_conv", convConfig(block+"_depthwise_conv", dims[i], 7, 1, dims[i], "same"), x, x)
			y = d.layer("LayerNormalization", block+"_layernorm", layerNormConfig(block+"_layernorm"), y, y)
			wide := y
			wide.c = 4 * dims[i]
			y = d.layer("Dense", block+"_pointwise_conv_1", denseConfig(4*dims[i], "linear"), wide, y)
			y = d.activation(block+"_gelu", "gelu", y)
			y = d.layer("Dense", block+"_pointwise_conv_2", denseConfig(dims[i], "linear"), x, y)
			y = d.layer("LayerScale", block+"_layer_scale", map[string]any{"init_values": 1e-6, "projection_dim": dims[i]}, y, y)
			if rate > 0 {
				y = d.layer("StochasticDepth", block+"_stochastic_depth", map[string]any{"drop_path_rate": rate}, y, y)
			} else {
				y = d.activation(block+"_identity", "linear", y)
			}
			x = d.add(in, y)
		}
		cur += n
	}
	flat := kerasTensor{c: x.c}
	x = d.layer("GlobalAveragePooling2D", name+"_head_gap", map[string]any{"data_format": "channels_last", "keepdims": false}, flat, x)
	x = d.layer("LayerNormalization", name+"_head_layernorm", layerNormConfig(name+"_head_layernorm"), x, x)
	x = d.layer("Dense", name+"_head_dense", denseConfig(classes, "softmax"), kerasTensor{c: classes}, x)
	return d.json(name, x)
}

// Keras's ConvNeXtTiny and ConvNeXtSmall (weights=None) read with the
// parameter counts of their summaries, which are torchvision's
// convnext_tiny's and convnext_small's (28,589,128 and 50,223,688, counted
// with torchvision 0.14 here: the networks are the same layer for layer).
func TestKerasConvNeXt(t *testing.T) {
	bigApp(t)
	for _, c := range []struct {
		name   string
		depths []int
		want   int
	}{
		{"convnext_tiny", []int{3, 3, 9, 3}, 28_589_128},
		{"convnext_small", []int{3, 3, 27, 3}, 50_223_688},
	} {
		m, err := ParseArchitecture(convnextDoc(c.name, 224, 3, 1000, c.depths, []int{96, 192, 384, 768}, 0))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := m.Build(nil, 1); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if tr, fixed := m.ParamCount(); tr != c.want || fixed != 0 {
			t.Errorf("%s: %d trainable and %d non-trainable parameters, want %d and 0", c.name, tr, fixed, c.want)
		}
	}
}

// testdata/keras/convnext_letters.json, the network bench/convnext.sh
// times, is the document convnextDoc writes for 32×32 letters, with the
// parameters of torchvision's ConvNeXt of the same stages (1,906,556,
// which bench/pytorch/convnext_step.py prints).
func TestKerasConvNeXtLetters(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "keras", "convnext_letters.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file, doc any
	json.Unmarshal(b, &file)
	json.Unmarshal(convnextDoc("convnext_letters", 32, 1, 28, []int{2, 2, 4, 2}, []int{32, 64, 128, 256}, 0.1), &doc)
	if !reflect.DeepEqual(file, doc) {
		t.Errorf("testdata/keras/convnext_letters.json is not convnextDoc's document")
	}
	if tr, fixed := readKeras(t, "convnext_letters.json").ParamCount(); tr != 1_906_556 || fixed != 0 {
		t.Errorf("%d trainable and %d non-trainable parameters, want 1906556 and 0", tr, fixed)
	}
}

// A small ConvNeXt with stochastic depth on 32×32 letters: it trains a
// step, its layer scales start at 1e-6 (each block starts as the identity
// of its input, up to 1e-6 of the branch), and it writes back a document
// that reads to the same network.
func TestKerasConvNeXtSmallTrains(t *testing.T) {
	doc := convnextDoc("convnext_letters", 32, 1, 28, []int{1, 1, 2, 1}, []int{8, 16, 24, 32}, 0.1)
	m, err := ParseArchitecture(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 7); err != nil {
		t.Fatal(err)
	}
	drops, scales := 0, 0
	for _, l := range m.Layers {
		switch l := l.(type) {
		case *nn.Dropout:
			drops++
			if len(l.NoiseShape) != 4 || l.NoiseShape[1] != 1 {
				t.Errorf("%s: noise shape %v, want whole samples", l.Name(), l.NoiseShape)
			}
		case *nn.LayerScale:
			scales++
			if g := l.Params()[0].Value.Data[0]; g != float32(1e-6) {
				t.Errorf("%s: gamma starts at %g, want 1e-6", l.Name(), g)
			}
		}
	}
	// np.linspace(0, 0.1, 5): the first block's rate is 0, an identity.
	if drops != 4 || scales != 5 {
		t.Errorf("%d StochasticDepth dropouts and %d LayerScales, want 4 and 5", drops, scales)
	}
	if err := m.Compile(&optim.Adam{LearningRate: 1e-3}, nn.CrossEntropy{Sparse: true}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := tensor.New(8, 32, 32, 1), tensor.New(8)
	for i := range x.Data {
		x.Data[i] = float32(rng.Float64())
	}
	for i := range y.Data {
		y.Data[i] = float32(i % 28)
	}
	first, _ := m.TrainStep(x, y)
	var last float64
	for range 20 {
		last, _ = m.TrainStep(x, y)
	}
	if !(last < first) {
		t.Errorf("loss %g after 20 steps on one batch, from %g: want lower", last, first)
	}
	a, err := m.Architecture()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseArchitecture(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Build(nil, 7); err != nil {
		t.Fatal(err)
	}
	if got, want := len(back.Layers), len(m.Layers); got != want {
		t.Errorf("written back: %d layers, want %d", got, want)
	}
	if got, _ := back.ParamCount(); got != mustCount(m) {
		t.Errorf("written back: %d parameters, want %d", got, mustCount(m))
	}
}

func mustCount(m *Model) int {
	n, _ := m.ParamCount()
	return n
}
