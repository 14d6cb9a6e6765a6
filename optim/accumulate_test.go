package optim

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
)

// TestAccumulationEveryOptimizer: with gradient_accumulation_steps 3, each
// optimizer (with weight decay and global clipping, which act on update
// steps only) leaves the weights alone for two steps, then takes, bit for
// bit, the step the same optimizer without accumulation takes on the mean
// gradient, (g3 + (g2 + g1))/3: Keras's sum and order. Two rounds, so that
// the bias corrections count updates, not steps.
func TestAccumulationEveryOptimizer(t *testing.T) {
	const n, rounds = 3, 2
	rng := rand.New(rand.NewPCG(3, 4))
	g := make([][]float32, n*rounds)
	for s := range g {
		g[s] = make([]float32, len(w0))
		for i := range g[s] {
			g[s][i] = float32(rng.NormFloat64())
		}
	}
	for _, name := range Names() {
		cfg := map[string]any{"learning_rate": 0.05, "weight_decay": 0.1, "global_clipnorm": 1.0}
		plain, err := New(name, cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg["gradient_accumulation_steps"] = n
		acc, err := New(name, cfg)
		if err != nil {
			t.Fatal(err)
		}
		a, b := newParam(w0), newParam(w0)
		for r := range rounds {
			sum := make([]float32, len(w0))
			for k := range n {
				s := r*n + k
				before := slices.Clone(a.Value.Data)
				copy(a.Grad.Data, g[s])
				acc.Step([]*nn.Param{a})
				if k < n-1 {
					for i := range sum {
						sum[i] = g[s][i] + sum[i]
					}
					if !slices.Equal(a.Value.Data, before) {
						t.Fatalf("%s step %d: weights %v changed to %v on a step that only sums the gradients", name, s+1, before, a.Value.Data)
					}
					if got := acc.State()[0].Slots[len(acc.SlotNames())-1].Data; !slices.Equal(got, sum) {
						t.Fatalf("%s step %d: gradient_accumulator = %v, want %v", name, s+1, got, sum)
					}
					continue
				}
				for i := range sum {
					b.Grad.Data[i] = (g[s][i] + sum[i]) / n
				}
				plain.Step([]*nn.Param{b})
				if !slices.Equal(a.Value.Data, b.Value.Data) {
					t.Fatalf("%s update %d: w = %v, want %v (one step on the mean gradient)", name, r+1, a.Value.Data, b.Value.Data)
				}
				st, want := acc.State()[0].Slots, plain.State()[0].Slots
				for j := range want {
					if !slices.Equal(st[j].Data, want[j].Data) {
						t.Errorf("%s update %d: slot %s = %v, want %v", name, r+1, acc.SlotNames()[j], st[j].Data, want[j].Data)
					}
				}
				if got := st[len(st)-1].Data; slices.ContainsFunc(got, func(x float32) bool { return x != 0 }) {
					t.Errorf("%s update %d: gradient_accumulator = %v after the update, want zeros", name, r+1, got)
				}
			}
		}
		if acc.Iterations() != n*rounds || plain.Iterations() != rounds {
			t.Errorf("%s: Iterations() = %d and %d, want %d and %d", name, acc.Iterations(), plain.Iterations(), n*rounds, rounds)
		}
		if names := acc.SlotNames(); !slices.Equal(names, append(plain.SlotNames(), "gradient_accumulator")) {
			t.Errorf("%s: SlotNames() = %v, want %v and gradient_accumulator", name, names, plain.SlotNames())
		}
		c := acc.Config()
		if c["gradient_accumulation_steps"] != n {
			t.Errorf("%s: Config() = %v, want gradient_accumulation_steps %d", name, c, n)
		}
		if again, err := New(name, c); err != nil || again.(options).opts().GradientAccumulationSteps != n {
			t.Errorf("%s: New(Config()) = %v, %v", name, again, err)
		}
		if _, ok := plain.Config()["gradient_accumulation_steps"]; ok {
			t.Errorf("%s: Config() of an optimizer without accumulation = %v, want no gradient_accumulation_steps", name, plain.Config())
		}
	}
}

func TestAccumulationErrors(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{1, "gradient_accumulation_steps = 1, want an integer >= 2 (or 0: off)"},
		{-2.0, "gradient_accumulation_steps = -2, want an integer >= 2 (or null: off)"},
		{2.5, "gradient_accumulation_steps = 2.5, want an integer >= 2"},
		{"4", "gradient_accumulation_steps = 4 (string), want a number"},
	} {
		for _, name := range Names() {
			_, err := New(name, map[string]any{"gradient_accumulation_steps": c.v})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), name) {
				t.Errorf("New(%s, gradient_accumulation_steps %v) error = %v, want it to contain %q", name, c.v, err, c.want)
			}
		}
	}
	if o, err := New("adam", map[string]any{"gradient_accumulation_steps": nil}); err != nil || o.Config()["gradient_accumulation_steps"] != nil {
		t.Errorf("gradient_accumulation_steps null (Keras's default): %v, %v", o, err)
	}
}
