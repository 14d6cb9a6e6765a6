package optim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

var (
	w0 = []float64{0.5, -1.2, 3.0, 0.0, 1e-3}
	// grads[t] is the gradient at step t.
	grads = [][]float64{
		{0.1, -0.3, 2.0, -1e-3, 0},
		{-0.2, -0.1, 1.5, 4.0, 1e-4},
		{0.05, 0.7, -2.5, 0.3, -1e-2},
	}
)

func newParam(w []float64) *nn.Param {
	p := &nn.Param{Name: "w", Value: tensor.New(len(w)), Grad: tensor.New(len(w)), Trainable: true}
	for i, v := range w {
		p.Value.Data[i] = float32(v)
	}
	return p
}

func TestSetLR(t *testing.T) {
	for _, name := range Names() {
		o, err := New(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		o.SetLR(0.5)
		p := newParam([]float64{1})
		p.Grad.Data[0] = 1e-3
		before := o.LR()
		o.Step([]*nn.Param{p})
		if before != 0.5 || o.LR() != 0.5 {
			t.Errorf("%s: LR() after SetLR(0.5) = %v, want 0.5", name, before)
		}
		if o.Config()["learning_rate"] != 0.5 {
			t.Errorf("%s: Config()[learning_rate] = %v, want 0.5", name, o.Config()["learning_rate"])
		}
	}
}

func TestStepDoesNotAllocate(t *testing.T) {
	for _, name := range Names() {
		cfg := map[string]any{}
		if name == "sgd" || name == "rmsprop" {
			cfg["momentum"] = 0.9
			cfg["global_clipnorm"] = 0.1
		} else {
			cfg["clipnorm"] = 0.1
			cfg["use_ema"], cfg["ema_overwrite_frequency"] = true, 2
			cfg["gradient_accumulation_steps"] = 2
			cfg["weight_decay"], cfg["exclude_from_weight_decay"] = 0.1, []string{"bias"}
		}
		o, err := New(name, cfg)
		if err != nil {
			t.Fatal(err)
		}
		ps := []*nn.Param{newParam(w0), newParam(w0)}
		ps[0].Grad.Data[0] = 1
		o.Step(ps)
		if n := testing.AllocsPerRun(20, func() { o.Step(ps) }); n != 0 {
			t.Errorf("%s: Step allocates %v times per call, want 0", name, n)
		}
	}
}

func TestNew(t *testing.T) {
	o, err := New("RMSprop", map[string]any{"learning_rate": 0.01, "rho": 0.95, "epsilon": 1e-6, "centered": true})
	if err != nil {
		t.Fatal(err)
	}
	r, ok := o.(*RMSprop)
	if !ok || r.LearningRate != 0.01 || r.Rho != 0.95 || r.Epsilon != 1e-6 || !r.Centered {
		t.Errorf("New(RMSprop, ...) = %+v", o)
	}
	for _, name := range Names() {
		o, err := New(name, map[string]any{"learning_rate": 0.02})
		if err != nil {
			t.Fatalf("New(%s): %v", name, err)
		}
		again, err := New(o.Name(), o.Config())
		if err != nil {
			t.Fatalf("New(%s, Config()): %v", name, err)
		}
		if o.Name() != name || again.Name() != name {
			t.Errorf("Name() = %q, want %q", o.Name(), name)
		}
		for k, v := range o.Config() {
			if again.Config()[k] != v {
				t.Errorf("%s: config round trip: %s = %v, want %v", name, k, again.Config()[k], v)
			}
		}
	}

	bad := []struct {
		name string
		cfg  map[string]any
		want string
	}{
		{"ftrl", nil, "unknown optimizer \"ftrl\" (valid: adadelta, adagrad, adam, adamax, adamw, lion, nadam, rmsprop, sgd)"},
		{"sgd", map[string]any{"lr": 0.1}, `unknown option "lr"`},
		{"sgd", map[string]any{"learning_rate": "fast"}, "learning_rate = fast (string), want a number"},
		{"sgd", map[string]any{"nesterov": 1.0}, "want true or false"},
		{"sgd", map[string]any{"learning_rate": -1.0}, "learning_rate = -1, want a finite number >= 0"},
		{"sgd", map[string]any{"learning_rate": math.Inf(1)}, "learning_rate = +Inf, want a finite number >= 0"},
		{"sgd", map[string]any{"weight_decay": -0.1}, "weight_decay = -0.1, want a finite number >= 0"},
		{"adamw", map[string]any{"weight_decay": math.NaN()}, "weight_decay = NaN"},
		{"lion", map[string]any{"weight_decay": math.Inf(1)}, "weight_decay = +Inf"},
		{"adam", map[string]any{"epsilon": -1e-7}, "epsilon = -1e-07, want a finite number >= 0"},
		{"adamw", map[string]any{"epsilon": math.NaN()}, "epsilon = NaN"},
		{"rmsprop", map[string]any{"epsilon": math.Inf(1)}, "epsilon = +Inf"},
		{"sgd", map[string]any{"momentum": 1.0}, "momentum = 1, want in [0, 1)"},
		{"rmsprop", map[string]any{"rho": 1.5}, "rho = 1.5"},
		{"adam", map[string]any{"beta_2": -0.1}, "beta_2 = -0.1"},
		{"adagrad", map[string]any{"initial_accumulator_value": -1.0}, "initial_accumulator_value = -1, want a finite number >= 0"},
		{"adadelta", map[string]any{"rho": 1.0}, "rho = 1, want in [0, 1)"},
		{"adamax", map[string]any{"epsilon": math.Inf(1)}, "epsilon = +Inf"},
		{"nadam", map[string]any{"beta_1": 1.0}, "beta_1 = 1"},
		{"lion", map[string]any{"beta_1": -0.5}, "beta_1 = -0.5, want in (0, 1]"},
		{"lion", map[string]any{"epsilon": 1e-7}, `unknown option "epsilon"`},
	}
	for _, b := range bad {
		_, err := New(b.name, b.cfg)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("New(%q, %v) error = %v, want it to contain %q", b.name, b.cfg, err, b.want)
		}
	}
}

// TestStateRoundTrip resumes an optimizer from another's state after one
// step, then both take the same step. With gradient accumulation, the first
// step only sums the gradient and the second updates on the mean: the sum
// and the count of steps must come back.
func TestStateRoundTrip(t *testing.T) {
	for _, name := range Names() {
		for _, accumulate := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/accumulate=%v", name, accumulate), func(t *testing.T) { roundTrip(t, name, accumulate) })
		}
	}
}

func roundTrip(t *testing.T, name string, accumulate bool) {
	cfg := map[string]any{"use_ema": true, "ema_momentum": 0.9}
	if name == "sgd" {
		cfg["momentum"] = 0.9
	}
	if accumulate { // and the parameter out of weight decay
		cfg["gradient_accumulation_steps"] = 2
		cfg["weight_decay"], cfg["exclude_from_weight_decay"] = 0.1, []string{"^w$"}
	}
	a, _ := New(name, cfg)
	b, _ := New(name, cfg)
	pa, pb := newParam(w0), newParam(w0)
	set := func(p *nn.Param, g []float64) {
		for i, v := range g {
			p.Grad.Data[i] = float32(v)
		}
	}
	set(pa, grads[0])
	a.Step([]*nn.Param{pa})
	// Resume b from a's state, then take the same step on both.
	copy(pb.Value.Data, pa.Value.Data)
	st := a.State()
	if len(st) != 1 || len(st[0].Slots) != len(a.SlotNames()) {
		t.Fatalf("State() = %d params with %d slots, want 1 with %d", len(st), len(st[0].Slots), len(a.SlotNames()))
	}
	if err := b.SetState(a.Iterations(), []ParamState{{Param: pb, Slots: st[0].Slots}}); err != nil {
		t.Fatal(err)
	}
	set(pa, grads[1])
	set(pb, grads[1])
	a.Step([]*nn.Param{pa})
	b.Step([]*nn.Param{pb})
	for i := range pa.Value.Data {
		if pa.Value.Data[i] != pb.Value.Data[i] {
			t.Errorf("resumed w[%d] = %v, want %v", i, pb.Value.Data[i], pa.Value.Data[i])
		}
	}
	if a.Iterations() != 2 || b.Iterations() != 2 {
		t.Errorf("Iterations() = %d and %d, want 2", a.Iterations(), b.Iterations())
	}
	err := b.SetState(0, []ParamState{{Param: pb, Slots: []*tensor.Tensor{tensor.New(3), tensor.New(3), tensor.New(3), tensor.New(3)}[:len(a.SlotNames())]}})
	if err == nil || !strings.Contains(err.Error(), "shape [3], want [5]") {
		t.Errorf("SetState with wrong shape: error = %v", err)
	}
}

// TestChunksChangeNothing updates a parameter large enough to be cut into
// chunks that run on several cores, and the same values as many small
// parameters of a chunk each: the values after three steps must be the
// same, bit for bit, for every optimizer and option.
func TestChunksChangeNothing(t *testing.T) {
	opts := []func() Optimizer{
		func() Optimizer { return &SGD{LearningRate: 0.1, WeightDecay: 0.01} },
		func() Optimizer { return &SGD{LearningRate: 0.1, Momentum: 0.9, Nesterov: true} },
		func() Optimizer { return &RMSprop{} },
		func() Optimizer { return &RMSprop{LearningRate: 0.01, Momentum: 0.5, Centered: true, WeightDecay: 0.1} },
		func() Optimizer { return &Adam{LearningRate: 0.01} },
		func() Optimizer { return &AdamW{Adam{LearningRate: 0.1, WeightDecay: 0.5}} },
		func() Optimizer { return &Adagrad{LearningRate: 0.1} },
		func() Optimizer { return &Adadelta{LearningRate: 1} },
		func() Optimizer { return &Adamax{LearningRate: 0.01} },
		func() Optimizer { return &Nadam{LearningRate: 0.01} },
		func() Optimizer { return &Lion{WeightDecay: 0.1} },
		func() Optimizer {
			return &Adam{LearningRate: 0.01, Options: Options{EMA: EMA{UseEMA: true, EMAOverwriteFrequency: 2}}}
		},
		func() Optimizer {
			return &SGD{LearningRate: 0.1, Options: Options{EMA: EMA{UseEMA: true, EMAMomentum: 0.9}}}
		},
		func() Optimizer {
			return &Adam{LearningRate: 0.01, Options: Options{Clipping: Clipping{GlobalClipNorm: 1}, Accumulation: Accumulation{GradientAccumulationSteps: 2}}}
		},
	}
	const n, part = 3*chunkLen + 123, 1000
	rng := rand.New(rand.NewPCG(1, 2))
	w, g := make([]float32, n), make([][]float32, 3)
	for i := range w {
		w[i] = float32(rng.NormFloat64())
	}
	for s := range g {
		g[s] = make([]float32, n)
		for i := range g[s] {
			g[s][i] = float32(rng.NormFloat64())
		}
	}
	for _, newOpt := range opts {
		big := &nn.Param{Name: "big", Value: tensor.FromData(slices.Clone(w), n), Grad: tensor.New(n), Trainable: true}
		var small []*nn.Param
		for lo := 0; lo < n; lo += part {
			hi := min(lo+part, n)
			small = append(small, &nn.Param{Name: "small", Value: tensor.FromData(slices.Clone(w[lo:hi]), hi-lo), Grad: tensor.New(hi - lo), Trainable: true})
		}
		a, b := newOpt(), newOpt()
		for s := range g {
			copy(big.Grad.Data, g[s])
			for k, p := range small {
				copy(p.Grad.Data, g[s][k*part:])
			}
			a.Step([]*nn.Param{big})
			b.Step(small)
		}
		Finalize(a)
		Finalize(b)
		if len(stateOf(a).chunks) < 4 {
			t.Fatalf("%s: the parameter of %d values was not cut into chunks", a.Name(), n)
		}
		for k, p := range small {
			for i, v := range p.Value.Data {
				if got := big.Value.Data[k*part+i]; math.Float32bits(got) != math.Float32bits(v) {
					t.Fatalf("%s %v: value %d = %v in chunks, %v one parameter at a time", a.Name(), a.Config(), k*part+i, got, v)
				}
			}
		}
	}
}

// stateOf returns an optimizer's state.
func stateOf(o Optimizer) *state {
	switch o := o.(type) {
	case *SGD:
		return &o.state
	case *RMSprop:
		return &o.state
	case *Adam:
		return &o.state
	case *AdamW:
		return &o.state
	case *Adagrad:
		return &o.state
	case *Adadelta:
		return &o.state
	case *Adamax:
		return &o.state
	case *Nadam:
		return &o.state
	case *Lion:
		return &o.state
	}
	panic("unknown optimizer")
}
