package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
)

// geoms covers valid and same padding, odd and even windows, strides 1..3,
// windows wider than the image with padding, and 1 to 3 channels.
func geoms() []ConvGeom {
	var gs []ConvGeom
	for _, hw := range [][2]int{{1, 1}, {3, 4}, {5, 5}, {7, 6}} {
		for _, k := range [][2]int{{1, 1}, {2, 2}, {3, 3}, {2, 3}, {5, 5}} {
			for _, s := range []int{1, 2, 3} {
				for _, c := range []int{1, 3} {
					for _, same := range []bool{false, true} {
						g := ConvGeom{H: hw[0], W: hw[1], C: c, KH: k[0], KW: k[1], SH: s, SW: s}
						if same {
							g.OH, g.PadTop = SamePadding(g.H, g.KH, s)
							g.OW, g.PadLeft = SamePadding(g.W, g.KW, s)
						} else {
							g.OH, g.OW = ValidOutput(g.H, g.KH, s), ValidOutput(g.W, g.KW, s)
						}
						if g.OH > 0 && g.OW > 0 {
							gs = append(gs, g)
						}
					}
				}
			}
		}
	}
	return gs
}

func randSlice(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// im2colNaive is the loop in Im2col's comment, written the obvious way.
func im2colNaive(dst, x []float32, g *ConvGeom) {
	for oy := 0; oy < g.OH; oy++ {
		for ox := 0; ox < g.OW; ox++ {
			for ky := 0; ky < g.KH; ky++ {
				for kx := 0; kx < g.KW; kx++ {
					for c := 0; c < g.C; c++ {
						iy, ix := oy*g.SH-g.PadTop+ky, ox*g.SW-g.PadLeft+kx
						v := float32(0)
						if iy >= 0 && iy < g.H && ix >= 0 && ix < g.W {
							v = x[(iy*g.W+ix)*g.C+c]
						}
						dst[(oy*g.OW+ox)*g.ColWidth()+(ky*g.KW+kx)*g.C+c] = v
					}
				}
			}
		}
	}
}

const guard = float32(-7777)

func TestIm2colMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, g := range geoms() {
		name := fmt.Sprintf("%+v", g)
		x := randSlice(rng, g.H*g.W*g.C)
		n := g.OH * g.OW * g.ColWidth()
		got := make([]float32, n+2)
		for i := range got {
			got[i] = guard
		}
		want := make([]float32, n)
		Im2col(got[1:n+1], x, &g)
		im2colNaive(want, x, &g)
		if got[0] != guard || got[n+1] != guard {
			t.Errorf("Im2col(%s) wrote outside dst", name)
		}
		for i := range want {
			if got[i+1] != want[i] {
				t.Errorf("Im2col(%s)[%d] = %v, want %v", name, i, got[i+1], want[i])
				break
			}
		}
	}
}

// Col2im is the adjoint of Im2col: <Im2col(x), c> = <x, Col2im(c)>.
func TestCol2imIsAdjoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, g := range geoms() {
		x := randSlice(rng, g.H*g.W*g.C)
		c := randSlice(rng, g.OH*g.OW*g.ColWidth())
		cols := make([]float32, len(c))
		Im2col(cols, x, &g)
		dx := make([]float32, len(x)+1)
		dx[len(x)] = guard
		for i := range x {
			dx[i] = 1 // Col2im accumulates onto what is there
		}
		Col2im(dx[:len(x)], c, &g)
		if dx[len(x)] != guard {
			t.Errorf("Col2im(%+v) wrote outside dx", g)
		}
		var lhs, rhs, sum float64
		for i := range c {
			lhs += float64(cols[i]) * float64(c[i])
		}
		for i := range x {
			rhs += float64(x[i]) * float64(dx[i]-1)
			sum += math.Abs(float64(x[i]))
		}
		if math.Abs(lhs-rhs) > 1e-4*(1+sum) {
			t.Errorf("<Im2col(x), c> = %v, <x, Col2im(c)> = %v for %+v", lhs, rhs, g)
		}
	}
}

func TestSamePadding(t *testing.T) {
	tests := []struct{ in, k, s, out, before int }{
		{32, 5, 1, 32, 2}, {32, 2, 2, 16, 0}, {5, 3, 2, 3, 1}, {4, 3, 2, 2, 0},
		{4, 4, 1, 4, 1}, {3, 2, 2, 2, 0}, {1, 5, 1, 1, 2}, {7, 2, 3, 3, 0},
	}
	for _, tt := range tests {
		out, before := SamePadding(tt.in, tt.k, tt.s)
		if out != tt.out || before != tt.before {
			t.Errorf("SamePadding(%d, %d, %d) = %d, %d, want %d, %d", tt.in, tt.k, tt.s, out, before, tt.out, tt.before)
		}
	}
	if got := ValidOutput(3, 5, 1); got != 0 {
		t.Errorf("ValidOutput(3, 5, 1) = %d, want 0", got)
	}
	if got := ValidOutput(32, 5, 2); got != 14 {
		t.Errorf("ValidOutput(32, 5, 2) = %d, want 14", got)
	}
}

func TestParallelFor(t *testing.T) {
	for _, procs := range []int{1, 2, 4} {
		old := runtime.GOMAXPROCS(procs)
		for _, n := range []int{0, 1, 2, 7, 100} {
			for _, maxW := range []int{1, 3, 8} {
				counts := make([]int, n)
				var mu sync.Mutex
				busy := make([]bool, maxW)
				ParallelFor(n, maxW, func(w, i int) {
					mu.Lock()
					if w < 0 || w >= maxW || busy[w] {
						t.Errorf("ParallelFor(%d, %d): worker %d out of range or shared", n, maxW, w)
					} else {
						busy[w] = true
					}
					counts[i]++
					mu.Unlock()
					// nested calls must not deadlock
					ParallelFor(2, 2, func(int, int) {})
					mu.Lock()
					if w >= 0 && w < maxW {
						busy[w] = false
					}
					mu.Unlock()
				})
				for i, c := range counts {
					if c != 1 {
						t.Errorf("ParallelFor(%d, %d) with GOMAXPROCS %d ran item %d %d times", n, maxW, procs, i, c)
					}
				}
			}
		}
		runtime.GOMAXPROCS(old)
	}
}

func BenchmarkIm2col(b *testing.B) {
	g := ConvGeom{H: 32, W: 32, C: 32, KH: 5, KW: 5, SH: 1, SW: 1}
	g.OH, g.PadTop = SamePadding(32, 5, 1)
	g.OW, g.PadLeft = SamePadding(32, 5, 1)
	x := make([]float32, g.H*g.W*g.C)
	dst := make([]float32, g.OH*g.OW*g.ColWidth())
	for b.Loop() {
		Im2col(dst, x, &g)
	}
}
