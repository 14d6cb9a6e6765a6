// Package tsne places points of many dimensions in a plane so that
// neighbours stay neighbours: t-distributed stochastic neighbour embedding
// (t-SNE; van der Maaten and Hinton 2008, "Visualizing Data using t-SNE",
// JMLR 9:2579–2605), computed exactly, for the few hundred points a
// picture of a network's features shows.
//
// Each point i spreads a Gaussian over the others, its width chosen so
// that the distribution's perplexity 2^H is the one asked for; the
// symmetrised distribution P is matched by a Student-t distribution Q over
// the points in the plane, by gradient descent on the Kullback–Leibler
// divergence KL(P‖Q), with the paper's momentum, gains and "early
// exaggeration" (P times 12 for the first 250 steps, as scikit-learn).
package tsne

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
)

// MaxPoints is the most points Embed takes: exact t-SNE keeps three n×n
// matrices of float64, 2.4 GB for 10,000 points, and its time grows as n².
const MaxPoints = 10000

// Perplexity returns the perplexity Embed takes for n points unless told
// otherwise: 30, or (n-1)/3 for fewer than 91 points, but at least 1 (the
// least Embed takes), for 2 to 4 points.
func Perplexity(n int) float64 { return max(1, min(30, float64(n-1)/3)) }

// Options are the settings of [Embed]; zero values mean the defaults.
type Options struct {
	Perplexity float64 // the neighbours each point counts, about (0: [Perplexity] of n)
	Iterations int     // steps of gradient descent (0: 1000)
	Seed       uint64  // of the starting points, N(0, 1e-4²) each
}

const (
	exaggeration     = 12.0 // P's factor in the first exaggerated steps
	exaggeratedSteps = 250
	learningRate     = 200.0
	minGain          = 0.01
)

// Embed returns a point in the plane for each of points (n rows of d
// values), centred on the origin. The result depends only on the points
// and opts.
func Embed(points [][]float32, opts Options) ([][2]float64, error) {
	n := len(points)
	if n < 2 || n > MaxPoints {
		return nil, fmt.Errorf("tsne: %d points: want 2 to %d", n, MaxPoints)
	}
	d := len(points[0])
	for i, p := range points {
		if len(p) != d {
			return nil, fmt.Errorf("tsne: point %d has %d values, point 0 has %d", i, len(p), d)
		}
		for j, v := range p {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("tsne: point %d, value %d is %v", i, j, v)
			}
		}
	}
	perp, iters := opts.Perplexity, opts.Iterations
	if perp == 0 {
		perp = Perplexity(n)
	}
	if iters == 0 {
		iters = 1000
	}
	if !(perp >= 1) || perp > float64(n-1) || iters < 0 {
		return nil, fmt.Errorf("tsne: perplexity %v and %d iterations for %d points: want a perplexity in [1, %d] and iterations >= 0", perp, iters, n, n-1)
	}
	p := affinities(distances(points), perp)
	return descend(p, n, iters, rand.New(rand.NewPCG(opts.Seed, 0x74736e65))), nil
}

// distances returns the squared Euclidean distances between the points,
// n×n, row by row.
func distances(points [][]float32) []float64 {
	n := len(points)
	dist := make([]float64, n*n)
	for i := range n {
		for j := range i {
			s := 0.0
			for k, v := range points[i] {
				t := float64(v) - float64(points[j][k])
				s += t * t
			}
			dist[i*n+j], dist[j*n+i] = s, s
		}
	}
	return dist
}

// affinities returns P, n×n: (p(j|i) + p(i|j)) / 2n of the conditional
// distributions (see conditionals), at least 1e-12 off the diagonal.
func affinities(dist []float64, perp float64) []float64 {
	p := conditionals(dist, perp)
	n := int(math.Sqrt(float64(len(p))))
	for i := range n {
		for j := range i {
			v := max((p[i*n+j]+p[j*n+i])/(2*float64(n)), 1e-12)
			p[i*n+j], p[j*n+i] = v, v
		}
		p[i*n+i] = 0
	}
	return p
}

// conditionals returns n×n rows, each the conditional distribution
// p(j|i) ∝ exp(-β_i·dist(i,j)), β_i found by bisection so that its entropy
// is ln(perp).
func conditionals(dist []float64, perp float64) []float64 {
	n := int(math.Sqrt(float64(len(dist))))
	p := make([]float64, n*n)
	target := math.Log(perp)
	for i := range n {
		row, drow := p[i*n:(i+1)*n], dist[i*n:(i+1)*n]
		nearest := math.Inf(1)
		for j, v := range drow {
			if j != i {
				nearest = min(nearest, v)
			}
		}
		beta, lo, hi := 1.0, 0.0, math.Inf(1)
		for range 200 {
			if h := conditional(row, drow, i, nearest, beta); math.Abs(h-target) < 1e-10 {
				break
			} else if h > target { // too flat: narrower
				lo = beta
				beta = min(beta*2, (beta+hi)/2)
			} else {
				hi = beta
				beta = (beta + lo) / 2
			}
		}
	}
	return p
}

// conditional sets row to p(·|i) for the width beta and returns its
// entropy (in nats); the distances are taken less the nearest, which
// changes nothing but keeps the exponentials from vanishing.
func conditional(row, drow []float64, i int, nearest, beta float64) float64 {
	sum := 0.0
	for j, v := range drow {
		row[j] = 0
		if j != i {
			row[j] = math.Exp(-(v - nearest) * beta)
			sum += row[j]
		}
	}
	h := 0.0
	for j := range row {
		row[j] /= sum
		if row[j] > 0 {
			h -= row[j] * math.Log(row[j])
		}
	}
	return h
}

// descend runs the gradient descent from random points and returns them.
func descend(p []float64, n, iters int, rng *rand.Rand) [][2]float64 {
	y := make([][2]float64, n)
	for i := range y {
		y[i] = [2]float64{1e-4 * rng.NormFloat64(), 1e-4 * rng.NormFloat64()}
	}
	velocity, gains, grad := make([][2]float64, n), make([][2]float64, n), make([][2]float64, n)
	for i := range gains {
		gains[i] = [2]float64{1, 1}
	}
	q, rows := make([]float64, n*n), make([]float64, n)
	for it := range iters {
		ex, momentum := 1.0, 0.8
		if it < exaggeratedSteps {
			ex, momentum = exaggeration, 0.5
		}
		gradient(grad, q, rows, p, y, ex)
		for i := range y {
			for k := range 2 {
				// The gain grows while the gradient keeps turning the
				// point back, shrinks while it keeps its course.
				if (grad[i][k] > 0) != (velocity[i][k] > 0) {
					gains[i][k] += 0.2
				} else {
					gains[i][k] = max(gains[i][k]*0.8, minGain)
				}
				velocity[i][k] = momentum*velocity[i][k] - learningRate*gains[i][k]*grad[i][k]
				y[i][k] += velocity[i][k]
			}
		}
		centre(y)
	}
	return y
}

// gradient sets grad to the gradient of KL(P ‖ Q) with respect to the
// points y (the paper's equation 5), its attraction ex times as strong (the
// early exaggeration), using q (n×n) for the Student-t kernel
// 1/(1 + |y_i - y_j|²) and rows (n) for its rows' sums. The rows are shared
// out among the cores; each is summed in order, and the sums in row order,
// so that the result does not depend on how many there are. (1000 points:
// 3.8 s on 2 cores, 6.6 s on one; the kernel's lower triangle alone, its
// transpose written column by column, took 5.1 s.)
func gradient(grad [][2]float64, q, rows, p []float64, y [][2]float64, ex float64) {
	n := len(y)
	parallel(n, func(i int) {
		qi, s := q[i*n:(i+1)*n], 0.0
		for j := range n {
			dx, dy := y[i][0]-y[j][0], y[i][1]-y[j][1]
			qi[j] = 1 / (1 + dx*dx + dy*dy)
			if j != i {
				s += qi[j]
			}
		}
		qi[i] = 0
		rows[i] = s
	})
	sum := 0.0
	for _, s := range rows {
		sum += s
	}
	parallel(n, func(i int) {
		var g [2]float64
		pi, qi := p[i*n:(i+1)*n], q[i*n:(i+1)*n]
		for j, w := range qi {
			f := 4 * (ex*pi[j] - w/sum) * w // 0 for j = i
			g[0] += f * (y[i][0] - y[j][0])
			g[1] += f * (y[i][1] - y[j][1])
		}
		grad[i] = g
	})
}

// parallel calls f(i) for i in [0, n), the indices cut into one run of
// consecutive ones per core.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w * n / workers; i < (w+1)*n/workers; i++ {
				f(i)
			}
		})
	}
	wg.Wait()
}

// centre moves the points so that their mean is the origin.
func centre(y [][2]float64) {
	var m [2]float64
	for _, p := range y {
		m[0] += p[0]
		m[1] += p[1]
	}
	for i := range y {
		y[i][0] -= m[0] / float64(len(y))
		y[i][1] -= m[1] / float64(len(y))
	}
}
