package nn

import (
	"math"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// A GroupNormalization's passes run per sample, a matrix of pixels by
// channels: the batch normalisation loops of internal/kernels sum its
// columns, the group's statistics are then the sums over the group's
// columns, and each column takes its group's mean and 1/√(var + ε).

func (l *GroupNormalization) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	l.g, l.b = l.values()
	l.stats(x.Shape[0])
	l.x = x
	l.y = resize(l.y, x.Shape...)
	l.split.rows(l, lnForward, x.Shape[0], l.pixels*l.c)
	return l.y
}

// stats sizes the per-sample, per-channel buffers for n samples: the
// statistics, and two sums.
func (l *GroupNormalization) stats(n int) {
	size := n * l.c
	if cap(l.mean) < size {
		l.mean, l.inv = make([]float64, size), make([]float64, size)
		l.sum, l.sumX = make([]float64, size), make([]float64, size)
		l.coef = make([]float64, 3*size)
	}
	l.mean, l.inv, l.sum, l.sumX = l.mean[:size], l.inv[:size], l.sum[:size], l.sumX[:size]
}

// Backward adds gamma's and beta's gradients, each the total of the
// samples' sums in float64, in the order of the samples.
func (l *GroupNormalization) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	l.g, l.b = l.values()
	l.dx = l.grad(l.dx, dy.Shape...)
	l.dy = dy
	l.split.rows(l, lnBackward, dy.Shape[0], l.pixels*l.c)
	if !l.skipDw {
		addRows(l.gamma, l.sumX, l.c)
		addRows(l.beta, l.sum, l.c)
	}
	l.dy = nil
	return l.dx
}

// do runs samples [lo, hi).
func (l *GroupNormalization) do(phase, lo, hi int) {
	c, px, cg := l.c, l.pixels, l.cg
	n := float64(px * cg)
	for s := lo; s < hi; s++ {
		x := l.x.Data[s*px*c : (s+1)*px*c]
		mean, inv := l.mean[s*c:(s+1)*c], l.inv[s*c:(s+1)*c]
		sum, sumX := l.sum[s*c:(s+1)*c], l.sumX[s*c:(s+1)*c]
		clear(sum)
		clear(sumX)
		if phase == lnForward {
			kernels.BatchNormSum(sum, x, px, c)
			for g := 0; g < c; g += cg {
				m := total(sum[g:g+cg]) / n
				for j := g; j < g+cg; j++ {
					mean[j] = m
				}
			}
			kernels.BatchNormSqDev(sumX, mean, x, px, c)
			for g := 0; g < c; g += cg {
				v := 1 / math.Sqrt(total(sumX[g:g+cg])/n+l.epsilon())
				for j := g; j < g+cg; j++ {
					inv[j] = v
				}
			}
			kernels.BatchNormOutput(l.y.Data[s*px*c:(s+1)*px*c], x, mean, inv, l.g, l.b, px, c)
			continue
		}
		dy := l.dy.Data[s*px*c : (s+1)*px*c]
		kernels.BatchNormGradSums(sum, sumX, mean, inv, dy, x, px, c)
		// dx = inv·(gamma·dy - Σ gamma·dy/n - xhat·Σ gamma·dy·xhat/n) over the group.
		coef := l.coef[3*s*c : 3*(s+1)*c]
		a, b, k := coef[:c], coef[c:2*c], coef[2*c:]
		for g := 0; g < c; g += cg {
			sd, sdx := 0.0, 0.0
			for j := g; j < g+cg; j++ {
				sd += float64(l.g[j]) * sum[j]
				sdx += float64(l.g[j]) * sumX[j]
			}
			for j := g; j < g+cg; j++ {
				a[j], b[j], k[j] = inv[j]*float64(l.g[j]), inv[j]*sd/n, inv[j]*sdx/n
			}
		}
		kernels.GroupNormGradInput(l.dx.Data[s*px*c:(s+1)*px*c], dy, x, mean, inv, a, b, k, px, c)
	}
}

// total returns the sum of v, in order.
func total(v []float64) float64 {
	t := 0.0
	for _, x := range v {
		t += x
	}
	return t
}
