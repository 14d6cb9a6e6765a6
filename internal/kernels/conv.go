package kernels

import (
	"runtime"
)

// Conv is a 2-D convolution of geometry G with F filters, planned once for
// batches of NHWC images: its forward pass and its two gradients.
//
//	z[i,oy,ox,f] = Σ_{ky,kx,c} x[i, oy*SH-PadTop+ky, ox*SW-PadLeft+kx, c] · w[ky,kx,c,f]
//
// with x [n,H,W,C], z [n,OH,OW,F], the kernel w HWIO [KH,KW,C,F] and cells
// outside the image read as 0. With AVX-512 or AVX2, both gradients of a
// stride-1 3×3 or 5×5 convolution over channels and filters in multiples
// of 16 run by Winograd's transforms in the modes WinogradGradients and
// WinogradOn, its forward pass too in WinogradOn (see SetWinograd,
// winoPlan and winoGrad), with 4x or 2.8x fewer multiplications. 1×1
// unpadded stride-1 convolutions are one GEMM over the batch, except the
// forward pass over maps of at least minTiledCells cells, which runs on
// the tiles as one row of H·W cells per image, bias and ReLU applied in
// the tiles; every other forward pass and kernel gradient runs straight
// from the image, tile by tile (see directPlan), the images (or, for a
// small batch, blocks of output rows) spread over the cores.
//
// The input gradient of a stride-1 convolution over at least 8 channels is
// itself a convolution, of dz with the kernel flipped (see
// [ConvGeom.Transposed]), planned the same way; otherwise it is
// col2im(dz·wᵀ). Kernel gradients are summed per fixed group of images,
// then the groups in order, so every result is bit-identical whatever
// GOMAXPROCS is.
//
// A Conv keeps scratch buffers: it is not safe for concurrent use.
type Conv struct {
	g            ConvGeom
	f            int
	pointwise    bool
	direct       *directPlan // forward and kernel gradient; pointwise: the forward pass, or nil
	rows         int         // output rows per forward block; 0 chooses per call
	block        int         // im2col rows per block of the input gradient by col2im
	data         *Conv       // the input gradient as a convolution, or nil
	flip         []float32   // the kernel of data, see FlipKernel
	flipOf       *float32    // the kernel flip holds, kept (see KeepPacked); nil: none
	packed       []float32   // the kernel packed for the tiles at each call
	keep         bool        // see KeepPacked
	kept         *packing    // the kernel packed once, when kept; see SharePacked
	kern         []float32   // what the tiles read: packed, or the kernel itself
	sliver       int         // kern's offset from one column of a sliver to the same of the next, per column
	ldk          int         // kern's offset from one row of a sliver to the next
	bias         []float32   // the bias, padded to the tiles' width
	bufs         []*directBuf
	wino         *winoPlan // the kernel gradient by Winograd's transforms, or nil
	winoFwd      bool      // the forward pass by wino too (see WinogradMode)
	winoKept     *packing  // its kernel transformed once, when kept; see SharePacked
	winoBufs     []*winoBuf
	winoGradBufs []*winoGradBuf // the kernel gradient by Winograd's transforms: the workers' scratch
	cols         [][]float32    // per worker, a block of im2col rows for col2im
	partial      []float32      // per-group kernel and bias gradients

	// With bfloat16 on (see SetBF16): its path, and the convolution on
	// pairs with the images and kernel converted for it.
	bf16   *bf16Impl
	half   *Conv
	xh, wh []float32
	pairs  *packing // the kernel converted to pairs once, when kept; see SharePacked
	// The kernel gradient in bfloat16, and its workers' pairs.
	filterBF16 *bf16Filter
	filterBufs []*bf16FilterBuf

	// The call in progress, for the ParallelFor callbacks.
	x, w, z, dz, dx    []float32
	epBias             []float32 // the bias of the forward pass in progress, or nil
	floor              float32   // Winograd's lower bound: 0 for a ReLU, else −∞
	winoRows           int       // Winograd's tile rows per block
	n, per, flags      int
	sumBias            bool // BackwardFilter: the bias gradient is wanted
	fparts             int  // parts of the filters, each an item of ParallelFor
	finish             func(lo, hi int)
	prepare            func(lo, hi int, sum []float32)
	fwdFn, dwFn        func(worker, item int)
	winoFn, winoPackFn func(worker, item int)
	winoDwFn           func(worker, item int)
	dxFn, pairFn       func(worker, item int)
}

// ConvEpilogue is what [Conv.Forward] does to each output cell after the
// sum, in the same pass: add Bias (F values; nil for none), then take
// max(z, 0) if ReLU is set.
type ConvEpilogue struct {
	Bias []float32
	ReLU bool
}

// NewConv plans the convolution of geometry g with f filters.
func NewConv(g ConvGeom, f int) *Conv {
	return newConv(g, f, convOptions{flip: useFlip(&g)})
}

// convOptions chooses the strategies for a geometry; tests force each one.
type convOptions struct {
	flip  bool      // input gradient as a convolution (strides 1)
	rows  int       // output rows per block; 0 chooses them
	block int       // im2col rows per block for col2im; 0 sizes them for the cache
	impl  *gemmImpl // nil: the active implementation, whose tiles and transforms serve
	tiles *tileSet  // nil: those of impl
	gemm  bool      // a 1×1 convolution's forward pass as one GEMM, whatever its size
	sum   bool      // no Winograd: the forward pass sums the taps directly
	grad  bool      // the forward pass is another convolution's input gradient
}

func newConv(g ConvGeom, f int, o convOptions) *Conv {
	if f < 1 || g.OH < 1 || g.OW < 1 || g.C < 1 {
		panic("kernels: NewConv: empty convolution")
	}
	c := &Conv{g: g, f: f, rows: o.rows, kept: new(packing), pairs: new(packing), winoKept: new(packing)}
	impl := o.impl
	if impl == nil {
		impl = active
	}
	c.pointwise = g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 && g.PadTop == 0 && g.PadLeft == 0
	c.block = blockRows(g.OH*g.OW, g.ColWidth(), f)
	if o.block > 0 {
		c.block = min(o.block, g.OH*g.OW)
	}
	if !c.pointwise {
		ts := o.tiles
		if ts == nil {
			ts = impl.tilesFor(f)
		}
		c.direct = newDirectPlan(g, f, ts)
		if o.rows > 0 {
			c.direct.block = min(c.direct.block, o.rows)
		}
		if !o.sum && o.tiles == nil && useWinograd(&g, f, impl) {
			c.wino = newWinoPlan(g, f, ts, impl.wino)
			c.winoFwd = o.grad || Winograd() == WinogradOn
		}
	} else if g.H*g.W >= minTiledCells && !o.gemm {
		ts := o.tiles
		if ts == nil {
			ts = impl.tilesFor(f)
		}
		cells := g.H * g.W
		flat := ConvGeom{H: 1, W: cells, C: g.C, KH: 1, KW: 1, SH: 1, SW: 1, OH: 1, OW: cells}
		c.direct = newDirectPlan(flat, f, ts)
	}
	if o.flip && !c.pointwise {
		c.data = newConv(g.Transposed(f), g.C, convOptions{rows: o.rows, block: o.block, impl: o.impl, tiles: o.tiles, sum: o.sum, grad: true})
	}
	c.fwdFn, c.dwFn, c.dxFn, c.pairFn = c.forwardBlock, c.filterGroup, c.dataImage, c.pairImage
	c.winoFn, c.winoPackFn, c.winoDwFn = c.winoBlock, c.winoPack, c.winoFilterGroup
	return c
}

// useFlip reports whether the input gradient of g should be computed as a
// convolution: strides 1 and enough channels (that convolution has one
// output column per channel, too few below minFlipChannels for the tiles).
func useFlip(g *ConvGeom) bool { return g.SH == 1 && g.SW == 1 && g.C >= minFlipChannels }

const minFlipChannels = 8

// convGroups is the number of fixed image groups whose kernel gradients are
// summed separately then added in order, so that the result does not
// depend on the number of cores.
const convGroups = 8

// blockBytes is the size of one block of im2col rows: it stays in the L2
// cache between the GEMM writing it and col2im reading it.
const blockBytes = 192 << 10

// serialFlops bounds the work of one GEMM call made from inside a parallel
// loop, below the size at which Gemm would split it across goroutines
// itself (the loop already keeps every core busy).
const serialFlops = 4 << 20

// parallelConvFlops is the work below which a forward pass runs on one
// goroutine, and sharedConvFlops the work below which it takes only its
// share of the cores while other passes run (see coresPerRun). One image
// of the tutorial model (convolutions of 52, 19, 9 and 2 MFLOP) took
// 0.49 ms a prediction with its convolutions on one goroutine, 0.24–0.33
// ms with those from 8 MFLOP on two cores, and less CPU time (`convnet
// bench`, six alternating rounds); two requests at once on two cores,
// each taking both cores anyway, answered 7% fewer a second
// (BenchmarkClassify/clients=cores), each on its share level with before.
// Tests lower parallelConvFlops to run small convolutions in parallel.
var parallelConvFlops = 8 << 20

// sharedConvFlops bounds the forward passes that take only their share of
// the cores (see parallelConvFlops).
const sharedConvFlops = 64 << 20

// unpackedCells bounds the output cells (images × OH × OW) of a Forward
// whose tiles read the kernel in place instead of packing it (when its
// filters fill whole slivers): packing costs a pass over the kernel, which
// few cells do not repay.
var unpackedCells = 1024

// minTiledCells is the fewest cells of an image (H·W) of a 1×1
// convolution whose forward pass runs on the convolution tiles rather than
// as a GEMM: the tiles read the input in place and apply the bias and
// activation while the output is in registers (no packing, no second
// pass), but on smaller maps they would mostly run past the image's end.
const minTiledCells = 16

// blockRows returns how many im2col rows of width k (of rows in all) to
// process at once, for a GEMM with n columns: about blockBytes, a multiple
// of 12 rows (a multiple of the tile height of every GEMM micro-kernel),
// and no more work than serialFlops.
func blockRows(rows, k, n int) int {
	r := min(blockBytes/(4*k), serialFlops/(2*k*n))
	r = max(r/12*12, 12)
	return min(r, rows)
}

// Geom returns the geometry the convolution was planned for.
func (c *Conv) Geom() ConvGeom { return c.g }

// Forward sets z (n×OH×OW×F) to the convolution of the n images x
// (n×H×W×C) with the kernel w (KH×KW×C×F), then applies e to every output
// cell; z is not read. If finish is not nil, Forward calls it for every
// block of output cells it completes, with the block's cells [lo, hi)
// counted over the batch (rows of F values in z), from the goroutine that
// computed them while they are in cache: finish may rewrite those rows, to
// apply an activation. Calls for different blocks may run at the same time.
func (c *Conv) Forward(z, x, w []float32, n int, e ConvEpilogue, finish func(lo, hi int)) {
	if c.half != nil && c.bf16 != nil {
		c.forwardBF16(z, x, w, n, e, finish)
		return
	}
	g := &c.g
	c.check("Forward", n, x, z, w)
	if e.Bias != nil && len(e.Bias) < c.f {
		panic("kernels: Conv.Forward: bias too short")
	}
	if c.winoFwd {
		c.winoForward(z, x, w, n, e, finish)
		return
	}
	c.x, c.w, c.z, c.n, c.finish = x, w, z, n, finish
	defer c.done()
	c.flags, c.epBias = 0, nil
	if e.ReLU {
		c.flags = tileReLU
	}
	// A 1×1 convolution on the tiles (direct set) takes the cores from the
	// size at which a GEMM would split.
	tiled := c.direct != nil
	workers, least := runtime.GOMAXPROCS(0), parallelConvFlops
	if c.pointwise {
		least = min(least, parallelFlops)
	}
	switch work := 2 * n * len(w) * g.OH * g.OW; {
	case work < least:
		workers = 1
	case work < sharedConvFlops:
		workers = coresPerRun()
	}
	if !tiled {
		c.gemm(false, false, n*g.H*g.W, c.f, g.C, 1, x, g.C, w, c.f, 0, z, c.f)
		if e.Bias == nil && !e.ReLU && finish == nil {
			return
		}
		if e.Bias != nil {
			c.epBias = e.Bias[:c.f]
		}
	} else {
		fp := c.direct.fp
		if len(c.bias) < fp {
			c.bias = make([]float32, fp)
		}
		// Few output cells read each sliver of the kernel few times: the
		// tiles read it in place, rows f apart, rather than pack it
		// first, when it has whole slivers.
		c.kern, c.sliver, c.ldk = w, 1, c.f
		if size := fp * g.ColWidth(); c.keep || fp != c.f || n*g.OH*g.OW > unpackedCells {
			if c.keep {
				c.kern = c.kept.get(w, size, c.direct.packKernel)
			} else {
				if len(c.packed) < size {
					c.packed = make([]float32, size)
				}
				c.direct.packKernel(c.packed, w)
				c.kern = c.packed
			}
			c.sliver, c.ldk = g.ColWidth(), c.direct.ts.nr
		}
		if e.Bias != nil {
			copy(c.bias, e.Bias[:c.f])
			c.epBias = c.bias
		}
	}
	// Whole images when there are enough to share, else blocks of rows
	// (for a 1×1 convolution as a GEMM, of its bias and activation; on the
	// tiles, its images are whole).
	c.per, c.fparts = 1, 1
	switch {
	case c.pointwise && tiled:
		if n < 2*workers {
			c.per = min(c.direct.maxParts(), (2*workers+n-1)/n)
		}
	case c.rows > 0:
		c.per = (g.OH + c.rows - 1) / c.rows
	case !c.pointwise && n < 2*workers && 4*g.ColWidth()*c.direct.fp > splitKernelBytes:
		c.fparts = min(c.direct.fp/c.direct.ts.nr, (2*workers+n-1)/n)
	case n < 2*workers:
		c.per = min(g.OH, (2*workers+n-1)/n)
	}
	if !c.pointwise {
		c.per = max(c.per, (g.OH+c.direct.block-1)/c.direct.block)
	}
	items := n * c.per * c.fparts
	if c.fparts > 1 {
		c.finish = nil // a block's cells are whole only once every part has run
	}
	ParallelFor(items, c.workers(min(items, workers)), c.fwdFn)
	if c.fparts > 1 && finish != nil {
		finish(0, n*g.OH*g.OW)
	}
}

// splitKernelBytes is the size of kernel above which a forward pass over
// few images shares the filters among the cores rather than the rows:
// each core then reads its part of the kernel once, from memory, instead
// of the whole kernel once per row.
var splitKernelBytes = 512 << 10

// span returns the output rows [oy0, oy1) of block b of an image.
func (c *Conv) span(b int) (oy0, oy1 int) {
	oh := c.g.OH
	return b * oh / c.per, (b + 1) * oh / c.per
}

// forwardBlock computes one block of output rows of one image: item counts
// the blocks of image 0, then those of image 1, and so on.
func (c *Conv) forwardBlock(worker, item int) {
	g := &c.g
	f, cells, size := c.f, g.OH*g.OW, g.H*g.W*g.C
	i, b := item/(c.per*c.fparts), item%(c.per*c.fparts)
	b, part := b/c.fparts, b%c.fparts
	oy0, oy1 := c.span(b)
	lo, hi := i*cells+oy0*g.OW, i*cells+oy1*g.OW
	bias := c.epBias
	x, z := c.x[i*size:(i+1)*size], c.z[i*cells*f:(i+1)*cells*f]
	switch {
	case c.direct == nil: // a 1×1 convolution by the GEMM: its bias and ReLU
		z := c.z[lo*f : hi*f]
		switch {
		case c.flags&tileReLU != 0:
			BiasReLU(z, z, bias)
		case bias != nil:
			AddBias(z, bias)
		}
	case c.pointwise: // one row of H·W cells, in parts of whole tiles
		t0, t1, c0, c1 := c.direct.tiles(b, c.per)
		lo, hi = i*cells+c0, i*cells+c1
		c.direct.forward(c.bufs[worker], z, x, c.kern, c.sliver, c.ldk, bias, c.flags, 0, 1, t0, t1, 0, f)
	default:
		nr := c.direct.ts.nr
		slivers := c.direct.fp / nr
		f0, f1 := part*slivers/c.fparts*nr, min((part+1)*slivers/c.fparts*nr, f)
		c.direct.forward(c.bufs[worker], z, x, c.kern, c.sliver, c.ldk, bias, c.flags, oy0, oy1, 0, c.direct.cells.len(), f0, f1)
	}
	if c.finish != nil {
		c.finish(lo, hi)
	}
}

// check panics unless the image tensor a (n×H×W×C), the output tensor b
// (n×OH×OW×F) and the kernel w are long enough for n images.
func (c *Conv) check(op string, n int, a, b, w []float32) {
	g := &c.g
	if n < 0 || len(a) < n*g.H*g.W*g.C || len(b) < n*g.OH*g.OW*c.f || len(w) < g.ColWidth()*c.f {
		panic("kernels: Conv." + op + ": slices too short for the geometry")
	}
}

// done drops the references to the caller's slices and functions.
func (c *Conv) done() {
	c.x, c.w, c.z, c.dz, c.dx, c.epBias, c.finish, c.prepare = nil, nil, nil, nil, nil, nil, nil, nil
	c.kern = nil
}

// ReleaseBackward drops what the backward passes keep between calls: the
// partial sums of [Conv.BackwardFilter] and the scratch of
// [Conv.BackwardData]. The next calls make them again.
func (c *Conv) ReleaseBackward() {
	c.partial, c.cols, c.filterBufs = nil, nil, nil
	c.winoGradBufs = nil
	if c.data != nil {
		c.data.bufs = nil
	}
}

// workers makes sure there are scratch buffers for w workers and returns w.
func (c *Conv) workers(w int) int {
	if c.direct == nil {
		return w
	}
	for len(c.bufs) < w {
		c.bufs = append(c.bufs, c.direct.newBuf())
	}
	for c.filterBF16 != nil && len(c.filterBufs) < w {
		c.filterBufs = append(c.filterBufs, new(bf16FilterBuf))
	}
	return w
}

// colWorkers makes sure there is a block of im2col rows for each of w
// workers (the input gradient by col2im) and returns w.
func (c *Conv) colWorkers(w int) int {
	for len(c.cols) < w {
		c.cols = append(c.cols, make([]float32, c.block*c.g.ColWidth()))
	}
	return w
}

// tilesFor returns the convolution tiles for f filters.
func (g *gemmImpl) tilesFor(f int) *tileSet {
	if g.narrow != nil && f <= g.narrow.nr {
		return g.narrow
	}
	return g.tiles
}
