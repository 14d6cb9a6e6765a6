package kernels

// ConvGeom describes one 2-D convolution or pooling window over a single NHWC
// image: input H×W×C, window KH×KW, strides SH×SW, padding PadTop/PadLeft
// (cells of zeros before the first row/column) and output OH×OW.
type ConvGeom struct {
	H, W, C         int
	KH, KW          int
	SH, SW          int
	PadTop, PadLeft int
	OH, OW          int
}

// ColWidth returns KH·KW·C, the length of one im2col row.
func (g *ConvGeom) ColWidth() int { return g.KH * g.KW * g.C }

// Im2col unrolls one image x (H×W×C) into dst, a matrix of OH·OW rows and
// KH·KW·C columns, so that a convolution becomes dst × kernel with an HWIO
// kernel viewed as a (KH·KW·C)×F matrix. Cells in the padding are zero.
//
//	for oy < OH, ox < OW, ky < KH, kx < KW, c < C:
//		iy, ix := oy*SH-PadTop+ky, ox*SW-PadLeft+kx
//		dst[(oy*OW+ox)*KH*KW*C + (ky*KW+kx)*C + c] = x[(iy*W+ix)*C+c] or 0 outside
func Im2col(dst, x []float32, g *ConvGeom) { Im2colRows(dst, x, g, 0, g.OH*g.OW) }

// Im2colRows writes rows lo..hi-1 of [Im2col]'s matrix (the output cells
// oy*OW+ox in [lo, hi)) into dst, which holds (hi-lo)·KH·KW·C values: a
// convolution can then be computed a block of rows at a time, with the
// block still in cache when the GEMM reads it.
func Im2colRows(dst, x []float32, g *ConvGeom, lo, hi int) {
	row := g.ColWidth()
	span := g.KW * g.C
	if lo < 0 || hi > g.OH*g.OW || lo > hi {
		panic("kernels: Im2colRows: rows out of range")
	}
	if lo == hi {
		return
	}
	_ = dst[(hi-lo)*row-1]
	_ = x[g.H*g.W*g.C-1]
	// Locals, not g's fields: the compiler cannot keep those in registers
	// across the stores to dst.
	h, w, c, kh, kw := g.H, g.W, g.C, g.KH, g.KW
	sh, sw, pt, pl, ow := g.SH, g.SW, g.PadTop, g.PadLeft, g.OW
	oy, ox := lo/ow, lo%ow
	for r := lo; r < hi; r++ {
		d := dst[(r-lo)*row : (r-lo+1)*row]
		x0 := ox*sw - pl
		inside := x0 >= 0 && x0+kw <= w
		for ky := 0; ky < kh; ky++ {
			dk := d[ky*span : (ky+1)*span]
			iy := oy*sh - pt + ky
			if iy < 0 || iy >= h {
				clear(dk)
				continue
			}
			xr := x[iy*w*c : (iy+1)*w*c]
			if inside {
				copySpan(dk, xr[x0*c:x0*c+span])
				continue
			}
			for kx := 0; kx < kw; kx++ {
				ix := x0 + kx
				dc := dk[kx*c : (kx+1)*c]
				if ix < 0 || ix >= w {
					clear(dc)
				} else {
					copy(dc, xr[ix*c:(ix+1)*c])
				}
			}
		}
		if ox++; ox == ow {
			ox = 0
			oy++
		}
	}
}

// copySpan copies src into dst (of the same length): short spans, such as
// the 5 values of a 5×5 window row over one channel, four values at a time,
// since a call to memmove costs more than that.
func copySpan(dst, src []float32) {
	if len(src) >= shortSpan {
		copy(dst, src)
		return
	}
	dst = dst[:len(src)]
	j := 0
	for ; j+4 <= len(src); j += 4 {
		*(*[4]float32)(dst[j:]) = *(*[4]float32)(src[j:])
	}
	for ; j < len(src); j++ {
		dst[j] = src[j]
	}
}

// shortSpan is the length below which Im2colRows copies a window row with
// a loop rather than with copy.
const shortSpan = 16

// Transposed returns the geometry of the convolution that computes the
// input gradient of a stride-1 convolution g from its output gradient: an
// OH×OW×F image (F the number of filters) convolved with the kernel rotated
// by 180° and its channel axes swapped (see [FlipKernel]) gives H×W×C.
//
//	dx[y,x,c] = Σ_{ky,kx,f} dz[y+PadTop-ky, x+PadLeft-kx, f] · kernel[ky,kx,c,f]
//
// It panics unless g has strides 1.
func (g *ConvGeom) Transposed(f int) ConvGeom {
	if g.SH != 1 || g.SW != 1 {
		panic("kernels: ConvGeom.Transposed: strides other than 1")
	}
	return ConvGeom{H: g.OH, W: g.OW, C: f, KH: g.KH, KW: g.KW, SH: 1, SW: 1,
		PadTop: g.KH - 1 - g.PadTop, PadLeft: g.KW - 1 - g.PadLeft, OH: g.H, OW: g.W}
}

// FlipKernel writes into dst the kernel of [ConvGeom.Transposed]: the HWIO
// kernel w (KH×KW×C×F) rotated by 180° with C and F swapped (KH×KW×F×C).
//
//	dst[((KH-1-ky)*KW+KW-1-kx)*F*C + f*C + c] = w[(ky*KW+kx)*C*F + c*F + f]
func FlipKernel(dst, w []float32, kh, kw, c, f int) {
	_ = dst[kh*kw*c*f-1]
	_ = w[kh*kw*c*f-1]
	for ky := 0; ky < kh; ky++ {
		for kx := 0; kx < kw; kx++ {
			src := w[(ky*kw+kx)*c*f : (ky*kw+kx+1)*c*f]
			d := dst[((kh-1-ky)*kw+kw-1-kx)*f*c:][:f*c]
			for ci := 0; ci < c; ci++ {
				s := src[ci*f : (ci+1)*f]
				for fi, v := range s {
					d[fi*c+ci] = v
				}
			}
		}
	}
}

// Col2im is the adjoint of [Im2col]: it adds every entry of cols (OH·OW rows
// of KH·KW·C) back onto the input cell it was copied from. Entries that fell
// in the padding are dropped. dx is accumulated, not overwritten.
//
//	for oy < OH, ox < OW, ky < KH, kx < KW, c < C, inside the image:
//		dx[(iy*W+ix)*C+c] += cols[(oy*OW+ox)*KH*KW*C + (ky*KW+kx)*C + c]
func Col2im(dx, cols []float32, g *ConvGeom) { Col2imRows(dx, cols, g, 0, g.OH*g.OW) }

// Col2imRows is [Col2im] for rows lo..hi-1 of the im2col matrix, given in
// cols ((hi-lo)·KH·KW·C values); see [Im2colRows].
func Col2imRows(dx, cols []float32, g *ConvGeom, lo, hi int) {
	row := g.ColWidth()
	span := g.KW * g.C
	if lo < 0 || hi > g.OH*g.OW || lo > hi {
		panic("kernels: Col2imRows: rows out of range")
	}
	if lo == hi {
		return
	}
	_ = cols[(hi-lo)*row-1]
	_ = dx[g.H*g.W*g.C-1]
	for r := lo; r < hi; r++ {
		oy, ox := r/g.OW, r%g.OW
		s := cols[(r-lo)*row : (r-lo+1)*row]
		x0 := ox*g.SW - g.PadLeft
		for ky := 0; ky < g.KH; ky++ {
			iy := oy*g.SH - g.PadTop + ky
			if iy < 0 || iy >= g.H {
				continue
			}
			sk := s[ky*span : (ky+1)*span]
			xr := dx[iy*g.W*g.C : (iy+1)*g.W*g.C]
			if x0 >= 0 && x0+g.KW <= g.W {
				AddTo(xr[x0*g.C:(x0+g.KW)*g.C], sk)
				continue
			}
			for kx := 0; kx < g.KW; kx++ {
				ix := x0 + kx
				if ix < 0 || ix >= g.W {
					continue
				}
				AddTo(xr[ix*g.C:(ix+1)*g.C], sk[kx*g.C:(kx+1)*g.C])
			}
		}
	}
}

// AddTo adds x to y element by element.
//
//	for i := range y: y[i] += x[i]
func AddTo(y, x []float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] += x[i]
	}
}

// SamePadding returns Keras/TensorFlow "same" padding for one axis of length
// in, window k and stride s: the output length ceil(in/s) and the padding
// before the first cell. The total padding max((out-1)*s+k-in, 0) is split
// with the smaller half before and the larger half after.
func SamePadding(in, k, s int) (out, before int) {
	out = (in + s - 1) / s
	total := max((out-1)*s+k-in, 0)
	return out, total / 2
}

// ValidOutput returns the output length of a "valid" (unpadded) window: the
// number of positions where a window of k cells with stride s fits in in
// cells, 0 when it never fits.
func ValidOutput(in, k, s int) int {
	if k > in {
		return 0
	}
	return (in-k)/s + 1
}
