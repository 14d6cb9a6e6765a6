package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The convolutions of the tutorial model at batch 100, as NewConv plans
// them, as direct sums (strategy=direct: no Winograd, see SetWinograd),
// from im2col blocks alone (strategy=im2col: no row windows, the input
// gradient by col2im) and in bfloat16 (strategy=bf16, see Conv.SetBF16),
// each operation on its own.
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
		bf16 := NewConv(g, f)
		bf16.SetBF16(true)
		for _, s := range []struct {
			name string
			c    *Conv
		}{
			{"planned", NewConv(g, f)},
			{"direct", newConv(g, f, convOptions{flip: useFlip(&g), sum: true})},
			{"im2col", newConv(g, f, convOptions{sum: true})},
			{"bf16", bf16},
		} {
			for _, op := range []struct {
				name string
				run  func()
			}{
				{"forward", func() { s.c.Forward(z, x, w, n, ConvEpilogue{}, nil) }},
				{"filter", func() { s.c.BackwardFilter(dw, db, x, dz, n, nil) }},
				{"data", func() { s.c.BackwardData(dx, dz, w, n) }},
			} {
				b.Run(name+"/"+op.name+"/strategy="+s.name, func(b *testing.B) {
					start := cpuTime()
					for b.Loop() {
						op.run()
					}
					reportFlops(b, start, flops)
				})
			}
		}
	}
}

// The 1×1 convolutions of MobileNetV2 (then three of ResNet-50) at 224x224, forward with bias and
// ReLU, as one GEMM with a separate bias pass (path=gemm) and on the tiles
// (path=tiles), for one image and for 32.
func BenchmarkConvPointwise(b *testing.B) {
	for _, bc := range []struct{ hw, c, f int }{
		{112, 32, 16}, {112, 16, 96}, {56, 24, 144}, {56, 144, 24}, {28, 32, 192},
		{28, 192, 32}, {14, 64, 384}, {14, 384, 96}, {7, 160, 960}, {7, 960, 160}, {7, 320, 1280},
		{56, 64, 256}, {14, 1024, 256}, {7, 512, 2048},
	} {
		for _, n := range []int{1, 32} {
			g := geom(bc.hw, bc.hw, bc.c, 1, 1, 1, 1, false)
			rng := rand.New(rand.NewPCG(1, 2))
			x, w, bias := randSlice(rng, n*g.H*g.W*g.C), randSlice(rng, g.C*bc.f), randSlice(rng, bc.f)
			z := make([]float32, n*g.OH*g.OW*bc.f)
			flops := 2 * float64(n*g.OH*g.OW*bc.f*g.C)
			for _, path := range []string{"gemm", "tiles"} {
				c := newConv(g, bc.f, convOptions{gemm: path == "gemm"})
				b.Run(fmt.Sprintf("%dx%dx%d-%d/n=%d/path=%s", g.H, g.W, g.C, bc.f, n, path), func(b *testing.B) {
					start := cpuTime()
					for b.Loop() {
						c.Forward(z, x, w, n, ConvEpilogue{Bias: bias, ReLU: true}, nil)
					}
					reportFlops(b, start, flops)
				})
			}
		}
	}
}

// Each convolution tile on one window of a 3×3 convolution of 512
// channels (ResNet's last stage), the kernel sliver packed and in cache:
// the time per row of the tile is what tileSet.cost weighs.
func BenchmarkConvTile(b *testing.B) {
	const c, kw, kh = 512, 3, 3
	for _, impl := range gemmImpls {
		ts := impl.tiles
		for k, mr := range ts.mrs {
			rng := rand.New(rand.NewPCG(1, 2))
			span := kw * c
			a := randSlice(rng, (kh+1)*(mr+kw)*c)
			w := randSlice(rng, kh*span*ts.nr)
			out := make([]float32, mr*ts.nr)
			b.Run(fmt.Sprintf("%s/%dx%d", impl.name, mr, ts.nr), func(b *testing.B) {
				start := cpuTime()
				for b.Loop() {
					ts.kernels[k](kh, span, a, c, 1, (mr+kw)*c, w, ts.nr, out, ts.nr, nil, 0)
				}
				reportFlops(b, start, float64(2*mr*ts.nr*kh*span))
			})
		}
	}
}
