package nn

import "math"

// Cost is what a layer costs for one input shape: the weights Build
// allocates and the work of Forward. [Layer.Cost] computes it from the
// configuration alone, without building or allocating, so that a model file
// can be refused before its layers take memory; counts saturate at
// math.MaxInt64, so absurd sizes compare as huge.
type Cost struct {
	// Params is the number of weights Build allocates, trainable or not.
	Params int64
	// MACs is the number of multiply-adds of Forward's weighted sums per
	// sample (the convolutions' and dense layers'); elementwise work
	// (activations, pooling, normalisation) is not counted.
	MACs int64
}

// mulSat returns the product of the factors, 0 if one is not positive, or
// math.MaxInt64 if the product overflows.
func mulSat(factors ...int64) int64 {
	p := int64(1)
	for _, f := range factors {
		if f <= 0 {
			return 0
		}
		if p > math.MaxInt64/f {
			p = math.MaxInt64
		} else {
			p *= f
		}
	}
	return p
}

// addSat returns a+b for non-negative a and b, or math.MaxInt64 if the sum
// overflows.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// biasSize is the length of a bias of n values, 0 without one.
func biasSize(noBias bool, n int) int64 {
	if noBias || n < 0 {
		return 0
	}
	return int64(n)
}

// convCost is the Cost of a convolution on an image of shape in (height,
// width, channels): a kernel of k[0]·k[1]·perTap weights, one multiply-add
// per weight and output cell, and a bias of outputs values unless noBias;
// the kernel's taps d apart (see [Conv2D.DilationRate]).
func convCost(in []int, k, s, d [2]int, padding string, perTap int64, outputs int, noBias bool) Cost {
	oh := windowOutput(in[0], dilatedSpan(k[0], d[0]), s[0], padding)
	ow := windowOutput(in[1], dilatedSpan(k[1], d[1]), s[1], padding)
	w := mulSat(int64(k[0]), int64(k[1]), perTap)
	return Cost{Params: addSat(w, biasSize(noBias, outputs)), MACs: mulSat(int64(oh), int64(ow), w)}
}

// windowOutput returns the output length of a window (a convolution kernel
// or a pooling window) of size k and stride s over in cells with padding
// "valid" (or "") or "same", and 0 for what Build refuses.
func windowOutput(in, k, s int, padding string) int {
	if in < 1 || k < 1 || s < 1 {
		return 0
	}
	switch padding {
	case "", "valid":
		if k > in {
			return 0
		}
		return (in-k)/s + 1
	case "same":
		return (in-1)/s + 1
	}
	return 0
}
