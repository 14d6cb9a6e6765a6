package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// maxPoolNaive is the loop in MaxPool's comment.
func maxPoolNaive(y []float32, arg []int32, x []float32, g *ConvGeom) {
	for oy := range g.OH {
		for ox := range g.OW {
			for c := range g.C {
				o := (oy*g.OW+ox)*g.C + c
				found := false
				for ky := range g.KH {
					for kx := range g.KW {
						iy, ix := oy*g.SH-g.PadTop+ky, ox*g.SW-g.PadLeft+kx
						if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
							continue
						}
						p := (iy*g.W+ix)*g.C + c
						if !found || x[p] > y[o] {
							y[o], arg[o], found = x[p], int32(p), true
						}
					}
				}
			}
		}
	}
}

func TestMaxPool(t *testing.T) { forEachLoops(t, testMaxPool) }

func testMaxPool(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	gs := geoms()
	for _, hw := range [][2]int{{4, 4}, {6, 8}, {5, 7}, {2, 2}} { // 2×2, strides 2, valid: the fast path
		for _, c := range []int{1, 3, 8, 16, 24, 32, 48} {
			gs = append(gs, ConvGeom{H: hw[0], W: hw[1], C: c, KH: 2, KW: 2, SH: 2, SW: 2, OH: hw[0] / 2, OW: hw[1] / 2})
		}
	}
	// Other windows over channels that are and are not multiples of 16
	// (the AVX-512 loop's last chunk under a mask): a stem's 3x3 pool with
	// strides 2 and padding 1, 3x3 with strides 1, "same".
	for _, c := range []int{16, 24, 37, 64} {
		for _, k := range []int{2, 3} {
			for _, st := range []int{1, 2} {
				g := ConvGeom{H: 9, W: 8, C: c, KH: k, KW: k, SH: st, SW: st}
				g.OH, g.PadTop = SamePadding(g.H, k, st)
				g.OW, g.PadLeft = SamePadding(g.W, k, st)
				gs = append(gs, g)
			}
		}
		gs = append(gs, ConvGeom{H: 9, W: 8, C: c, KH: 3, KW: 3, SH: 2, SW: 2, OH: 5, OW: 4, PadTop: 1, PadLeft: 1})
	}
	for _, g := range gs {
		for _, values := range []string{"random", "ties", "nan"} {
			name := fmt.Sprintf("%+v %s", g, values)
			x := randSlice(rng, g.H*g.W*g.C)
			for i := range x {
				switch {
				case values == "ties": // few distinct values: many windows hold their maximum twice
					x[i] = float32(rng.IntN(3))
				case values == "nan" && rng.IntN(5) == 0:
					x[i] = float32(math.NaN())
				}
			}
			n := g.OH * g.OW * g.C
			y, arg := make([]float32, n+1), make([]int32, n+1)
			y[n], arg[n] = guard, -1
			wantY, wantArg := make([]float32, n), make([]int32, n)
			// The rows in two calls, as a layer splits them.
			half := g.OH / 2
			MaxPoolRows(y[:n], arg[:n], x, &g, 0, half)
			MaxPoolRows(y[:n], arg[:n], x, &g, half, g.OH)
			maxPoolNaive(wantY, wantArg, x, &g)
			if y[n] != guard || arg[n] != -1 {
				t.Errorf("MaxPool(%s) wrote past its output", name)
			}
			for o := range wantY {
				if math.Float32bits(y[o]) != math.Float32bits(wantY[o]) || arg[o] != wantArg[o] {
					t.Errorf("MaxPool(%s)[%d] = %v at %d, want %v at %d", name, o, y[o], arg[o], wantY[o], wantArg[o])
					break
				}
			}
			dy := randSlice(rng, n)
			dx := make([]float32, len(x)+1)
			for i := range dx {
				dx[i] = guard // every cell is set, none read
			}
			MaxPoolGrad(dx[:len(x)], dy, arg[:n], &g)
			want := make([]float32, len(x))
			for o, a := range wantArg {
				want[a] += dy[o]
			}
			if dx[len(x)] != guard {
				t.Errorf("MaxPoolGrad(%s) wrote past its output", name)
			}
			for i := range want {
				if dx[i] != want[i] {
					t.Errorf("MaxPoolGrad(%s)[%d] = %v, want %v", name, i, dx[i], want[i])
					break
				}
			}
		}
	}
}

func BenchmarkMaxPool2x2(b *testing.B) {
	g := ConvGeom{H: 32, W: 32, C: 32, KH: 2, KW: 2, SH: 2, SW: 2, OH: 16, OW: 16}
	x := randSlice(rand.New(rand.NewPCG(1, 1)), g.H*g.W*g.C)
	y, arg := make([]float32, g.OH*g.OW*g.C), make([]int32, g.OH*g.OW*g.C)
	b.SetBytes(4 * int64(len(x)))
	for b.Loop() {
		MaxPool(y, arg, x, &g)
	}
}
