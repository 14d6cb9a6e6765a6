package cli

import (
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// The networks of TestExportPyTorchNumerics whose layers do not all train
// as they would by themselves: frozen ones, and a base Keras called with
// training=False.

// frozenNet returns a network whose first convolution, with a
// regularizer and a constraint, and batch normalization are frozen: the
// project's step must leave them, the moving statistics included, as
// convnet's does, and normalise with those statistics.
func frozenNet(t *testing.T) *model.Sequential {
	t.Helper()
	conv := &nn.Conv2D{Filters: 6, KernelSize: [2]int{3, 3}, Activation: "relu", KernelRegularizer: nn.Regularizer{L2: 0.01},
		KernelConstraint: nn.Constraint{Kind: "max_norm", Max: 0.2, Axis: []int{0, 1, 2}}}
	bn := &nn.BatchNormalization{}
	m := model.New(conv, bn, &nn.Conv2D{Filters: 6, KernelSize: [2]int{3, 3}, Activation: "tanh"}, &nn.Flatten{},
		&nn.Dense{Units: 5, Activation: "softmax", KernelRegularizer: nn.Regularizer{L1: 0.001}})
	if err := m.SetTrainable(false, conv, bn); err != nil {
		t.Fatal(err)
	}
	if err := m.Build([]int{12, 10, 3}, 12); err != nil {
		t.Fatal(err)
	}
	randomStats(m)
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}
	m.ClassNames = []string{"a", "b", "c", "d", "e"}
	return m
}

// calledForInference returns the network of Keras's transfer learning read
// from Keras: a base (a convolution, a batch normalization and a dropout of
// rate 0.5) called with training=False, trainable, then a pooling and a
// Dense. The project's step must train the base's weights as convnet's
// does, on the moving statistics and without the dropout.
func calledForInference(t *testing.T) *model.Sequential {
	t.Helper()
	call := func(name string, kwargs string) string {
		return `[{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["` + name + `", 0, 0]}}], "kwargs": {` + kwargs + `}}]`
	}
	doc := `{"class_name": "Functional", "config": {"name": "tuned", "layers": [
	  {"class_name": "InputLayer", "name": "image", "config": {"batch_shape": [null, 12, 10, 3], "name": "image"}, "inbound_nodes": []},
	  {"class_name": "Functional", "name": "base", "inbound_nodes": ` + call("image", `"training": false`) + `, "config": {"name": "base", "layers": [
	    {"class_name": "InputLayer", "name": "base_in", "config": {"batch_shape": [null, 12, 10, 3], "name": "base_in"}, "inbound_nodes": []},
	    {"class_name": "Conv2D", "name": "conv", "config": {"name": "conv", "filters": 6, "kernel_size": [3, 3], "activation": "relu"}, "inbound_nodes": ` + call("base_in", "") + `},
	    {"class_name": "BatchNormalization", "name": "bn", "config": {"name": "bn"}, "inbound_nodes": ` + call("conv", "") + `},
	    {"class_name": "Dropout", "name": "drop", "config": {"name": "drop", "rate": 0.5}, "inbound_nodes": ` + call("bn", "") + `}],
	    "input_layers": [["base_in", 0, 0]], "output_layers": [["drop", 0, 0]]}},
	  {"class_name": "GlobalAveragePooling2D", "name": "pool", "config": {"name": "pool"}, "inbound_nodes": ` + call("base", "") + `},
	  {"class_name": "Dense", "name": "out", "config": {"name": "out", "units": 5, "activation": "softmax"}, "inbound_nodes": ` + call("pool", "") + `}],
	  "input_layers": [["image", 0, 0]], "output_layers": [["out", 0, 0]]}}`
	m, err := model.ParseArchitecture([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 13); err != nil {
		t.Fatal(err)
	}
	randomStats(m)
	for i, b := range m.Layers[0].Params()[1].Value.Data { // a trained bias, not zeros, against which to measure the step
		m.Layers[0].Params()[1].Value.Data[i] = b + 0.1*float32(i%3+1)
	}
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}
	m.ClassNames = []string{"a", "b", "c", "d", "e"}
	return m
}
