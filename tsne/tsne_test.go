package tsne

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
)

// clusters returns k Gaussian clusters of m points each in d dimensions,
// their centres 10 apart on the axes, and each point's cluster.
func clusters(k, m, d int, seed uint64) ([][]float32, []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	var pts [][]float32
	var label []int
	for c := range k {
		for range m {
			p := make([]float32, d)
			for j := range p {
				p[j] = float32(rng.NormFloat64())
			}
			p[c%d] += 10
			pts = append(pts, p)
			label = append(label, c)
		}
	}
	return pts, label
}

// TestAffinities checks that each point's conditional distribution has the
// perplexity asked for (entropy ln perp), and that P is symmetric and sums
// to 1.
func TestAffinities(t *testing.T) {
	pts, _ := clusters(3, 20, 5, 1)
	n := len(pts)
	dist := distances(pts)
	for _, perp := range []float64{2, 7, 19.5} {
		c := conditionals(dist, perp)
		for i := range n {
			h, sum := 0.0, 0.0
			for _, v := range c[i*n : (i+1)*n] {
				if v > 0 {
					h -= v * math.Log(v)
				}
				sum += v
			}
			if math.Abs(h-math.Log(perp)) > 1e-9 || math.Abs(sum-1) > 1e-12 || c[i*n+i] != 0 {
				t.Fatalf("perplexity %v, row %d: entropy %v (want %v), sum %v, p(i|i) %v", perp, i, h, math.Log(perp), sum, c[i*n+i])
			}
		}
		p := affinities(dist, perp)
		total := 0.0
		for i := range n {
			for j := range n {
				total += p[i*n+j]
				if p[i*n+j] != p[j*n+i] || i != j && p[i*n+j] != max((c[i*n+j]+c[j*n+i])/(2*float64(n)), 1e-12) {
					t.Fatalf("perplexity %v: P[%d,%d] = %v, P[%d,%d] = %v", perp, i, j, p[i*n+j], j, i, p[j*n+i])
				}
			}
		}
		if math.Abs(total-1) > 1e-6 {
			t.Errorf("perplexity %v: P sums to %v, want 1", perp, total)
		}
	}
}

// TestGradient checks the gradient against central finite differences of
// what it descends: KL(P‖Q), and with exaggeration ex the paper's
// heuristic, whose attraction is ex times as strong: the gradient of
// KL(P‖Q) + (ex-1)·Σ_{i≠j} p_ij·ln(1 + |y_i - y_j|²).
func TestGradient(t *testing.T) {
	pts, _ := clusters(3, 6, 4, 2)
	n := len(pts)
	p := affinities(distances(pts), 4)
	rng := rand.New(rand.NewPCG(3, 4))
	y := make([][2]float64, n)
	for i := range y {
		y[i] = [2]float64{rng.NormFloat64(), rng.NormFloat64()}
	}
	grad, q, rows := make([][2]float64, n), make([]float64, n*n), make([]float64, n)
	for _, ex := range []float64{1, 12} {
		cost := func() float64 {
			c := divergence(p, y)
			for i := range n {
				for j := range n {
					if i != j {
						c += (ex - 1) * p[i*n+j] * math.Log(1+dist2(y[i], y[j]))
					}
				}
			}
			return c
		}
		gradient(grad, q, rows, p, y, ex)
		worst, top := 0.0, 0.0
		for i := range n {
			for k := range 2 {
				const h = 1e-6
				v := y[i][k]
				y[i][k] = v + h
				up := cost()
				y[i][k] = v - h
				down := cost()
				y[i][k] = v
				worst = max(worst, math.Abs((up-down)/(2*h)-grad[i][k]))
				top = max(top, math.Abs(grad[i][k]))
			}
		}
		t.Logf("exaggeration %v: max |finite difference - gradient| %.3g of the largest %.3g", ex, worst, top)
		if worst > 1e-6*max(top, 1) {
			t.Errorf("exaggeration %v: max |finite difference - gradient| %.3g, largest %.3g", ex, worst, top)
		}
	}
}

// TestEmbedClusters embeds 5 clusters of 40 points in 20 dimensions: every
// point's nearest neighbour in the plane is of its cluster, the
// embedding's trustworthiness (Venna and Kaski 2001, k = 5) is above 0.95,
// and the same seed gives the same points, on any number of cores.
func TestEmbedClusters(t *testing.T) {
	pts, label := clusters(5, 40, 20, 5)
	y, err := Embed(pts, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	wrong := 0
	for i := range y {
		best, bd := -1, math.Inf(1)
		for j := range y {
			if d := dist2(y[i], y[j]); j != i && d < bd {
				best, bd = j, d
			}
		}
		if label[best] != label[i] {
			wrong++
		}
	}
	tw := trustworthiness(pts, y, 5)
	t.Logf("%d of %d nearest neighbours in another cluster, trustworthiness %.4f", wrong, len(y), tw)
	if wrong > 0 || tw < 0.95 {
		t.Errorf("%d of %d nearest neighbours in another cluster, trustworthiness %.4f: want 0 and > 0.95", wrong, len(y), tw)
	}
	other, _ := Embed(pts, Options{Seed: 2})
	if slices.Equal(other, y) {
		t.Error("another seed gave the same points")
	}
	for _, procs := range []int{1, 3} { // the rows shared out otherwise: the same points
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		if again, _ := Embed(pts, Options{Seed: 1}); !slices.Equal(again, y) {
			t.Errorf("on %d cores the same seed gave other points", procs)
		}
	}
	var m [2]float64
	for _, p := range y {
		m[0], m[1] = m[0]+p[0], m[1]+p[1]
	}
	if math.Abs(m[0]) > 1e-9*float64(len(y)) || math.Abs(m[1]) > 1e-9*float64(len(y)) {
		t.Errorf("the points' sum is %v, want the origin", m)
	}
}

func dist2(a, b [2]float64) float64 {
	dx, dy := a[0]-b[0], a[1]-b[1]
	return dx*dx + dy*dy
}

// trustworthiness is 1 - 2/(n k (2n - 3k - 1)) Σ_i Σ_{j ∈ U_k(i)} (r(i,j) - k):
// U_k(i) the k nearest neighbours of i in the plane that are not among its
// k nearest in the original space, r(i,j) j's rank among i's neighbours
// there.
func trustworthiness(pts [][]float32, y [][2]float64, k int) float64 {
	n := len(pts)
	d := distances(pts)
	sum := 0.0
	for i := range n {
		orig := make([]int, 0, n-1)
		emb := make([]int, 0, n-1)
		for j := range n {
			if j != i {
				orig, emb = append(orig, j), append(emb, j)
			}
		}
		sort.SliceStable(orig, func(a, b int) bool { return d[i*n+orig[a]] < d[i*n+orig[b]] })
		sort.SliceStable(emb, func(a, b int) bool { return dist2(y[i], y[emb[a]]) < dist2(y[i], y[emb[b]]) })
		rank := make([]int, n)
		for r, j := range orig {
			rank[j] = r + 1
		}
		for _, j := range emb[:k] {
			if rank[j] > k {
				sum += float64(rank[j] - k)
			}
		}
	}
	return 1 - 2/float64(n*k*(2*n-3*k-1))*sum
}

func TestEmbedBadInput(t *testing.T) {
	if Perplexity(271) != 30 || Perplexity(31) != 10 {
		t.Errorf("Perplexity(271) = %v, Perplexity(31) = %v; want 30 and 10", Perplexity(271), Perplexity(31))
	}
	for _, tt := range []struct {
		pts  [][]float32
		opts Options
		want string
	}{
		{[][]float32{{1, 2}}, Options{}, "1 points: want 2 to 10000"},
		{make([][]float32, 10001), Options{}, "10001 points: want 2 to 10000"},
		{[][]float32{{1, 2}, {3}}, Options{}, "point 1 has 1 values, point 0 has 2"},
		{[][]float32{{1, 2}, {3, float32(math.NaN())}}, Options{}, "point 1, value 1 is NaN"},
		{[][]float32{{1}, {2}, {3}}, Options{Perplexity: 5}, "perplexity 5"},
		{[][]float32{{1}, {2}, {3}}, Options{Perplexity: -1}, "want a perplexity in [1, 2]"},
		{[][]float32{{1}, {2}, {3}}, Options{Perplexity: math.NaN()}, "perplexity NaN"},
	} {
		if _, err := Embed(tt.pts, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Embed(%v, %+v): error %v, want %q", tt.pts, tt.opts, err, tt.want)
		}
	}
	// The fewest points Embed takes, with the default perplexity.
	for n := 2; n <= 4; n++ {
		pts := make([][]float32, n)
		for i := range pts {
			pts[i] = []float32{float32(i), float32(i * i)}
		}
		y, err := Embed(pts, Options{Iterations: 10})
		if err != nil || len(y) != n {
			t.Errorf("Embed of %d points: %d points, %v; want %d", n, len(y), err, n)
		}
	}
}

// divergence returns KL(P‖Q) for the points y.
func divergence(p []float64, y [][2]float64) float64 {
	n := len(y)
	sum := 0.0
	for i := range n {
		for j := range n {
			if i != j {
				sum += 1 / (1 + dist2(y[i], y[j]))
			}
		}
	}
	kl := 0.0
	for i := range n {
		for j := range n {
			if i != j {
				kl += p[i*n+j] * math.Log(p[i*n+j]*sum*(1+dist2(y[i], y[j])))
			}
		}
	}
	return kl
}

// BenchmarkEmbed embeds 271 points of 256 values (28 clusters), as many as
// the built-in AHCD model's map holds, and 1000, the most of evaluate
// --map's.
func BenchmarkEmbed(b *testing.B) {
	for _, n := range []int{271, 1000} {
		pts, _ := clusters(28, 36, 256, 7)
		pts = pts[:n]
		b.Run(fmt.Sprintf("points=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Embed(pts, Options{Seed: 1}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
