package model

import (
	"fmt"
	"strings"

	"github.com/convnet-go/convnet/nn"
)

// separableFromKeras reads what is left of a SeparableConv2D's config
// (Keras's fields checked) as the two layers it computes: a
// DepthwiseConv2D without bias or activation, named after it with
// "_depthwise", then a 1x1 Conv2D with the bias and the activation, which
// keeps its name.
func separableFromKeras(kl kerasLayer, cfg map[string]any, where string) (kerasLayer, error) {
	inits := map[string]string{}
	for _, key := range []string{"depthwise_initializer", "pointwise_initializer"} {
		if v, ok := cfg[key]; ok {
			text, err := nn.InitializerText(v)
			if err != nil {
				return kerasLayer{}, fmt.Errorf("%s: %s = %s: %w", where, key, jsonText(v), err)
			}
			inits[key] = text
			delete(cfg, key)
		}
	}
	if v, ok := cfg["activation"].(map[string]any); ok {
		cfg["activation"] = v["config"] // Keras 3 may write a function as an object
	}
	name, _ := cfg["name"].(string)
	depthwise := map[string]any{"use_bias": false, "depthwise_initializer": inits["depthwise_initializer"]}
	pointwise := map[string]any{"kernel_size": 1.0, "kernel_initializer": inits["pointwise_initializer"]}
	if name != "" {
		depthwise["name"] = name + "_depthwise"
	}
	for key, v := range cfg {
		switch key {
		case "kernel_size", "strides", "padding", "depth_multiplier", "dilation_rate":
			depthwise[key] = v
		case "name", "filters", "use_bias", "activation", "bias_regularizer", "bias_constraint":
			pointwise[key] = v
		case "depthwise_regularizer", "depthwise_constraint":
			depthwise[key] = v
		case "pointwise_regularizer", "pointwise_constraint":
			pointwise["kernel_"+strings.TrimPrefix(key, "pointwise_")] = v
		default:
			return kerasLayer{}, fmt.Errorf("%s: unknown field %q", where, key)
		}
	}
	d, err := nn.FromConfig("DepthwiseConv2D", depthwise)
	if err != nil {
		return kerasLayer{}, fmt.Errorf("%s: %w", where, err)
	}
	p, err := nn.FromConfig("Conv2D", pointwise)
	if err != nil {
		return kerasLayer{}, fmt.Errorf("%s: %w", where, err)
	}
	kl.layer, kl.before = p, d
	return kl, nil
}
