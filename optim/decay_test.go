package optim

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
)

// TestDecayExclusion: with weight decay 0.1 and exclude_from_weight_decay
// ["bias", "^gam"], each optimizer updates a bias and a gamma exactly as
// without weight decay, bit for bit, and a kernel and a beta exactly as
// with it; the names survive Config, JSON and New.
func TestDecayExclusion(t *testing.T) {
	names := []string{"kernel", "bias", "gamma", "beta"}
	excluded := map[string]bool{"bias": true, "gamma": true}
	for _, name := range Names() {
		run := func(name string, cfg map[string]any) []*nn.Param {
			o, err := New(name, cfg)
			if err != nil {
				t.Fatal(err)
			}
			var ps []*nn.Param
			for _, n := range names {
				p := newParam(w0)
				p.Name = n
				ps = append(ps, p)
			}
			for _, g := range grads {
				for _, p := range ps {
					for i, v := range g {
						p.Grad.Data[i] = float32(v)
					}
				}
				o.Step(ps)
			}
			return ps
		}
		cfg := map[string]any{"learning_rate": 0.1, "weight_decay": 0.1, "exclude_from_weight_decay": []string{"bias", "^gam"}}
		got := run(name, cfg)
		decayed := run(name, map[string]any{"learning_rate": 0.1, "weight_decay": 0.1})
		without := name
		if name == "adamw" { // whose zero weight decay means its default
			without = "adam"
		}
		plain := run(without, map[string]any{"learning_rate": 0.1, "weight_decay": 0.0})
		for i, p := range got {
			want := decayed[i]
			if excluded[p.Name] {
				want = plain[i]
			}
			if !slices.Equal(p.Value.Data, want.Value.Data) {
				t.Errorf("%s: %s = %v, want %v (decayed: %v)", name, p.Name, p.Value.Data, want.Value.Data, !excluded[p.Name])
			}
		}
		if slices.Equal(decayed[0].Value.Data, plain[0].Value.Data) {
			t.Fatalf("%s: weight decay changed nothing", name)
		}

		o, _ := New(name, cfg)
		b, err := json.Marshal(o.Config())
		if err != nil {
			t.Fatal(err)
		}
		var back map[string]any
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		again, err := New(name, back)
		if err != nil || !slices.Equal(again.(options).opts().ExcludeFromWeightDecay, []string{"bias", "^gam"}) {
			t.Errorf("%s: New(Config()) through JSON: %v, %v", name, again, err)
		}
	}
}

func TestDecayExclusionErrors(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{[]string{"bias", "(gamma"}, "exclude_from_weight_decay: error parsing regexp: missing closing ): `(gamma`"},
		{[]string{""}, "exclude_from_weight_decay holds an empty name"},
		{[]any{"bias", 3.0}, "exclude_from_weight_decay holds 3 (float64), want names (strings)"},
		{"bias", "exclude_from_weight_decay = bias (string), want a list of names"},
	} {
		for _, name := range Names() {
			_, err := New(name, map[string]any{"weight_decay": 0.1, "exclude_from_weight_decay": c.v})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), name) {
				t.Errorf("New(%s, exclude_from_weight_decay %v) error = %v, want it to contain %q", name, c.v, err, c.want)
			}
		}
	}
}
