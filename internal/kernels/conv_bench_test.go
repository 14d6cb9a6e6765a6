package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The convolutions of the tutorial model at batch 100, as NewConv plans
// them and from im2col blocks alone (strategy=im2col: no row windows, the
// input gradient by col2im), each operation on its own.
func BenchmarkConv(b *testing.B) {
	const n = 100
	for _, bc := range []struct {
		g ConvGeom
		f int
	}{
		{geom(32, 32, 1, 5, 5, 1, 1, true), 32},
		{geom(32, 32, 32, 5, 5, 1, 1, true), 32},
		{geom(16, 16, 32, 3, 3, 1, 1, true), 64},
		{geom(16, 16, 64, 3, 3, 1, 1, true), 64},
	} {
		g, f := bc.g, bc.f
		rng := rand.New(rand.NewPCG(1, 2))
		x, w := randSlice(rng, n*g.H*g.W*g.C), randSlice(rng, g.ColWidth()*f)
		dz := randSlice(rng, n*g.OH*g.OW*f)
		z, dx := make([]float32, len(dz)), make([]float32, len(x))
		dw, db := make([]float32, len(w)), make([]float32, f)
		flops := 2 * float64(n*g.OH*g.OW*f*g.ColWidth())
		name := fmt.Sprintf("%dx%dx%d-%d-%dx%d", g.H, g.W, g.C, f, g.KH, g.KW)
		for _, s := range []struct {
			name string
			c    *Conv
		}{
			{"planned", NewConv(g, f)},
			{"im2col", newConv(g, f, convOptions{})},
		} {
			for _, op := range []struct {
				name string
				run  func()
			}{
				{"forward", func() { s.c.Forward(z, x, w, n, nil) }},
				{"filter", func() { s.c.BackwardFilter(dw, db, x, dz, n, nil) }},
				{"data", func() { s.c.BackwardData(dx, dz, w, n) }},
			} {
				b.Run(name+"/"+op.name+"/strategy="+s.name, func(b *testing.B) {
					for b.Loop() {
						op.run()
					}
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
