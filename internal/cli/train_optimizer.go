package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/optim"
)

// clipFlag is a gradient clipping flag that is set, and its Keras name.
type clipFlag struct {
	flag, key string
	v         float64
}

// clipping returns the clipping flags that are set.
func (o *trainOptions) clipping() []clipFlag {
	var set []clipFlag
	for _, c := range []clipFlag{{"clipnorm", "clipnorm", o.Clip.ClipNorm}, {"clipvalue", "clipvalue", o.Clip.ClipValue},
		{"global-clipnorm", "global_clipnorm", o.Clip.GlobalClipNorm}} {
		if c.v > 0 {
			set = append(set, c)
		}
	}
	return set
}

// optimizerFlags lists each optimizer's own flags; those of the others it
// refuses.
var optimizerFlags = map[string][]string{
	"sgd": {"momentum", "nesterov"}, "rmsprop": {"rho", "momentum", "epsilon"},
	"adam": {"beta1", "beta2", "epsilon"}, "adamw": {"beta1", "beta2", "epsilon"},
	"adagrad": {"epsilon"}, "adadelta": {"rho", "epsilon"},
	"adamax": {"beta1", "beta2", "epsilon"}, "nadam": {"beta1", "beta2", "epsilon"},
	"lion": {"beta1", "beta2"},
}

// optimizer builds the optimizer the flags describe.
func (o *trainOptions) optimizer() (optim.Optimizer, error) {
	cfg := map[string]any{"learning_rate": o.LR}
	name := strings.ToLower(o.Optimizer)
	if own, ok := optimizerFlags[name]; ok {
		for _, f := range []struct {
			flag, key string
			v         any
			set       bool
		}{
			{"rho", "rho", o.Rho, o.Rho != 0}, {"momentum", "momentum", o.Momentum, o.Momentum != 0},
			{"nesterov", "nesterov", o.Nesterov, o.Nesterov}, {"beta1", "beta_1", o.Beta1, o.Beta1 != 0},
			{"beta2", "beta_2", o.Beta2, o.Beta2 != 0}, {"epsilon", "epsilon", o.Epsilon, o.Epsilon != 0},
		} {
			switch {
			case !f.set:
			case !slices.Contains(own, f.flag):
				return nil, fmt.Errorf("--%s: the %s optimizer has none (its own flags: --%s)", f.flag, name, strings.Join(own, ", --"))
			default:
				cfg[f.key] = f.v
			}
		}
	}
	if o.WeightDecay > 0 {
		cfg["weight_decay"] = o.WeightDecay
	}
	for _, c := range o.clipping() {
		cfg[c.key] = c.v
	}
	if o.EMA > 0 {
		cfg["use_ema"], cfg["ema_momentum"] = true, o.EMA
		if o.EMAEvery > 0 {
			cfg["ema_overwrite_frequency"] = o.EMAEvery
		}
	}
	if o.Accumulate > 0 {
		cfg["gradient_accumulation_steps"] = o.Accumulate
	}
	if o.NoDecay != "" {
		cfg["exclude_from_weight_decay"] = strings.Split(o.NoDecay, ",")
	}
	opt, err := optim.New(name, cfg)
	if err != nil {
		return nil, fmt.Errorf("--optimizer %s: %w", o.Optimizer, err)
	}
	return opt, nil
}
