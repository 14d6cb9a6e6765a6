package model

import (
	"slices"
	"strconv"
	"testing"
)

// TestKerasSequentialInFunctional reads a Sequential called as a layer of
// a Functional model, as Keras's ConvNeXt calls its stem and downsampling
// blocks: its layers chained in place, the first reading the Sequential's
// inbound layer, the layers after it reading its last; the model writes
// back flat and reads again the same.
func TestKerasSequentialInFunctional(t *testing.T) {
	conv := func(name string, filters int) string {
		return `{"class_name": "Conv2D", "config": {"name": "` + name + `", "filters": ` + strconv.Itoa(filters) +
			`, "kernel_size": [2, 2], "strides": [2, 2], "padding": "valid"}}`
	}
	stem := `{"class_name": "Sequential", "name": "stem", "inbound_nodes": [[["in", 0, 0, {}]]], "config": {"name": "stem", "layers": [` +
		`{"class_name": "InputLayer", "config": {"batch_shape": [null, 8, 8, 3], "dtype": "float32", "name": "stem_input"}}, ` +
		conv("stem_conv", 4) + `, {"class_name": "BatchNormalization", "config": {"name": "stem_bn"}}]}}`
	doc := []byte(`{"class_name": "Functional", "config": {"name": "net", "input_layers": [["in", 0, 0]], "output_layers": [["sum", 0, 0]], "layers": [
	  {"class_name": "InputLayer", "name": "in", "inbound_nodes": [], "config": {"batch_input_shape": [null, 8, 8, 3], "name": "in"}},
	  ` + stem + `,
	  {"class_name": "ReLU", "name": "relu", "inbound_nodes": [[["stem", 0, 0, {}]]], "config": {"name": "relu"}},
	  {"class_name": "Add", "name": "sum", "inbound_nodes": [[["stem", 0, 0, {}], ["relu", 0, 0, {}]]], "config": {"name": "sum"}}]}}`)
	check := func(what string, m *Model) {
		var names []string
		for _, l := range m.Layers {
			names = append(names, l.Name())
		}
		if want := []string{"stem_conv", "stem_bn", "relu", "sum"}; !slices.Equal(names, want) {
			t.Errorf("%s: layers %v, want %v", what, names, want)
		}
	}
	m := kerasRoundTrip(t, doc, check, `"inbound_nodes":[[["stem_bn",0,0,{}],["relu",0,0,{}]]]`, `"inbound_nodes":[[["in",0,0,{}]]]`)
	if got := m.OutputShape(); !slices.Equal(got, []int{4, 4, 4}) {
		t.Errorf("output shape %v, want [4 4 4]", got)
	}
	if got, want := m.Inbound(3), []int{1, 2}; !slices.Equal(got, want) {
		t.Errorf("the Add reads layers %v, want %v (the stem's last layer and the ReLU)", got, want)
	}
}
