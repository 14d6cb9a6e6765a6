package optim

import (
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

// reference is a float64 update rule: it updates w in place from g at step t
// (0-based), keeping its state in st.
type reference func(w, g []float64, t int, st map[string][]float64)

func slot(st map[string][]float64, name string, n int) []float64 {
	if st[name] == nil {
		st[name] = make([]float64, n)
	}
	return st[name]
}

func sgdRef(lr, mu float64, nesterov bool, wd float64) reference {
	return func(w, g []float64, t int, st map[string][]float64) {
		m := slot(st, "m", len(w))
		for i := range w {
			w[i] -= w[i] * wd * lr
			if mu == 0 {
				w[i] -= lr * g[i]
				continue
			}
			m[i] = mu*m[i] - lr*g[i]
			if nesterov {
				w[i] += mu*m[i] - lr*g[i]
			} else {
				w[i] += m[i]
			}
		}
	}
}

func rmspropRef(lr, rho, eps, mu float64, centered, inside bool) reference {
	return func(w, g []float64, t int, st map[string][]float64) {
		a, m, ag := slot(st, "a", len(w)), slot(st, "m", len(w)), slot(st, "ag", len(w))
		for i := range w {
			a[i] = rho*a[i] + (1-rho)*g[i]*g[i]
			den := a[i]
			if centered {
				ag[i] = rho*ag[i] + (1-rho)*g[i]
				den -= ag[i] * ag[i]
			}
			if inside {
				den = math.Sqrt(den + eps)
			} else {
				den = math.Sqrt(den) + eps
			}
			step := lr * g[i] / den
			if mu != 0 {
				m[i] = mu*m[i] + step
				step = m[i]
			}
			w[i] -= step
		}
	}
}

func adamRef(lr, b1, b2, eps, wd float64) reference {
	return func(w, g []float64, t int, st map[string][]float64) {
		m, v := slot(st, "m", len(w)), slot(st, "v", len(w))
		// The textbook form with bias-corrected moments; Keras folds the
		// corrections into the step size, which is the same up to where
		// epsilon sits: eps_hat = eps*sqrt(1-b2^t).
		tt := float64(t + 1)
		for i := range w {
			w[i] -= w[i] * wd * lr
			m[i] = b1*m[i] + (1-b1)*g[i]
			v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
			mhat := m[i] / (1 - math.Pow(b1, tt))
			vhat := v[i] / (1 - math.Pow(b2, tt))
			w[i] -= lr * mhat / (math.Sqrt(vhat) + eps/math.Sqrt(1-math.Pow(b2, tt)))
		}
	}
}

func adagradRef(lr, init, eps float64) reference {
	return func(w, g []float64, t int, st map[string][]float64) {
		acc := slot(st, "acc", len(w))
		for i := range w {
			if t == 0 {
				acc[i] = init
			}
			acc[i] += g[i] * g[i]
			w[i] -= lr * g[i] / math.Sqrt(acc[i]+eps)
		}
	}
}

func adadeltaRef(lr, rho, eps float64) reference {
	return func(w, g []float64, t int, st map[string][]float64) {
		ag, ad := slot(st, "ag", len(w)), slot(st, "ad", len(w))
		for i := range w {
			ag[i] = rho*ag[i] + (1-rho)*g[i]*g[i]
			d := -math.Sqrt(ad[i]+eps) * g[i] / math.Sqrt(ag[i]+eps)
			ad[i] = rho*ad[i] + (1-rho)*d*d
			w[i] += lr * d
		}
	}
}

func adamaxRef(lr, b1, b2, eps float64) reference {
	return func(w, g []float64, t int, st map[string][]float64) {
		m, u := slot(st, "m", len(w)), slot(st, "u", len(w))
		for i := range w {
			m[i] = b1*m[i] + (1-b1)*g[i]
			u[i] = math.Max(b2*u[i], math.Abs(g[i]))
			w[i] -= lr / (1 - math.Pow(b1, float64(t+1))) * m[i] / (u[i] + eps)
		}
	}
}

// nadamRef is Keras's Nadam, its momentum schedule's product kept as
// Keras keeps it, step by step.
func nadamRef(lr, b1, b2, eps float64) reference {
	return func(w, g []float64, t int, st map[string][]float64) {
		m, v, p := slot(st, "m", len(w)), slot(st, "v", len(w)), slot(st, "p", 1)
		u := func(s float64) float64 { return b1 * (1 - 0.5*math.Pow(0.96, s)) }
		if t == 0 {
			p[0] = 1
		}
		s := float64(t + 1)
		p[0] *= u(s)
		for i := range w {
			m[i] = b1*m[i] + (1-b1)*g[i]
			v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
			mhat := u(s+1)*m[i]/(1-p[0]*u(s+1)) + (1-u(s))*g[i]/(1-p[0])
			vhat := v[i] / (1 - math.Pow(b2, s))
			w[i] -= lr * mhat / (math.Sqrt(vhat) + eps)
		}
	}
}

func lionRef(lr, b1, b2, wd float64) reference {
	return func(w, g []float64, t int, st map[string][]float64) {
		m := slot(st, "m", len(w))
		for i := range w {
			w[i] -= w[i] * wd * lr
			c := b1*m[i] + (1-b1)*g[i]
			if c > 0 {
				w[i] -= lr
			} else if c < 0 {
				w[i] += lr
			}
			m[i] = b2*m[i] + (1-b2)*g[i]
		}
	}
}

func TestOptimizersAgainstFormula(t *testing.T) {
	tests := []struct {
		name string
		opt  Optimizer
		ref  reference
	}{
		{"sgd", &SGD{}, sgdRef(0.01, 0, false, 0)},
		{"sgd lr", &SGD{LearningRate: 0.3}, sgdRef(0.3, 0, false, 0)},
		{"sgd momentum", &SGD{LearningRate: 0.1, Momentum: 0.9}, sgdRef(0.1, 0.9, false, 0)},
		{"sgd nesterov", &SGD{LearningRate: 0.1, Momentum: 0.9, Nesterov: true}, sgdRef(0.1, 0.9, true, 0)},
		{"sgd weight decay", &SGD{LearningRate: 0.1, Momentum: 0.5, WeightDecay: 0.01}, sgdRef(0.1, 0.5, false, 0.01)},
		{"rmsprop keras2", &RMSprop{}, rmspropRef(0.001, 0.9, 1e-8, 0, false, false)},
		{"rmsprop keras3", &RMSprop{Epsilon: 1e-7, EpsilonInsideSqrt: true}, rmspropRef(0.001, 0.9, 1e-7, 0, false, true)},
		{"rmsprop big eps", &RMSprop{LearningRate: 0.01, Rho: 0.8, Epsilon: 0.1}, rmspropRef(0.01, 0.8, 0.1, 0, false, false)},
		{"rmsprop momentum centered", &RMSprop{LearningRate: 0.01, Momentum: 0.5, Centered: true, Epsilon: 1e-3},
			rmspropRef(0.01, 0.9, 1e-3, 0.5, true, false)},
		{"adam", &Adam{}, adamRef(0.001, 0.9, 0.999, 1e-7, 0)},
		{"adam custom", &Adam{LearningRate: 0.1, Beta1: 0.5, Beta2: 0.75, Epsilon: 0.01}, adamRef(0.1, 0.5, 0.75, 0.01, 0)},
		{"adamw", &AdamW{}, adamRef(0.001, 0.9, 0.999, 1e-7, 0.004)},
		{"adamw decay", &AdamW{Adam{LearningRate: 0.1, WeightDecay: 0.5}}, adamRef(0.1, 0.9, 0.999, 1e-7, 0.5)},
		{"adagrad", &Adagrad{}, adagradRef(0.001, 0.1, 1e-7)},
		{"adagrad custom", &Adagrad{LearningRate: 0.5, InitialAccumulatorValue: 0.01, Epsilon: 1e-3}, adagradRef(0.5, 0.01, 1e-3)},
		{"adadelta", &Adadelta{}, adadeltaRef(0.001, 0.95, 1e-7)},
		{"adadelta pytorch", &Adadelta{LearningRate: 1, Rho: 0.9, Epsilon: 1e-6}, adadeltaRef(1, 0.9, 1e-6)},
		{"adamax", &Adamax{}, adamaxRef(0.001, 0.9, 0.999, 1e-7)},
		{"adamax custom", &Adamax{LearningRate: 0.1, Beta1: 0.5, Beta2: 0.75, Epsilon: 0.01}, adamaxRef(0.1, 0.5, 0.75, 0.01)},
		{"nadam", &Nadam{}, nadamRef(0.001, 0.9, 0.999, 1e-7)},
		{"nadam custom", &Nadam{LearningRate: 0.1, Beta1: 0.5, Beta2: 0.75, Epsilon: 0.01}, nadamRef(0.1, 0.5, 0.75, 0.01)},
		{"lion", &Lion{}, lionRef(0.001, 0.9, 0.99, 0)},
		{"lion custom", &Lion{LearningRate: 0.1, Beta1: 0.5, Beta2: 0.75, WeightDecay: 0.2}, lionRef(0.1, 0.5, 0.75, 0.2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newParam(w0)
			frozen := &nn.Param{Name: "frozen", Value: tensor.FromData([]float32{7}, 1)}
			want := append([]float64(nil), w0...)
			st := map[string][]float64{}
			for step, g := range grads {
				for i, v := range g {
					p.Grad.Data[i] = float32(v)
				}
				tt.opt.Step([]*nn.Param{frozen, p})
				tt.ref(want, g, step, st)
				for i := range want {
					got := float64(p.Value.Data[i])
					if d := math.Abs(got - want[i]); d > 1e-6*math.Max(1, math.Abs(want[i])) {
						t.Errorf("step %d: w[%d] = %.9g, want %.9g", step+1, i, got, want[i])
					}
				}
			}
			if got := tt.opt.Iterations(); got != len(grads) {
				t.Errorf("Iterations() = %d, want %d", got, len(grads))
			}
			if frozen.Value.Data[0] != 7 {
				t.Errorf("non-trainable parameter changed to %v", frozen.Value.Data[0])
			}
		})
	}
}

// TestRMSpropFirstStep checks Keras 2's rule on one value by hand: with a = 0,
// a becomes 0.1*g², and the step is lr*g/(sqrt(0.1)*|g| + eps).
func TestRMSpropFirstStep(t *testing.T) {
	p := newParam([]float64{1})
	p.Grad.Data[0] = 2
	(&RMSprop{}).Step([]*nn.Param{p})
	want := 1 - 0.001*2/(math.Sqrt(0.4)+1e-8)
	if got := float64(p.Value.Data[0]); math.Abs(got-want) > 1e-7 {
		t.Errorf("w after one RMSprop step = %.9g, want %.9g", got, want)
	}
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
		{"sgd", map[string]any{"learning_rate": -1.0}, "learning_rate = -1, want >= 0"},
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

func TestStateRoundTrip(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			cfg := map[string]any{}
			if name == "sgd" {
				cfg["momentum"] = 0.9
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
			err := b.SetState(0, []ParamState{{Param: pb, Slots: []*tensor.Tensor{tensor.New(3), tensor.New(3)}[:len(a.SlotNames())]}})
			if err == nil || !strings.Contains(err.Error(), "shape [3], want [5]") {
				t.Errorf("SetState with wrong shape: error = %v", err)
			}
		})
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
