package nn

import (
	"math"

	"github.com/convnet-go/convnet/tensor"
)

// chunk is how many of the batch's groups share one row of gamma's and
// beta's gradient sums in Backward, and one piece of its work: pieces of
// about splitGrain values, at most 16 of them. It depends on the batch
// alone, not on GOMAXPROCS, and so do the sums.
func (l *GroupNormalization) chunk(groups int) int {
	return max(1, splitGrain/(l.pixels*l.cg), (groups+15)/16)
}

func (l *GroupNormalization) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	l.g, l.b = affine(l.gamma, l.beta, l.fixed)
	groups := x.Shape[0] * l.groups
	if cap(l.mean) < groups {
		l.mean, l.inv = make([]float32, groups), make([]float32, groups)
	}
	l.mean, l.inv = l.mean[:groups], l.inv[:groups]
	l.x = x
	l.y = resize(l.y, x.Shape...)
	l.split.rows(l, lnForward, groups, l.pixels*l.cg)
	return l.y
}

// Backward adds gamma's and beta's gradients: each chunk of groups (see
// chunk) sums its share in float64, and the chunks are added in order.
func (l *GroupNormalization) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	l.g, l.b = affine(l.gamma, l.beta, l.fixed)
	l.dx = l.grad(l.dx, dy.Shape...)
	l.dy = dy
	groups := len(l.mean)
	chunk := l.chunk(groups)
	l.sums.reset(!l.skipDw && (l.gamma != nil || l.beta != nil), (groups+chunk-1)/chunk, l.c)
	l.split.items(l, lnBackward, groups, chunk)
	l.sums.add(l.gamma, l.beta, l.c)
	l.dy = nil
	return l.dx
}

// do runs groups [lo, hi) of the batch: group k is channels
// [g·cg, (g+1)·cg) of sample k/groups, g = k%groups, at every pixel.
func (l *GroupNormalization) do(phase, lo, hi int) {
	c, cg, px := l.c, l.cg, l.pixels
	n, eps, chunk := float64(px*cg), l.epsilon(), l.chunk(len(l.mean))
	for k := lo; k < hi; k++ {
		ch := k % l.groups * cg
		at := k/l.groups*px*c + ch
		gamma, beta := l.g[ch:ch+cg], l.b[ch:ch+cg]
		if phase == lnForward {
			s := 0.0
			for p := range px {
				for _, v := range l.x.Data[at+p*c : at+p*c+cg] {
					s += float64(v)
				}
			}
			mean, v := s/n, 0.0
			for p := range px {
				for _, x := range l.x.Data[at+p*c : at+p*c+cg] {
					d := float64(x) - mean
					v += d * d
				}
			}
			m, inv := float32(mean), float32(1/math.Sqrt(v/n+eps))
			l.mean[k], l.inv[k] = m, inv
			for p := range px {
				x, y := l.x.Data[at+p*c:at+p*c+cg], l.y.Data[at+p*c:at+p*c+cg]
				for j, v := range x {
					y[j] = (v-m)*inv*gamma[j] + beta[j]
				}
			}
			continue
		}
		m, inv := l.mean[k], l.inv[k]
		sd, sdx := 0.0, 0.0
		for p := range px {
			x, dy := l.x.Data[at+p*c:at+p*c+cg], l.dy.Data[at+p*c:at+p*c+cg]
			for j, v := range x {
				d := float64(dy[j] * gamma[j])
				sd += d
				sdx += d * float64((v-m)*inv)
			}
		}
		sd, sdx = sd/n, sdx/n
		for p := range px {
			x, dy, dx := l.x.Data[at+p*c:at+p*c+cg], l.dy.Data[at+p*c:at+p*c+cg], l.dx.Data[at+p*c:at+p*c+cg]
			for j, v := range x {
				xh := float64((v - m) * inv)
				dx[j] = float32(float64(inv) * (float64(dy[j]*gamma[j]) - sd - xh*sdx))
			}
		}
		if l.sums.dg != nil { // this group's share of gamma's and beta's gradients, in its chunk's row
			row := k / chunk * c
			dg, db := l.sums.dg[row+ch:row+ch+cg], l.sums.db[row+ch:row+ch+cg]
			for p := range px {
				x, dy := l.x.Data[at+p*c:at+p*c+cg], l.dy.Data[at+p*c:at+p*c+cg]
				for j, v := range x {
					d := float64(dy[j])
					dg[j] += d * float64((v-m)*inv)
					db[j] += d
				}
			}
		}
	}
}
