package nn

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// Dropout is inverted dropout (Keras Dropout): in training each element is
// zeroed with probability Rate and the others are scaled by 1/(1-Rate); at
// inference it is the identity. Rate must be in [0, 1).
//
// The mask comes from the *rand.Rand given to Build, which the layer keeps:
// the model owns that source (and can save its state to resume a run). A
// training Forward cuts its input into runs of 16,384 elements, draws two
// numbers from that source per run, one after another, and seeds with them
// a PCG generator ([rand.PCG]) for the run; each 64-bit number of a run's
// generator decides two elements: element 2i is dropped when the low 32
// bits of the run's number i, as an integer u, are below ceil(Rate·2^32),
// element 2i+1 with the high 32 bits. The runs then draw on every core,
// and the mask is the same whatever the number of cores.
//
// NoiseShape, when set, is Keras's noise_shape: the shape of the mask, the
// batch axis first, each size 0 (Keras's None: the input's), 1 (one draw
// for the whole axis) or the input's. The mask then broadcasts over the
// axes of size 1: (None, 1, 1, 1) drops whole samples (the stochastic depth
// of Keras's EfficientNet), (None, 1, 1, C) whole channels as
// [SpatialDropout2D] does, and its cells are drawn as SpatialDropout2D
// draws its own, one number per cell in order. (A noise shape without a 1
// shares nothing: its mask is the one above.)
type Dropout struct {
	Rate       float64
	NoiseShape []int

	dropoutCore
	kept    []uint64  // bit j of word w set where the last training Forward kept element 64w+j
	x, out  []float32 // apply's input and output, during a call
	seeds   []uint64  // per run of the mask, its generator's seed (two numbers)
	drawing bool      // apply draws the mask (Forward) or reads it (Backward)
	shared  bool      // NoiseShape shares draws along an axis: mask holds them
	alpha   bool      // AlphaDropout's values: a·x + b kept, a·α' + b dropped
	layer   Layer     // the layer messages name: l, or the AlphaDropout holding it
	applyFn func(worker, item int)
	mask    sharedMask
}

// dropoutCore holds what Dropout and SpatialDropout2D share: the random
// source, the shapes, the outputs and whether the last Forward trained.
type dropoutCore struct {
	named
	buffers
	rng      *rand.Rand
	in       []int
	training bool
	y, dx    *tensor.Tensor
}

// build checks rate and the random source and keeps them with in.
func (d *dropoutCore) build(l Layer, rate float64, in []int, rng *rand.Rand) error {
	if !(rate >= 0 && rate < 1) {
		return errorf(l, "rate = %v: must be in [0, 1)", rate)
	}
	if rng == nil {
		return errorf(l, "Build needs a random source")
	}
	d.rng, d.in = rng, append([]int(nil), in...)
	d.y, d.dx = nil, nil
	return nil
}

func (d *dropoutCore) OutputShape() []int { return append([]int(nil), d.in...) }
func (d *dropoutCore) Params() []*Param   { return nil }

// Cost is zero: dropout has no weights.
func (d *dropoutCore) Cost(in []int) Cost { return Cost{} }

// forward starts Forward: it reports whether the pass drops anything,
// having copied x to the output when it does not.
func (d *dropoutCore) forward(l Layer, x *tensor.Tensor, training bool, rate float64) bool {
	checkInput(l, "Forward", x, d.in)
	d.y = resize(d.y, x.Shape...)
	d.training = training && rate > 0
	if !d.training {
		copy(d.y.Data, x.Data)
	}
	return d.training
}

// backward starts Backward: it reports whether the last Forward dropped
// anything, having copied dy to the input gradient when it did not.
func (d *dropoutCore) backward(l Layer, dy *tensor.Tensor) bool {
	checkGrad(l, dy, d.y)
	d.dx = d.grad(d.dx, dy.Shape...)
	if !d.training {
		copy(d.dx.Data, dy.Data)
	}
	return d.training
}

func (l *Dropout) Type() string { return "Dropout" }

func (l *Dropout) Build(in []int, rng *rand.Rand) ([]int, error) { return l.buildAs(l, in, rng) }

// buildAs builds l for the layer outer (l itself, or an AlphaDropout),
// which its messages name.
func (l *Dropout) buildAs(outer Layer, in []int, rng *rand.Rand) ([]int, error) {
	if len(in) == 0 || !positive(in) {
		return nil, errorf(outer, "input shape %v: want at least one positive axis", in)
	}
	if err := l.build(outer, l.Rate, in, rng); err != nil {
		return nil, err
	}
	l.shared = false
	if l.NoiseShape != nil {
		if l.alpha {
			return nil, errorf(outer, "noise_shape %s: AlphaDropout drops values one by one", noiseText(l.NoiseShape))
		}
		batch, shared, err := noiseShared(outer, l.NoiseShape, in)
		if err != nil {
			return nil, err
		}
		l.shared = batch || slices.Contains(shared, true)
		l.mask.setup(batch, in, shared)
	}
	l.layer, l.applyFn = outer, l.applyItem
	return append([]int(nil), in...), nil
}

func (l *Dropout) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	if !l.forward(l.layer, x, training, l.Rate) {
		return l.y
	}
	if l.shared {
		l.mask.draw(x.Shape[0], l.Rate, l.rng)
		l.mask.apply(x.Data, l.y.Data)
		return l.y
	}
	n := len(x.Data)
	if words := (n + 63) / 64; cap(l.kept) < words {
		l.kept = make([]uint64, words)
	} else {
		l.kept = l.kept[:words]
	}
	l.seeds = drawSeeds(l.seeds, 2*((len(l.kept)+dropoutWords-1)/dropoutWords), l.rng)
	l.x, l.out, l.drawing = x.Data, l.y.Data, true
	l.apply()
	return l.y
}

func (l *Dropout) Backward(dy *tensor.Tensor) *tensor.Tensor {
	if !l.backward(l.layer, dy) {
		return l.dx
	}
	if l.shared {
		l.mask.apply(dy.Data, l.dx.Data)
		return l.dx
	}
	l.x, l.out, l.drawing = dy.Data, l.dx.Data, false
	l.apply()
	return l.dx
}

// drawSeeds returns s resized to n numbers drawn from rng, one after
// another: the seeds of the runs of a pass's random numbers.
func drawSeeds(s []uint64, n int, rng *rand.Rand) []uint64 {
	if cap(s) < n {
		s = make([]uint64, n)
	}
	s = s[:n]
	for i := range s {
		s[i] = rng.Uint64()
	}
	return s
}

// dropoutWords is the 64-element words of the mask in a run (see Dropout)
// and in an item of apply.
const dropoutWords = 256

// apply sets out to x times the mask (0 or the scale per element), a run of
// the mask per item over the cores, drawing the mask first in Forward.
func (l *Dropout) apply() {
	items := (len(l.kept) + dropoutWords - 1) / dropoutWords
	kernels.ParallelFor(items, items, l.applyFn)
	l.x, l.out = nil, nil
}

func (l *Dropout) applyItem(_, item int) {
	n, scale := len(l.x), l.scaleBits()
	w0 := item * dropoutWords
	kept := l.kept[w0:min(w0+dropoutWords, len(l.kept))]
	if l.drawing {
		var src rand.PCG
		src.Seed(l.seeds[2*item], l.seeds[2*item+1])
		drop := dropThreshold(l.Rate)
		for w := range kept {
			var bits uint64
			for j := 0; j < 64; j += 2 {
				r := src.Uint64()
				bits |= uint64(b2u(r&(1<<32-1) >= drop))<<j | uint64(b2u(r>>32 >= drop))<<(j+1)
			}
			kept[w] = bits
		}
	}
	if l.alpha {
		l.applyAlpha(kept, 64*w0)
		return
	}
	for w, bits := range kept {
		lo := 64 * (w0 + w)
		xs := l.x[lo:min(lo+64, n)]
		out := l.out[lo : lo+len(xs)]
		for j, v := range xs {
			out[j] = v * math.Float32frombits(scale&-uint32(bits&1))
			bits >>= 1
		}
	}
}

// applyAlpha is applyItem's second half for AlphaDropout, the elements of
// the words kept from element lo on: out = a·x + b where kept and a·α' + b
// where dropped (Forward), or a·x and 0 (Backward).
func (l *Dropout) applyAlpha(kept []uint64, lo int) {
	a, b, c := alphaCoefficients(l.Rate)
	if !l.drawing {
		b, c = 0, 0
	}
	for w, bits := range kept {
		at := lo + 64*w
		xs := l.x[at:min(at+64, len(l.x))]
		out := l.out[at : at+len(xs)]
		for j, v := range xs {
			if bits&1 != 0 {
				out[j] = float32(v*a) + b
			} else {
				out[j] = c
			}
			bits >>= 1
		}
	}
}

// alphaCoefficients returns AlphaDropout's a, b and the value of a dropped
// element, a·α' + b, for rate (Keras's and PyTorch's): α' = -SELUScale·SELUAlpha,
// selu's limit below, a = ((1 - rate)(1 + rate·α'²))^(-1/2), b = -a·α'·rate.
func alphaCoefficients(rate float64) (a, b, c float32) {
	alphaP := -SELUScale * SELUAlpha
	af := math.Pow((1-rate)*(1+rate*alphaP*alphaP), -0.5)
	bf := -af * alphaP * rate
	return float32(af), float32(bf), float32(af*alphaP + bf)
}

// ReleaseBackward implements [BackwardReleaser]; the mask goes too.
func (l *Dropout) ReleaseBackward() {
	l.buffers.ReleaseBackward()
	l.kept, l.seeds, l.mask.scale, l.training = nil, nil, nil, false
}

// scaleBits returns the bits of float32(1/(1-Rate)), what a kept element
// is multiplied by.
func (l *Dropout) scaleBits() uint32 { return math.Float32bits(float32(1 / (1 - l.Rate))) }

// dropThreshold returns ceil(rate·2^32): a 32-bit number below it is
// dropped. rate < 1, so it is at most 2^32.
func dropThreshold(rate float64) uint64 { return uint64(math.Ceil(rate * (1 << 32))) }

// b2u returns 1 for true and 0 for false.
func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

func (l *Dropout) Config() map[string]any {
	cfg := map[string]any{"name": l.Name(), "rate": l.Rate}
	if l.NoiseShape != nil {
		noise := make([]any, len(l.NoiseShape))
		for i, d := range l.NoiseShape {
			if d != 0 {
				noise[i] = d
			}
		}
		cfg["noise_shape"] = noise
	}
	return cfg
}

func dropoutFromConfig(f *fields) *Dropout {
	return &Dropout{Rate: f.float("rate"), NoiseShape: f.sizes("noise_shape")}
}
