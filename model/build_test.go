package model

import (
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
)

func TestBuildNames(t *testing.T) {
	m, err := Preset("tutorial")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 0); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range m.Layers {
		names = append(names, l.Name())
	}
	want := []string{"conv2d", "conv2d_1", "max_pooling2d", "dropout", "conv2d_2", "conv2d_3",
		"max_pooling2d_1", "dropout_1", "flatten", "dense", "dense_1", "dropout_2", "dense_2"}
	if !slices.Equal(names, want) {
		t.Errorf("layer names = %v, want %v", names, want)
	}
	if got := m.OutputShape(); !slices.Equal(got, []int{28}) {
		t.Errorf("OutputShape() = %v, want [28]", got)
	}
	if m.Layer("dense_1") != m.Layers[10] {
		t.Errorf("Layer(dense_1) is not the 11th layer")
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name   string
		layers []nn.Layer
		input  []int
		want   string
	}{
		{"no layers", nil, []int{4, 4, 1}, "no layers"},
		{"empty input", []nn.Layer{&nn.Flatten{}}, []int{}, "input shape []"},
		{"zero input", []nn.Layer{&nn.Flatten{}}, []int{0, 4, 1}, "dimension 0"},
		{"kernel larger than input",
			[]nn.Layer{&nn.Conv2D{Filters: 2, KernelSize: pair(3)}, &nn.Conv2D{Filters: 2, KernelSize: pair(5)}},
			[]int{5, 5, 1}, "layer 2: conv2d_1"},
		{"zero units", []nn.Layer{&nn.Flatten{}, &nn.Dense{Units: 0}}, []int{4, 4, 1}, "dense"},
		{"bad dropout", []nn.Layer{&nn.Dropout{Rate: 1}}, []int{4}, "dropout"},
		{"duplicate names", []nn.Layer{named(&nn.Flatten{}, "a"), named(&nn.Dense{Units: 2}, "a")}, []int{4}, `two layers are named "a"`},
		{"slash in name", []nn.Layer{named(&nn.Flatten{}, "a/b")}, []int{4}, `"a/b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := New(tt.layers...).Build(tt.input, 1)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build() error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestBuildRefusesTooManyWeights checks that Build stops at the layer that
// would take the model's weights past the limit, before that layer
// allocates them: with a limit of 1,000 values, a dense layer of 4x100
// weights and 100 biases (500) passes, a second one of 100x4 and 4 (404)
// brings the total to 904, and a third like the first (500 more) would
// reach 1,404.
func TestBuildRefusesTooManyWeights(t *testing.T) {
	defer func(n int64) { maxWeights = n }(maxWeights)
	maxWeights = 1000
	third := &nn.Dense{Units: 100}
	m := New(&nn.Dense{Units: 100}, &nn.Dense{Units: 4}, third)
	err := m.Build([]int{4}, 1)
	want := "layer 3: dense_2 (Dense) would bring the model's weights to 1404 values, more than the limit of 1000 (3.9 KiB of float32)"
	if err == nil || err.Error() != want {
		t.Fatalf("Build() error = %v, want %q", err, want)
	}
	if p := third.Params(); len(p) > 0 && p[0] != nil {
		t.Errorf("the refused layer allocated its weights")
	}
	if err := New(&nn.Dense{Units: 100}, &nn.Dense{Units: 4}).Build([]int{4}, 1); err != nil {
		t.Errorf("904 weights under a limit of 1000: %v", err)
	}
}

func named(l nn.Layer, name string) nn.Layer {
	l.SetName(name)
	return l
}

func TestPresets(t *testing.T) {
	for _, name := range PresetNames() {
		for _, in := range []struct {
			shape   []int
			classes int
		}{{[]int{32, 32, 1}, 28}, {[]int{28, 28, 1}, 10}} {
			m, err := PresetFor(name, in.shape, in.classes)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Build(nil, 1); err != nil {
				t.Errorf("preset %s for %v: %v", name, in.shape, err)
				continue
			}
			if got := m.OutputShape(); !slices.Equal(got, []int{in.classes}) {
				t.Errorf("preset %s: OutputShape() = %v, want [%d]", name, got, in.classes)
			}
			if PresetAbout(name) == "" {
				t.Errorf("preset %s has no description", name)
			}
		}
	}
	m, _ := Preset("tutorial")
	m.Build(nil, 1)
	if tr, non := m.ParamCount(); tr != 1203708 || non != 0 {
		t.Errorf("tutorial ParamCount() = %d, %d; want 1203708, 0", tr, non)
	}
	_, err := Preset("vgg16")
	if err == nil || !strings.Contains(err.Error(), "convnet-bn, elsawy2017, lenet5, resnet, tutorial") {
		t.Errorf("Preset(vgg16) error = %v, want a list of presets", err)
	}
}

// lossFalls trains m on the batch x, y for steps steps and reports an
// error unless the last step's loss is below the first's.
