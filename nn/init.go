package nn

import (
	"math"
	"math/rand/v2"
	"strings"
)

// InitializerNames lists the kernel initialisers accepted by [Dense] and
// [Conv2D] ("" means "glorot_uniform", Keras's default).
var InitializerNames = []string{"glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "zeros"}

// truncatedStddev is the standard deviation of a unit normal truncated to
// [-2, 2]; Keras divides by it so that the truncated draw keeps the intended
// variance.
const truncatedStddev = 0.87962566103423978

func checkInitializer(l Layer, name string) error {
	switch name {
	case "", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "zeros":
		return nil
	}
	return errorf(l, "unknown kernel initializer %q (valid: %s)", name, strings.Join(InitializerNames, ", "))
}

// initializerName is the Keras name of an initialiser, for configs.
func initializerName(name string) string {
	if name == "" {
		return "glorot_uniform"
	}
	return name
}

// initialize fills w following Keras's VarianceScaling initialisers
// (keras/src/initializers/random_initializers.py):
//
//	glorot_uniform  U(-l, l), l = sqrt(6 / (fanIn + fanOut))
//	glorot_normal   truncated N(0, s), s = sqrt(2 / (fanIn + fanOut)) / 0.8796…
//	he_uniform      U(-l, l), l = sqrt(6 / fanIn)
//	he_normal       truncated N(0, s), s = sqrt(2 / fanIn) / 0.8796…
//
// A truncated normal redraws values more than two deviations from 0. For a
// convolution kernel fanIn = kh·kw·cin and fanOut = kh·kw·filters.
func initialize(name string, w []float32, fanIn, fanOut int, rng *rand.Rand) {
	uniform := func(limit float64) {
		for i := range w {
			w[i] = float32((2*rng.Float64() - 1) * limit)
		}
	}
	normal := func(stddev float64) {
		for i := range w {
			v := rng.NormFloat64()
			for math.Abs(v) > 2 {
				v = rng.NormFloat64()
			}
			w[i] = float32(v * stddev)
		}
	}
	switch name {
	case "", "glorot_uniform":
		uniform(math.Sqrt(6 / float64(fanIn+fanOut)))
	case "glorot_normal":
		normal(math.Sqrt(2/float64(fanIn+fanOut)) / truncatedStddev)
	case "he_uniform":
		uniform(math.Sqrt(6 / float64(fanIn)))
	case "he_normal":
		normal(math.Sqrt(2/float64(fanIn)) / truncatedStddev)
	case "zeros":
		clear(w)
	default:
		panic("nn: unknown initializer " + name)
	}
}
