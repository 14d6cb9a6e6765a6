package nn

import (
	"math"
	"math/rand/v2"

	"github.com/convnet-go/convnet/tensor"
)

// GaussianNoise adds zero-centred Gaussian noise of standard deviation
// Stddev to every value in training (Keras GaussianNoise), a regulariser
// that works as a random change of the data would; at inference it is the
// identity. Stddev must be a finite number, at least 0. The noise is drawn
// as [GaussianDropout] draws its own.
type GaussianNoise struct {
	Stddev float64
	noiseCore
}

// GaussianDropout multiplies every value in training by Gaussian noise of
// mean 1 and standard deviation sqrt(Rate/(1-Rate)) (Keras
// GaussianDropout): the mean and variance of inverted dropout's factor at
// that rate, without its zeros. At inference it is the identity. Rate must
// be in [0, 1).
//
// The noise comes from the *rand.Rand given to Build, which the layer
// keeps (the model owns it): a training Forward cuts its input into runs
// of 16,384 values, draws two numbers from that source per run, one after
// another, and seeds with them a PCG generator for the run, which gives
// each pair of values two numbers u, v: by Box and Muller, the two normal
// draws √(-2·ln((u>>11 + 1)/2^53))·(cos, sin)(2π·(v>>11)/2^53). The runs
// then draw on every core, and the noise is the same whatever the number
// of cores.
type GaussianDropout struct {
	Rate float64
	noiseCore
}

// noiseCore is what GaussianNoise and GaussianDropout share.
type noiseCore struct {
	dropoutCore
	layer  Layer     // the layer messages name
	scaled bool      // GaussianDropout: the noise multiplies
	sd     float64   // the standard deviation of the last training Forward's draws
	seeds  []uint64  // per run, its generator's seed (two numbers)
	noise  []float32 // GaussianDropout: the factors of the last training Forward
	x, out []float32 // the pass's input and output, during a call
	split  split
}

// noiseRun is the values a run of the noise draws from one generator.
const noiseRun = 16 << 10

func (l *GaussianNoise) Type() string { return "GaussianNoise" }

func (l *GaussianNoise) Build(in []int, rng *rand.Rand) ([]int, error) {
	if !(l.Stddev >= 0) || !finite32(l.Stddev) {
		return nil, errorf(l, "stddev = %v: must be a finite number, at least 0", l.Stddev)
	}
	return l.build(l, in, rng, false)
}

func (l *GaussianNoise) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	return l.forward(l, x, training, l.Stddev)
}

func (l *GaussianNoise) Config() map[string]any {
	return map[string]any{"name": l.Name(), "stddev": l.Stddev}
}

func (l *GaussianDropout) Type() string { return "GaussianDropout" }

func (l *GaussianDropout) Build(in []int, rng *rand.Rand) ([]int, error) {
	if !(l.Rate >= 0 && l.Rate < 1) {
		return nil, errorf(l, "rate = %v: must be in [0, 1)", l.Rate)
	}
	return l.build(l, in, rng, true)
}

func (l *GaussianDropout) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	return l.forward(l, x, training, math.Sqrt(l.Rate/(1-l.Rate)))
}

func (l *GaussianDropout) Config() map[string]any {
	return map[string]any{"name": l.Name(), "rate": l.Rate}
}

func (c *noiseCore) build(l Layer, in []int, rng *rand.Rand, scaled bool) ([]int, error) {
	if len(in) == 0 || !positive(in) {
		return nil, errorf(l, "input shape %v: want at least one positive axis", in)
	}
	// dropoutCore's rate check is the caller's; 0 passes it.
	if err := c.dropoutCore.build(l, 0, in, rng); err != nil {
		return nil, err
	}
	c.layer, c.scaled, c.noise = l, scaled, nil
	return append([]int(nil), in...), nil
}

// forward adds or multiplies noise of standard deviation sd in training.
func (c *noiseCore) forward(l Layer, x *tensor.Tensor, training bool, sd float64) *tensor.Tensor {
	if !c.dropoutCore.forward(l, x, training, sd) {
		return c.y
	}
	runs := (len(x.Data) + noiseRun - 1) / noiseRun
	c.seeds = drawSeeds(c.seeds, 2*runs, c.rng)
	if c.scaled {
		if cap(c.noise) < len(x.Data) {
			c.noise = make([]float32, len(x.Data))
		}
		c.noise = c.noise[:len(x.Data)]
	}
	c.sd, c.x, c.out = sd, x.Data, c.y.Data
	c.split.items(c, actForward, runs, 1)
	c.x, c.out = nil, nil
	return c.y
}

// Backward passes dy on, times the noise's factors for GaussianDropout.
func (c *noiseCore) Backward(dy *tensor.Tensor) *tensor.Tensor {
	if !c.backward(c.layer, dy) {
		return c.dx
	}
	if !c.scaled {
		copy(c.dx.Data, dy.Data)
		return c.dx
	}
	c.x, c.out = dy.Data, c.dx.Data
	c.split.items(c, actBackward, (len(dy.Data)+noiseRun-1)/noiseRun, 1)
	c.x, c.out = nil, nil
	return c.dx
}

// do runs the runs lo to hi of the pass.
func (c *noiseCore) do(phase, lo, hi int) {
	for run := lo; run < hi; run++ {
		a, b := run*noiseRun, min((run+1)*noiseRun, len(c.x))
		x, out := c.x[a:b], c.out[a:b]
		if phase == actBackward {
			for i, f := range c.noise[a:b] {
				out[i] = x[i] * f
			}
			continue
		}
		var src rand.PCG
		src.Seed(c.seeds[2*run], c.seeds[2*run+1])
		var noise []float32
		if c.scaled {
			noise = c.noise[a:b]
		}
		for i := 0; i < len(x); i += 2 {
			u := float64(src.Uint64()>>11+1) * 0x1p-53
			v := float64(src.Uint64()>>11) * 0x1p-53
			r := c.sd * math.Sqrt(-2*math.Log(u))
			s, co := math.Sincos(2 * math.Pi * v)
			z := [2]float64{r * co, r * s}
			for k := range min(2, len(x)-i) {
				if c.scaled {
					f := float32(1 + z[k])
					noise[i+k] = f
					out[i+k] = x[i+k] * f
				} else {
					out[i+k] = x[i+k] + float32(z[k])
				}
			}
		}
	}
}

// ReleaseBackward implements [BackwardReleaser]; the noise's factors go too.
func (c *noiseCore) ReleaseBackward() {
	c.buffers.ReleaseBackward()
	c.noise = nil
}
