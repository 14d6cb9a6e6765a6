package nn

import (
	"math"
	"math/rand/v2"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// BatchNormalization normalises each feature of the last axis (Keras
// BatchNormalization, axis -1; Ioffe & Szegedy 2015,
// https://arxiv.org/abs/1502.03167):
//
//	y = gamma · (x - mean) / sqrt(var + Epsilon) + beta
//
// In training, mean and var are the batch statistics over every other axis
// (var is the biased variance) and the moving averages are updated as in
// Keras 3, with the same biased variance:
//
//	moving = moving·Momentum + batch·(1 - Momentum)
//
// At inference the moving averages are used. Parameters, in order: "gamma"
// (ones), "beta" (zeros), "moving_mean" (zeros) and "moving_variance"
// (ones); the last two are not trainable and have no gradient. NoScale
// leaves out gamma (fixed at 1), NoCenter beta (fixed at 0): Keras's scale
// and center false, as Keras's InceptionV3 has them.
type BatchNormalization struct {
	Momentum float64 // zero means 0.99
	Epsilon  float64 // zero means 1e-3
	NoCenter bool
	NoScale  bool

	named
	buffers
	in []int
	c  int
	scaleShift
	g, b            []float32 // gamma and beta of the pass in progress (see scaleShift.values)
	movMean, movVar *Param
	training        bool
	skipDw          bool           // see SkipParamGradients
	mean, invStd    []float64      // statistics used by the last Forward
	sum, sumXhat    []float64      // Backward scratch; all five from the first Forward
	scale           []float64      // Backward: gamma·invStd/rows
	x               *tensor.Tensor // the last Forward's input, which Backward normalises again
	y, dx           *tensor.Tensor
	dy              *tensor.Tensor // during Backward
	split           split
}

// The phases of BatchNormalization's passes: sums over the rows run per
// group of bnGroup features, each feature's sum in row order whatever the
// number of cores; the elementwise phases run per rows.
const (
	bnStats    = iota // features: the batch's mean and the sum of squared deviations
	bnOutput          // rows: y = gamma·xhat + beta
	bnGradSums        // features: Σdy and Σdy·xhat
	bnGradIn          // rows: dx
)

// bnGroup is the number of features a sum over the rows handles: a 64-byte
// cache line of each row.
const bnGroup = 16

// byFeatures runs a phase of sums over the rows per group of bnGroup
// features, several groups to a piece when the batch is small.
func (l *BatchNormalization) byFeatures(phase, rows int) {
	l.split.items(l, phase, (l.c+bnGroup-1)/bnGroup, max(1, splitGrain/max(rows*bnGroup, 1)))
}

func (l *BatchNormalization) do(phase, lo, hi int) {
	c := l.c
	x := l.x.Data
	rows := len(x) / c
	switch phase {
	case bnStats:
		lo, hi = lo*bnGroup, min(hi*bnGroup, c)
		mean := l.mean[lo:hi]
		kernels.BatchNormSum(mean, x[lo:], rows, c)
		for j := range mean {
			mean[j] /= float64(rows)
		}
		kernels.BatchNormSqDev(l.sum[lo:hi], mean, x[lo:], rows, c)
	case bnOutput:
		kernels.BatchNormOutput(l.y.Data[lo*c:hi*c], x[lo*c:hi*c], l.mean, l.invStd, l.g, l.b, hi-lo, c)
	case bnGradSums:
		lo, hi = lo*bnGroup, min(hi*bnGroup, c)
		kernels.BatchNormGradSums(l.sum[lo:hi], l.sumXhat[lo:hi], l.mean[lo:hi], l.invStd[lo:hi], l.dy.Data[lo:], x[lo:], rows, c)
	case bnGradIn:
		dy, dx := l.dy.Data[lo*c:hi*c], l.dx.Data[lo*c:hi*c]
		if l.training {
			kernels.BatchNormGradInput(dx, dy, x[lo*c:hi*c], l.mean, l.invStd, l.scale, l.sum, l.sumXhat, float64(rows), hi-lo, c)
			return
		}
		for r := 0; r < len(dy); r += c {
			for j, d := range dy[r : r+c] {
				dx[r+j] = float32(float64(l.g[j]) * l.invStd[j] * float64(d))
			}
		}
	}
}

func (l *BatchNormalization) Type() string { return "BatchNormalization" }

func (l *BatchNormalization) momentum() float64 {
	if l.Momentum == 0 {
		return 0.99
	}
	return l.Momentum
}

func (l *BatchNormalization) epsilon() float64 {
	if l.Epsilon == 0 {
		return 1e-3
	}
	return l.Epsilon
}

func (l *BatchNormalization) Build(in []int, rng *rand.Rand) ([]int, error) {
	if m := l.momentum(); !(m >= 0 && m <= 1) {
		return nil, errorf(l, "momentum = %v: must be in [0, 1]", m)
	}
	if e := l.epsilon(); !(e > 0) {
		return nil, errorf(l, "epsilon = %v: must be positive", e)
	}
	if len(in) == 0 || !positive(in) {
		return nil, errorf(l, "input shape %v: want at least one positive axis", in)
	}
	c := in[len(in)-1]
	l.in, l.c = append([]int(nil), in...), c
	l.scaleShift.build(l.NoScale, l.NoCenter, c)
	l.movMean = newParam("moving_mean", false, c)
	l.movVar = newParam("moving_variance", false, c)
	l.movVar.Value.Fill(1)
	l.mean, l.invStd, l.sum, l.sumXhat = nil, nil, nil, nil
	l.x, l.y, l.dx = nil, nil, nil
	return append([]int(nil), in...), nil
}

func (l *BatchNormalization) OutputShape() []int { return l.in }

// Cost counts gamma and beta (unless left out) and the two moving
// averages, one of each per feature of the last axis; normalising is
// elementwise work.
func (l *BatchNormalization) Cost(in []int) Cost {
	if len(in) == 0 {
		return Cost{}
	}
	n := int64(2)
	if !l.NoScale {
		n++
	}
	if !l.NoCenter {
		n++
	}
	return Cost{Params: mulSat(n, int64(in[len(in)-1]))}
}

// Params returns gamma and beta, each unless left out, then the moving
// mean and variance: Keras's order.
func (l *BatchNormalization) Params() []*Param {
	return append(l.params(), l.movMean, l.movVar)
}

func (l *BatchNormalization) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	l.g, l.b = l.values()
	c := l.c
	rows := len(x.Data) / c
	l.training = training
	eps := l.epsilon()
	if l.mean == nil {
		s := make([]float64, 5*c)
		l.mean, l.invStd, l.sum, l.sumXhat, l.scale = s[:c:c], s[c:2*c:2*c], s[2*c:3*c:3*c], s[3*c:4*c:4*c], s[4*c:]
	}
	if training {
		clear(l.mean)
		clear(l.sum)
		l.x = x
		l.byFeatures(bnStats, rows)
		m := l.momentum()
		mm, mv := l.movMean.Value.Data, l.movVar.Value.Data
		for j := range l.mean {
			v := l.sum[j] / float64(rows)
			l.invStd[j] = 1 / math.Sqrt(v+eps)
			mm[j] = float32(float64(mm[j])*m + l.mean[j]*(1-m))
			mv[j] = float32(float64(mv[j])*m + v*(1-m))
		}
	} else {
		for j := range l.mean {
			l.mean[j] = float64(l.movMean.Value.Data[j])
			l.invStd[j] = 1 / math.Sqrt(float64(l.movVar.Value.Data[j])+eps)
		}
	}
	l.x = x
	l.y = resize(l.y, x.Shape...)
	l.split.rows(l, bnOutput, rows, c)
	return l.y
}

// Backward, in training mode, differentiates through the batch statistics:
//
//	dx = gamma·invStd/R · (R·dy - Σdy - xhat·Σ(dy·xhat))
//
// over the R rows of the batch; at inference dx = gamma·invStd·dy. xhat is
// computed again from the input, bit for bit as Forward did (see
// kernels.BatchNormGradSums), rather than kept in a buffer of the input's
// size.
func (l *BatchNormalization) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	l.g, l.b = l.values()
	c := l.c
	rows := len(dy.Data) / c
	l.dy = dy
	if l.training || !l.skipDw { // dx in inference does not need the sums
		clear(l.sum)
		clear(l.sumXhat)
		l.byFeatures(bnGradSums, rows)
	}
	for j := range c {
		if !l.skipDw && l.gamma != nil {
			l.gamma.Grad.Data[j] += float32(l.sumXhat[j])
		}
		if !l.skipDw && l.beta != nil {
			l.beta.Grad.Data[j] += float32(l.sum[j])
		}
		l.scale[j] = float64(l.g[j]) * l.invStd[j] / float64(rows)
	}
	l.dx = l.grad(l.dx, dy.Shape...)
	l.split.rows(l, bnGradIn, rows, c)
	l.dy = nil
	return l.dx
}

// SkipParamGradients makes Backward leave gamma's and beta's gradients as
// they are; see [ParamGradientSkipper].
func (l *BatchNormalization) SkipParamGradients(skip bool) { l.skipDw = skip }

func (l *BatchNormalization) Config() map[string]any {
	return map[string]any{"name": l.Name(), "momentum": l.momentum(), "epsilon": l.epsilon(), "center": !l.NoCenter, "scale": !l.NoScale}
}

func batchNormFromConfig(f *fields) *BatchNormalization {
	return &BatchNormalization{Momentum: f.float("momentum"), Epsilon: f.float("epsilon"),
		NoCenter: !f.bool("center", true), NoScale: !f.bool("scale", true)}
}
