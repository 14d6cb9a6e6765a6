package nn

import (
	"math/rand/v2"
	"slices"

	"github.com/convnet-go/convnet/tensor"
)

// LayerScale multiplies each channel (the last axis) by a learned scale,
// Keras's ConvNeXt's LayerScale (Touvron et al. 2021,
// https://arxiv.org/abs/2103.17239): y = x·gamma, gamma [C] starting at
// InitValues (Keras's init_values; ConvNeXt's 1e-6 makes each residual
// branch start near zero). ProjectionDim, Keras's projection_dim, must be
// the input's channels when given (0 takes them).
//
// dx = dy·gamma; gamma's gradient sums dy·x over the batch and the pixels,
// in float64, in order.
type LayerScale struct {
	InitValues    float64
	ProjectionDim int

	named
	buffers
	in       []int
	gamma    *Param
	sum      []float64 // Backward's sums of gamma's gradient
	skipDw   bool      // see SkipParamGradients
	x, y, dx *tensor.Tensor
}

func (l *LayerScale) Type() string { return "LayerScale" }

func (l *LayerScale) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) == 0 || !positive(in) {
		return nil, errorf(l, "input shape %v: want at least one positive axis", in)
	}
	c := in[len(in)-1]
	if l.ProjectionDim != 0 && l.ProjectionDim != c {
		return nil, errorf(l, "projection_dim = %d: the input %v has %d channels", l.ProjectionDim, in, c)
	}
	if !finite32(l.InitValues) {
		return nil, errorf(l, "init_values = %v: must be a finite number", l.InitValues)
	}
	l.in = slices.Clone(in)
	l.gamma = newParam("gamma", true, c)
	l.gamma.Value.Fill(float32(l.InitValues))
	l.sum = make([]float64, c)
	l.x, l.y, l.dx = nil, nil, nil
	return slices.Clone(in), nil
}

func (l *LayerScale) OutputShape() []int { return l.in }

func (l *LayerScale) Params() []*Param { return []*Param{l.gamma} }

// Cost counts gamma and one multiplication per value.
func (l *LayerScale) Cost(in []int) Cost {
	if len(in) == 0 {
		return Cost{}
	}
	n := int64(1)
	for _, d := range in {
		n = mulSat(n, int64(d))
	}
	return Cost{Params: int64(in[len(in)-1]), MACs: n}
}

func (l *LayerScale) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	l.x = x
	l.y = resize(l.y, x.Shape...)
	g := l.gamma.Value.Data
	for r := 0; r < len(x.Data); r += len(g) {
		y, xr := l.y.Data[r:r+len(g)], x.Data[r:r+len(g)]
		for j, v := range g {
			y[j] = xr[j] * v
		}
	}
	return l.y
}

func (l *LayerScale) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	l.dx = l.grad(l.dx, dy.Shape...)
	g := l.gamma.Value.Data
	if !l.skipDw {
		clear(l.sum)
	}
	for r := 0; r < len(dy.Data); r += len(g) {
		d, x, dx := dy.Data[r:r+len(g)], l.x.Data[r:r+len(g)], l.dx.Data[r:r+len(g)]
		for j, v := range g {
			dx[j] = d[j] * v
		}
		if !l.skipDw {
			for j := range l.sum {
				l.sum[j] += float64(d[j]) * float64(x[j])
			}
		}
	}
	if !l.skipDw {
		for j, s := range l.sum {
			l.gamma.Grad.Data[j] += float32(s)
		}
	}
	return l.dx
}

// SkipParamGradients makes Backward leave gamma's gradient as it is; see
// [ParamGradientSkipper].
func (l *LayerScale) SkipParamGradients(skip bool) { l.skipDw = skip }

// Config writes Keras's fields; projection_dim is the channels once built.
func (l *LayerScale) Config() map[string]any {
	dim := l.ProjectionDim
	if l.in != nil {
		dim = l.in[len(l.in)-1]
	}
	return map[string]any{"name": l.Name(), "init_values": l.InitValues, "projection_dim": dim}
}

func layerScaleFromConfig(f *fields) *LayerScale {
	return &LayerScale{InitValues: f.float("init_values"), ProjectionDim: f.int("projection_dim")}
}
