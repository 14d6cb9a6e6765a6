package optim

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// DecayExclusion names the parameters that an optimizer's decoupled weight
// decay leaves alone, as Keras's optimizer.exclude_from_weight_decay
// (var_names=...) does, and PyTorch users do with a parameter group whose
// weight_decay is 0: a parameter whose name ("kernel", "bias", "gamma",
// "beta", ...) holds a match of one of the regular expressions (Go's
// syntax, searched anywhere in the name as Python's re.search does) is not
// decayed. The usual choice keeps biases and normalization scales and
// offsets from shrinking: "bias", "gamma", "beta". An expression that does
// not compile makes [New] fail and Step panic.
type DecayExclusion struct {
	ExcludeFromWeightDecay []string
}

// Excluded returns the test of a parameter's name that says whether weight
// decay leaves it alone (always false without names), or the error of an
// expression that does not compile.
func (x DecayExclusion) Excluded() (func(name string) bool, error) {
	if len(x.ExcludeFromWeightDecay) == 0 {
		return func(string) bool { return false }, nil
	}
	re, err := regexp.Compile(strings.Join(x.ExcludeFromWeightDecay, "|"))
	if err != nil {
		return nil, err
	}
	return re.MatchString, nil
}

// read sets x from cfg's exclude_from_weight_decay, a list of strings.
func (x *DecayExclusion) read(cfg *config) {
	v, ok := cfg.get("exclude_from_weight_decay")
	if !ok || cfg.err != nil {
		return
	}
	var names []string
	switch v := v.(type) {
	case []string:
		names = slices.Clone(v)
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				cfg.err = fmt.Errorf("optimizer %s: option exclude_from_weight_decay holds %v (%T), want names (strings)", cfg.opt, e, e)
				return
			}
			names = append(names, s)
		}
	default:
		cfg.err = fmt.Errorf("optimizer %s: option exclude_from_weight_decay = %v (%T), want a list of names", cfg.opt, v, v)
		return
	}
	x.ExcludeFromWeightDecay = names
}

// config adds the names to m when there are any.
func (x DecayExclusion) config(m map[string]any) map[string]any {
	if len(x.ExcludeFromWeightDecay) > 0 {
		m["exclude_from_weight_decay"] = slices.Clone(x.ExcludeFromWeightDecay)
	}
	return m
}

// check reports an expression that does not compile, or an empty one,
// which would match every name.
func (x DecayExclusion) check(opt string) error {
	for _, e := range x.ExcludeFromWeightDecay {
		if e == "" {
			return fmt.Errorf("optimizer %s: exclude_from_weight_decay holds an empty name, which every parameter's holds", opt)
		}
		if _, err := regexp.Compile(e); err != nil {
			return fmt.Errorf("optimizer %s: exclude_from_weight_decay: %w", opt, err)
		}
	}
	return nil
}

// excluded works out, for the parameters of the state, which ones weight
// decay leaves alone, when the parameters or the names have changed.
func (s *state) excluded(x DecayExclusion) {
	if len(s.noDecay) == len(s.params) && slices.Equal(s.exclude, x.ExcludeFromWeightDecay) {
		return
	}
	excluded, err := x.Excluded()
	if err != nil {
		panic("optim: ExcludeFromWeightDecay: " + err.Error())
	}
	s.exclude = slices.Clone(x.ExcludeFromWeightDecay)
	s.noDecay = make([]bool, len(s.params))
	for i, p := range s.params {
		s.noDecay[i] = excluded(p.Name)
	}
}
