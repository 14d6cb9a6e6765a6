package nn

import (
	"math"

	"github.com/convnet-go/convnet/tensor"
)

// The phases of LayerNormalization's passes, over groups.
const (
	lnForward  = iota // the statistics and y
	lnBackward        // dx, and each chunk's sums for gamma and beta
)

// chunk is how many of the batch's groups share one partial sum of
// gamma's and beta's gradients in Backward, and one piece of its work:
// pieces of about splitGrain values, at most 16 of them (the partial sums
// are of gamma's size each). It depends on the batch alone, not on
// GOMAXPROCS, and so do the sums.
func (l *LayerNormalization) chunk(groups int) int {
	return max(1, splitGrain/len(l.offN), (groups+15)/16)
}

func (l *LayerNormalization) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	checkInput(l, "Forward", x, l.in)
	l.g, l.b = l.values()
	groups := x.Shape[0] * len(l.offK)
	if cap(l.mean) < groups {
		l.mean, l.inv = make([]float32, groups), make([]float32, groups)
	}
	l.mean, l.inv = l.mean[:groups], l.inv[:groups]
	l.x = x
	l.y = resize(l.y, x.Shape...)
	l.split.rows(l, lnForward, groups, len(l.offN))
	return l.y
}

// Backward adds gamma's and beta's gradients: each chunk of groups (see
// chunk) sums its share in float64, and the chunks are added in order.
func (l *LayerNormalization) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkGrad(l, dy, l.y)
	l.g, l.b = l.values()
	l.dx = l.grad(l.dx, dy.Shape...)
	l.dy = dy
	groups, n := len(l.mean), len(l.offN)
	chunk := l.chunk(groups)
	l.sums.reset(!l.skipDw && (l.gamma != nil || l.beta != nil), (groups+chunk-1)/chunk, n)
	l.split.items(l, lnBackward, groups, chunk)
	l.sums.add(l.gamma, l.beta, n)
	l.dy = nil
	return l.dx
}

// paramSums holds a normalization's Backward sums of gamma's and beta's
// gradients, in float64, one row of n per chunk of the batch's groups; the
// chunks are added in order, so the sums do not depend on how many cores
// ran them.
type paramSums struct {
	dg, db []float64 // nil when no gradient is wanted
	buf    []float64
}

// reset zeroes rows rows of n sums for gamma and beta, reusing the
// buffer, or clears them when want is false.
func (s *paramSums) reset(want bool, rows, n int) {
	s.dg, s.db = nil, nil
	if !want {
		return
	}
	size := rows * n
	if cap(s.buf) < 2*size {
		s.buf = make([]float64, 2*size)
	}
	buf := s.buf[:2*size]
	clear(buf)
	s.dg, s.db = buf[:size], buf[size:]
}

// add adds the rows of sums of n values, in order, into gamma's and beta's
// gradients (either may be nil).
func (s *paramSums) add(gamma, beta *Param, n int) {
	addRows(gamma, s.dg, n)
	addRows(beta, s.db, n)
}

// addRows adds into p's gradient (unless p is nil) the total of each
// column of sums, rows of n values, summed in order in float64.
func addRows(p *Param, sums []float64, n int) {
	if p == nil || sums == nil {
		return
	}
	for j := range n {
		v := 0.0
		for c := j; c < len(sums); c += n {
			v += sums[c]
		}
		p.Grad.Data[j] += float32(v)
	}
}

// base returns the offset in the batch of group k's first value.
func (l *LayerNormalization) base(k int) int {
	return k/len(l.offK)*l.size + int(l.offK[k%len(l.offK)])
}

func (l *LayerNormalization) do(phase, lo, hi int) {
	n, eps, chunk := float64(len(l.offN)), l.epsilon(), l.chunk(len(l.mean))
	for k := lo; k < hi; k++ {
		at := l.base(k)
		x := l.x.Data[at:]
		if phase == lnForward {
			s := 0.0
			for _, o := range l.offN {
				s += float64(x[o])
			}
			mean, v := s/n, 0.0
			for _, o := range l.offN {
				d := float64(x[o]) - mean
				v += d * d
			}
			m, inv := float32(mean), float32(1/math.Sqrt(v/n+eps))
			l.mean[k], l.inv[k] = m, inv
			y := l.y.Data[at:]
			for j, o := range l.offN {
				y[o] = (x[o]-m)*inv*l.g[j] + l.b[j]
			}
			continue
		}
		m, inv := l.mean[k], l.inv[k]
		dy, dx := l.dy.Data[at:], l.dx.Data[at:]
		sd, sdx := 0.0, 0.0
		for j, o := range l.offN {
			d := float64(dy[o] * l.g[j])
			sd += d
			sdx += d * float64((x[o]-m)*inv)
		}
		sd, sdx = sd/n, sdx/n
		for j, o := range l.offN {
			xh := float64((x[o] - m) * inv)
			dx[o] = float32(float64(inv) * (float64(dy[o]*l.g[j]) - sd - xh*sdx))
		}
		if l.sums.dg != nil { // this group's share of gamma's and beta's gradients, in its chunk's sums
			c := k / chunk * len(l.offN)
			dg, db := l.sums.dg[c:c+len(l.offN)], l.sums.db[c:c+len(l.offN)]
			for j, o := range l.offN {
				d := float64(dy[o])
				dg[j] += d * float64((x[o]-m)*inv)
				db[j] += d
			}
		}
	}
}
