package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Probe: the GEMM part of a Winograd convolution, as alpha² pointwise
// convolutions over the tiles, against the direct forward pass.
func BenchmarkWinoProbe(b *testing.B) {
	const n = 100
	for _, bc := range []struct {
		hw, c, f, k, m int
	}{
		{32, 32, 32, 5, 2}, {16, 32, 64, 3, 2}, {16, 64, 64, 3, 2}, {16, 32, 64, 3, 4}, {16, 64, 64, 3, 4},
	} {
		g := geom(bc.hw, bc.hw, bc.c, bc.k, bc.k, 1, 1, true)
		rng := rand.New(rand.NewPCG(1, 2))
		x, w := randSlice(rng, n*g.H*g.W*g.C), randSlice(rng, g.ColWidth()*bc.f)
		z := make([]float32, n*g.OH*g.OW*bc.f)
		flops := 2 * float64(n*g.OH*g.OW*bc.f*g.ColWidth())
		name := fmt.Sprintf("%dx%dx%d-%d-%dx%d-m%d", g.H, g.W, g.C, bc.f, g.KH, g.KW, bc.m)
		direct := NewConv(g, bc.f)
		b.Run(name+"/direct", func(b *testing.B) {
			start := cpuTime()
			for b.Loop() {
				direct.Forward(z, x, w, n, ConvEpilogue{}, nil)
			}
			reportFlops(b, start, flops)
		})
		t := bc.hw / bc.m
		alpha := bc.m + bc.k - 1
		pg := geom(t, t, bc.c, 1, 1, 1, 1, false)
		pw := NewConv(pg, bc.f)
		v := randSlice(rng, alpha*alpha*n*t*t*bc.c)
		u := randSlice(rng, alpha*alpha*bc.c*bc.f)
		mm := make([]float32, alpha*alpha*n*t*t*bc.f)
		b.Run(name+"/winograd-gemms", func(b *testing.B) {
			start := cpuTime()
			for b.Loop() {
				for p := range alpha * alpha {
					pw.Forward(mm[p*n*t*t*bc.f:], v[p*n*t*t*bc.c:], u[p*bc.c*bc.f:], n, ConvEpilogue{}, nil)
				}
			}
			reportFlops(b, start, flops)
		})
	}
}
