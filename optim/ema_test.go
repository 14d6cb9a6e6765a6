package optim

import (
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
)

// TestEMA takes SGD steps of rate 0.1 on a gradient of 1, so that the
// weight goes 1, 0.9, 0.8, 0.7, and checks its average by hand: the first
// step's is the weight, then a = 0.9·a + 0.1·w (0.89, then 0.871).
//
// With an update every second step (gradient accumulation), the weight
// goes 1, 0.9, 0.9, 0.8, 0.8, 0.7; the average is updated at every step, as
// Keras's is, its momentum 0 while no update has been counted (the first
// two steps); overwriting every second update puts it in place at steps 3
// and 4 (Keras counts updates there too).
func TestEMA(t *testing.T) {
	for _, c := range []struct {
		every, accumulate int
		w, a              []float64 // after each step
	}{
		{0, 0, []float64{0.9, 0.8, 0.7}, []float64{0.9, 0.89, 0.871}},
		// Every second step puts the average in place: 0.8 becomes 0.89,
		// then 0.79 after the third step, whose average is 0.9·0.89 + 0.079.
		{2, 0, []float64{0.9, 0.89, 0.79}, []float64{0.9, 0.89, 0.88}},
		{0, 2, []float64{1, 0.9, 0.9, 0.8, 0.8, 0.7}, []float64{1, 0.9, 0.9, 0.89, 0.881, 0.8629}},
		{2, 2, []float64{1, 0.9, 0.9, 0.89, 0.89, 0.79}, []float64{1, 0.9, 0.9, 0.89, 0.89, 0.88}},
	} {
		o := &SGD{LearningRate: 0.1, Options: Options{EMA: EMA{UseEMA: true, EMAMomentum: 0.9, EMAOverwriteFrequency: c.every},
			Accumulation: Accumulation{GradientAccumulationSteps: c.accumulate}}}
		p := newParam([]float64{1})
		for s := range c.w {
			p.Grad.Data[0] = 1
			o.Step([]*nn.Param{p})
			a := o.State()[0].Slots[0].Data[0]
			if math.Abs(float64(p.Value.Data[0])-c.w[s]) > 1e-6 || math.Abs(float64(a)-c.a[s]) > 1e-6 {
				t.Errorf("overwrite every %d, accumulate %d, step %d: w = %v, average %v; want %v and %v", c.every, c.accumulate, s+1, p.Value.Data[0], a, c.w[s], c.a[s])
			}
		}
		if final := c.a[len(c.a)-1]; !Finalize(o) || math.Abs(float64(p.Value.Data[0])-final) > 1e-6 {
			t.Errorf("overwrite every %d, accumulate %d: after Finalize w = %v, want %v", c.every, c.accumulate, p.Value.Data[0], final)
		}
	}
	if o := (&SGD{}); Finalize(o) {
		t.Error("Finalize of an optimizer without EMA reported that it replaced the weights")
	}
}

// TestEMAEveryOptimizer: with EMA on, each optimizer takes the same steps as
// without, bit for bit, and keeps the average of the weights after each,
// in the slot "average" after its own.
func TestEMAEveryOptimizer(t *testing.T) {
	for _, name := range Names() {
		cfg := map[string]any{"use_ema": true, "ema_momentum": 0.5}
		averaged, err := New(name, cfg)
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := New(name, nil)
		a, b := newParam(w0), newParam(w0)
		want := make([]float64, len(w0))
		for s, g := range grads {
			for i, v := range g {
				a.Grad.Data[i], b.Grad.Data[i] = float32(v), float32(v)
			}
			averaged.Step([]*nn.Param{a})
			plain.Step([]*nn.Param{b})
			for i, w := range b.Value.Data {
				if a.Value.Data[i] != w {
					t.Fatalf("%s step %d: w = %v with EMA, %v without", name, s+1, a.Value.Data, b.Value.Data)
				}
				if s == 0 {
					want[i] = float64(w)
				} else {
					want[i] = 0.5*want[i] + 0.5*float64(w)
				}
			}
		}
		names := averaged.SlotNames()
		if got, own := len(names), len(plain.SlotNames()); got != own+1 || names[got-1] != "average" {
			t.Errorf("%s: SlotNames() = %v, want %v and average", name, names, plain.SlotNames())
		}
		slots := averaged.State()[0].Slots
		avg := slots[len(slots)-1].Data
		for i := range want {
			if math.Abs(float64(avg[i])-want[i]) > 1e-6*max(1, math.Abs(want[i])) {
				t.Errorf("%s: average %v, want %v", name, avg, want)
				break
			}
		}
		c := averaged.Config()
		if c["use_ema"] != true || c["ema_momentum"] != 0.5 || c["ema_overwrite_frequency"] != nil {
			t.Errorf("%s: Config() = %v, want use_ema, ema_momentum 0.5 and ema_overwrite_frequency null", name, c)
		}
		again, err := New(name, c)
		if err != nil || again.(options).opts().EMAMomentum != 0.5 {
			t.Errorf("%s: New(Config()) = %v, %v", name, again, err)
		}
		Finalize(averaged)
		for i := range avg {
			if a.Value.Data[i] != avg[i] {
				t.Fatalf("%s: after Finalize w = %v, want the average %v", name, a.Value.Data, avg)
			}
		}
	}
}

func TestEMAErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  map[string]any
		want string
	}{
		{map[string]any{"use_ema": true, "ema_momentum": 1.5}, "ema_momentum = 1.5, want a number in [0, 1]"},
		{map[string]any{"use_ema": true, "ema_momentum": math.NaN()}, "ema_momentum = NaN"},
		{map[string]any{"use_ema": true, "ema_overwrite_frequency": 2.5}, "ema_overwrite_frequency = 2.5, want a whole number of steps >= 1"},
		{map[string]any{"use_ema": true, "ema_overwrite_frequency": -1.0}, "ema_overwrite_frequency = -1"},
		{map[string]any{"use_ema": "yes"}, "use_ema = yes (string), want true or false"},
	} {
		for _, name := range Names() {
			_, err := New(name, c.cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), name) {
				t.Errorf("New(%s, %v) error = %v, want it to contain %q", name, c.cfg, err, c.want)
			}
		}
	}
	o, err := New("adam", map[string]any{"use_ema": true, "ema_overwrite_frequency": 100.0})
	if err != nil || o.Config()["ema_overwrite_frequency"] != 100 {
		t.Errorf("ema_overwrite_frequency 100: %v, %v", o, err)
	}
}
