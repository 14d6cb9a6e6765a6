package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// convCase is a convolution of n random images with its reference
// results: by the definition, in float64, z = conv(x, w) and given dz the
// input, kernel and bias gradients, each with the sum of the absolute
// values of its terms (scale) for the tolerance.
type convCase struct {
	g                 ConvGeom
	f, n              int
	x, w, dz          []float32
	z, dx, dw, db     []float64
	zs, dxs, dws, dbs []float64 // scales
}

func newConvCase(g ConvGeom, f, n int, rng *rand.Rand) *convCase {
	return convCaseOf(g, f, n, randSlice(rng, n*g.H*g.W*g.C), randSlice(rng, g.ColWidth()*f), randSlice(rng, n*g.OH*g.OW*f))
}

// convCaseOf is the convolution case of the images x, the kernel w and the
// output gradient dz.
//
//go:norace
func convCaseOf(g ConvGeom, f, n int, x, w, dz []float32) *convCase {
	c := &convCase{g: g, f: f, n: n, x: x, w: w, dz: dz}
	c.z, c.zs = make([]float64, len(c.dz)), make([]float64, len(c.dz))
	c.dx, c.dxs = make([]float64, len(c.x)), make([]float64, len(c.x))
	c.dw, c.dws = make([]float64, len(c.w)), make([]float64, len(c.w))
	c.db, c.dbs = make([]float64, f), make([]float64, f)
	for i := range n {
		for oy := range g.OH {
			for ox := range g.OW {
				for fi := range f {
					o := ((i*g.OH+oy)*g.OW+ox)*f + fi
					d := float64(c.dz[o])
					c.db[fi] += d
					c.dbs[fi] += math.Abs(d)
					for ky := range g.KH {
						for kx := range g.KW {
							iy, ix := oy*g.SH-g.PadTop+ky, ox*g.SW-g.PadLeft+kx
							if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
								continue
							}
							for ch := range g.C {
								xi := ((i*g.H+iy)*g.W+ix)*g.C + ch
								wi := ((ky*g.KW+kx)*g.C+ch)*f + fi
								xv, wv := float64(c.x[xi]), float64(c.w[wi])
								c.z[o] += xv * wv
								c.zs[o] += math.Abs(xv * wv)
								c.dx[xi] += d * wv
								c.dxs[xi] += math.Abs(d * wv)
								c.dw[wi] += d * xv
								c.dws[wi] += math.Abs(d * xv)
							}
						}
					}
				}
			}
		}
	}
	return c
}

// geom returns the geometry of a kh×kw window with strides sh×sw over an
// h×w×c input, padded "same" or "valid".
func geom(h, w, c, kh, kw, sh, sw int, same bool) ConvGeom {
	g := ConvGeom{H: h, W: w, C: c, KH: kh, KW: kw, SH: sh, SW: sw}
	if same {
		g.OH, g.PadTop = SamePadding(h, kh, sh)
		g.OW, g.PadLeft = SamePadding(w, kw, sw)
	} else {
		g.OH, g.OW = ValidOutput(h, kh, sh), ValidOutput(w, kw, sw)
	}
	return g
}

// strategies lists the plans that can run g: the input gradient by col2im
// or as a convolution (strides 1), forward blocks of one or two output rows
// or chosen per call, col2im blocks sized for the cache or tiny, and a 1×1
// convolution's forward pass on the tiles or as a GEMM.
func strategies(g *ConvGeom) []convOptions {
	var opts []convOptions
	for _, flip := range []bool{false, true} {
		for _, rows := range []int{0, 1, 2} {
			for _, block := range []int{0, 1, 5} {
				if flip && (g.SH != 1 || g.SW != 1) || flip && block != 0 {
					continue
				}
				opts = append(opts, convOptions{flip: flip, rows: rows, block: block, sum: true})
				if newConv(*g, 1, convOptions{}).pointwise {
					opts = append(opts, convOptions{flip: flip, rows: rows, block: block, gemm: true, sum: true})
				}
			}
		}
	}
	return opts
}

// bigGeoms are convolutions large enough for several blocks of the sizes
// the plans choose (block 0 in strategies), by rows and not, with the input
// gradient both ways.
func bigGeoms() []ConvGeom {
	return []ConvGeom{
		geom(24, 24, 8, 5, 5, 1, 1, true),
		geom(23, 23, 9, 3, 3, 1, 1, false),
		geom(25, 25, 8, 3, 3, 2, 2, true),
		geom(30, 30, 32, 5, 5, 1, 1, true),
		geom(36, 36, 16, 5, 5, 1, 1, false),
		geom(17, 17, 24, 3, 3, 1, 1, true),
		geom(18, 18, 16, 4, 4, 1, 1, true),
		geom(19, 19, 32, 5, 3, 1, 2, true),
		geom(19, 19, 32, 3, 5, 1, 1, false),
		geom(9, 11, 16, 1, 1, 1, 1, true),
	}
}

// checkConv runs every operation of c on the case cc against its
// reference, with guard values past every output, NaNs in the outputs that
// must not be read and gradients that must be added to.
func checkConv(t *testing.T, name string, c *Conv, cc *convCase) {
	t.Helper()
	g, f, n := c.g, c.f, cc.n
	x, w, dz := cc.x, cc.w, cc.dz
	in, out, kf := len(x), len(dz), len(w)
	guarded := func(n int, v float32) []float32 {
		s := make([]float32, n+3)
		for i := range s {
			s[i] = v
		}
		s[n], s[n+1], s[n+2] = guard, guard, guard
		return s
	}
	// float32 sums are off by about 6e-8 per term in the worst case; one
	// wrong or missing term is off by its own size.
	compare := func(what string, got []float32, want, scale []float64, base float64) {
		t.Helper()
		if i := convMismatch(got, want, scale, base); i >= 0 {
			t.Errorf("%s: %s[%d] = %v, want %v", name, what, i, got[i], base+want[i])
			return
		}
		if !slices.Equal(got[len(want):], []float32{guard, guard, guard}) {
			t.Errorf("%s: %s written past its end", name, what)
		}
	}
	nan := float32(math.NaN())

	z := guarded(out, nan)
	c.Forward(z, x, w, n, ConvEpilogue{}, nil)
	compare("Forward", z, cc.z, cc.zs, 0)

	// The epilogue adds the bias, then takes max(z, 0).
	bias := make([]float32, f+1) // longer than needed
	for j := range bias {
		bias[j] = float32(j%3) - 1
	}
	z = guarded(out, nan)
	c.Forward(z, x, w, n, ConvEpilogue{Bias: bias, ReLU: true}, nil)
	want, scale := make([]float64, out), make([]float64, out)
	for o, v := range cc.z {
		want[o], scale[o] = max(v+float64(bias[o%f]), 0), cc.zs[o]+1
	}
	compare("Forward with bias and ReLU", z, want, scale, 0)
	z = guarded(out, nan)
	c.Forward(z, x, w, n, ConvEpilogue{Bias: bias}, nil)
	for o, v := range cc.z {
		want[o] = v + float64(bias[o%f])
	}
	compare("Forward with bias", z, want, scale, 0)
	z = guarded(out, nan)
	c.Forward(z, x, w, n, ConvEpilogue{ReLU: true}, nil)
	for o, v := range cc.z {
		want[o] = max(v, 0)
	}
	compare("Forward with ReLU", z, want, scale, 0)

	// finish sees every output cell once, after it is computed.
	z = guarded(out, nan)
	seen := make([]int, n*g.OH*g.OW)
	c.Forward(z, x, w, n, ConvEpilogue{}, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			seen[r]++
			for j := range f {
				z[r*f+j]++
			}
		}
	})
	compare("Forward with finish", z, cc.z, cc.zs, 1)
	if slices.ContainsFunc(seen, func(v int) bool { return v != 1 }) {
		t.Errorf("%s: finish saw the output cells %v times, want once each", name, seen)
	}

	dw, db := guarded(kf, 1), guarded(f, 1)
	c.BackwardFilter(dw, db, x, dz, n, nil)
	compare("BackwardFilter kernel", dw, cc.dw, cc.dws, 1)
	compare("BackwardFilter bias", db, cc.db, cc.dbs, 1)

	// prepare writes dz before it is read and sums its columns.
	dz2 := guarded(out, nan)
	dw, db = guarded(kf, 1), guarded(f, 1)
	c.BackwardFilter(dw, db, x, dz2, n, func(lo, hi int, sum []float32) {
		copy(dz2[lo*f:hi*f], dz[lo*f:hi*f])
		AddColumnSums(sum, dz2[lo*f:hi*f])
	})
	compare("BackwardFilter with prepare, kernel", dw, cc.dw, cc.dws, 1)
	compare("BackwardFilter with prepare, bias", db, cc.db, cc.dbs, 1)

	dx := guarded(in, nan)
	c.BackwardData(dx, dz, w, n)
	compare("BackwardData", dx, cc.dx, cc.dxs, 0)
}

// convTolerance bounds the error checkConv accepts, over the sum of the
// terms' magnitudes.
var convTolerance = 1e-6

// convMismatch returns the first index where got is not base+want within
// convTolerance of scale, or -1. It and convCaseOf, the float64 reference,
// run on the test's goroutine before or after the kernels and are left out
// of the race detector's checks, which would slow them ten times; the
// kernels' own accesses, and checkConv's other reads of their outputs, are
// still checked.
//
//go:norace
func convMismatch(got []float32, want, scale []float64, base float64) int {
	for i, v := range want {
		if !(math.Abs(float64(got[i])-base-v) <= convTolerance*scale[i]+1e-6*(1+math.Abs(v))) { // NaN too
			return i
		}
	}
	return -1
}

func TestConvMatchesReference(t *testing.T) {
	defer func(v int) { parallelConvFlops = v }(parallelConvFlops)
	parallelConvFlops = 0
	rng := rand.New(rand.NewPCG(3, 4))
	defer func(v int) { unpackedCells = v }(unpackedCells)
	defer func(v int) { splitKernelBytes = v }(splitKernelBytes)
	for gi, g := range geoms() {
		// Under the race detector, every other geometry: the parallel code
		// is the same for all, and the runs without it check every one.
		if gemmRace && gi%2 == 1 {
			continue
		}
		for _, f := range []int{1, 3, 37, 32} {
			cc := newConvCase(g, f, []int{1, 2, 10}[gi%3], rng) // 10: groups of one and two images
			// 32 filters fill whole slivers: the tiles read the kernel in
			// place or packed.
			for _, cells := range []int{0, 1 << 30} {
				unpackedCells = cells
				if f != 32 && cells > 0 {
					continue
				}
				// Kernels of any size shared among the cores by filters
				// when there are few images, or of none.
				for _, split := range []int{0, 1 << 30} {
					splitKernelBytes = split
					for _, o := range strategies(&g) {
						for _, impl := range gemmImpls {
							o.tiles = impl.tilesFor(f)
							checkConv(t, fmt.Sprintf("%+v F=%d %+v %s unpacked=%v split=%v", g, f, o, impl.name, cells > 0, split == 0), newConv(g, f, o), cc)
						}
					}
				}
			}
		}
	}
	for _, g := range bigGeoms() {
		cc := newConvCase(g, 8, 2, rng)
		for _, o := range strategies(&g) {
			// Blocks of one row are covered above, and slow here; so are
			// blocks of 5 under the race detector, which the sizes chosen
			// for the cache exercise as well.
			if o.block == 1 || o.block == 5 && gemmRace {
				continue
			}
			checkConv(t, fmt.Sprintf("%+v F=8 %+v", g, o), newConv(g, 8, o), cc)
		}
	}
}

// The plans NewConv chooses: which convolutions copy their rows into a
// padded buffer, which compute the input gradient as a convolution.
func TestConvPlans(t *testing.T) {
	tests := []struct {
		g                 ConvGeom
		f                 int
		pointwise, copied bool
		flip, flipCopied  bool
	}{
		{geom(32, 32, 32, 5, 5, 1, 1, true), 32, false, true, true, true}, // the tutorial's second layer
		{geom(32, 32, 1, 5, 5, 1, 1, true), 32, false, true, false, false},
		{geom(36, 36, 16, 5, 5, 1, 1, false), 16, false, false, true, true},
		{geom(16, 16, 64, 3, 3, 2, 2, false), 64, false, false, false, false},
		{geom(16, 16, 64, 3, 3, 2, 2, true), 64, false, true, false, false},
		{geom(9, 11, 16, 1, 1, 1, 1, true), 8, true, false, false, false},
	}
	for _, tt := range tests {
		c := NewConv(tt.g, tt.f)
		if c.pointwise != tt.pointwise || c.direct != nil && c.direct.copied != tt.copied {
			t.Errorf("NewConv(%+v, %d): pointwise %v, rows copied %v; want %v, %v",
				tt.g, tt.f, c.pointwise, c.direct != nil && c.direct.copied, tt.pointwise, tt.copied)
		}
		if (c.data != nil) != tt.flip || c.data != nil && c.data.direct.copied != tt.flipCopied {
			t.Errorf("NewConv(%+v, %d): input gradient as a convolution %v (rows copied %v); want %v (%v)",
				tt.g, tt.f, c.data != nil, c.data != nil && c.data.direct.copied, tt.flip, tt.flipCopied)
		}
	}
}

// Every strategy gives the same bits whatever the number of cores, its
// forward pass spread over cores too.
func TestConvSameResultAnyGOMAXPROCS(t *testing.T) {
	checkConvAnyGOMAXPROCS(t, []ConvGeom{geom(20, 20, 16, 5, 5, 1, 1, true), geom(13, 13, 3, 3, 3, 2, 2, true), geom(9, 9, 16, 1, 1, 1, 1, false)}, false)
}

// checkConvAnyGOMAXPROCS checks that each operation of a convolution of
// each geometry, with bfloat16 on or not, gives the same bits on 1, 2 and
// 4 cores, its forward pass spread over cores too.
func checkConvAnyGOMAXPROCS(t *testing.T, geoms []ConvGeom, bf16 bool) {
	t.Helper()
	defer func(v int) { parallelConvFlops = v }(parallelConvFlops)
	parallelConvFlops = 0
	for _, g := range geoms {
		run := func(procs int) [][]float32 {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			const n, f = 11, 16
			rng := rand.New(rand.NewPCG(7, 8))
			x, w := randSlice(rng, n*g.H*g.W*g.C), randSlice(rng, g.ColWidth()*f)
			dz := randSlice(rng, n*g.OH*g.OW*f)
			c := NewConv(g, f)
			c.SetBF16(bf16)
			z, dx := make([]float32, len(dz)), make([]float32, len(x))
			dw, db := make([]float32, len(w)), make([]float32, f)
			c.Forward(z, x, w, n, ConvEpilogue{}, nil)
			c.BackwardFilter(dw, db, x, dz, n, nil)
			c.BackwardData(dx, dz, w, n)
			return [][]float32{z, dx, dw, db}
		}
		a, b, c := run(1), run(2), run(4)
		for i, name := range []string{"Forward", "BackwardData", "kernel gradient", "bias gradient"} {
			if !slices.Equal(a[i], b[i]) || !slices.Equal(a[i], c[i]) {
				t.Errorf("Conv %+v (bfloat16 %v): %s differs between GOMAXPROCS 1, 2 and 4", g, bf16, name)
			}
		}
	}
}

func TestConvPanicsOnShortSlices(t *testing.T) {
	g := geom(4, 4, 2, 3, 3, 1, 1, true)
	c := NewConv(g, 3)
	x, w, z := make([]float32, 2*32), make([]float32, 9*2*3), make([]float32, 2*48)
	for name, op := range map[string]func(){
		"Forward x":             func() { c.Forward(z, x[:60], w, 2, ConvEpilogue{}, nil) },
		"Forward z":             func() { c.Forward(z[:95], x, w, 2, ConvEpilogue{}, nil) },
		"Forward w":             func() { c.Forward(z, x, w[:53], 2, ConvEpilogue{}, nil) },
		"Forward bias":          func() { c.Forward(z, x, w, 2, ConvEpilogue{Bias: make([]float32, 2)}, nil) },
		"BackwardFilter dz":     func() { c.BackwardFilter(make([]float32, len(w)), nil, x, z[:90], 2, nil) },
		"BackwardFilter bias":   func() { c.BackwardFilter(make([]float32, len(w)), make([]float32, 2), x, z, 2, nil) },
		"BackwardData dx":       func() { c.BackwardData(x[:63], z, w, 2) },
		"NewConv empty":         func() { NewConv(ConvGeom{H: 1, W: 1, C: 1, KH: 1, KW: 1, SH: 1, SW: 1}, 1) },
		"Transposed of strides": func() { newConv(geom(6, 6, 1, 3, 3, 2, 1, true), 1, convOptions{flip: true}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			op()
		}()
	}
}

// TestDirectPlanTiles checks the parts a row's tiles are shared in: in
// order, each tile in one part, the cells of each part those of its tiles,
// the parts' cells one after the other, and two overlapping tiles (which
// both write the cells they share) always in the same part.
func TestDirectPlanTiles(t *testing.T) {
	for _, impl := range gemmImpls {
		for ow := 1; ow <= 80; ow++ {
			p := newDirectPlan(ConvGeom{H: 1, W: ow, C: 3, KH: 1, KW: 1, SH: 1, SW: 1, OH: 1, OW: ow}, 8, impl.tiles)
			n := p.cells.len()
			for parts := 1; parts <= p.maxParts()+1 && parts <= 9; parts++ {
				next, cell := 0, 0
				for b := range parts {
					t0, t1, lo, hi := p.tiles(b, parts)
					if t0 != next || t1 < t0 || lo != cell || hi < lo {
						t.Fatalf("%s OW=%d parts=%d: part %d has tiles [%d, %d) cells [%d, %d) after tile %d cell %d", impl.name, ow, parts, b, t0, t1, lo, hi, next, cell)
					}
					for i := t0; i < t1; i++ {
						if s := p.cells.at(i); s.at < lo || min(s.at+s.mr, ow) > hi && b < parts-1 {
							t.Fatalf("%s OW=%d parts=%d: tile %d (%+v) outside part %d's cells [%d, %d)", impl.name, ow, parts, i, s, b, lo, hi)
						}
					}
					if b < parts-1 && t1 > 0 && t1 < n {
						if prev, s := p.cells.at(t1-1), p.cells.at(t1); s.at < prev.at+prev.mr {
							t.Fatalf("%s OW=%d parts=%d: overlapping tiles %d and %d in parts %d and %d", impl.name, ow, parts, t1-1, t1, b, b+1)
						}
					}
					next, cell = t1, hi
				}
				if next != n || cell != ow {
					t.Fatalf("%s OW=%d parts=%d: parts end at tile %d, cell %d; want %d, %d", impl.name, ow, parts, next, cell, n, ow)
				}
			}
		}
	}
}

// TestConvForwardWidePadding checks the forward pass of windows padded by
// as much as or more than the kernel (a ZeroPadding2D taken into the
// convolution after it), whose first or last output rows and columns read
// padding alone: those cells are the bias, the others the reference's.
func TestConvForwardWidePadding(t *testing.T) {
	defer func(v int) { parallelConvFlops = v }(parallelConvFlops)
	parallelConvFlops = 0
	rng := rand.New(rand.NewPCG(15, 16))
	for _, g := range []ConvGeom{
		{H: 5, W: 6, C: 3, KH: 1, KW: 1, SH: 1, SW: 1, PadTop: 2, PadLeft: 1, OH: 10, OW: 8},
		{H: 7, W: 7, C: 4, KH: 3, KW: 3, SH: 2, SW: 2, PadTop: 3, PadLeft: 4, OH: 7, OW: 8},
		{H: 9, W: 4, C: 2, KH: 2, KW: 3, SH: 1, SW: 1, PadTop: 2, PadLeft: 3, OH: 14, OW: 9},
	} {
		for _, f := range []int{3, 32} {
			cc := newConvCase(g, f, 2, rng)
			for _, impl := range gemmImpls {
				c := newConv(g, f, convOptions{tiles: impl.tilesFor(f)})
				bias := randSlice(rng, f)
				z := make([]float32, 2*g.OH*g.OW*f)
				c.Forward(z, cc.x, cc.w, 2, ConvEpilogue{Bias: bias}, nil)
				for i, v := range cc.z {
					want := v + float64(bias[i%f])
					if math.Abs(float64(z[i])-want) > 1e-6*cc.zs[i]+1e-6*(1+math.Abs(want)) {
						t.Fatalf("%+v F=%d %s: z[%d] = %v, want %v", g, f, impl.name, i, z[i], want)
					}
				}
			}
		}
	}
}
