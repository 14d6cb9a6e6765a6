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

// TestInitializers draws a 3x3 convolution's kernel (fan_in 144, fan_out
// 288) with each initialiser and checks the mean and variance of its
// 4,608 values against Keras's formulas, and their range: within a
// uniform's bounds and reaching them, within two deviations of a truncated
// normal's mean, beyond them somewhere for an untruncated normal.
func TestInitializers(t *testing.T) {
	const fanIn, fanOut = 3 * 3 * 16, 3 * 3 * 32
	uniform := func(lo, hi float64) [4]float64 { return [4]float64{(lo + hi) / 2, (hi - lo) * (hi - lo) / 12, lo, hi} }
	truncated := func(mean, stddev float64) [4]float64 { // stddev before truncation
		s := stddev * 0.87962566103423978
		return [4]float64{mean, s * s, mean - 2*stddev, mean + 2*stddev}
	}
	normal := func(mean, stddev float64) [4]float64 {
		return [4]float64{mean, stddev * stddev, math.Inf(-1), math.Inf(1)}
	}
	glorot := math.Sqrt(6.0 / (fanIn + fanOut))
	for _, tt := range []struct {
		init string
		want [4]float64 // mean, variance, lowest, highest
	}{
		{"", uniform(-glorot, glorot)},
		{"glorot_normal", truncated(0, math.Sqrt(2.0/(fanIn+fanOut))/0.87962566103423978)},
		{"he_uniform", uniform(-math.Sqrt(6.0/fanIn), math.Sqrt(6.0/fanIn))},
		{"he_normal", truncated(0, math.Sqrt(2.0/fanIn)/0.87962566103423978)},
		{"lecun_uniform", uniform(-math.Sqrt(3.0/fanIn), math.Sqrt(3.0/fanIn))},
		{"lecun_normal", truncated(0, math.Sqrt(1.0/fanIn)/0.87962566103423978)},
		// Keras's EfficientNet: its convolutions' and its top Dense's.
		{"variance_scaling(scale=2, mode=fan_out, distribution=truncated_normal)", truncated(0, math.Sqrt(2.0/fanOut)/0.87962566103423978)},
		{"variance_scaling(scale=0.3333333333333333, mode=fan_out, distribution=uniform)", uniform(-math.Sqrt(1.0/fanOut), math.Sqrt(1.0/fanOut))},
		{"variance_scaling(scale=3, mode=fan_avg, distribution=untruncated_normal)", normal(0, math.Sqrt(3/((fanIn+fanOut)/2.0)))},
		{"variance_scaling(mode=fan_in, distribution=normal)", truncated(0, math.Sqrt(1.0/fanIn)/0.87962566103423978)},
		{"random_normal(mean=0.5, stddev=0.1)", normal(0.5, 0.1)},
		{"random_normal", normal(0, 0.05)},
		{"truncated_normal(stddev=0.2)", truncated(0, 0.2)},
		{"random_uniform(minval=-0.1, maxval=0.3)", uniform(-0.1, 0.3)},
		{"random_uniform()", uniform(-0.05, 0.05)},
	} {
		l := build(t, &nn.Conv2D{Filters: 32, KernelSize: [2]int{3, 3}, KernelInit: tt.init}, 8, 8, 16)
		w := l.Params()[0].Value.Data
		var sum, sq float64
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range w {
			sum += float64(v)
			lo, hi = min(lo, float64(v)), max(hi, float64(v))
		}
		n := float64(len(w))
		mean := sum / n
		for _, v := range w {
			sq += (float64(v) - mean) * (float64(v) - mean)
		}
		variance := sq / n
		wantMean, wantVar, wantLo, wantHi := tt.want[0], tt.want[1], tt.want[2], tt.want[3]
		if se := 4 * math.Sqrt(wantVar/n); math.Abs(mean-wantMean) > se {
			t.Errorf("%q: mean %.5g, want %.5g ± %.2g", tt.init, mean, wantMean, se)
		}
		if math.Abs(variance/wantVar-1) > 0.06 {
			t.Errorf("%q: variance %.5g, want %.5g", tt.init, variance, wantVar)
		}
		spread := math.Sqrt(wantVar)
		switch {
		case math.IsInf(wantLo, 0):
			if lo > wantMean-2.5*spread || hi < wantMean+2.5*spread {
				t.Errorf("%q: values in [%.4g, %.4g], want some beyond 2.5 deviations of %.4g (not truncated)", tt.init, lo, hi, spread)
			}
		case lo < float64(float32(wantLo)) || hi > float64(float32(wantHi)) || lo > wantLo+0.1*(wantHi-wantLo) || hi < wantHi-0.1*(wantHi-wantLo):
			t.Errorf("%q: values in [%.4g, %.4g], want within and near [%.4g, %.4g]", tt.init, lo, hi, wantLo, wantHi)
		}
		if b := l.Params()[1].Value.Data; slices.ContainsFunc(b, func(v float32) bool { return v != 0 }) {
			t.Errorf("%q: bias not zero", tt.init)
		}
	}
}

// The named initialisers draw what their formulas gave before they became
// cases of VarianceScaling: the same values, bit for bit, from the same
// source, so that a seed gives the same network as it did.
func TestInitializersKeepTheirDraws(t *testing.T) {
	const fanIn, fanOut = 5 * 5 * 3, 5 * 5 * 8
	for _, tt := range []struct {
		init string
		draw func(rng *rand.Rand) float32
	}{
		{"glorot_uniform", func(rng *rand.Rand) float32 {
			return float32((2*rng.Float64() - 1) * math.Sqrt(6/float64(fanIn+fanOut)))
		}},
		{"he_uniform", func(rng *rand.Rand) float32 { return float32((2*rng.Float64() - 1) * math.Sqrt(6/float64(fanIn))) }},
		{"glorot_normal", truncatedDraw(math.Sqrt(2/float64(fanIn+fanOut)) / 0.87962566103423978)},
		{"he_normal", truncatedDraw(math.Sqrt(2/float64(fanIn)) / 0.87962566103423978)},
	} {
		l := build(t, &nn.Conv2D{Filters: 8, KernelSize: [2]int{5, 5}, KernelInit: tt.init}, 9, 9, 3)
		rng := rand.New(rand.NewPCG(1, 2))
		for i, v := range l.Params()[0].Value.Data {
			if want := tt.draw(rng); v != want {
				t.Fatalf("%s: value %d = %v, want %v", tt.init, i, v, want)
			}
		}
	}
}

func truncatedDraw(stddev float64) func(rng *rand.Rand) float32 {
	return func(rng *rand.Rand) float32 {
		v := rng.NormFloat64()
		for math.Abs(v) > 2 {
			v = rng.NormFloat64()
		}
		return float32(v * stddev)
	}
}

// An initialiser's text reads back as its name when it has one, as its call
// with every argument otherwise; bad texts are refused saying why.
func TestInitializerText(t *testing.T) {
	for text, want := range map[string]string{
		"":            "glorot_uniform",
		" he_normal ": "he_normal",
		"variance_scaling(scale=2, mode=fan_in, distribution=truncated_normal)": "he_normal",
		"variance_scaling()": "lecun_normal",
		"variance_scaling(mode=fan_avg, distribution=uniform)": "glorot_uniform",
		"variance_scaling(scale=2.5, mode=fan_out)":            "variance_scaling(scale=2.5, mode=fan_out, distribution=truncated_normal)",
		"random_normal":                       "random_normal(mean=0, stddev=0.05)",
		"truncated_normal( stddev = 1e-2 )":   "truncated_normal(mean=0, stddev=0.01)",
		"random_uniform(maxval=1, minval=-1)": "random_uniform(minval=-1, maxval=1)",
	} {
		if got, err := nn.InitializerText(text); err != nil || got != want {
			t.Errorf("InitializerText(%q) = %q, %v; want %q", text, got, err, want)
		}
	}
	for text, want := range map[string]string{
		"ones":                                    `unknown kernel initializer "ones" (valid: glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal, zeros, or variance_scaling(scale, mode, distribution), random_normal(mean, stddev), truncated_normal(mean, stddev), random_uniform(minval, maxval))`,
		"he_normal(scale=2)":                      `kernel initializer "he_normal(scale=2)": he_normal takes no arguments`,
		"variance_scaling(scale=2":                "no closing parenthesis",
		"variance_scaling(scale=2) x":             "no closing parenthesis",
		"variance_scaling(scale=0)":               "scale = 0: want a positive number",
		"variance_scaling(mode=fan_mid)":          `mode = "fan_mid": want fan_in, fan_out or fan_avg`,
		"variance_scaling(distribution=gamma)":    `distribution = "gamma": want uniform, truncated_normal or untruncated_normal`,
		"random_normal(stddev=-1)":                "stddev = -1: want at least 0",
		"random_uniform(minval=1, maxval=0)":      "minval = 1 is above maxval = 0",
		"random_normal(scale=2)":                  `unknown argument "scale" of random_normal (valid: mean, stddev)`,
		"random_normal(stddev=1, stddev=2)":       "argument stddev given twice",
		"random_normal(stddev)":                   `argument "stddev": want key=value`,
		"random_normal(stddev=NaN)":               `stddev = "NaN": want a finite number`,
		"random_normal(mean=1e39)":                `mean = "1e39": want a finite number`,
		"variance_scaling(scale=2, mode=fan_in)(": "no closing parenthesis",
	} {
		if _, err := nn.InitializerText(text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("InitializerText(%q): %v, want an error containing %q", text, err, want)
		}
		if _, err := (&nn.Dense{Units: 2, KernelInit: text}).Build([]int{3}, rand.New(rand.NewPCG(1, 2))); err == nil || !strings.Contains(err.Error(), "Dense: ") || !strings.Contains(err.Error(), want) {
			t.Errorf("Build with %q: %v, want an error naming the layer, containing %q", text, err, want)
		}
	}
}

// Keras's initializer objects read as texts, Keras 2's and Keras 3's, the
// seed ignored; every text writes as an object that reads back as itself.
func TestInitializerObjects(t *testing.T) {
	for doc, want := range map[string]string{
		`{"class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal", "seed": null}}`:                                                                "variance_scaling(scale=2, mode=fan_out, distribution=truncated_normal)",
		`{"module": "keras.initializers", "class_name": "VarianceScaling", "config": {"scale": 0.3333333333333333, "mode": "fan_out", "distribution": "uniform", "seed": null}, "registered_name": null}`: "variance_scaling(scale=0.3333333333333333, mode=fan_out, distribution=uniform)",
		`{"class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_out", "distribution": "normal", "seed": null}}`:                                                                          "variance_scaling(scale=2, mode=fan_out, distribution=truncated_normal)",
		`{"class_name": "LecunNormal", "config": {"seed": 7}}`:                                     "lecun_normal",
		`{"class_name": "HeUniform", "config": {"seed": null}}`:                                    "he_uniform",
		`{"class_name": "Zeros", "config": {}}`:                                                    "zeros",
		`{"class_name": "RandomNormal", "config": {"mean": 0.0, "stddev": 0.01, "seed": null}}`:    "random_normal(mean=0, stddev=0.01)",
		`{"class_name": "TruncatedNormal", "config": {"stddev": 0.02}}`:                            "truncated_normal(mean=0, stddev=0.02)",
		`{"class_name": "RandomUniform", "config": {"minval": -0.1, "maxval": 0.1, "seed": null}}`: "random_uniform(minval=-0.1, maxval=0.1)",
	} {
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		if got, err := nn.InitializerText(v); err != nil || got != want {
			t.Errorf("InitializerText(%s) = %q, %v; want %q", doc, got, err, want)
		}
	}
	for doc, want := range map[string]string{
		`{"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": null}}`:      "want an initializer's name or call, or a Keras initializer object (GlorotNormal, GlorotUniform, HeNormal",
		`{"class_name": "VarianceScaling", "config": {"scale": 2.0, "gain": 1.0}}`: `VarianceScaling: unknown argument "gain"`,
		`{"class_name": "VarianceScaling", "config": {"scale": -2.0}}`:             "VarianceScaling: scale = -2: want a positive number",
		`{"class_name": "VarianceScaling", "config": {"mode": 3}}`:                 `VarianceScaling: mode = "3": want fan_in, fan_out or fan_avg`,
		`{"class_name": "RandomNormal", "config": {"stddev": [1]}}`:                "RandomNormal: stddev = [1]: want a number or a string",
		`{"module": "mine", "class_name": "HeNormal", "config": {}}`:               "want an initializer's name",
		`{"class_name": "HeNormal", "config": "x"}`:                                "want an initializer's name",
		`3`: "want an initializer's name",
	} {
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		if _, err := nn.InitializerText(v); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("InitializerText(%s): %v, want an error containing %q", doc, err, want)
		}
	}
	for _, text := range append(slices.Clone(nn.InitializerNames),
		"variance_scaling(scale=2, mode=fan_out, distribution=truncated_normal)", "variance_scaling(scale=0.5, mode=fan_avg, distribution=untruncated_normal)",
		"random_normal(mean=0.1, stddev=0.02)", "truncated_normal(mean=0, stddev=0.05)", "random_uniform(minval=-1, maxval=2)") {
		b, err := json.Marshal(nn.InitializerObject(text))
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		if got, err := nn.InitializerText(v); err != nil || got != text {
			t.Errorf("%s written as %s reads back as %q, %v", text, b, got, err)
		}
	}
	if obj := nn.InitializerObject("ones"); obj != nil {
		t.Errorf("InitializerObject(\"ones\") = %v, want nil", obj)
	}
}
