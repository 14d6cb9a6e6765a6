package optim

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// Names returns the optimizer names that [New] accepts.
func Names() []string {
	return []string{"adadelta", "adagrad", "adam", "adamax", "adamw", "lion", "nadam", "rmsprop", "sgd"}
}

// New returns the optimizer called name (case-insensitive, one of [Names])
// configured from cfg, whose keys are Keras's argument names
// (learning_rate, momentum, rho, epsilon, beta_1, ..., and for every one
// clipnorm, clipvalue or global_clipnorm, see [Clipping], use_ema,
// ema_momentum and ema_overwrite_frequency, see [EMA],
// gradient_accumulation_steps, see [Accumulation], and
// exclude_from_weight_decay, see [DecayExclusion]). Missing keys take the
// defaults; an unknown name or key, or a value of the wrong type or range, is
// an error naming it.
func New(name string, cfg map[string]any) (Optimizer, error) {
	c := config{opt: strings.ToLower(name), m: cfg}
	var opts Options
	opts.read(&c)
	var o Optimizer
	switch c.opt {
	case "sgd":
		s := &SGD{}
		c.float("learning_rate", &s.LearningRate)
		c.float("momentum", &s.Momentum)
		c.bool("nesterov", &s.Nesterov)
		c.float("weight_decay", &s.WeightDecay)
		o = s
	case "rmsprop":
		r := &RMSprop{}
		c.float("learning_rate", &r.LearningRate)
		c.float("rho", &r.Rho)
		c.float("epsilon", &r.Epsilon)
		c.float("momentum", &r.Momentum)
		c.bool("centered", &r.Centered)
		c.bool("epsilon_inside_sqrt", &r.EpsilonInsideSqrt)
		c.float("weight_decay", &r.WeightDecay)
		o = r
	case "adagrad":
		a := &Adagrad{}
		c.float("learning_rate", &a.LearningRate)
		c.float("initial_accumulator_value", &a.InitialAccumulatorValue)
		c.float("epsilon", &a.Epsilon)
		c.float("weight_decay", &a.WeightDecay)
		o = a
	case "adadelta":
		a := &Adadelta{}
		c.float("learning_rate", &a.LearningRate)
		c.float("rho", &a.Rho)
		c.float("epsilon", &a.Epsilon)
		c.float("weight_decay", &a.WeightDecay)
		o = a
	case "adamax", "nadam":
		var lr, b1, b2, eps, wd float64
		for _, f := range []struct {
			key string
			v   *float64
		}{{"learning_rate", &lr}, {"beta_1", &b1}, {"beta_2", &b2}, {"epsilon", &eps}, {"weight_decay", &wd}} {
			c.float(f.key, f.v)
		}
		if c.opt == "adamax" {
			o = &Adamax{LearningRate: lr, Beta1: b1, Beta2: b2, Epsilon: eps, WeightDecay: wd}
		} else {
			o = &Nadam{LearningRate: lr, Beta1: b1, Beta2: b2, Epsilon: eps, WeightDecay: wd}
		}
	case "lion":
		l := &Lion{}
		c.float("learning_rate", &l.LearningRate)
		c.float("beta_1", &l.Beta1)
		c.float("beta_2", &l.Beta2)
		c.float("weight_decay", &l.WeightDecay)
		o = l
	case "adam", "adamw":
		a := &Adam{}
		c.float("learning_rate", &a.LearningRate)
		c.float("beta_1", &a.Beta1)
		c.float("beta_2", &a.Beta2)
		c.float("epsilon", &a.Epsilon)
		c.float("weight_decay", &a.WeightDecay)
		if c.opt == "adamw" {
			o = &AdamW{Adam: *a}
		} else {
			o = a
		}
	default:
		return nil, fmt.Errorf("unknown optimizer %q (valid: %s)", name, strings.Join(Names(), ", "))
	}
	if c.err != nil {
		return nil, c.err
	}
	*o.(options).opts() = opts
	if extra := c.unused(); len(extra) > 0 {
		return nil, fmt.Errorf("optimizer %s: unknown option %q", c.opt, extra[0])
	}
	if err := validate(o); err != nil {
		return nil, err
	}
	return o, nil
}

// validate checks the ranges of an optimizer's hyperparameters.
func validate(o Optimizer) error {
	bad := func(field string, v float64, want string) error {
		return fmt.Errorf("optimizer %s: %s = %v, want %s", o.Name(), field, v, want)
	}
	nonNegative := func(field string, v float64) error {
		if !(v >= 0) || math.IsInf(v, 1) {
			return bad(field, v, "a finite number >= 0")
		}
		return nil
	}
	if err := nonNegative("learning_rate", o.LR()); err != nil {
		return err
	}
	// Every optimizer has one; NaN or a negative value would corrupt every
	// weight at the first step.
	if wd, ok := o.Config()["weight_decay"].(float64); ok {
		if err := nonNegative("weight_decay", wd); err != nil {
			return err
		}
	}
	unit := func(field string, v float64) error {
		if !(v >= 0 && v < 1) {
			return bad(field, v, "in [0, 1)")
		}
		return nil
	}
	var errs []error
	if all, ok := o.(options); ok {
		errs = append(errs, all.opts().check(o.Name()))
	}
	switch o := o.(type) {
	case *SGD:
		errs = append(errs, unit("momentum", o.Momentum))
	case *RMSprop:
		errs = append(errs, unit("rho", o.rho()), unit("momentum", o.Momentum), nonNegative("epsilon", o.eps()))
	case *Adam:
		errs = append(errs, unit("beta_1", o.beta1()), unit("beta_2", o.beta2()), nonNegative("epsilon", o.eps()))
	case *AdamW:
		errs = append(errs, unit("beta_1", o.beta1()), unit("beta_2", o.beta2()), nonNegative("epsilon", o.eps()))
	case *Adagrad:
		errs = append(errs, nonNegative("initial_accumulator_value", o.init()), nonNegative("epsilon", o.eps()))
	case *Adadelta:
		errs = append(errs, unit("rho", o.rho()), nonNegative("epsilon", o.eps()))
	case *Adamax:
		errs = append(errs, unit("beta_1", o.beta1()), unit("beta_2", o.beta2()), nonNegative("epsilon", o.eps()))
	case *Nadam:
		errs = append(errs, unit("beta_1", o.beta1()), unit("beta_2", o.beta2()), nonNegative("epsilon", o.eps()))
	case *Lion:
		// Keras: beta_1 of 0 makes it SignSGD, which it refuses.
		if b := o.beta1(); !(b > 0 && b <= 1) {
			errs = append(errs, bad("beta_1", b, "in (0, 1]"))
		}
		errs = append(errs, unit("beta_2", o.beta2()))
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// config reads typed values from a JSON-decoded map, remembering the first error.
type config struct {
	opt  string
	m    map[string]any
	used []string
	err  error
}

func (c *config) get(key string) (any, bool) {
	v, ok := c.m[key]
	if ok {
		c.used = append(c.used, key)
	}
	return v, ok && v != nil
}

func (c *config) float(key string, dst *float64) {
	v, ok := c.get(key)
	if !ok || c.err != nil {
		return
	}
	switch v := v.(type) {
	case float64:
		*dst = v
	case float32:
		*dst = float64(v)
	case int:
		*dst = float64(v)
	case int64:
		*dst = float64(v)
	default:
		c.err = fmt.Errorf("optimizer %s: option %s = %v (%T), want a number", c.opt, key, v, v)
	}
}

// count reads a whole number >= 0, want saying what is expected otherwise.
func (c *config) count(key string, dst *int, want string) {
	var f float64
	c.float(key, &f)
	if c.err == nil && (f != math.Trunc(f) || f < 0 || f > math.MaxInt32) {
		c.err = fmt.Errorf("optimizer %s: option %s = %v, want %s", c.opt, key, f, want)
		return
	}
	*dst = int(f)
}

func (c *config) bool(key string, dst *bool) {
	v, ok := c.get(key)
	if !ok || c.err != nil {
		return
	}
	b, isBool := v.(bool)
	if !isBool {
		c.err = fmt.Errorf("optimizer %s: option %s = %v (%T), want true or false", c.opt, key, v, v)
		return
	}
	*dst = b
}

func (c *config) unused() []string {
	var extra []string
	for k := range c.m {
		if k != "name" && !slices.Contains(c.used, k) {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	return extra
}
