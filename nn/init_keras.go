package nn

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// kerasInitializerClasses maps Keras's initializer classes to the names of
// their texts.
var kerasInitializerClasses = map[string]string{
	"GlorotUniform": "glorot_uniform", "GlorotNormal": "glorot_normal",
	"HeUniform": "he_uniform", "HeNormal": "he_normal",
	"LecunUniform": "lecun_uniform", "LecunNormal": "lecun_normal",
	"Zeros": "zeros", "VarianceScaling": "variance_scaling",
	"RandomNormal": "random_normal", "TruncatedNormal": "truncated_normal", "RandomUniform": "random_uniform",
}

// InitializerObject returns the object Keras 2 writes for a kernel
// initialiser's text, such as {"class_name": "VarianceScaling", "config":
// {"scale": 2, "mode": "fan_out", "distribution": "truncated_normal",
// "seed": null}}, or nil for a text that is not valid.
func InitializerObject(text string) map[string]any {
	init, err := parseInitializer(text)
	if err != nil {
		return nil
	}
	name, _, _ := strings.Cut(init.String(), "(")
	cfg := map[string]any{"seed": nil}
	switch init.kind {
	case "zeros":
		cfg = map[string]any{}
	case "variance_scaling":
		if name == "variance_scaling" {
			cfg["scale"], cfg["mode"], cfg["distribution"] = init.scale, init.mode, init.dist
		}
	case "random_uniform":
		cfg["minval"], cfg["maxval"] = init.a, init.b
	default:
		cfg["mean"], cfg["stddev"] = init.a, init.b
	}
	for class, n := range kerasInitializerClasses {
		if n == name {
			return map[string]any{"class_name": class, "config": cfg}
		}
	}
	panic("nn: no Keras class for initializer " + name)
}

// initializer reads a kernel initialiser as [InitializerText] does.
func (f *fields) initializer(key string) string {
	v, ok := f.get(key)
	if !ok {
		return ""
	}
	text, err := InitializerText(v)
	if err != nil {
		f.fail(key, err.Error(), v)
	}
	return text
}

// InitializerText returns the text of a kernel initialiser given as a
// config holds it: its text, or an object as Keras writes it
// ({"class_name": "HeNormal", "config": {"seed": null}}, Keras 3's with its
// module), whose seed is ignored: convnet draws from the model's source.
// The text returned is the initialiser's name, or its call with every
// argument ("variance_scaling(scale=2, mode=fan_out,
// distribution=truncated_normal)"); an initialiser convnet does not know,
// or an argument out of its range, is an error.
func InitializerText(v any) (string, error) {
	if s, ok := v.(string); ok {
		init, err := parseInitializer(s)
		if err != nil {
			return "", err
		}
		return init.String(), nil
	}
	const want = "an initializer's name or call, or a Keras initializer object"
	class, cfg, ok := kerasObject(v, "keras.initializers")
	name := kerasInitializerClasses[class]
	if !ok || name == "" {
		return "", fmt.Errorf("want %s (%s)", want, strings.Join(slices.Sorted(maps.Keys(kerasInitializerClasses)), ", "))
	}
	for k := range cfg {
		if k != "seed" && !slices.Contains(initializerArgs[name], k) {
			return "", fmt.Errorf("%s: unknown argument %q", class, k)
		}
	}
	init := namedInitializers[name]
	for _, k := range initializerArgs[name] {
		x, given := cfg[k]
		if !given || x == nil {
			continue
		}
		text, ok := x.(string)
		if n, isNumber := number(x); isNumber {
			text, ok = strconv.FormatFloat(n, 'g', -1, 64), true
		}
		if !ok {
			return "", fmt.Errorf("%s: %s = %v: want a number or a string", class, k, x)
		}
		if err := init.set(name, k, text); err != nil {
			return "", fmt.Errorf("%s: %w", class, err)
		}
	}
	if err := init.check(); err != nil {
		return "", fmt.Errorf("%s: %w", class, err)
	}
	return init.String(), nil
}
