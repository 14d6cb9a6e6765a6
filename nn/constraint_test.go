package nn_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
)

// TestConstraint checks each constraint by hand on a Dense kernel [2, 3]
// (norms over axis 0: each unit's incoming weights) and over two axes of
// a convolution's kernel, the constraints as Keras writes them, and what
// Build and configs refuse.
func TestConstraint(t *testing.T) {
	// Columns (3, 4), (0, 0) and (0.6, 0.8): norms 5, 0 and 1.
	w := func() []float32 { return []float32{3, 0, 0.6, 4, 0, 0.8} }
	near := func(a, b []float32) bool {
		return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Abs(float64(x-y)) < 1e-6 })
	}
	for _, tt := range []struct {
		c    nn.Constraint
		want []float32
	}{
		{nn.Constraint{Kind: "max_norm", Max: 2, Axis: []int{0}}, []float32{1.2, 0, 0.6, 1.6, 0, 0.8}},
		{nn.Constraint{Kind: "unit_norm", Axis: []int{0}}, []float32{0.6, 0, 0.6, 0.8, 0, 0.8}},
		// rate 0.5: n → (clip(n, 2, 4) + n)/2: 5 → 4.5, 1 → 1.5.
		{nn.Constraint{Kind: "min_max_norm", Min: 2, Max: 4, Rate: 0.5, Axis: []int{0}}, []float32{2.7, 0, 0.9, 3.6, 0, 1.2}},
		// Over axis 1: the rows (3, 0, 0.6) and (4, 0, 0.8), norms √9.36 and √16.64.
		{nn.Constraint{Kind: "max_norm", Max: 1, Axis: []int{1}}, []float32{float32(3 / math.Sqrt(9.36)), 0, float32(0.6 / math.Sqrt(9.36)), float32(4 / math.Sqrt(16.64)), 0, float32(0.8 / math.Sqrt(16.64))}},
		{nn.Constraint{Kind: "max_norm", Max: 1, Axis: []int{0, 1}}, []float32{float32(3 / math.Sqrt(26)), 0, float32(0.6 / math.Sqrt(26)), float32(4 / math.Sqrt(26)), 0, float32(0.8 / math.Sqrt(26))}},
	} {
		v := w()
		tt.c.Apply(v, []int{2, 3}, nil)
		if !near(v, tt.want) {
			t.Errorf("%+v: %v, want %v", tt.c, v, tt.want)
		}
	}
	v := []float32{-1, 2, 0, -0.5}
	nn.Constraint{Kind: "non_neg"}.Apply(v, []int{4}, nil)
	if !slices.Equal(v, []float32{0, 2, 0, 0}) {
		t.Errorf("non_neg: %v", v)
	}
	// A convolution kernel [2, 2, 1, 2] (HWIO), norms over [0, 1, 2]: each
	// filter whole, the scratch reused without allocating.
	k := []float32{3, 1, 0, 1, 0, 1, 4, 1}
	scratch := nn.Constraint{Kind: "max_norm", Max: 1, Axis: []int{0, 1, 2}}.Apply(k, []int{2, 2, 1, 2}, nil)
	if want := []float32{0.6, 0.5, 0, 0.5, 0, 0.5, 0.8, 0.5}; !near(k, want) {
		t.Errorf("filters: %v, want %v", k, want)
	}
	if allocs := testing.AllocsPerRun(10, func() {
		nn.Constraint{Kind: "max_norm", Max: 1, Axis: []int{0, 1, 2}}.Apply(k, []int{2, 2, 1, 2}, scratch)
	}); allocs > 0 {
		t.Errorf("Apply with a scratch allocates %v times", allocs)
	}

	for doc, want := range map[string]nn.Constraint{
		`{"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 0}}`:                                                                   {Kind: "max_norm", Max: 3, Axis: []int{0}},
		`{"module": "keras.constraints", "class_name": "MaxNorm", "config": {"max_value": 2.0, "axis": [0, 1, 2]}, "registered_name": null}`: {Kind: "max_norm", Max: 2, Axis: []int{0, 1, 2}},
		`{"class_name": "MinMaxNorm", "config": {"min_value": 0.5, "max_value": 1.5, "rate": 0.25, "axis": 0}}`:                              {Kind: "min_max_norm", Min: 0.5, Max: 1.5, Rate: 0.25, Axis: []int{0}},
		`{"class_name": "UnitNorm", "config": {"axis": 1}}`:                                                                                  {Kind: "unit_norm", Axis: []int{1}},
		`{"class_name": "NonNeg", "config": {}}`:                                                                                             {Kind: "non_neg"},
		`"max_norm"`:                                                                                                                         {Kind: "max_norm", Max: 2, Axis: []int{0}},
	} {
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		l, err := nn.FromConfig("Dense", map[string]any{"units": 2, "kernel_constraint": v})
		if err != nil {
			t.Errorf("%s: %v", doc, err)
			continue
		}
		d := l.(*nn.Dense)
		if got := d.KernelConstraint; got.Kind != want.Kind || got.Min != want.Min || got.Max != want.Max || got.Rate != want.Rate || !slices.Equal(got.Axis, want.Axis) {
			t.Errorf("%s: read as %+v, want %+v", doc, got, want)
		}
		back, err := nn.FromConfig("Dense", d.Config())
		if err != nil || back.(*nn.Dense).KernelConstraint.Kind != want.Kind || !slices.Equal(back.(*nn.Dense).KernelConstraint.Axis, want.Axis) {
			t.Errorf("%s: the config %v reads back as %v, %v", doc, d.Config(), back, err)
		}
	}
	for _, doc := range []string{`{"class_name": "RadialConstraint", "config": {}}`, `{"class_name": "MaxNorm", "config": {"max_value": 2, "scale": 1}}`,
		`{"class_name": "MaxNorm", "config": {"axis": "x"}}`, `{"module": "mine", "class_name": "NonNeg", "config": {}}`, `"clip"`, `2`} {
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		if _, err := nn.FromConfig("Dense", map[string]any{"units": 2, "kernel_constraint": v}); err == nil || !strings.Contains(err.Error(), `field "kernel_constraint": want null, or a MaxNorm, MinMaxNorm, UnitNorm or NonNeg constraint`) {
			t.Errorf("%s: %v", doc, err)
		}
	}
	for _, tt := range []struct {
		l    nn.Layer
		in   []int
		want string
	}{
		{&nn.Dense{Units: 2, KernelConstraint: nn.Constraint{Kind: "max_norm", Max: 2, Axis: []int{2}}}, []int{3}, "Dense: kernel_constraint: axis [2]: want distinct axes of the weights, 0 to 1"},
		{&nn.Dense{Units: 2, KernelConstraint: nn.Constraint{Kind: "max_norm", Axis: []int{0}}}, []int{3}, "Dense: kernel_constraint: max_value = 0: want a positive number"},
		{&nn.Dense{Units: 2, BiasConstraint: nn.Constraint{Kind: "unit_norm", Axis: []int{0, 0}}}, []int{3}, "Dense: bias_constraint: axis [0 0]"},
		{&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, KernelConstraint: nn.Constraint{Kind: "min_max_norm", Min: 2, Max: 1, Axis: []int{0}}}, []int{4, 4, 1}, "Conv2D: kernel_constraint: min_value 2, max_value 1, rate 0"},
		{&nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, KernelConstraint: nn.Constraint{Kind: "clip"}}, []int{4, 4, 1}, `DepthwiseConv2D: depthwise_constraint: unknown constraint "clip"`},
	} {
		if _, err := tt.l.Build(tt.in, rand.New(rand.NewPCG(1, 2))); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Build: %v, want an error containing %q", err, tt.want)
		}
	}
}
