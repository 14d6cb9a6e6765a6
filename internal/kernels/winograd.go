package kernels

import (
	"math"
	"os"
	"runtime"
	"sync/atomic"

	"github.com/klauspost/cpuid/v2"
)

// Winograd's minimal filtering (Lavin and Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2015) computes the forward pass of a
// stride-1 convolution tile by tile: F(m×m, r×r) takes each tile of m×m
// output cells of a filter from the 6×6 window d of each channel that
// the tile reads (6 = m + r − 1) as
//
//	Y = Aᵀ·[Σ_c (G·g_c·Gᵀ) ⊙ (Bᵀ·d_c·B)]·A
//
// with g_c the filter's r×r kernel of channel c: 36 products per channel
// and filter where the direct sum takes m²·r², 4x fewer for F(4×4, 3×3)
// and 2.8x fewer for F(2×2, 5×5). Both run on the points 0, 1, −1, 2, −2
// and ∞, so they share Bᵀ. The sums over the channels are 36 products of
// matrices, one per cell of the window: tiles × C by C × F, run on the
// convolution tiles as 1×1 convolutions whose cells are the tiles.
//
// A winoPlan runs the tiles in blocks of whole tile rows (rows of m output
// rows) counted over the batch: each block transforms its windows, then,
// a sliver of filters at a time, runs the 36 products and transforms them
// back into the output, while all of it is in the L2 cache. Each output
// cell is computed the same way whatever the block or the number of cores,
// so the results are bit-identical for any GOMAXPROCS; they differ from
// the direct sum's by rounding, within 3e-6 of the sum of the terms'
// magnitudes where the direct sum's is within 3e-7 (TestWinogradError).
// The kernel gradient runs on the same windows (see winoGrad).
type winoPlan struct {
	g      ConvGeom
	f, m   int
	th, tw int // tiles down and across an image
	rows   int // most tile rows per block
	least  int // fewest tile rows per block: at least the shortest tile of the products
	tiles  int // most tiles per block: rows·tw
	// gemm[k] runs the 36 products of a block of k tile rows for one
	// sliver of filters: 1×1 convolutions of k·tw cells (k ≥ least) with
	// sw filters.
	gemm   []*directPlan
	sw     int       // the filters of a sliver: nr, or f when fewer
	size   int       // floats from one product's kernel packed for the products to the next
	bias   []float32 // f zeros, the bias when there is none
	k      *winoKernels
	filter func(v, x, s *float32, ldx, cx, ps, nvec int)                       // the kernel's transform, k.filter3 or k.filter5
	output func(z, mm, bias, s *float32, ps, ldz, cz, nvec int, floor float32) // k.output4 or k.output2
	grad   *winoGrad                                                           // the kernel gradient, made at its first call
}

// winoKernels are the transforms of one path, in its vector instructions,
// for nvec vectors of 16 channels or filters (see _asm/winograd_asm.go;
// AVX-512 and AVX2 give the same bits): the input transform Bᵀ·d·B; the
// kernel's G·g·Gᵀ for 3×3 and 5×5 kernels; the output transforms Aᵀ·M·A
// of 4×4 and 2×2 outputs; and for the kernel gradient, G·dz·Gᵀ of its
// tiles of 4×4 and 2×2 cells and Aᵀ·M·A of its 3×3 and 5×5 sums.
type winoKernels struct {
	input, filter3, filter5, grad4, grad2 func(v, x, s *float32, ldx, cx, ps, nvec int)
	output4, output2, output3, output5    func(z, mm, bias, s *float32, ps, ldz, cz, nvec int, floor float32)
}

const (
	winoAlpha = 6 // the side of a window: m + r − 1
	winoCells = winoAlpha * winoAlpha
)

// winoBlockBytes bounds a block's transformed windows and the products of
// a sliver (36 × tiles × (C + sw) floats), so that they stay in the L2
// cache (see winoBlockFor). The blocks of the forward pass and the input
// gradient do not change any sum: each output's is over the channels.
//
// winoGradBlockBytes bounds the kernel gradient's blocks (windows and
// gradient tiles), whose products sum over a block's tiles: it is fixed,
// so that the gradient's bits do not depend on the cache.
var (
	winoBlockBytes     = winoBlockFor(cpuid.CPU.Cache.L2)
	winoGradBlockBytes = 640 << 10
)

// winoBlockFor returns the bound of a block for an L2 cache of l2 bytes (0
// or less: unknown): 5/8 of it, at most 640 KiB. On Zen 4's 1 MiB a
// training step of the tutorial model ran 5–9% faster with 640 KiB than
// with 320 KiB on both paths (960 KiB no faster; 2026-12-08); 320 KiB had
// been best before the cells lay an odd number of cache lines apart.
func winoBlockFor(l2 int) int {
	if l2 <= 0 {
		return 640 << 10
	}
	return min(640<<10, l2/8*5)
}

// WinogradMode says which sums of a convolution run by Winograd's
// transforms (see [SetWinograd]).
type WinogradMode int32

const (
	// WinogradOff sums every product directly.
	WinogradOff WinogradMode = iota
	// WinogradGradients runs the input and kernel gradients by the
	// transforms and the forward pass directly.
	WinogradGradients
	// WinogradOn runs the forward pass by the transforms too.
	WinogradOn
)

// String returns the mode's name in CONVNET_WINOGRAD: "off", "gradients"
// or "on".
func (m WinogradMode) String() string {
	switch m {
	case WinogradGradients:
		return "gradients"
	case WinogradOn:
		return "on"
	}
	return "off"
}

// winograd is the mode of the convolutions planned from now on (see
// SetWinograd).
var winograd atomic.Int32

func init() {
	winograd.Store(int32(WinogradOn))
	for _, m := range []WinogradMode{WinogradOff, WinogradGradients, WinogradOn} {
		if os.Getenv("CONVNET_WINOGRAD") == m.String() {
			winograd.Store(int32(m))
		}
	}
}

// SetWinograd sets which sums of the convolutions planned from now on (by
// [NewConv]) run by Winograd's transforms, where they apply; those planned
// before keep their way. WinogradOn by default, or from start-up the mode
// the environment variable CONVNET_WINOGRAD names ("off", "gradients",
// "on"; any other value leaves the default).
//
// Winograd's sums differ from the direct ones by rounding, within a few
// millionths of the sum of the terms' magnitudes. In the forward pass that
// rounding turns the decisions whose margins lie within it, a pooling
// window's maximum or a ReLU's sign, and with them the path of the
// gradient: in about half of a tutorial epoch's steps the convolutions'
// gradients then differ from the direct sums' by 1e-3 of their size, where
// with the forward pass summed directly (WinogradGradients) they agree
// within 3e-6 in every step. The other paths train as well: 30-epoch
// runs of the tutorial recipe ended at 97.42% on average with WinogradOn
// and 97.39% with WinogradGradients (seeds 4 to 16), and at 97.60% with
// WinogradGradients and 97.56% summed directly (seeds 4 to 10).
func SetWinograd(m WinogradMode) { winograd.Store(int32(m)) }

// Winograd returns the mode SetWinograd (or CONVNET_WINOGRAD) set.
func Winograd() WinogradMode { return WinogradMode(winograd.Load()) }

// WinogradActive returns the mode the convolutions planned from now on run
// in: Winograd(), or WinogradOff on a path without the transforms
// (generic).
func WinogradActive() WinogradMode { return winogradFor(active) }

func winogradFor(impl *gemmImpl) WinogradMode {
	if impl.wino == nil {
		return WinogradOff
	}
	return Winograd()
}

// useWinograd reports whether the sums of g with f filters may run by
// Winograd's transforms on the path impl: in a mode other than
// WinogradOff, on a path with the transforms in vector code (avx512,
// avx2), strides 1, a square kernel of 3 or 5 taps, channels and filters
// in vectors of 16, and outputs of at least two tiles each way.
func useWinograd(g *ConvGeom, f int, impl *gemmImpl) bool {
	m := winoOutputs(g.KH)
	return winogradFor(impl) != WinogradOff && g.SH == 1 && g.SW == 1 && g.KH == g.KW && m > 0 &&
		g.C%16 == 0 && f%16 == 0 && g.OH >= 2*m && g.OW >= 2*m
}

// winoOutputs returns the outputs per tile side for kernels of r taps: 4
// for 3, 2 for 5, else 0 (none).
func winoOutputs(r int) int {
	switch r {
	case 3:
		return 4
	case 5:
		return 2
	}
	return 0
}

func newWinoPlan(g ConvGeom, f int, ts *tileSet, k *winoKernels) *winoPlan {
	m := winoOutputs(g.KH)
	p := &winoPlan{g: g, f: f, m: m, k: k, th: (g.OH + m - 1) / m, tw: (g.OW + m - 1) / m}
	p.sw = min(f, ts.nr)
	p.least = (ts.mrs[len(ts.mrs)-1] + p.tw - 1) / p.tw
	p.rows = max(p.least, min(p.th, winoBlockBytes/(4*winoCells*p.tw*(g.C+p.sw))))
	p.tiles = p.rows * p.tw
	p.gemm = make([]*directPlan, p.rows+1)
	for k := p.least; k <= p.rows; k++ {
		cells := k * p.tw
		p.gemm[k] = newDirectPlan(ConvGeom{H: 1, W: cells, C: g.C, KH: 1, KW: 1, SH: 1, SW: 1, OH: 1, OW: cells}, p.sw, ts)
	}
	p.size = winoStride((f + ts.nr - 1) / ts.nr * ts.nr * g.C)
	p.bias = make([]float32, f)
	p.filter, p.output = k.filter5, k.output2
	if m == 4 {
		p.filter, p.output = k.filter3, k.output4
	}
	return p
}

// packKernel writes the kernel w (HWIO, r×r×C×F) transformed, G·g·Gᵀ for
// each channel and filter, into dst: for each of the 36 cells of a
// window, a C×F matrix packed for the products (see
// directPlan.packKernel), its columns past F zero.
func (p *winoPlan) packKernel(dst, w []float32) {
	s := make([]float32, winoCells*16)
	for ci := range p.g.C {
		p.packChannel(dst, w, s, ci)
	}
}

// packChannel is packKernel for input channel ci alone, s its scratch
// (36·16 floats).
func (p *winoPlan) packChannel(dst, w, s []float32, ci int) {
	g := &p.g
	c, f, nr := g.C, p.f, p.gemm[p.rows].ts.nr
	for j0 := 0; j0 < f; j0 += nr {
		width := min(nr, f-j0)
		p.filter(&dst[j0*c+ci*nr], &w[ci*f+j0], &s[0], g.KW*c*f, c*f, p.size, width/16)
		if width < nr {
			for q := range winoCells {
				clear(dst[q*p.size+j0*c+ci*nr+width:][:nr-width])
			}
		}
	}
}

// winoStride returns the floats from the matrix of one cell of the
// windows to the next, for matrices of n floats (a multiple of 16): n, or
// n + 16 when n is an even number of 64-byte cache lines. The transforms
// read or write a window's 36 cells together; an odd number of lines apart,
// those fall in 36 sets of the L1 cache, where strides of 2 or 4 KiB put
// them in one or two sets of 8 ways, which evict each other. That made
// the transforms 2.2–4.5x slower (BenchmarkWinogradTransforms).
func winoStride(n int) int { return n | 16 }

// winoBuf is one worker's scratch for a winoPlan.
type winoBuf struct {
	v, mm []float32 // a block's windows transformed (36 cells of tiles × C) and products for a sliver (36 of tiles × sw), winoStride apart
	d     []float32 // one window cut by the image's edges, gathered (36·C)
	y     []float32 // one tile cut by the image's edges (m·m·sw)
	s     []float32 // the transforms' scratch
	gemm  *directBuf
}

func (p *winoPlan) newBuf() *winoBuf {
	g := &p.g
	return &winoBuf{
		v:  make([]float32, winoCells*winoStride(p.tiles*g.C)),
		mm: make([]float32, winoCells*winoStride(p.tiles*p.sw)),
		d:  make([]float32, winoCells*g.C),
		y:  make([]float32, p.m*p.m*p.sw),
		s:  make([]float32, winoCells*16),
		// No plan of the products copies its input: each has at least the
		// shortest tile's cells, so one buffer serves them all.
		gemm: p.gemm[p.rows].newBuf(),
	}
}

// winoForward is Forward by Winograd's transforms.
func (c *Conv) winoForward(z, x, w []float32, n int, e ConvEpilogue, finish func(lo, hi int)) {
	p := c.wino
	size := winoCells * p.size
	c.x, c.z, c.n, c.finish = x, z, n, finish
	defer c.done()
	c.epBias = p.bias
	if e.Bias != nil {
		c.epBias = e.Bias[:c.f]
	}
	c.floor = float32(math.Inf(-1))
	if e.ReLU {
		c.floor = 0
	}
	workers := runtime.GOMAXPROCS(0)
	switch work := 2 * n * len(w) * c.g.OH * c.g.OW; {
	case work < parallelConvFlops:
		workers = 1
	case work < sharedConvFlops:
		workers = coresPerRun()
	}
	// Blocks as large as fit in the cache, else one for each worker.
	rows := n * p.th
	c.winoRows = min(p.rows, max(p.least, (rows+workers-1)/workers))
	blocks := (rows + c.winoRows - 1) / c.winoRows
	packers := min(workers, c.g.C/16)
	workers = min(workers, blocks)
	for len(c.winoBufs) < max(workers, packers) {
		c.winoBufs = append(c.winoBufs, p.newBuf())
	}
	// The kernel transformed once if kept, else at each call, its input
	// channels shared among the cores.
	if c.keep {
		c.kern = c.winoKept.get(w, size, p.packKernel)
	} else {
		if len(c.packed) < size {
			c.packed = make([]float32, size)
		}
		c.w, c.kern = w, c.packed
		ParallelFor(c.g.C, packers, c.winoPackFn)
	}
	ParallelFor(blocks, workers, c.winoFn)
}

// winoPack transforms the kernel of input channel ci into c.kern.
func (c *Conv) winoPack(worker, ci int) {
	c.wino.packChannel(c.kern, c.w, c.winoBufs[worker].s, ci)
}

// winoBlock computes block b of tile rows, counted over the batch.
func (c *Conv) winoBlock(worker, b int) {
	p, buf := c.wino, c.winoBufs[worker]
	g := &p.g
	m, C, F := p.m, g.C, c.f
	r0, r1 := b*c.winoRows, min((b+1)*c.winoRows, c.n*p.th)
	tiles := c.winoRows * p.tw // the tiles of a whole block
	vs, ms := winoStride(tiles*C), winoStride(tiles*p.sw)
	for r := r0; r < r1; r++ {
		i, ty := r/p.th, r%p.th
		img := c.x[i*g.H*g.W*C : (i+1)*g.H*g.W*C]
		for tx := range p.tw {
			t := (r-r0)*p.tw + tx
			src, ld := p.window(buf.d, img, ty*m-g.PadTop, tx*m-g.PadLeft)
			p.k.input(&buf.v[t*C], &src[0], &buf.s[0], ld, C, vs, C/16)
		}
	}
	// A sliver of filters at a time: its 36 products, then their
	// transforms. The last block may have fewer rows: the tiles past them
	// compute what is left in the buffer, unread.
	gemm, sw := p.gemm[max(r1-r0, p.least)], p.sw
	for j0 := 0; j0 < F; j0 += sw {
		for q := range winoCells {
			gemm.forward(buf.gemm, buf.mm[q*ms:], buf.v[q*vs:], c.kern[q*p.size+j0*C:], C, gemm.ts.nr,
				nil, 0, 0, 1, 0, gemm.cells.len(), 0, sw)
		}
		nvec := min(sw, F-j0) / 16
		for r := r0; r < r1; r++ {
			i, ty := r/p.th, r%p.th
			out := c.z[i*g.OH*g.OW*F : (i+1)*g.OH*g.OW*F]
			oy := ty * m
			for tx := range p.tw {
				t := (r-r0)*p.tw + tx
				ox := tx * m
				if oy+m <= g.OH && ox+m <= g.OW {
					p.output(&out[(oy*g.OW+ox)*F+j0], &buf.mm[t*sw], &c.epBias[j0], &buf.s[0], ms, g.OW*F, F, nvec, c.floor)
					continue
				}
				p.output(&buf.y[0], &buf.mm[t*sw], &c.epBias[j0], &buf.s[0], ms, m*sw, sw, nvec, c.floor)
				for a := range min(m, g.OH-oy) {
					for b := range min(m, g.OW-ox) {
						copy(out[((oy+a)*g.OW+ox+b)*F+j0:][:nvec*16], buf.y[(a*m+b)*sw:])
					}
				}
			}
		}
	}
	if c.finish != nil {
		first, last := r0/p.th, (r1-1)/p.th
		lo := (first*g.OH + r0%p.th*m) * g.OW
		hi := (last*g.OH + min((r1-1)%p.th*m+m, g.OH)) * g.OW
		c.finish(lo, hi)
	}
}

// window returns the 6×6 window of image img (H×W×C) at row y0 and
// column x0 and its row stride: in place when it lies inside the image,
// else gathered into d (36·C floats) with zeros outside.
func (p *winoPlan) window(d, img []float32, y0, x0 int) ([]float32, int) {
	g := &p.g
	C := g.C
	if y0 >= 0 && x0 >= 0 && y0+winoAlpha <= g.H && x0+winoAlpha <= g.W {
		return img[(y0*g.W+x0)*C:], g.W * C
	}
	for i := range winoAlpha {
		row := d[i*winoAlpha*C : (i+1)*winoAlpha*C]
		iy := y0 + i
		if iy < 0 || iy >= g.H {
			clear(row)
			continue
		}
		lo, hi := max(-x0, 0), min(g.W-x0, winoAlpha)
		clear(row[:lo*C])
		if hi > lo {
			copy(row[lo*C:hi*C], img[(iy*g.W+x0+lo)*C:])
		} else {
			hi = lo
		}
		clear(row[hi*C:])
	}
	return d, winoAlpha * C
}
