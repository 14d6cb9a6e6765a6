package model

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/convnet-go/convnet/nn"
)

// kerasLayerJSON is a layer of a Keras document, as tests read one back.
type kerasLayerJSON struct {
	ClassName    string         `json:"class_name"`
	Config       map[string]any `json:"config"`
	InboundNodes [][][]any      `json:"inbound_nodes"`
}

// bigApp skips, under the race detector, a test that builds a whole
// keras.applications network: 5 to 30 s there, for code that runs on one
// goroutine; scripts/test's run of the package with -tags purego runs it.
func bigApp(t *testing.T) {
	if raceEnabled {
		t.Skip("a whole network built on one goroutine: run without -race")
	}
}

// appDoc writes a Functional model as Keras 3's model.to_json() does, a
// layer at a time, for the keras.applications networks the tests rebuild.
type appDoc struct {
	layers []any
	count  map[string]int // layers of each class named by default
}

// kerasTensor is a layer's output: its layer's name and its shape.
type kerasTensor struct {
	name    string
	h, w, c int
}

// input adds the InputLayer of size×size images of c channels.
func (d *appDoc) input(size, c int) kerasTensor {
	d.layers = append(d.layers, map[string]any{"module": "keras.layers", "class_name": "InputLayer", "config": map[string]any{
		"batch_shape": []any{nil, size, size, c}, "dtype": "float32", "sparse": false, "name": "input_layer"},
		"registered_name": nil, "name": "input_layer", "inbound_nodes": []any{}})
	return kerasTensor{"input_layer", size, size, c}
}

// layer adds a layer of the class, its config and its inputs (several as
// a merge takes them), named name or, for "", as Keras names it (add,
// add_1, ...). Its output has the shape of out.
func (d *appDoc) layer(class, name string, cfg map[string]any, out kerasTensor, inputs ...kerasTensor) kerasTensor {
	if name == "" {
		name = d.defaultName(nn.DefaultName(class))
	}
	cfg["name"] = name
	trainable(cfg)
	var args []any
	for _, in := range inputs {
		args = append(args, tensorArg(in))
	}
	if len(inputs) > 1 {
		args = []any{args}
	}
	d.layers = append(d.layers, map[string]any{"module": "keras.layers", "class_name": class, "config": cfg, "registered_name": nil,
		"name": name, "inbound_nodes": []any{map[string]any{"args": args, "kwargs": map[string]any{}}}})
	out.name = name
	return out
}

// defaultName returns the name Keras gives the next layer of base name
// base: base, then base_1, base_2, ...
func (d *appDoc) defaultName(base string) string {
	if d.count == nil {
		d.count = map[string]int{}
	}
	k := d.count[base]
	d.count[base]++
	if k == 0 {
		return base
	}
	return fmt.Sprintf("%s_%d", base, k)
}

// trainable adds the fields Keras 3 writes in every layer's config.
func trainable(cfg map[string]any) map[string]any {
	cfg["trainable"] = true
	cfg["dtype"] = map[string]any{"module": "keras", "class_name": "DTypePolicy", "config": map[string]any{"name": "float32"}, "registered_name": nil}
	return cfg
}

// tensorArg is a call argument of Keras 3's inbound nodes: the output of x.
func tensorArg(x kerasTensor) any {
	return map[string]any{"class_name": "__keras_tensor__", "config": map[string]any{"shape": nil, "dtype": "float32", "keras_history": []any{x.name, 0, 0}}}
}

// json returns the document of the model named name with output out.
func (d *appDoc) json(name string, out kerasTensor) []byte {
	doc, err := json.Marshal(map[string]any{"module": "keras", "class_name": "Functional", "registered_name": "Functional",
		"build_config": map[string]any{"input_shape": nil},
		"config": map[string]any{"name": name, "trainable": true, "layers": d.layers,
			"input_layers": []any{[]any{"input_layer", 0, 0}}, "output_layers": []any{[]any{out.name, 0, 0}}}})
	if err != nil {
		panic(err)
	}
	return doc
}

// kerasInitializer is an initializer object as Keras 3 writes it.
func kerasInitializer(class string, cfg map[string]any) any {
	return map[string]any{"module": "keras.initializers", "class_name": class, "config": cfg, "registered_name": nil}
}

// weighted adds the bias fields of a layer with weights to cfg.
func weighted(cfg map[string]any) map[string]any {
	for _, k := range []string{"bias_regularizer", "activity_regularizer", "bias_constraint"} {
		cfg[k] = nil
	}
	cfg["bias_initializer"] = kerasInitializer("Zeros", map[string]any{})
	return cfg
}

// conv adds a Conv2D of filters k×k kernels without bias or activation,
// strided, its padding "same" or "valid", and kernel initializer init.
func (d *appDoc) conv(name string, x kerasTensor, filters, k, stride int, padding string, init any) kerasTensor {
	return d.convWith(name, x, filters, k, stride, padding, init, "linear", false)
}

// convWith is conv with an activation and maybe a bias.
func (d *appDoc) convWith(name string, x kerasTensor, filters, k, stride int, padding string, init any, activation string, bias bool) kerasTensor {
	out := kerasTensor{h: outSize(x.h, k, stride, padding), w: outSize(x.w, k, stride, padding), c: filters}
	return d.layer("Conv2D", name, weighted(map[string]any{"filters": filters, "kernel_size": []int{k, k}, "strides": []int{stride, stride},
		"padding": padding, "data_format": "channels_last", "dilation_rate": []int{1, 1}, "groups": 1, "activation": activation,
		"use_bias": bias, "kernel_initializer": init, "kernel_regularizer": nil, "kernel_constraint": nil}), out, x)
}

// outSize is the size of a window's output along an axis.
func outSize(n, k, stride int, padding string) int {
	if padding == "same" {
		return (n + stride - 1) / stride
	}
	return (n-k)/stride + 1
}

// bn adds a BatchNormalization of the channels.
func (d *appDoc) bn(name string, x kerasTensor, momentum float64) kerasTensor {
	zeros, ones := kerasInitializer("Zeros", map[string]any{}), kerasInitializer("Ones", map[string]any{})
	return d.layer("BatchNormalization", name, map[string]any{"axis": -1, "momentum": momentum, "epsilon": 0.001, "center": true, "scale": true,
		"beta_initializer": zeros, "gamma_initializer": ones, "moving_mean_initializer": zeros, "moving_variance_initializer": ones,
		"beta_regularizer": nil, "gamma_regularizer": nil, "beta_constraint": nil, "gamma_constraint": nil, "synchronized": false}, x, x)
}

// bnEpsilon adds a BatchNormalization of momentum 0.99 and the given
// epsilon (keras.applications' ResNets and DenseNets: 1.001e-5).
func (d *appDoc) bnEpsilon(name string, x kerasTensor, epsilon float64) kerasTensor {
	x = d.bn(name, x, 0.99)
	d.setLast("epsilon", epsilon)
	return x
}

// setLast sets a field of the config of the layer added last.
func (d *appDoc) setLast(key string, v any) {
	d.layers[len(d.layers)-1].(map[string]any)["config"].(map[string]any)[key] = v
}

// activation adds an Activation layer.
func (d *appDoc) activation(name, fn string, x kerasTensor) kerasTensor {
	return d.layer("Activation", name, map[string]any{"activation": fn}, x, x)
}

// correctPad adds the ZeroPadding2D keras.applications puts before a
// strided "valid" window of size k (imagenet_utils.correct_pad).
func (d *appDoc) correctPad(name string, x kerasTensor, k int) kerasTensor {
	top, left := k/2-(1-x.h%2), k/2-(1-x.w%2)
	out := kerasTensor{h: x.h + top + k/2, w: x.w + left + k/2, c: x.c}
	return d.layer("ZeroPadding2D", name, map[string]any{"padding": [][]int{{top, k / 2}, {left, k / 2}}, "data_format": "channels_last"}, out, x)
}

// pad adds a ZeroPadding2D of p cells on every side.
func (d *appDoc) pad(name string, x kerasTensor, p int) kerasTensor {
	return d.layer("ZeroPadding2D", name, map[string]any{"padding": [][]int{{p, p}, {p, p}}, "data_format": "channels_last"},
		kerasTensor{h: x.h + 2*p, w: x.w + 2*p, c: x.c}, x)
}

// pool adds a MaxPooling2D or AveragePooling2D of k×k windows.
func (d *appDoc) pool(class, name string, x kerasTensor, k, stride int, padding string) kerasTensor {
	out := kerasTensor{h: outSize(x.h, k, stride, padding), w: outSize(x.w, k, stride, padding), c: x.c}
	return d.layer(class, name, map[string]any{"pool_size": []int{k, k}, "strides": []int{stride, stride}, "padding": padding, "data_format": "channels_last"}, out, x)
}

// classifier adds Keras's top of keras.applications' networks: global
// average pooling ("avg_pool") and a softmax Dense ("predictions").
func (d *appDoc) classifier(x kerasTensor, classes int, init any) kerasTensor {
	x = d.layer("GlobalAveragePooling2D", "avg_pool", map[string]any{"data_format": "channels_last", "keepdims": false}, kerasTensor{c: x.c}, x)
	return d.layer("Dense", "predictions", weighted(map[string]any{"units": classes, "activation": "softmax", "use_bias": true,
		"kernel_initializer": init, "kernel_regularizer": nil, "kernel_constraint": nil}), kerasTensor{c: classes}, x)
}

// counts fails t unless m has the trainable and total parameter counts
// (Keras's summary's).
func counts(t *testing.T, m *Model, trainable, total int) {
	t.Helper()
	if tr, non := m.ParamCount(); tr != trainable || tr+non != total {
		t.Errorf("%d trainable parameters, %d in all; want %d and %d", tr, tr+non, trainable, total)
	}
}
