package optim

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// TestClipping takes one SGD step of rate 1 from zero weights, so that the
// weights are minus the clipped gradients, for gradients (3, 4) and (12) of
// two parameters: norms 5 and 12, together 13.
func TestClipping(t *testing.T) {
	for _, c := range []struct {
		clip   Clipping
		w1, w2 []float64
	}{
		{Clipping{}, []float64{-3, -4}, []float64{-12}},
		{Clipping{ClipNorm: 1}, []float64{-0.6, -0.8}, []float64{-1}},
		{Clipping{ClipNorm: 6}, []float64{-3, -4}, []float64{-6}}, // the first is within its bound
		{Clipping{GlobalClipNorm: 6.5}, []float64{-1.5, -2}, []float64{-6}},
		{Clipping{GlobalClipNorm: 13}, []float64{-3, -4}, []float64{-12}},
		{Clipping{ClipValue: 3.5}, []float64{-3, -3.5}, []float64{-3.5}},
	} {
		for _, name := range Names() {
			if name != "sgd" {
				continue
			}
			o, err := New(name, c.clip.config(map[string]any{"learning_rate": 1.0}))
			if err != nil {
				t.Fatal(err)
			}
			p1, p2 := newParam([]float64{0, 0}), newParam([]float64{0})
			copy(p1.Grad.Data, []float32{3, 4})
			p2.Grad.Data[0] = 12
			o.Step([]*nn.Param{p1, p2})
			for _, p := range []struct {
				got  []float32
				want []float64
			}{{p1.Value.Data, c.w1}, {p2.Value.Data, c.w2}} {
				for i, w := range p.want {
					if math.Abs(float64(p.got[i])-w) > 1e-6*math.Abs(w) {
						t.Errorf("%+v: w = %v, want %v", c.clip, p.got, p.want)
						break
					}
				}
			}
		}
	}
}

// TestClippingEveryOptimizer checks that each optimizer clips: a step on
// gradients 10 times larger than a bound of their own norm is the step on
// the gradients scaled down to that norm.
func TestClippingEveryOptimizer(t *testing.T) {
	for _, name := range Names() {
		for _, key := range []string{"clipnorm", "global_clipnorm", "clipvalue"} {
			bound := 0.5
			clipped, err := New(name, map[string]any{key: bound})
			if err != nil {
				t.Fatal(err)
			}
			plain, _ := New(name, nil)
			a, b := newParam(w0), newParam(w0)
			g := []float64{1, -2, 2, 0, -1} // norm 3.16, values up to 2
			scale := bound / math.Sqrt(10)
			for i, v := range g {
				a.Grad.Data[i] = float32(v)
				if key == "clipvalue" {
					b.Grad.Data[i] = float32(min(max(v, -bound), bound))
				} else {
					b.Grad.Data[i] = float32(v) * float32(scale)
				}
			}
			clipped.Step([]*nn.Param{a})
			plain.Step([]*nn.Param{b})
			for i := range a.Value.Data {
				if a.Value.Data[i] != b.Value.Data[i] {
					t.Errorf("%s with %s %v: w = %v, want %v (the step on the clipped gradients)", name, key, bound, a.Value.Data, b.Value.Data)
					break
				}
			}
			if c := clipped.Config(); c[key] != bound || len(c) != len(plain.Config())+1 {
				t.Errorf("%s: Config() = %v, want %s = %v beside the other options", name, c, key, bound)
			}
		}
	}
}

// TestClippingNaN: a NaN gradient makes the global norm NaN, and with it
// every gradient it scales, as Keras's clip_by_global_norm does; clipvalue
// keeps the NaN where it is.
func TestClippingNaN(t *testing.T) {
	for _, c := range []struct {
		clip     Clipping
		otherNaN bool
	}{{Clipping{GlobalClipNorm: 1}, true}, {Clipping{ClipNorm: 1}, false}, {Clipping{ClipValue: 1}, false}} {
		o := &SGD{LearningRate: 1, Options: Options{Clipping: c.clip}}
		p1, p2 := newParam([]float64{0, 0}), newParam([]float64{0})
		p1.Grad.Data[0], p1.Grad.Data[1], p2.Grad.Data[0] = float32(math.NaN()), 0.25, 0.5
		o.Step([]*nn.Param{p1, p2})
		if !math.IsNaN(float64(p1.Value.Data[0])) {
			t.Errorf("%+v: the NaN gradient's weight is %v", c.clip, p1.Value.Data[0])
		}
		if got := math.IsNaN(float64(p2.Value.Data[0])); got != c.otherNaN {
			t.Errorf("%+v: the other parameter's weight is %v, NaN %v", c.clip, p2.Value.Data[0], c.otherNaN)
		}
	}
}

// TestClippingCores: the norms of a parameter cut into chunks do not depend
// on how many cores sum them.
func TestClippingCores(t *testing.T) {
	const n = 5*chunkLen + 77
	rng := rand.New(rand.NewPCG(3, 4))
	w, g := make([]float32, n), make([]float32, n)
	for i := range w {
		w[i], g[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()*1e3)
	}
	run := func(procs int, clip Clipping) []float32 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		p := &nn.Param{Name: "big", Value: tensor.FromData(slices.Clone(w), n), Grad: tensor.FromData(slices.Clone(g), n), Trainable: true}
		small := newParam([]float64{1, 2, 3})
		copy(small.Grad.Data, []float32{1, 1, 1})
		(&Adam{Options: Options{Clipping: clip}}).Step([]*nn.Param{p, small})
		return append(p.Value.Data, small.Value.Data...)
	}
	for _, clip := range []Clipping{{ClipNorm: 10}, {GlobalClipNorm: 10}} {
		one, many := run(1, clip), run(4, clip)
		for i := range one {
			if math.Float32bits(one[i]) != math.Float32bits(many[i]) {
				t.Fatalf("%+v: value %d = %v on one core, %v on four", clip, i, one[i], many[i])
			}
		}
	}
}

func TestClippingErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  map[string]any
		want string
	}{
		{map[string]any{"clipnorm": 1.0, "clipvalue": 0.5}, "clipnorm and clipvalue are both set: only one of clipnorm, clipvalue and global_clipnorm can be"},
		{map[string]any{"global_clipnorm": -1.0}, "global_clipnorm = -1, want a positive number (or 0: off)"},
		{map[string]any{"clipvalue": math.NaN()}, "clipvalue = NaN, want a positive number"},
		{map[string]any{"clipnorm": math.Inf(1)}, "clipnorm = +Inf, want a positive number"},
		{map[string]any{"clipnorm": "1"}, "clipnorm = 1 (string), want a number"},
	} {
		for _, name := range Names() {
			_, err := New(name, c.cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), name) {
				t.Errorf("New(%s, %v) error = %v, want it to contain %q", name, c.cfg, err, c.want)
			}
		}
	}
}
