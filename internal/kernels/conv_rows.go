package kernels

// rowPlan computes a convolution of vertical stride 1 a block of output rows
// at a time from the horizontal windows of the input rows the block touches:
// an im2col with a kernel one row high (KW·C values per output cell) over
// the OH+KH-1 padded input rows. Kernel row ky then reads the same buffer
// shifted down by ky image rows, so the block's output is KH GEMMs of depth
// KW·C over one buffer KH times smaller than the full im2col matrix:
//
//	z[oy,ox,:] = Σ_ky win[oy+ky, ox, :] · kernel[ky]  (win: KW·C values, kernel[ky]: KW·C × F)
//
// The full im2col copies every input value KH·KW times, the row windows KW
// times: by rows is 10-25% faster for the 5×5 convolution of the tutorial
// model, a few percent for its 3×3 ones.
type rowPlan struct {
	g     ConvGeom // the convolution
	r     ConvGeom // g with a kernel one row high, over OH+KH-1 rows
	bo    int      // output rows per block
	width int      // KW·C, the depth of each GEMM
}

// newRowPlan plans g for f filters: blocks of output rows whose window
// buffer is about blockBytes·2 and whose GEMMs stay under serialFlops, or
// of rows rows if rows > 0. It panics unless g has vertical stride 1.
func newRowPlan(g ConvGeom, f, rows int) *rowPlan {
	if g.SH != 1 {
		panic("kernels: newRowPlan: vertical stride other than 1")
	}
	p := &rowPlan{g: g, r: g, width: g.KW * g.C}
	p.r.KH, p.r.H = 1, g.H
	p.r.OH = g.OH + g.KH - 1
	perRow := g.OW * p.width // window values per output row
	bo := min(2*blockBytes/(4*perRow)-(g.KH-1), serialFlops/(2*perRow*f))
	bo = min(max(bo, 1), g.OH)
	// An even number of blocks of equal height, so that two cores share a
	// single image (inference at batch 1) evenly.
	nb := (g.OH + bo - 1) / bo
	if nb%2 == 1 && nb < g.OH {
		nb++
	}
	p.bo = (g.OH + nb - 1) / nb
	if rows > 0 {
		p.bo = min(rows, g.OH)
	}
	return p
}

// blocks returns the number of blocks of an image.
func (p *rowPlan) blocks() int { return (p.g.OH + p.bo - 1) / p.bo }

// span returns the output cells [lo, hi) of block b.
func (p *rowPlan) span(b int) (lo, hi int) {
	return b * p.bo * p.g.OW, min((b+1)*p.bo, p.g.OH) * p.g.OW
}

// bufSize is the length of the window buffer of a block.
func (p *rowPlan) bufSize() int { return (p.bo + p.g.KH - 1) * p.g.OW * p.width }

// windows fills buf with the row windows block b needs and returns them.
func (p *rowPlan) windows(buf, x []float32, b int) []float32 {
	ow := p.g.OW
	oy0, oy1 := b*p.bo, min((b+1)*p.bo, p.g.OH)
	buf = buf[:(oy1-oy0+p.g.KH-1)*ow*p.width]
	Im2colRows(buf, x, &p.r, oy0*ow, (oy1+p.g.KH-1)*ow)
	return buf
}

// forward sets z, the rows of block b of the output (span(b), rows of f
// values), to the convolution of the image x with w (KH×KW×C×f).
func (p *rowPlan) forward(buf, x, w, z []float32, f, b int) {
	win := p.windows(buf, x, b)
	lo, hi := p.span(b)
	k, step := p.width, p.g.OW*p.width
	for ky := range p.g.KH {
		beta := float32(1)
		if ky == 0 {
			beta = 0
		}
		Gemm(false, false, hi-lo, f, k, 1, win[ky*step:], k, w[ky*k*f:(ky+1)*k*f], f, beta, z, f)
	}
}

// weightGrad adds to dw (KH×KW×C×f) the kernel gradient of block b of the
// image x given dz, the block's rows of dL/dz.
func (p *rowPlan) weightGrad(buf, x, dz, dw []float32, f, b int) {
	win := p.windows(buf, x, b)
	lo, hi := p.span(b)
	k, step := p.width, p.g.OW*p.width
	for ky := range p.g.KH {
		Gemm(true, false, k, f, hi-lo, 1, win[ky*step:], k, dz, f, 1, dw[ky*k*f:(ky+1)*k*f], f)
	}
}
