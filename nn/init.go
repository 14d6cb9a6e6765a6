package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// InitializerNames lists the kernel initialisers [Dense], [Conv2D] and
// [DepthwiseConv2D] know by name ("" means "glorot_uniform", Keras's
// default). Keras's configurable ones are written as calls, their
// arguments Keras's, those left out taking Keras's defaults:
//
//	variance_scaling(scale=2, mode=fan_out, distribution=truncated_normal)
//	random_normal(mean=0, stddev=0.05)
//	truncated_normal(mean=0, stddev=0.05)
//	random_uniform(minval=-0.05, maxval=0.05)
var InitializerNames = []string{"glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal", "zeros"}

// truncatedStddev is the standard deviation of a unit normal truncated to
// [-2, 2]; Keras divides by it so that the truncated draw keeps the intended
// variance.
const truncatedStddev = 0.87962566103423978

// initializer is a kernel initialiser as its text describes it.
type initializer struct {
	kind  string  // "variance_scaling", "random_normal", "truncated_normal", "random_uniform" or "zeros"
	scale float64 // variance_scaling's
	mode  string  // fan_in, fan_out or fan_avg
	dist  string  // uniform, truncated_normal or untruncated_normal
	a, b  float64 // mean and stddev, or minval and maxval
}

// namedInitializers are Keras's initialisers known by name (the variance
// scaling ones are VarianceScaling's subclasses in Keras) and the bare
// names of the configurable ones, with Keras's defaults.
var namedInitializers = map[string]initializer{
	"glorot_uniform":   {kind: "variance_scaling", scale: 1, mode: "fan_avg", dist: "uniform"},
	"glorot_normal":    {kind: "variance_scaling", scale: 1, mode: "fan_avg", dist: "truncated_normal"},
	"he_uniform":       {kind: "variance_scaling", scale: 2, mode: "fan_in", dist: "uniform"},
	"he_normal":        {kind: "variance_scaling", scale: 2, mode: "fan_in", dist: "truncated_normal"},
	"lecun_uniform":    {kind: "variance_scaling", scale: 1, mode: "fan_in", dist: "uniform"},
	"lecun_normal":     {kind: "variance_scaling", scale: 1, mode: "fan_in", dist: "truncated_normal"},
	"zeros":            {kind: "zeros"},
	"variance_scaling": {kind: "variance_scaling", scale: 1, mode: "fan_in", dist: "truncated_normal"},
	"random_normal":    {kind: "random_normal", b: 0.05},
	"truncated_normal": {kind: "truncated_normal", b: 0.05},
	"random_uniform":   {kind: "random_uniform", a: -0.05, b: 0.05},
}

// initializerArgs are the arguments of each configurable initialiser, in
// the order its text writes them.
var initializerArgs = map[string][]string{
	"variance_scaling": {"scale", "mode", "distribution"},
	"random_normal":    {"mean", "stddev"},
	"truncated_normal": {"mean", "stddev"},
	"random_uniform":   {"minval", "maxval"},
}

func checkInitializer(l Layer, text string) error {
	if _, err := parseInitializer(text); err != nil {
		return errorf(l, "%v", err)
	}
	return nil
}

// parseInitializer reads an initialiser's text: "" (glorot_uniform), a
// name, or a call such as "random_normal(stddev=0.01)".
func parseInitializer(text string) (initializer, error) {
	if text == "" {
		text = "glorot_uniform"
	}
	name, _, _ := strings.Cut(text, "(")
	if _, ok := namedInitializers[strings.TrimSpace(name)]; !ok {
		return initializer{}, fmt.Errorf("unknown kernel initializer %q (valid: %s, or %s)", text,
			strings.Join(InitializerNames, ", "), strings.Join(configurable(), ", "))
	}
	init, err := readInitializer(text)
	if err != nil {
		return init, fmt.Errorf("kernel initializer %q: %w", text, err)
	}
	return init, nil
}

// readInitializer reads the text of a known initialiser.
func readInitializer(text string) (initializer, error) {
	name, args, call := strings.Cut(text, "(")
	name = strings.TrimSpace(name)
	init := namedInitializers[name]
	if !call {
		return init, nil
	}
	keys := initializerArgs[name]
	if keys == nil {
		return init, fmt.Errorf("%s takes no arguments", name)
	}
	args, closed := strings.CutSuffix(strings.TrimSpace(args), ")")
	if !closed {
		return init, errors.New("no closing parenthesis")
	}
	seen := map[string]bool{}
	for arg := range strings.SplitSeq(args, ",") {
		if strings.TrimSpace(args) == "" {
			break
		}
		key, value, ok := strings.Cut(arg, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch {
		case !ok:
			return init, fmt.Errorf("argument %q: want key=value", strings.TrimSpace(arg))
		case seen[key]:
			return init, fmt.Errorf("argument %s given twice", key)
		}
		seen[key] = true
		if err := init.set(name, key, value); err != nil {
			return init, err
		}
	}
	return init, init.check()
}

// configurable lists the initialisers written as calls, with their
// arguments, for messages.
func configurable() []string {
	var s []string
	for _, name := range []string{"variance_scaling", "random_normal", "truncated_normal", "random_uniform"} {
		s = append(s, name+"("+strings.Join(initializerArgs[name], ", ")+")")
	}
	return s
}

// set sets the argument key of the initialiser name to value.
func (i *initializer) set(name, key, value string) error {
	if !slices.Contains(initializerArgs[name], key) {
		return fmt.Errorf("unknown argument %q of %s (valid: %s)", key, name, strings.Join(initializerArgs[name], ", "))
	}
	switch key {
	case "mode":
		i.mode = value
		return nil
	case "distribution":
		i.dist = value
		if value == "normal" { // Keras's older name
			i.dist = "truncated_normal"
		}
		return nil
	}
	v, err := strconv.ParseFloat(value, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) || math.Abs(v) > math.MaxFloat32 {
		return fmt.Errorf("%s = %q: want a finite number", key, value)
	}
	switch key {
	case "scale":
		i.scale = v
	case "mean", "minval":
		i.a = v
	default: // stddev, maxval
		i.b = v
	}
	return nil
}

// check reports an argument out of its range.
func (i initializer) check() error {
	switch i.kind {
	case "variance_scaling":
		switch {
		case !(i.scale > 0):
			return fmt.Errorf("scale = %v: want a positive number", i.scale)
		case i.mode != "fan_in" && i.mode != "fan_out" && i.mode != "fan_avg":
			return fmt.Errorf("mode = %q: want fan_in, fan_out or fan_avg", i.mode)
		case i.dist != "uniform" && i.dist != "truncated_normal" && i.dist != "untruncated_normal":
			return fmt.Errorf("distribution = %q: want uniform, truncated_normal or untruncated_normal", i.dist)
		}
	case "random_normal", "truncated_normal":
		if i.b < 0 {
			return fmt.Errorf("stddev = %v: want at least 0", i.b)
		}
	case "random_uniform":
		if i.a > i.b {
			return fmt.Errorf("minval = %v is above maxval = %v", i.a, i.b)
		}
	}
	return nil
}

// String is the initialiser's text: its name when it has one, else the
// call with every argument.
func (i initializer) String() string {
	for _, name := range InitializerNames {
		if namedInitializers[name] == i {
			return name
		}
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	switch i.kind {
	case "variance_scaling":
		return fmt.Sprintf("variance_scaling(scale=%s, mode=%s, distribution=%s)", num(i.scale), i.mode, i.dist)
	case "random_uniform":
		return fmt.Sprintf("random_uniform(minval=%s, maxval=%s)", num(i.a), num(i.b))
	}
	return fmt.Sprintf("%s(mean=%s, stddev=%s)", i.kind, num(i.a), num(i.b))
}

// initializerName is the text of an initialiser for configs: its name, or
// the call with every argument.
func initializerName(text string) string {
	init, err := parseInitializer(text)
	if err != nil {
		return text // Build refuses it
	}
	return init.String()
}

// initialize fills w following Keras's initialisers
// (keras/src/initializers/random_initializers.py). VarianceScaling divides
// scale by n, the fan of its mode (fan_avg is (fanIn + fanOut) / 2), and
// draws from
//
//	uniform             U(-l, l), l = sqrt(3·scale / n)
//	truncated_normal    truncated N(0, s), s = sqrt(scale / n) / 0.8796…
//	untruncated_normal  N(0, s), s = sqrt(scale / n)
//
// glorot_uniform is (1, fan_avg, uniform), he_normal (2, fan_in,
// truncated_normal), lecun_normal (1, fan_in, truncated_normal) and so on.
// A truncated normal redraws values more than two deviations from its
// mean. For a convolution kernel fanIn = kh·kw·cin and fanOut =
// kh·kw·filters. The text must be valid (Build checks it).
func initialize(text string, w []float32, fanIn, fanOut int, rng *rand.Rand) {
	init, err := parseInitializer(text)
	if err != nil {
		panic("nn: initializer " + text + ": " + err.Error())
	}
	uniform := func(lo, width float64) {
		for i := range w {
			w[i] = float32(lo + width*rng.Float64())
		}
	}
	normal := func(mean, stddev float64, truncated bool) {
		for i := range w {
			v := rng.NormFloat64()
			for truncated && math.Abs(v) > 2 {
				v = rng.NormFloat64()
			}
			w[i] = float32(mean + v*stddev)
		}
	}
	switch init.kind {
	case "zeros":
		clear(w)
	case "random_normal":
		normal(init.a, init.b, false)
	case "truncated_normal":
		normal(init.a, init.b, true)
	case "random_uniform":
		uniform(init.a, init.b-init.a)
	case "variance_scaling":
		n := float64(fanIn)
		switch init.mode {
		case "fan_out":
			n = float64(fanOut)
		case "fan_avg":
			n = float64(fanIn+fanOut) / 2
		}
		n = max(1, n)
		switch init.dist {
		case "uniform":
			limit := math.Sqrt(3 * init.scale / n)
			for i := range w {
				w[i] = float32((2*rng.Float64() - 1) * limit)
			}
		case "truncated_normal":
			normal(0, math.Sqrt(init.scale/n)/truncatedStddev, true)
		default:
			normal(0, math.Sqrt(init.scale/n), false)
		}
	}
}
