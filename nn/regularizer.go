package nn

import (
	"math"
)

// Regularizer is Keras's weight penalty (keras.regularizers L1, L2 and
// L1L2): L1·Σ|w| + L2·Σw² over a parameter's weights, added to the loss
// of every batch, in training and evaluation alike, as Keras adds it; its
// gradient, L1·sign(w) + 2·L2·w, joins the weights' gradient in training.
// The zero value is no penalty.
type Regularizer struct {
	L1, L2 float64
}

// IsZero reports whether r adds nothing.
func (r Regularizer) IsZero() bool { return r.L1 == 0 && r.L2 == 0 }

// Penalty returns L1·Σ|w| + L2·Σw², summed in float64.
func (r Regularizer) Penalty(w []float32) float64 {
	var abs, sq float64
	for _, v := range w {
		abs += math.Abs(float64(v))
		sq += float64(v) * float64(v)
	}
	return r.L1*abs + r.L2*sq
}

// AddGradient adds the penalty's gradient, L1·sign(w) + 2·L2·w, to grad.
func (r Regularizer) AddGradient(grad, w []float32) {
	l1, l2 := float32(r.L1), float32(2*r.L2)
	for i, v := range w {
		s := float32(0)
		switch {
		case v > 0:
			s = l1
		case v < 0:
			s = -l1
		}
		grad[i] += float32(l2*v) + s
	}
}

// check refuses a negative or non-finite factor, naming what r regularizes.
func (r Regularizer) check(l Layer, what string) error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"l1", r.L1}, {"l2", r.L2}} {
		if !(f.v >= 0) || !finite32(f.v) {
			return errorf(l, "%s: %s = %v: want a finite number, at least 0", what, f.name, f.v)
		}
	}
	return nil
}

// object is the regularizer as Keras writes it: {"class_name": "L2",
// "config": {"l2": 0.01}}, L1 or L1L2 alike; nil for none.
func (r Regularizer) object() map[string]any {
	switch {
	case r.IsZero():
		return nil
	case r.L1 == 0:
		return map[string]any{"class_name": "L2", "config": map[string]any{"l2": r.L2}}
	case r.L2 == 0:
		return map[string]any{"class_name": "L1", "config": map[string]any{"l1": r.L1}}
	}
	return map[string]any{"class_name": "L1L2", "config": map[string]any{"l1": r.L1, "l2": r.L2}}
}

// regularizerArgs are the factors each of Keras's regularizer classes takes.
var regularizerArgs = map[string][]string{"L1": {"l1"}, "L2": {"l2"}, "L1L2": {"l1", "l2"}}

// regularizer reads a regularizer as Keras writes it: null, "l1" or "l2"
// (a factor of 0.01, Keras's default), or an L1, L2 or L1L2 object
// (Keras 3's with its module).
func (f *fields) regularizer(key string) Regularizer {
	v, ok := f.get(key)
	if !ok {
		return Regularizer{}
	}
	const want = `null, "l1", "l2", or an L1, L2 or L1L2 regularizer of factors from 0 up`
	switch v := v.(type) {
	case string:
		switch v {
		case "l1":
			return Regularizer{L1: 0.01}
		case "l2":
			return Regularizer{L2: 0.01}
		}
	case map[string]any:
		class, cfg, ok := kerasObject(v, "keras.regularizers")
		keys := regularizerArgs[class]
		if !ok || keys == nil {
			break
		}
		var r Regularizer // Keras's defaults: L1(0.01), L2(0.01), L1L2(0, 0)
		switch class {
		case "L1":
			r.L1 = 0.01
		case "L2":
			r.L2 = 0.01
		}
		used := 0
		for _, k := range keys {
			x, given := cfg[k]
			if !given {
				continue
			}
			n, isNumber := number(x)
			if !isNumber || !(n >= 0) || !finite32(n) {
				f.fail(key, want, v)
				return Regularizer{}
			}
			used++
			if k == "l1" {
				r.L1 = n
			} else {
				r.L2 = n
			}
		}
		if used == len(cfg) {
			return r
		}
	}
	f.fail(key, want, v)
	return Regularizer{}
}

// checkRegularizers checks a layer's kernel and bias regularizers, the
// kernel's config key naming it.
func checkRegularizers(l Layer, kernelKey string, kernel, bias Regularizer) error {
	if err := kernel.check(l, kernelKey); err != nil {
		return err
	}
	return bias.check(l, "bias_regularizer")
}

// regularize gives a layer's kernel and bias (nil without one) their
// regularizers.
func regularize(kernel, bias *Param, kr, br Regularizer) {
	kernel.Regularizer = kr
	if bias != nil {
		bias.Regularizer = br
	}
}

// regularizerConfig adds a layer's regularizers to its config, those
// that are set.
func regularizerConfig(cfg map[string]any, kernelKey string, kernel, bias Regularizer) map[string]any {
	if o := kernel.object(); o != nil {
		cfg[kernelKey] = o
	}
	if o := bias.object(); o != nil {
		cfg["bias_regularizer"] = o
	}
	return cfg
}
