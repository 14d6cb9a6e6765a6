package kernels

import "runtime"

// Conv is a 2-D convolution of geometry G with F filters, planned once for
// batches of NHWC images: its forward pass and its two gradients.
//
//	z[i,oy,ox,f] = Σ_{ky,kx,c} x[i, oy*SH-PadTop+ky, ox*SW-PadLeft+kx, c] · w[ky,kx,c,f]
//
// with x [n,H,W,C], z [n,OH,OW,F], the kernel w HWIO [KH,KW,C,F] and cells
// outside the image read as 0. Each operation is GEMMs over blocks of output
// rows, the blocks of every image spread over the cores, with the strategy
// that suits the geometry:
//
//   - 1×1 unpadded stride-1 convolutions are one GEMM over the batch;
//   - vertical stride 1 with a kernel at least 3 high over at least 64 values
//     per kernel row runs from the horizontal windows of the input rows (see
//     rowPlan), KH GEMMs over a buffer KH times smaller than im2col's;
//   - anything else runs from blocks of im2col rows still in cache when the
//     GEMM reads them.
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
	g         ConvGeom
	f         int
	pointwise bool
	block     int       // im2col rows per block
	rows      *rowPlan  // forward and kernel gradient by rows, or nil
	data      *Conv     // the input gradient as a convolution, or nil
	flip      []float32 // the kernel of data, see FlipKernel
	bufs      [][]float32
	partial   []float32 // per-group kernel and bias gradients

	// The call in progress, for the ParallelFor callbacks.
	x, w, z, dz, dx []float32
	n               int
	finish          func(lo, hi int)
	prepare         func(lo, hi int, sum []float32)
	fwdFn, dwFn     func(worker, item int)
	dxFn            func(worker, item int)
}

// NewConv plans the convolution of geometry g with f filters.
func NewConv(g ConvGeom, f int) *Conv {
	o := convOptions{rows: useRows(&g), flip: useFlip(&g)}
	if o.flip {
		t := g.Transposed(f)
		o.dataRows = useRows(&t)
	}
	return newConv(g, f, o)
}

// convOptions chooses the strategies for a geometry; tests force each one.
type convOptions struct {
	rows     bool // forward and kernel gradient by rows (vertical stride 1)
	flip     bool // input gradient as a convolution (strides 1)
	dataRows bool // that convolution by rows
	block    int  // im2col rows per block, or image rows per block by rows; 0 sizes them for the cache
}

func newConv(g ConvGeom, f int, o convOptions) *Conv {
	if f < 1 || g.OH < 1 || g.OW < 1 || g.C < 1 {
		panic("kernels: NewConv: empty convolution")
	}
	c := &Conv{g: g, f: f}
	c.pointwise = g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 && g.PadTop == 0 && g.PadLeft == 0
	c.block = blockRows(g.OH*g.OW, g.ColWidth(), f)
	if o.block > 0 {
		c.block = min(o.block, g.OH*g.OW)
	}
	if o.rows && !c.pointwise {
		c.rows = newRowPlan(g, f, o.block)
	}
	if o.flip && !c.pointwise {
		c.data = newConv(g.Transposed(f), g.C, convOptions{rows: o.dataRows, block: o.block})
	}
	c.fwdFn, c.dwFn, c.dxFn = c.forwardBlock, c.filterGroup, c.dataImage
	return c
}

// useRows reports whether a convolution of geometry g should run by rows:
// vertical stride 1, a tall kernel, and GEMMs deep enough for the
// micro-kernels.
func useRows(g *ConvGeom) bool { return g.SH == 1 && g.KH >= 3 && g.KW*g.C >= 64 }

// useFlip reports whether the input gradient of g should be computed as a
// convolution: strides 1 and enough channels (that GEMM has one column per
// channel, too few below minFlipChannels for the micro-kernels).
func useFlip(g *ConvGeom) bool { return g.SH == 1 && g.SW == 1 && g.C >= minFlipChannels }

const minFlipChannels = 8

// convGroups is the number of fixed image groups whose kernel gradients are
// summed separately then added in order, so that the result does not
// depend on the number of cores.
const convGroups = 8

// blockBytes is the size of one block of im2col rows: it stays in the L2
// cache between im2col writing it and the GEMM reading it.
const blockBytes = 192 << 10

// serialFlops bounds the work of one GEMM call made from inside a parallel
// loop, below the size at which Gemm would split it across goroutines
// itself (the loop already keeps every core busy).
const serialFlops = 4 << 20

// parallelConvFlops is the work below which a forward pass runs on one
// goroutine: for one image of the tutorial model, waking a second core
// costs about what it saves on a quiet machine (0.52 ms a prediction either
// way) and adds delays on a busy one (0.67 ms median against 0.55 ms).
// Tests lower it to run small convolutions in parallel.
var parallelConvFlops = 64 << 20

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
// (n×H×W×C) with the kernel w (KH×KW×C×F); z is not read. If finish is not
// nil, Forward calls it for every block of output cells it completes, with
// the block's cells [lo, hi) counted over the batch (rows of F values in
// z), from the goroutine that computed them while they are in cache:
// finish may rewrite those rows, to add a bias and apply an activation.
// Calls for different blocks may run at the same time.
func (c *Conv) Forward(z, x, w []float32, n int, finish func(lo, hi int)) {
	g := &c.g
	c.check("Forward", n, x, z, w)
	c.x, c.w, c.z, c.n, c.finish = x, w, z, n, finish
	defer c.done()
	if c.pointwise {
		Gemm(false, false, n*g.H*g.W, c.f, g.C, 1, x, g.C, w, c.f, 0, z, c.f)
		if finish == nil {
			return
		}
	}
	items := n * c.blocks()
	workers := c.workers(items)
	if 2*n*len(w)*g.OH*g.OW < parallelConvFlops {
		workers = 1
	}
	ParallelFor(items, workers, c.fwdFn)
}

// blocks returns the number of blocks of an image's output cells.
func (c *Conv) blocks() int {
	if c.rows != nil {
		return c.rows.blocks()
	}
	return (c.g.OH*c.g.OW + c.block - 1) / c.block
}

// span returns the output cells [lo, hi) of block b of an image.
func (c *Conv) span(b int) (lo, hi int) {
	if c.rows != nil {
		return c.rows.span(b)
	}
	return b * c.block, min((b+1)*c.block, c.g.OH*c.g.OW)
}

// forwardBlock computes one block of output cells of one image: item counts
// the blocks of image 0, then those of image 1, and so on.
func (c *Conv) forwardBlock(worker, item int) {
	g := &c.g
	f, k, rows, size := c.f, g.ColWidth(), g.OH*g.OW, g.H*g.W*g.C
	per := c.blocks()
	i, b := item/per, item%per
	lo, hi := c.span(b)
	x := c.x[i*size : (i+1)*size]
	z := c.z[(i*rows+lo)*f : (i*rows+hi)*f]
	switch {
	case c.pointwise:
	case c.rows != nil:
		c.rows.forward(c.bufs[worker], x, c.w, z, f, b)
	default:
		cols := c.bufs[worker][:(hi-lo)*k]
		Im2colRows(cols, x, g, lo, hi)
		Gemm(false, false, hi-lo, f, k, 1, cols, k, c.w, f, 0, z, f)
	}
	if c.finish != nil {
		c.finish(i*rows+lo, i*rows+hi)
	}
}

// BackwardFilter adds to dw (KH×KW×C×F) the kernel gradient for the n
// images x given dz (n×OH×OW×F), the gradient of the loss with respect to
// z, and to db (F values; nil for none) the bias gradient:
//
//	dw[ky,kx,c,f] += Σ_{i,oy,ox} x[i, oy*SH-PadTop+ky, ox*SW-PadLeft+kx, c] · dz[i,oy,ox,f]
//	db[f] += Σ_{i,oy,ox} dz[i,oy,ox,f]
//
// If prepare is not nil, BackwardFilter calls it for every image before
// reading the image's rows of dz, with those cells [lo, hi) counted over
// the batch, from the goroutine that then reads them: prepare must write
// them (an activation's derivative, say) and add their column sums to sum,
// the partial bias gradient of the image's group. Calls for different
// images may run at the same time.
func (c *Conv) BackwardFilter(dw, db, x, dz []float32, n int, prepare func(lo, hi int, sum []float32)) {
	g := &c.g
	c.check("BackwardFilter", n, x, dz, dw)
	if db != nil && len(db) < c.f {
		panic("kernels: Conv.BackwardFilter: bias gradient too short")
	}
	c.x, c.dz, c.n, c.prepare = x, dz, n, prepare
	defer c.done()
	groups := min(n, convGroups)
	kf := g.ColWidth() * c.f
	if c.partial == nil {
		c.partial = make([]float32, convGroups*(kf+c.f))
	}
	ParallelFor(groups, c.workers(groups), c.dwFn)
	for gi := range groups {
		p := c.partial[gi*(kf+c.f) : (gi+1)*(kf+c.f)]
		AddTo(dw[:kf], p[:kf])
		if db != nil {
			AddTo(db[:c.f], p[kf:])
		}
	}
}

// filterGroup sets the partial kernel and bias gradients of the images of
// group gi.
func (c *Conv) filterGroup(worker, gi int) {
	g := &c.g
	n, f, k := c.n, c.f, g.ColWidth()
	groups := min(n, convGroups)
	rows, size := g.OH*g.OW, g.H*g.W*g.C
	p := c.partial[gi*(k+1)*f : (gi+1)*(k+1)*f]
	pw, pb := p[:k*f], p[k*f:]
	clear(p)
	for i := gi * n / groups; i < (gi+1)*n/groups; i++ {
		dz := c.dz[i*rows*f : (i+1)*rows*f]
		if c.prepare != nil {
			c.prepare(i*rows, (i+1)*rows, pb)
		} else {
			AddColumnSums(pb, dz)
		}
		x := c.x[i*size : (i+1)*size]
		switch {
		case c.pointwise:
			Gemm(true, false, k, f, rows, 1, x, k, dz, f, 1, pw, f)
		case c.rows != nil:
			for b := range c.rows.blocks() {
				lo, hi := c.rows.span(b)
				c.rows.weightGrad(c.bufs[worker], x, dz[lo*f:hi*f], pw, f, b)
			}
		default:
			cols := c.bufs[worker]
			for lo := 0; lo < rows; lo += c.block {
				hi := min(lo+c.block, rows)
				Im2colRows(cols[:(hi-lo)*k], x, g, lo, hi)
				Gemm(true, false, k, f, hi-lo, 1, cols, k, dz[lo*f:hi*f], f, 1, pw, f)
			}
		}
	}
}

// BackwardData sets dx (n×H×W×C) to the input gradient given dz
// (n×OH×OW×F) and the kernel w; dx is not read.
//
//	dx[i,y,x,c] = Σ_{oy,ox,ky,kx,f : y = oy*SH-PadTop+ky, x = ox*SW-PadLeft+kx} dz[i,oy,ox,f] · w[ky,kx,c,f]
func (c *Conv) BackwardData(dx, dz, w []float32, n int) {
	g := &c.g
	c.check("BackwardData", n, dx, dz, w)
	if c.data != nil {
		if c.flip == nil {
			c.flip = make([]float32, len(w))
		}
		FlipKernel(c.flip, w, g.KH, g.KW, g.C, c.f)
		c.data.Forward(dx, dz, c.flip, n, nil)
		return
	}
	c.dx, c.dz, c.w, c.n = dx, dz, w, n
	defer c.done()
	ParallelFor(n, c.workers(n), c.dxFn)
}

// dataImage computes the input gradient of image i as col2im(dz·wᵀ).
func (c *Conv) dataImage(worker, i int) {
	g := &c.g
	f, k, rows, size := c.f, g.ColWidth(), g.OH*g.OW, g.H*g.W*g.C
	dz := c.dz[i*rows*f : (i+1)*rows*f]
	dx := c.dx[i*size : (i+1)*size]
	if c.pointwise {
		Gemm(false, true, rows, g.C, f, 1, dz, f, c.w, f, 0, dx, g.C)
		return
	}
	cols := c.bufs[worker]
	clear(dx)
	for lo := 0; lo < rows; lo += c.block {
		hi := min(lo+c.block, rows)
		Gemm(false, true, hi-lo, k, f, 1, dz[lo*f:hi*f], f, c.w, f, 0, cols, k)
		Col2imRows(dx, cols[:(hi-lo)*k], g, lo, hi)
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
	c.x, c.w, c.z, c.dz, c.dx, c.finish, c.prepare = nil, nil, nil, nil, nil, nil, nil
}

// workers makes sure there is a scratch buffer for every worker that may
// run on n items and returns their number.
func (c *Conv) workers(n int) int {
	w := min(n, runtime.GOMAXPROCS(0))
	if c.pointwise {
		return w
	}
	size := c.block * c.g.ColWidth() // im2col, and col2im for the input gradient
	if c.rows != nil {
		size = c.rows.bufSize()
		if c.data == nil {
			size = max(size, c.block*c.g.ColWidth())
		}
	}
	for len(c.bufs) < w {
		c.bufs = append(c.bufs, make([]float32, size))
	}
	return w
}
