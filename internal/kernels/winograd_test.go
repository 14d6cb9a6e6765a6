package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// winoBT is Bᵀ, the input transform (the same as in _asm/winograd_asm.go).
var winoBT = [6][6]float32{
	{4, 0, -5, 0, 1, 0},
	{0, -4, -4, 1, 1, 0},
	{0, 4, -4, -1, 1, 0},
	{0, -2, -1, 2, 1, 0},
	{0, 2, -1, -2, 1, 0},
	{0, 4, 0, -5, 0, 1},
}

// winoPoints are the finite points of the transforms; the last is ∞.
var winoPoints = [5]float64{0, 1, -1, 2, -2}

// winoG returns G for kernels of r taps (6×r): row j < 5 holds p_j^k /
// Π_{l≠j} (p_j − p_l) for the point p_j, the last row picks the last tap.
func winoG(r int) (g [6][5]float32) {
	for j, p := range winoPoints {
		d := 1.0
		for l, q := range winoPoints {
			if l != j {
				d *= p - q
			}
		}
		for k := range r {
			g[j][k] = float32(math.Pow(p, float64(k)) / d)
		}
	}
	g[5][r-1] = 1
	return g
}

// winoAT returns Aᵀ for m outputs (m×6): row i holds p_j^i, and 1 at ∞
// in the last row.
func winoAT(m int) (a [5][6]float32) {
	for i := range m {
		for j, p := range winoPoints {
			a[i][j] = float32(math.Pow(p, float64(i)))
		}
	}
	a[m-1][5] = 1
	return a
}

// The transforms compute a 1-D correlation of m outputs from r taps: y =
// Aᵀ·[(G·g) ⊙ (Bᵀ·d)], in float64 to the last bits: F(4, 3) and F(2, 5)
// for the forward pass, F(3, 4) and F(5, 2) for the kernel gradient (the
// outputs' gradient as the r taps).
func TestWinogradMatrices(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, mr := range [][2]int{{4, 3}, {2, 5}, {3, 4}, {5, 2}} {
		m, r := mr[0], mr[1]
		g, at := winoG(r), winoAT(m)
		for range 10 {
			var d [6]float64
			var k [5]float64
			for i := range d {
				d[i] = rng.NormFloat64()
			}
			for i := range r {
				k[i] = rng.NormFloat64()
			}
			var prod [6]float64
			for j := range 6 {
				var gk, bd float64
				for i := range r {
					gk += float64(g[j][i]) * k[i]
				}
				for i := range 6 {
					bd += float64(winoBT[j][i]) * d[i]
				}
				prod[j] = gk * bd
			}
			for i := range m {
				var y, want float64
				for j := range 6 {
					y += float64(at[i][j]) * prod[j]
				}
				for j := range r {
					want += k[j] * d[i+j]
				}
				// G's fractions are rounded to float32.
				if math.Abs(y-want) > 1e-6*(1+math.Abs(want)) {
					t.Errorf("F(%d, %d): y[%d] = %v, want %v", m, r, i, y, want)
				}
			}
		}
	}
}

// winoGeoms are convolutions that run by Winograd's transforms: 3×3 and
// 5×5, padded and not, outputs that end in a partial tile, channels and
// filters of one, two and three vectors.
func winoGeoms() []struct {
	g ConvGeom
	f int
} {
	return []struct {
		g ConvGeom
		f int
	}{
		{geom(16, 16, 32, 3, 3, 1, 1, true), 64},
		{geom(13, 11, 16, 3, 3, 1, 1, true), 48},
		{geom(14, 15, 48, 3, 3, 1, 1, false), 16},
		{geom(32, 32, 32, 5, 5, 1, 1, true), 32},
		{geom(9, 12, 16, 5, 5, 1, 1, true), 16},
		{geom(12, 9, 32, 5, 5, 1, 1, false), 48},
	}
}

// Winograd's forward pass and both gradients match the direct sums', by
// checkConv (guards, NaNs, the epilogue, finish, prepare) within the
// transforms' rounding, whatever the number of workers, bit for bit, on
// each path with the transforms.
func TestWinogradConv(t *testing.T) {
	winogradOn(t)
	defer func(v int) { parallelConvFlops = v }(parallelConvFlops)
	defer func(v float64) { convTolerance = v }(convTolerance)
	convTolerance = winoTolerance
	defer func(v, w int) { winoBlockBytes, winoGradBlockBytes = v, w }(winoBlockBytes, winoGradBlockBytes)
	rng := rand.New(rand.NewPCG(5, 6))
	// Blocks of the size the cache gives, and of the fewest rows: many
	// blocks, the last one short, whatever the cache.
	for _, block := range [][2]int{{winoBlockBytes, winoGradBlockBytes}, {1, 1}} {
		winoBlockBytes, winoGradBlockBytes = block[0], block[1]
		for _, impl := range winoImpls() {
			for _, wc := range winoGeoms() {
				testWinogradConv(t, impl, wc.g, wc.f, rng)
			}
		}
	}
}

// testWinogradConv is TestWinogradConv for one geometry on one path.
func testWinogradConv(t *testing.T, impl *gemmImpl, g ConvGeom, f int, rng *rand.Rand) {
	name := fmt.Sprintf("%s/%dx%dx%d-%d-%dx%d-pad%d", impl.name, g.H, g.W, g.C, f, g.KH, g.KW, g.PadTop)
	c := newConv(g, f, convOptions{flip: useFlip(&g), impl: impl})
	if c.wino == nil || c.data == nil || c.data.wino == nil || c.wino.k != impl.wino {
		t.Fatalf("%s: not planned by the path's transforms", name)
	}
	ns := []int{1, 3}
	if g.H*g.W < 200 && !gemmRace { // slow under the race detector, and n = 3 runs in parallel already
		ns = append(ns, 20) // blocks of the kernel gradient that span images
	}
	for _, n := range ns {
		cc := newConvCase(g, f, n, rng)
		parallelConvFlops = 0
		checkConv(t, fmt.Sprintf("%s/n=%d", name, n), c, cc)
		var outs, dws [2][]float32
		for i, procs := range []int{1, 2} {
			prev := runtime.GOMAXPROCS(procs)
			outs[i] = make([]float32, len(cc.dz))
			c.Forward(outs[i], cc.x, cc.w, n, ConvEpilogue{}, nil)
			dws[i] = make([]float32, len(cc.w)+f)
			c.BackwardFilter(dws[i][:len(cc.w)], dws[i][len(cc.w):], cc.x, cc.dz, n, nil)
			runtime.GOMAXPROCS(prev)
		}
		if !slices.Equal(outs[0], outs[1]) {
			t.Errorf("%s/n=%d: other bits on one core than on two", name, n)
		}
		if !slices.Equal(dws[0], dws[1]) {
			t.Errorf("%s/n=%d: other kernel gradient bits on one core than on two", name, n)
		}
	}
}

// winoTolerance bounds Winograd's error over the sum of the terms'
// magnitudes, as checkConv measures it.
const winoTolerance = 1e-5

// The largest error of Winograd's forward pass and kernel gradient, over
// the sum of the terms' magnitudes: what winoTolerance bounds.
func TestWinogradError(t *testing.T) {
	winogradOn(t)
	rng := rand.New(rand.NewPCG(7, 8))
	for _, wc := range winoGeoms() {
		g, f := wc.g, wc.f
		cc := newConvCase(g, f, 2, rng)
		z := make([]float32, len(cc.dz))
		NewConv(g, f).Forward(z, cc.x, cc.w, 2, ConvEpilogue{}, nil)
		direct := make([]float32, len(cc.dz))
		newConv(g, f, convOptions{sum: true}).Forward(direct, cc.x, cc.w, 2, ConvEpilogue{}, nil)
		var worst, worstDirect float64
		for i, v := range cc.z {
			worst = max(worst, math.Abs(float64(z[i])-v)/cc.zs[i])
			worstDirect = max(worstDirect, math.Abs(float64(direct[i])-v)/cc.zs[i])
		}
		dw := make([]float32, len(cc.w))
		NewConv(g, f).BackwardFilter(dw, nil, cc.x, cc.dz, 2, nil)
		dwDirect := make([]float32, len(cc.w))
		newConv(g, f, convOptions{sum: true}).BackwardFilter(dwDirect, nil, cc.x, cc.dz, 2, nil)
		var worstDW, worstDWDirect float64
		for i, v := range cc.dw {
			worstDW = max(worstDW, math.Abs(float64(dw[i])-v)/cc.dws[i])
			worstDWDirect = max(worstDWDirect, math.Abs(float64(dwDirect[i])-v)/cc.dws[i])
		}
		t.Logf("%dx%dx%d-%d-%dx%d: largest error %.2g of the terms' magnitudes (direct %.2g), kernel gradient %.2g (direct %.2g)",
			g.H, g.W, g.C, f, g.KH, g.KW, worst, worstDirect, worstDW, worstDWDirect)
		if worst > winoTolerance/2 || worstDW > winoTolerance/2 {
			t.Errorf("%dx%dx%d-%d-%dx%d: errors %.2g and %.2g, over half the tolerance", g.H, g.W, g.C, f, g.KH, g.KW, worst, worstDW)
		}
	}
}

// SetWinograd plans the convolutions after it in its mode, those planned
// before keeping theirs: WinogradOff gives the bits of direct sums in all
// three passes, WinogradOn those of the transforms, and WinogradGradients
// the direct sums' forward pass and the transforms' gradients.
// WinogradActive gives the mode on a path with the transforms, off on the
// generic path.
func TestSetWinograd(t *testing.T) {
	winogradOn(t)
	g, f, n := geom(16, 16, 32, 3, 3, 1, 1, true), 64, 2
	cc := newConvCase(g, f, n, rand.New(rand.NewPCG(9, 10)))
	run := func(c *Conv) (z, dx, dw []float32) {
		z, dx, dw = make([]float32, len(cc.dz)), make([]float32, len(cc.x)), make([]float32, len(cc.w))
		c.Forward(z, cc.x, cc.w, n, ConvEpilogue{}, nil)
		c.BackwardData(dx, cc.dz, cc.w, n)
		c.BackwardFilter(dw, nil, cc.x, cc.dz, n, nil)
		return z, dx, dw
	}
	if WinogradActive() != WinogradOn || winogradFor(genericImpl) != WinogradOff {
		t.Errorf("WinogradActive %v on the %s path, %v on the generic one; want on and off", WinogradActive(), active.name, winogradFor(genericImpl))
	}
	on := NewConv(g, f)
	SetWinograd(WinogradGradients)
	grads := NewConv(g, f)
	SetWinograd(WinogradOff)
	off := NewConv(g, f)
	if on.wino == nil || !on.winoFwd || off.wino != nil || off.data.wino != nil || grads.wino == nil || grads.winoFwd || !grads.data.winoFwd {
		t.Fatalf("planned by the transforms: on %v (forward %v), off %v, gradients %v (forward %v, input gradient %v)",
			on.wino != nil, on.winoFwd, off.wino != nil, grads.wino != nil, grads.winoFwd, grads.data.winoFwd)
	}
	direct := newConv(g, f, convOptions{flip: true, sum: true})
	zd, dxd, dwd := run(direct)
	zo, dxo, dwo := run(on)
	zf, dxf, dwf := run(off)
	zg, dxg, dwg := run(grads)
	if !slices.Equal(zf, zd) || !slices.Equal(dxf, dxd) || !slices.Equal(dwf, dwd) {
		t.Errorf("WinogradOff: other bits than the direct sums")
	}
	if slices.Equal(zo, zd) || slices.Equal(dxo, dxd) || slices.Equal(dwo, dwd) {
		t.Errorf("WinogradOn: a pass with the direct sums' bits: the transforms did not run")
	}
	if !slices.Equal(zg, zd) || !slices.Equal(dxg, dxo) || !slices.Equal(dwg, dwo) {
		t.Errorf("WinogradGradients: forward pass the direct sums' bits %v, gradients the transforms' %v and %v, want all",
			slices.Equal(zg, zd), slices.Equal(dxg, dxo), slices.Equal(dwg, dwo))
	}
}

// A kept kernel is transformed once for Winograd's forward pass and once,
// flipped, for the input gradient; KeepPacked(false) or another slice
// transforms again; copies sharing it (SharePacked) transform it once and
// compute what an unshared convolution does.
func TestWinogradKeepPacked(t *testing.T) {
	winogradOn(t)
	rng := rand.New(rand.NewPCG(11, 12))
	g, f := geom(16, 16, 16, 3, 3, 1, 1, true), 48
	x, w := randSlice(rng, g.H*g.W*g.C), randSlice(rng, g.ColWidth()*f)
	dz, w2 := randSlice(rng, g.OH*g.OW*f), randSlice(rng, len(w))
	forward := func(c *Conv, w []float32) []float32 {
		z := make([]float32, g.OH*g.OW*f)
		c.Forward(z, x, w, 1, ConvEpilogue{}, nil)
		return z
	}
	data := func(c *Conv, w []float32) []float32 {
		dx := make([]float32, g.H*g.W*g.C)
		c.BackwardData(dx, dz, w, 1)
		return dx
	}
	ref := NewConv(g, f)
	want, want2, wantDx, wantDx2 := forward(ref, w), forward(ref, w2), data(ref, w), data(ref, w2)
	c := NewConv(g, f)
	c.KeepPacked(true)
	if !slices.Equal(forward(c, w), want) || !slices.Equal(data(c, w), wantDx) {
		t.Fatal("kept, the first call differs from the unkept")
	}
	saved := slices.Clone(w)
	copy(w, w2)
	if !slices.Equal(forward(c, w), want) || !slices.Equal(data(c, w), wantDx) {
		t.Error("kept, the kernel was transformed again")
	}
	if !slices.Equal(forward(c, slices.Clone(w)), want2) || !slices.Equal(data(c, slices.Clone(w)), wantDx2) {
		t.Error("kept, another kernel slice used the old transform")
	}
	copy(w, saved)
	c.KeepPacked(false)
	if !slices.Equal(forward(c, w), want) || !slices.Equal(data(c, w), wantDx) {
		t.Error("after KeepPacked(false), the old transform was used")
	}

	src := NewConv(g, f)
	src.KeepPacked(true)
	copies := make([]*Conv, 3)
	got := make([][]float32, len(copies))
	var wg sync.WaitGroup
	for i := range copies {
		copies[i] = NewConv(g, f)
		copies[i].KeepPacked(true)
		copies[i].SharePacked(src)
		wg.Go(func() { got[i] = forward(copies[i], w) })
	}
	wg.Wait()
	for i, z := range got {
		if !slices.Equal(z, want) || copies[i].winoKept != src.winoKept {
			t.Fatalf("copy %d: differs from an unshared convolution, or keeps its own transform", i)
		}
	}
	copy(w, w2)
	copies[0].KeepPacked(false) // the kernel changed: every sharer transforms again
	if !slices.Equal(forward(copies[1], w), want2) {
		t.Error("after a drop, a sharer used the old transform")
	}
}

// winogradOn skips t unless the active path has Winograd's transforms
// (avx512, avx2), else plans the convolutions t makes by them
// (WinogradOn), as before once t ends.
func winogradOn(t *testing.T) {
	t.Helper()
	if active.wino == nil {
		t.Skipf("the %s path has no Winograd's transforms", active.name)
	}
	on := Winograd()
	t.Cleanup(func() { SetWinograd(on) })
	SetWinograd(WinogradOn)
}

// winoImpls returns the paths this CPU runs that have Winograd's
// transforms.
func winoImpls() []*gemmImpl {
	var out []*gemmImpl
	for _, impl := range gemmImpls {
		if impl.wino != nil {
			out = append(out, impl)
		}
	}
	return out
}

// After its first calls, a convolution by Winograd's transforms allocates
// nothing: its forward pass with the kernel transformed at each call (as in
// training) or kept, and both gradients.
func TestWinogradAllocs(t *testing.T) {
	winogradOn(t)
	if gemmRace {
		t.Skip("the race detector allocates")
	}
	rng := rand.New(rand.NewPCG(13, 14))
	g, f, n := geom(16, 16, 32, 3, 3, 1, 1, true), 64, 4
	cc := newConvCase(g, f, n, rng)
	c := NewConv(g, f)
	z, dx := make([]float32, len(cc.dz)), make([]float32, len(cc.x))
	dw, db := make([]float32, len(cc.w)), make([]float32, f)
	for _, keep := range []bool{false, true} {
		c.KeepPacked(keep)
		step := func() {
			c.Forward(z, cc.x, cc.w, n, ConvEpilogue{ReLU: true}, nil)
			c.BackwardData(dx, cc.dz, cc.w, n)
			c.BackwardFilter(dw, db, cc.x, cc.dz, n, nil)
		}
		step()
		if allocs := testing.AllocsPerRun(10, step); allocs != 0 {
			t.Errorf("KeepPacked(%v): %v allocations a step, want 0", keep, allocs)
		}
	}
}

// Winograd's input and output transforms on each path with them, over the
// windows of one 16×16×64 image (16 tiles of F(4×4, 3×3), 64 filters),
// the cells of the windows winoStride apart: the figure is the windows
// transformed a second.
func BenchmarkWinogradTransforms(b *testing.B) {
	const h, c, m = 16, 64, 4
	tiles := (h / m) * (h / m)
	ps := winoStride(tiles * c)
	rng := rand.New(rand.NewPCG(1, 2))
	x := randSlice(rng, (h+2)*(h+2)*c)
	v := make([]float32, winoCells*ps)
	z := make([]float32, h*h*c)
	bias := make([]float32, c)
	s := make([]float32, winoCells*16)
	for _, impl := range winoImpls() {
		k := impl.wino
		b.Run(impl.name+"/input", func(b *testing.B) {
			for b.Loop() {
				for t := range tiles {
					ty, tx := t/(h/m), t%(h/m)
					k.input(&v[t*c], &x[(ty*m*(h+2)+tx*m)*c], &s[0], (h+2)*c, c, ps, c/16)
				}
			}
			b.ReportMetric(float64(tiles*b.N)/b.Elapsed().Seconds(), "windows/s")
		})
		b.Run(impl.name+"/output", func(b *testing.B) {
			for b.Loop() {
				for t := range tiles {
					ty, tx := t/(h/m), t%(h/m)
					k.output4(&z[(ty*m*h+tx*m)*c], &v[t*c], &bias[0], &s[0], ps, h*c, c, c/16, 0)
				}
			}
			b.ReportMetric(float64(tiles*b.N)/b.Elapsed().Seconds(), "windows/s")
		})
	}
}

// TestWinogradBlockBytes: a block takes 5/8 of the L2 cache, at most
// 640 KiB, and 640 KiB when the cache is not known.
func TestWinogradBlockBytes(t *testing.T) {
	for _, tc := range []struct{ l2, want int }{
		{1 << 20, 640 << 10}, {512 << 10, 320 << 10}, {2 << 20, 640 << 10}, {1280 << 10, 640 << 10}, {256 << 10, 160 << 10}, {0, 640 << 10}, {-1, 640 << 10},
	} {
		if got := winoBlockFor(tc.l2); got != tc.want {
			t.Errorf("winoBlockFor(%d) = %d, want %d", tc.l2, got, tc.want)
		}
	}
}
