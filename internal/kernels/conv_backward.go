package kernels

import "runtime"

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
	c.x, c.dz, c.n, c.prepare, c.sumBias = x, dz, n, prepare, db != nil
	defer c.done()
	groups := min(n, convGroups)
	kf := g.ColWidth() * c.f
	if c.partial == nil {
		c.partial = make([]float32, convGroups*(kf+c.f))
	}
	if c.wino != nil && c.bf16 == nil {
		c.winoBackwardFilter(groups)
	} else {
		ParallelFor(groups, c.workers(min(groups, runtime.GOMAXPROCS(0))), c.dwFn)
	}
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
		} else if c.sumBias {
			AddColumnSums(pb, dz)
		}
		x := c.x[i*size : (i+1)*size]
		if c.pointwise {
			c.gemm(true, false, k, f, rows, 1, x, k, dz, f, 1, pw, f)
			continue
		}
		for oy := 0; oy < g.OH; oy += c.direct.block {
			if c.bf16 != nil && c.filterBF16 != nil {
				c.filterBF16.filter(c.bufs[worker], c.filterBufs[worker], pw, x, dz, oy, min(oy+c.direct.block, g.OH))
			} else {
				c.direct.filter(c.bufs[worker], pw, x, dz, oy, min(oy+c.direct.block, g.OH))
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
		if !c.keep || c.flipOf != &w[0] {
			FlipKernel(c.flip, w, g.KH, g.KW, g.C, c.f)
			c.flipOf = nil
			if c.keep {
				c.flipOf = &w[0]
			}
			c.data.kept.drop() // packed from the flip before
			c.data.winoKept.drop()
		}
		c.data.Forward(dx, dz, c.flip, n, ConvEpilogue{}, nil)
		return
	}
	c.dx, c.dz, c.w, c.n = dx, dz, w, n
	defer c.done()
	ParallelFor(n, c.colWorkers(min(n, runtime.GOMAXPROCS(0))), c.dxFn)
}

// dataImage computes the input gradient of image i as col2im(dz·wᵀ).
func (c *Conv) dataImage(worker, i int) {
	g := &c.g
	f, k, rows, size := c.f, g.ColWidth(), g.OH*g.OW, g.H*g.W*g.C
	dz := c.dz[i*rows*f : (i+1)*rows*f]
	dx := c.dx[i*size : (i+1)*size]
	if c.pointwise {
		c.gemm(false, true, rows, g.C, f, 1, dz, f, c.w, f, 0, dx, g.C)
		return
	}
	cols := c.cols[worker]
	clear(dx)
	for lo := 0; lo < rows; lo += c.block {
		hi := min(lo+c.block, rows)
		c.gemm(false, true, hi-lo, k, f, 1, dz[lo*f:hi*f], f, c.w, f, 0, cols, k)
		Col2imRows(dx, cols[:(hi-lo)*k], g, lo, hi)
	}
}
