package model

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// op adds a Keras 3 operation of x and the number c (c first if before),
// as Keras 3's Functional config writes x + 3.0 or 1.0 - x: no layer
// fields, the number among the call's arguments.
func (d *appDoc) op(class, name string, x kerasTensor, c float64, before bool) kerasTensor {
	args := []any{tensorArg(x), c}
	if before {
		args = []any{c, tensorArg(x)}
	}
	d.layers = append(d.layers, map[string]any{"module": "keras.src.ops.numpy", "class_name": class, "config": map[string]any{"name": name},
		"registered_name": class, "name": name, "inbound_nodes": []any{map[string]any{"args": args, "kwargs": map[string]any{}}}})
	x.name = name
	return x
}

// TestKerasScalarOperations reads Keras 3's operations of a tensor and a
// number as the Rescaling each computes: MobileNetV3's hard sigmoid,
// layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0), is relu6(x + 3) / 6, and a
// subtraction from a number and a division by one scale and shift too.
func TestKerasScalarOperations(t *testing.T) {
	doc := func(edit func(d *appDoc, x kerasTensor) kerasTensor) []byte {
		var d appDoc
		x := d.convWith("conv", d.input(6, 3), 4, 3, 1, "same", kerasInitializer("GlorotUniform", map[string]any{"seed": nil}), "linear", true)
		x = edit(&d, x)
		x = d.layer("GlobalAveragePooling2D", "gap", map[string]any{"data_format": "channels_last", "keepdims": false}, kerasTensor{c: 4}, x)
		x = d.layer("Dense", "out", weighted(map[string]any{"units": 3, "activation": "softmax", "use_bias": true,
			"kernel_initializer": kerasInitializer("GlorotUniform", map[string]any{"seed": nil}), "kernel_regularizer": nil,
			"kernel_constraint": nil}), kerasTensor{c: 3}, x)
		return d.json("scalars", x)
	}
	hardSigmoid := func(d *appDoc, x kerasTensor) kerasTensor {
		h := d.op("Add", "add", x, 3, false)
		h = d.layer("ReLU", "re_lu", map[string]any{"max_value": 6.0, "negative_slope": 0.0, "threshold": 0.0}, h, h)
		h = d.op("Multiply", "multiply", h, 1.0/6, false)
		h = d.op("Subtract", "subtract", h, 1, true) // 1 - h
		return d.op("TrueDivide", "true_divide", h, 4, false)
	}
	m := parseBuilt(t, doc(hardSigmoid))
	want := map[string][2]float64{"add": {1, 3}, "multiply": {1.0 / 6, 0}, "subtract": {-1, 1}, "true_divide": {0.25, 0}}
	var chain []nn.Layer
	for _, l := range m.Layers {
		if l.Name() == "re_lu" {
			chain = append(chain, l)
		}
		r, ok := l.(*nn.Rescaling)
		if !ok {
			continue
		}
		chain = append(chain, l)
		if w, ok := want[r.Name()]; !ok || r.Scale != w[0] || r.Offset != w[1] {
			t.Errorf("%s: Rescaling scale %v offset %v, want %v", r.Name(), r.Scale, r.Offset, w)
		}
		delete(want, r.Name())
	}
	if len(want) != 0 || len(chain) != 5 {
		t.Fatalf("operations not read as Rescaling layers: %v missing, %d layers", want, len(chain))
	}
	// The chain computes (1 - relu6(x + 3)/6) / 4.
	x := tensor.FromData([]float32{-4, -3, -1.5, 0, 1.5, 3, 4.5}, 1, 7)
	y := x
	for _, l := range chain {
		if _, err := l.Build([]int{7}, nil); err != nil {
			t.Fatal(err)
		}
		y = l.Forward(y, false)
	}
	for i, v := range x.Data {
		hs := math.Min(math.Max(float64(v)+3, 0), 6) / 6
		if w := (1 - hs) / 4; math.Abs(float64(y.Data[i])-w) > 1e-7 {
			t.Errorf("x = %v: %v, want %v", v, y.Data[i], w)
		}
	}
	readsBack(t, m) // as Rescaling layers
	for _, bad := range []struct {
		edit func(d *appDoc, x kerasTensor) kerasTensor
		want string
	}{
		{func(d *appDoc, x kerasTensor) kerasTensor { return d.op("TrueDivide", "inverse", x, 2, true) },
			"inverse (TrueDivide of a tensor and 2): a number divided by a tensor: convnet supports only a tensor divided by a number"},
		{func(d *appDoc, x kerasTensor) kerasTensor { return d.op("Multiply", "zero", x, 0, false) },
			"zero (Multiply of a tensor and 0): the scale 0 and offset 0 it makes must be finite, the scale not 0"},
		{func(d *appDoc, x kerasTensor) kerasTensor {
			x = d.op("Add", "shift", x, 1, false)
			d.setLast("axis", 1.0)
			return x
		}, "shift (Add of a tensor and 1): config field axis = 1: convnet knows only name, function, trainable and a float32 dtype"},
	} {
		if _, err := ParseArchitecture(doc(bad.edit)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("error %v, want one containing %q", err, bad.want)
		}
	}
}

// TestKerasTFOpLambda reads tf.keras 2's form of the same operations:
// TFOpLambda layers of TensorFlow functions, the number their argument y,
// as tf.keras's MobileNetV3 writes its hard sigmoid; other functions are
// refused naming the layer and those it reads.
func TestKerasTFOpLambda(t *testing.T) {
	op := func(name, fn, in string, y float64) string {
		return `{"class_name": "TFOpLambda", "config": {"name": "` + name + `", "trainable": true, "dtype": "float32", "function": "` + fn + `"},
		  "name": "` + name + `", "inbound_nodes": [[["` + in + `", 0, 0, {"y": ` + strconv.FormatFloat(y, 'g', -1, 64) + `, "name": null}]]]}`
	}
	doc := func(fn string) []byte {
		return []byte(`{"class_name": "Functional", "config": {"name": "model", "layers": [
		  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 1], "dtype": "float32", "sparse": false, "ragged": false,
		    "name": "input_1"}, "name": "input_1", "inbound_nodes": []},
		  ` + op("tf.__operators__.add", fn, "input_1", 3) + `,
		  {"class_name": "ReLU", "config": {"name": "re_lu", "trainable": true, "dtype": "float32", "max_value": 6.0, "negative_slope": 0.0,
		    "threshold": 0.0}, "name": "re_lu", "inbound_nodes": [[["tf.__operators__.add", 0, 0, {}]]]},
		  ` + op("tf.math.multiply", "math.multiply", "re_lu", 1.0/6) + `,
		  ` + op("tf.math.truediv", "math.truediv", "tf.math.multiply", 2) + `,
		  {"class_name": "Flatten", "config": {"name": "flatten", "trainable": true, "dtype": "float32", "data_format": "channels_last"},
		    "name": "flatten", "inbound_nodes": [[["tf.math.truediv", 0, 0, {}]]]}],
		  "input_layers": [["input_1", 0, 0]], "output_layers": [["flatten", 0, 0]]}}`)
	}
	m := parseBuilt(t, doc("__operators__.add"))
	x := tensor.New(1, 4, 4, 1)
	for i := range x.Data {
		x.Data[i] = float32(i) - 7.5
	}
	all := m.ForwardAll(x)
	y := all[len(all)-1]
	for i, v := range x.Data {
		if want := math.Min(math.Max(float64(v)+3, 0), 6) / 6 / 2; math.Abs(float64(y.Data[i])-want) > 1e-7 {
			t.Errorf("x = %v: %v, want hard_sigmoid(x)/2 = %v", v, y.Data[i], want)
		}
	}
	want := `tf.__operators__.add (TFOpLambda): function "math.pow": convnet reads only __operators__.add, math.add, math.divide, math.multiply, math.subtract, math.truediv, called on a tensor with a number y`
	if _, err := ParseArchitecture(doc("math.pow")); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a TFOpLambda of math.pow: error %v, want one containing %q", err, want)
	}
	// Called on nothing, or without its number: refused, not a panic.
	for _, call := range []string{`[[]]`, `[[["input_1", 0, 0]]]`, `[[["input_1", 0, 0, {"y": "3"}]]]`, `[]`} {
		bad := strings.Replace(string(doc("__operators__.add")), `[[["input_1", 0, 0, {"y": 3, "name": null}]]]`, call, 1)
		if _, err := ParseArchitecture([]byte(bad)); err == nil || !strings.Contains(err.Error(), "(TFOpLambda): function") {
			t.Errorf("inbound_nodes %s: error %v", call, err)
		}
	}
}

// parseBuilt reads the architecture doc and builds it, failing t if it
// cannot.
func parseBuilt(t *testing.T, doc []byte) *Model {
	t.Helper()
	m, err := ParseArchitecture(doc)
	if err == nil {
		err = m.Build(nil, 1)
	}
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// readsBack writes m's architecture, reads it back and fails t unless the
// model read writes the same document; it returns that model.
func readsBack(t *testing.T, m *Model) *Model {
	t.Helper()
	a, _ := m.Architecture()
	back := parseBuilt(t, a)
	if b, _ := back.Architecture(); string(b) != string(a) {
		t.Errorf("the written document reads back otherwise:\n%s\nthen\n%s", a, b)
	}
	return back
}
