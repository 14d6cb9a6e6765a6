package nn

import (
	"fmt"
	"math"
	"slices"
)

// Constraint is Keras's weight constraint, applied to a parameter after
// every optimizer step (keras.constraints): with the norms taken over
// Axis of the weights (Keras's axis: 0 for a Dense kernel, the incoming
// weights of each unit; [0, 1, 2] for a convolution's, each filter whole),
//
//	max_norm      w·clip(n, 0, Max)/(ε + n)
//	min_max_norm  w·(Rate·clip(n, Min, Max) + (1 - Rate)·n)/(ε + n)
//	unit_norm     w/(ε + n)
//	non_neg       w where w ≥ 0, else 0
//
// with ε = 1e-7, as Keras writes them. The zero value is none.
type Constraint struct {
	Kind     string // "max_norm", "min_max_norm", "unit_norm", "non_neg"; "" for none
	Min, Max float64
	Rate     float64
	Axis     []int
}

// IsZero reports whether c constrains nothing.
func (c Constraint) IsZero() bool { return c.Kind == "" }

// Apply constrains the weights w of the given shape in place, the norms in
// scratch, which it returns grown as needed.
func (c Constraint) Apply(w []float32, shape []int, scratch []float64) []float64 {
	if c.IsZero() {
		return scratch
	}
	if c.Kind == "non_neg" {
		for i, v := range w {
			if !(v >= 0) {
				w[i] = 0
			}
		}
		return scratch
	}
	// Each value's group: its index over the axes not reduced.
	strides, groups := make([]int, len(shape)), 1
	for a := len(shape) - 1; a >= 0; a-- {
		strides[a] = groups
		if !slices.Contains(c.Axis, a) {
			groups *= shape[a]
		} else {
			strides[a] = 0
		}
	}
	if cap(scratch) < groups {
		scratch = make([]float64, groups)
	}
	norms := scratch[:groups]
	clear(norms)
	group := func(i int) int {
		g := 0
		for a := len(shape) - 1; a >= 0; a-- {
			g += i % shape[a] * strides[a]
			i /= shape[a]
		}
		return g
	}
	for i, v := range w {
		norms[group(i)] += float64(v) * float64(v)
	}
	for g, sq := range norms {
		n := math.Sqrt(sq)
		var want float64
		switch c.Kind {
		case "max_norm":
			want = min(n, c.Max)
		case "min_max_norm":
			want = c.Rate*min(max(n, c.Min), c.Max) + (1-c.Rate)*n
		default: // unit_norm
			want = 1
		}
		norms[g] = want / (1e-7 + n)
	}
	for i, v := range w {
		w[i] = float32(float64(v) * norms[group(i)])
	}
	return scratch
}

// check refuses an unknown kind, an axis outside a parameter of rank
// rank, and bounds out of range, naming what c constrains.
func (c Constraint) check(l Layer, what string, rank int) error {
	if c.IsZero() {
		return nil
	}
	switch c.Kind {
	case "max_norm", "min_max_norm", "unit_norm", "non_neg":
	default:
		return errorf(l, "%s: unknown constraint %q (valid: max_norm, min_max_norm, unit_norm, non_neg)", what, c.Kind)
	}
	for _, a := range c.Axis {
		if a < 0 || a >= rank || count(c.Axis, a) > 1 {
			return errorf(l, "%s: axis %v: want distinct axes of the weights, 0 to %d", what, c.Axis, rank-1)
		}
	}
	switch {
	case c.Kind == "max_norm" && !(c.Max > 0 && finite32(c.Max)):
		return errorf(l, "%s: max_value = %v: want a positive number", what, c.Max)
	case c.Kind == "min_max_norm" && !(c.Min >= 0 && c.Min <= c.Max && finite32(c.Max) && c.Rate >= 0 && c.Rate <= 1):
		return errorf(l, "%s: min_value %v, max_value %v, rate %v: want 0 ≤ min ≤ max and a rate from 0 to 1", what, c.Min, c.Max, c.Rate)
	}
	return nil
}

// object is the constraint as Keras writes it, such as {"class_name":
// "MaxNorm", "config": {"max_value": 3, "axis": 0}}; nil for none.
func (c Constraint) object() map[string]any {
	if c.IsZero() {
		return nil
	}
	var axis any = slices.Clone(c.Axis)
	if len(c.Axis) == 1 {
		axis = c.Axis[0]
	}
	switch c.Kind {
	case "max_norm":
		return map[string]any{"class_name": "MaxNorm", "config": map[string]any{"max_value": c.Max, "axis": axis}}
	case "min_max_norm":
		return map[string]any{"class_name": "MinMaxNorm", "config": map[string]any{"min_value": c.Min, "max_value": c.Max, "rate": c.Rate, "axis": axis}}
	case "unit_norm":
		return map[string]any{"class_name": "UnitNorm", "config": map[string]any{"axis": axis}}
	}
	return map[string]any{"class_name": "NonNeg", "config": map[string]any{}}
}

// constraintDefaults are Keras's constraint classes with their defaults,
// constraintClasses their names as strings.
var (
	constraintDefaults = map[string]Constraint{
		"MaxNorm": {Kind: "max_norm", Max: 2, Axis: []int{0}}, "MinMaxNorm": {Kind: "min_max_norm", Max: 1, Rate: 1, Axis: []int{0}},
		"UnitNorm": {Kind: "unit_norm", Axis: []int{0}}, "NonNeg": {Kind: "non_neg"},
	}
	constraintClasses = map[string]string{"max_norm": "MaxNorm", "min_max_norm": "MinMaxNorm", "unit_norm": "UnitNorm", "non_neg": "NonNeg"}
)

// constraint reads a constraint as Keras writes it: null, "max_norm",
// "non_neg", "unit_norm", "min_max_norm" (Keras's defaults), or a MaxNorm,
// MinMaxNorm, UnitNorm or NonNeg object (Keras 3's with its module).
func (f *fields) constraint(key string) Constraint {
	v, ok := f.get(key)
	if !ok {
		return Constraint{}
	}
	const want = `null, or a MaxNorm, MinMaxNorm, UnitNorm or NonNeg constraint`
	class, cfg, _ := kerasObject(v, "keras.constraints")
	if name, ok := v.(string); ok {
		class = constraintClasses[name]
	}
	c, known := constraintDefaults[class]
	if !known {
		f.fail(key, want, v)
		return Constraint{}
	}
	for k, x := range cfg {
		if k == "axis" {
			sub := &fields{typ: f.typ, m: map[string]any{"axis": x}}
			if n, ok := integer(x); ok {
				c.Axis = []int{n}
			} else if c.Axis = sub.ints("axis"); sub.err != nil || c.Axis == nil {
				f.fail(key, want+" with an axis or a list of axes", v)
				return Constraint{}
			}
			continue
		}
		n, isNumber := number(x)
		switch {
		case !isNumber || k != "max_value" && k != "min_value" && k != "rate":
			f.fail(key, fmt.Sprintf("%s, its config max_value, min_value, rate and axis", want), v)
			return Constraint{}
		case k == "max_value":
			c.Max = n
		case k == "min_value":
			c.Min = n
		default:
			c.Rate = n
		}
	}
	return c
}

// count returns how many times v is in s.
func count(s []int, v int) int {
	n := 0
	for _, e := range s {
		if e == v {
			n++
		}
	}
	return n
}

// checkConstraints checks a layer's kernel and bias constraints, the
// kernel's config key and rank naming and bounding its axes.
func checkConstraints(l Layer, kernelKey string, kernelRank int, kernel, bias Constraint) error {
	if err := kernel.check(l, kernelKey, kernelRank); err != nil {
		return err
	}
	return bias.check(l, "bias_constraint", 1)
}

// constrain gives a layer's kernel and bias (nil without one) their
// constraints.
func constrain(kernel, bias *Param, kc, bc Constraint) {
	kernel.Constraint = kc
	if bias != nil {
		bias.Constraint = bc
	}
}

// constraintConfig adds a layer's constraints to its config, those that
// are set.
func constraintConfig(cfg map[string]any, kernelKey string, kernel, bias Constraint) map[string]any {
	if o := kernel.object(); o != nil {
		cfg[kernelKey] = o
	}
	if o := bias.object(); o != nil {
		cfg["bias_constraint"] = o
	}
	return cfg
}
