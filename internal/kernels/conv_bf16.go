package kernels

import (
	"runtime"
	"unsafe"
)

// SetBF16(true) makes the convolution multiply in bfloat16 as [GemmBF16]
// does, in its forward pass and both gradients: the images, the gradients
// and the kernel rounded to bfloat16, their products summed in float32,
// the outputs, bias and activation float32. SetBF16(false) goes back to
// float32.
//
// On the tiles, the images and the kernel are converted to pairs of
// bfloat16 along the channels, and a plan over half as many channels,
// each a pair, runs the tiles of the bf16 path on them (see
// convTileBF16x2x4): the same windows, the same blocks, half the steps. A
// convolution over an odd number of channels keeps its float32 forward
// pass there, and so does an input gradient computed as a convolution
// over an odd number of filters. The kernel gradient pairs neighbouring
// output cells instead (see bf16Filter), when the kernel rows are long
// enough to repay it (minPairedSpan); what runs as a GEMM runs GemmBF16's.
func (c *Conv) SetBF16(on bool) { c.setBF16(on, activeBF16) }

func (c *Conv) setBF16(on bool, impl *bf16Impl) {
	c.bf16 = nil
	if on {
		c.bf16 = impl
	}
	if on && c.direct != nil && c.g.C%2 == 0 && (c.half == nil || c.half.direct.ts != impl.tilesFor(c.f)) {
		h := c.g
		h.C /= 2
		c.half = newConv(h, c.f, convOptions{rows: c.rows, tiles: impl.tilesFor(c.f)})
		c.half.KeepPacked(c.keep)
		c.pairs.drop()
	}
	if on && c.direct != nil && !c.pointwise && c.g.KW*c.g.C >= minPairedSpan && (c.filterBF16 == nil || c.filterBF16.impl != impl) {
		c.filterBF16, c.filterBufs = newBF16Filter(c.direct, impl), nil
	}
	if c.data != nil {
		c.data.setBF16(on, impl)
	}
}

// minPairedSpan is the shortest kernel row (KW·C values) whose kernel
// gradient runs on pairs: for shorter ones, pairing the output cells costs
// more than the pairs save (the tutorial's first layer, 5 values: 74.6
// against 92.0 GFLOP/s in float32, 2026-12-07 on Zen 4).
const minPairedSpan = 16

// tilesFor returns the convolution tiles on pairs for f filters.
func (im *bf16Impl) tilesFor(f int) *tileSet {
	if im.narrow != nil && f <= im.narrow.nr {
		return im.narrow
	}
	return im.tiles
}

// forwardBF16 is Forward on c.half: x and w converted to pairs.
func (c *Conv) forwardBF16(z, x, w []float32, n int, e ConvEpilogue, finish func(lo, hi int)) {
	g := &c.g
	c.check("Forward", n, x, z, w)
	c.xh = grow(c.xh, n*g.H*g.W*g.C/2)
	c.x, c.n = x, n
	ParallelFor(n, runtime.GOMAXPROCS(0), c.pairFn)
	c.x = nil
	var wh []float32
	if size := g.ColWidth() / 2 * c.f; c.keep {
		wh = c.pairs.get(w, size, c.pairKernel)
	} else {
		c.wh = grow(c.wh, size)
		c.pairKernel(c.wh, w)
		wh = c.wh
	}
	c.half.Forward(z, c.xh, wh, n, e, finish)
}

// pairKernel converts the kernel w to pairs along the channels in dst,
// the kernel of c.half, which then packs it anew.
func (c *Conv) pairKernel(dst, w []float32) {
	dw := asWords(dst)
	for q := range c.g.ColWidth() / 2 {
		c.bf16.across(dw[q*c.f:(q+1)*c.f], w[2*q*c.f:(2*q+1)*c.f], w[(2*q+1)*c.f:(2*q+2)*c.f], bf16NR)
	}
	c.half.kept.drop()
}

// pairImage converts image i of c.x to pairs in c.xh.
func (c *Conv) pairImage(_, i int) {
	size := c.g.H * c.g.W * c.g.C
	c.bf16.pairs(asWords(c.xh[i*size/2:(i+1)*size/2]), c.x[i*size:(i+1)*size])
}

// gemm is Gemm, or GemmBF16's path with bfloat16 on.
func (c *Conv) gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, cm []float32, ldc int) {
	if c.bf16 != nil {
		gemmBF16With(c.bf16, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, cm, ldc)
		return
	}
	Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, cm, ldc)
}

// asWords returns the bits of s as words.
func asWords(s []float32) []uint32 {
	return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}
