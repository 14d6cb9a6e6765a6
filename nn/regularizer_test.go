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

// TestRegularizer checks the penalty and its gradient by hand, the
// regularizers as Keras writes them, and what Build and configs refuse.
func TestRegularizer(t *testing.T) {
	r := nn.Regularizer{L1: 0.1, L2: 0.01}
	w := []float32{-2, 0, 0.5}
	// 0.1·(2 + 0 + 0.5) + 0.01·(4 + 0 + 0.25)
	if got := r.Penalty(w); math.Abs(got-0.2925) > 1e-12 {
		t.Errorf("Penalty = %v, want 0.2925", got)
	}
	grad := []float32{1, 1, 1}
	r.AddGradient(grad, w)
	// 1 + 2·0.01·w + 0.1·sign(w), sign(0) = 0
	if want := []float32{1 - 0.04 - 0.1, 1, 1 + 0.01 + 0.1}; !slices.EqualFunc(grad, want, func(a, b float32) bool { return math.Abs(float64(a-b)) < 1e-7 }) {
		t.Errorf("AddGradient gave %v, want %v", grad, want)
	}

	for doc, want := range map[string]nn.Regularizer{
		`"l2"`: {L2: 0.01},
		`"l1"`: {L1: 0.01},
		`{"class_name": "L2", "config": {"l2": 0.009999999776482582}}`:                                                          {L2: 0.009999999776482582},
		`{"module": "keras.regularizers", "class_name": "L1L2", "config": {"l1": 0.001, "l2": 0.002}, "registered_name": null}`: {L1: 0.001, L2: 0.002},
		`{"class_name": "L1", "config": {}}`:                                                                                    {L1: 0.01},
		`{"class_name": "L1L2", "config": {"l2": 0.5}}`:                                                                         {L2: 0.5},
		`null`: {},
	} {
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		l, err := nn.FromConfig("Dense", map[string]any{"units": 2, "kernel_regularizer": v, "bias_regularizer": v})
		if err != nil {
			t.Errorf("%s: %v", doc, err)
			continue
		}
		d := l.(*nn.Dense)
		if d.KernelRegularizer != want || d.BiasRegularizer != want {
			t.Errorf("%s: read as %+v and %+v, want %+v", doc, d.KernelRegularizer, d.BiasRegularizer, want)
		}
		back, err := nn.FromConfig("Dense", d.Config())
		if err != nil || back.(*nn.Dense).KernelRegularizer != want || back.(*nn.Dense).BiasRegularizer != want {
			t.Errorf("%s: the config %v reads back as %v, %v", doc, d.Config(), back, err)
		}
	}
	for _, doc := range []string{
		`"l1_l2"`, `{"class_name": "L2", "config": {"l2": -0.01}}`, `{"class_name": "L2", "config": {"l2": 0.01, "factor": 1}}`,
		`{"class_name": "OrthogonalRegularizer", "config": {"factor": 0.01}}`, `{"module": "mine", "class_name": "L2", "config": {"l2": 0.01}}`,
		`{"class_name": "L2", "config": {"l2": "0.01"}}`, `3`,
	} {
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		if _, err := nn.FromConfig("Conv2D", map[string]any{"filters": 2, "kernel_size": 3, "kernel_regularizer": v}); err == nil ||
			!strings.Contains(err.Error(), `field "kernel_regularizer": want null, "l1", "l2", or an L1, L2 or L1L2 regularizer of factors from 0 up`) {
			t.Errorf("%s: %v", doc, err)
		}
	}
	if cfg := (&nn.Dense{Units: 2}).Config(); cfg["kernel_regularizer"] != nil || cfg["bias_regularizer"] != nil {
		t.Errorf("a Dense without regularizers writes %v", cfg)
	}
	for _, tt := range []struct {
		l    nn.Layer
		want string
	}{
		{&nn.Dense{Units: 2, KernelRegularizer: nn.Regularizer{L1: -1}}, "Dense: kernel_regularizer: l1 = -1: want a finite number, at least 0"},
		{&nn.Dense{Units: 2, BiasRegularizer: nn.Regularizer{L2: math.Inf(1)}}, "Dense: bias_regularizer: l2 = +Inf"},
		{&nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, KernelRegularizer: nn.Regularizer{L2: math.NaN()}}, "DepthwiseConv2D: depthwise_regularizer: l2 = NaN"},
	} {
		in := []int{4}
		if _, ok := tt.l.(*nn.DepthwiseConv2D); ok {
			in = []int{4, 4, 2}
		}
		if _, err := tt.l.Build(in, rand.New(rand.NewPCG(1, 2))); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Build: %v, want an error containing %q", err, tt.want)
		}
	}
	// Build gives the parameters their regularizers.
	d := build(t, &nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, KernelRegularizer: nn.Regularizer{L2: 0.1}, BiasRegularizer: nn.Regularizer{L1: 0.2}}, 5, 5, 1)
	if ps := d.Params(); ps[0].Regularizer != (nn.Regularizer{L2: 0.1}) || ps[1].Regularizer != (nn.Regularizer{L1: 0.2}) {
		t.Errorf("the kernel's and bias's regularizers: %+v, %+v", ps[0].Regularizer, ps[1].Regularizer)
	}
}
