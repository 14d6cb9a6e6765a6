package kernels

import (
	"math"
	"runtime"
)

// The kernel gradient of a convolution by Winograd's transforms: for each
// tile of m×m cells of the outputs' gradient dz and the 6×6 window of the
// input it reads, the kernel's r×r gradient is a correlation of the window
// with the tile, F(r×r, m×m) on the same points as the forward pass (so
// the window's transform is Bᵀ·d·B again):
//
//	dw_c,f = Aᵀ·[Σ_tiles (G·dz_f·Gᵀ) ⊙ (Bᵀ·d_c·B)]·A
//
// with G for m taps and Aᵀ for r outputs. The sums over the tiles are 36
// products of matrices, one per cell of the window: C × tiles by tiles ×
// F, run on the convolution tiles as kernel gradients of 1×1 convolutions
// whose cells are the tiles, in blocks of tile rows that stay in L2; the
// output transform runs once per group of images (see BackwardFilter), on
// the group's sums. F(3×3, 4×4) takes 36 multiplications per tile, channel
// and filter where the direct sums take 144, F(5×5, 2×2) 36 where they
// take 100; the sums are within 4e-6 of the terms' magnitudes, the direct
// ones within 2e-7 (TestWinogradError).
type winoGrad struct {
	rows int // most tile rows per block, counted over a group's images
	// gemm[k] runs the 36 sums of a block of k tile rows: kernel
	// gradients of 1×1 convolutions of k·tw cells. Blocks have at least
	// least rows, so that no tile of these runs past a block's cells.
	gemm []*directPlan
	tile func(v, x, s *float32, ldx, cx, ps, nvec int)                       // G·dz·Gᵀ
	out  func(z, mm, bias, s *float32, ps, ldz, cz, nvec int, floor float32) // Aᵀ·M·A
}

// winoGradBuf is one worker's scratch for a winoGrad.
type winoGradBuf struct {
	v, u []float32 // a block's windows (36 cells of tiles × C) and gradient tiles (36 of tiles × F), transformed
	sums []float32 // a group's 36 sums of products (C×F each); the cells winoStride apart
	d    []float32 // one window cut by the image's edges, gathered (36·C)
	dz   []float32 // one gradient tile cut by the edges (m·m·F)
	s    []float32 // the transforms' scratch
	gemm *directBuf
}

func newWinoGrad(p *winoPlan) *winoGrad {
	g := &p.g
	ts := p.gemm[p.rows].ts
	gr := &winoGrad{tile: p.k.grad2, out: p.k.output5}
	if p.m == 4 {
		gr.tile, gr.out = p.k.grad4, p.k.output3
	}
	// Blocks are cut evenly from a group's rows: each has at least half
	// the most, hence at least p.least.
	gr.rows = max(2*p.least, winoGradBlockBytes/(4*winoCells*p.tw*(g.C+p.f)))
	gr.gemm = make([]*directPlan, gr.rows+1)
	for k := p.least; k <= gr.rows; k++ {
		cells := k * p.tw
		gr.gemm[k] = newDirectPlan(ConvGeom{H: 1, W: cells, C: g.C, KH: 1, KW: 1, SH: 1, SW: 1, OH: 1, OW: cells}, p.f, ts)
	}
	return gr
}

func (p *winoPlan) newGradBuf() *winoGradBuf {
	g, gr := &p.g, p.grad
	tiles := gr.rows * p.tw
	return &winoGradBuf{
		v:    make([]float32, winoCells*winoStride(tiles*g.C)),
		u:    make([]float32, winoCells*winoStride(tiles*p.f)),
		sums: make([]float32, winoCells*winoStride(g.C*p.f)),
		d:    make([]float32, winoCells*g.C),
		dz:   make([]float32, p.m*p.m*p.f),
		s:    make([]float32, winoCells*16),
		gemm: gr.gemm[gr.rows].newBuf(),
	}
}

// winoBackwardFilter sets the groups' partial kernel and bias gradients
// for BackwardFilter, the call set up in c: each fixed group of images
// sums its 36 products and transforms the sums into its part of the
// kernel gradient.
func (c *Conv) winoBackwardFilter(groups int) {
	p := c.wino
	if p.grad == nil {
		p.grad = newWinoGrad(p)
	}
	workers := min(groups, runtime.GOMAXPROCS(0))
	for len(c.winoGradBufs) < workers {
		c.winoGradBufs = append(c.winoGradBufs, p.newGradBuf())
	}
	ParallelFor(groups, workers, c.winoDwFn)
}

// winoFilterGroup sets the kernel and bias gradients of the images of
// group gi, the 36 sums of its products in the worker's scratch.
func (c *Conv) winoFilterGroup(worker, gi int) {
	p, buf := c.wino, c.winoGradBufs[worker]
	gr, g := p.grad, &p.g
	C, F, m, n := g.C, c.f, p.m, c.n
	ss := winoStride(C * F) // between the sums of the cells
	groups := min(n, convGroups)
	cells, kf := g.OH*g.OW, g.ColWidth()*F
	part := c.partial[gi*(kf+F) : (gi+1)*(kf+F)]
	pm, pw, pb := buf.sums, part[:kf], part[kf:]
	clear(pm)
	clear(pb)
	first := gi * n / groups * p.th
	rows := (gi+1)*n/groups*p.th - first
	blocks := (rows + gr.rows - 1) / gr.rows
	for b := range blocks {
		r0, r1 := first+rows*b/blocks, first+rows*(b+1)/blocks
		tiles := (r1 - r0) * p.tw
		vs, us := winoStride(tiles*C), winoStride(tiles*F)
		for r := r0; r < r1; r++ {
			i, ty := r/p.th, r%p.th
			dz := c.dz[i*cells*F : (i+1)*cells*F]
			if ty == 0 { // the image's first tile row: its gradient prepared
				if c.prepare != nil {
					c.prepare(i*cells, (i+1)*cells, pb)
				} else if c.sumBias {
					AddColumnSums(pb, dz)
				}
			}
			img := c.x[i*g.H*g.W*C : (i+1)*g.H*g.W*C]
			for tx := range p.tw {
				t := (r-r0)*p.tw + tx
				src, ld := p.window(buf.d, img, ty*m-g.PadTop, tx*m-g.PadLeft)
				p.k.input(&buf.v[t*C], &src[0], &buf.s[0], ld, C, vs, C/16)
				tile, ldt := p.gradTile(buf.dz, dz, ty*m, tx*m)
				gr.tile(&buf.u[t*F], &tile[0], &buf.s[0], ldt, F, us, F/16)
			}
		}
		plan := gr.gemm[r1-r0]
		for q := range winoCells {
			plan.filter(buf.gemm, pm[q*ss:], buf.v[q*vs:], buf.u[q*us:], 0, 1)
		}
	}
	for ci := range C {
		gr.out(&pw[ci*F], &pm[ci*F], &p.bias[0], &buf.s[0], ss, g.KW*C*F, C*F, F/16, float32(math.Inf(-1)))
	}
}

// gradTile returns the m×m tile of the outputs' gradient dz (OH×OW×F) at
// row oy and column ox and its row stride: in place when it lies inside
// the outputs, else gathered into d (m·m·F floats) with zeros past them.
func (p *winoPlan) gradTile(d, dz []float32, oy, ox int) ([]float32, int) {
	g, m, F := &p.g, p.m, p.f
	if oy+m <= g.OH && ox+m <= g.OW {
		return dz[(oy*g.OW+ox)*F:], g.OW * F
	}
	clear(d)
	for a := range min(m, g.OH-oy) {
		row := dz[((oy+a)*g.OW+ox)*F : ((oy+a)*g.OW+min(ox+m, g.OW))*F]
		copy(d[a*m*F:], row)
	}
	return d, m * F
}
