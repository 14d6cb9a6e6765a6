package kernels

// MaxPool sets y to the maximum of each pooling window of one NHWC image x
// (H×W×C, window KH×KW, strides SH×SW, padding cells ignored) and arg to
// the index in x of the chosen cell: the first maximum in scan order (row by
// row, left to right), so ties are broken the same way on every path.
//
//	for oy < OH, ox < OW, c < C:
//		o := (oy*OW+ox)*C + c
//		y[o] = max over ky < KH, kx < KW inside the image of x[(iy*W+ix)*C+c]
//		arg[o] = (iy*W+ix)*C+c of the first cell holding y[o]
//
// A 2×2 window with strides 2 that never leaves the image, the usual case,
// runs a loop specialised for it; other windows take the cells of each
// window in turn, 16 channels at a time where the CPU has AVX-512.
func MaxPool(y []float32, arg []int32, x []float32, g *ConvGeom) {
	MaxPoolRows(y, arg, x, g, 0, g.OH)
}

// MaxPoolRows is [MaxPool] for the output rows oy0 to oy1-1 alone: y and
// arg are the whole image's outputs, of which it sets those rows.
func MaxPoolRows(y []float32, arg []int32, x []float32, g *ConvGeom, oy0, oy1 int) {
	c := g.C
	_ = y[g.OH*g.OW*c-1]
	_ = arg[g.OH*g.OW*c-1]
	_ = x[g.H*g.W*c-1]
	if pool2x2(g) {
		maxPool2x2(y, arg, x, g, oy0, oy1)
		return
	}
	// The indices in x of each window's cells inside the image, at most
	// min(KH, H)·min(KW, W) of them; a window of more than 64 such cells
	// takes one allocation per call. Only the kernel rows and columns that
	// fall inside the image are visited, so that a window much larger than
	// the image costs no more than the image.
	var buf [64]int32
	offs := buf[:0]
	if n := min(g.KH, g.H) * min(g.KW, g.W); n > len(buf) {
		offs = make([]int32, 0, n)
	}
	for oy := oy0; oy < oy1; oy++ {
		top := oy*g.SH - g.PadTop
		for ox := range g.OW {
			o := (oy*g.OW + ox) * c
			off := offs[:0]
			left := ox*g.SW - g.PadLeft
			for ky := max(0, -top); ky < min(g.KH, g.H-top); ky++ {
				iy := top + ky
				for kx := max(0, -left); kx < min(g.KW, g.W-left); kx++ {
					off = append(off, int32((iy*g.W+left+kx)*c))
				}
			}
			if !maxPoolCellVec(y[o:o+c], arg[o:o+c], x, off) {
				maxPoolCell(y[o:o+c], arg[o:o+c], x, off)
			}
		}
	}
}

// maxPoolCell sets best and am, one output cell of a max pool, from the
// window cells at the indices off of x, one cell at a time.
func maxPoolCell(best []float32, am []int32, x []float32, off []int32) {
	for i, q := range off {
		p := int(q)
		cell := x[p : p+len(best)]
		if i == 0 {
			copy(best, cell)
			for j := range am {
				am[j] = int32(p + j)
			}
			continue
		}
		for j, v := range cell {
			if v > best[j] {
				best[j], am[j] = v, int32(p+j)
			}
		}
	}
}

// maxPool2x2 is MaxPool for 2×2 windows with strides 2 and no padding.
func maxPool2x2(y []float32, arg []int32, x []float32, g *ConvGeom, oy0, oy1 int) {
	if maxPool2x2Vec(y, arg, x, g, oy0, oy1) {
		return
	}
	c, rowLen := g.C, g.W*g.C
	for oy := oy0; oy < oy1; oy++ {
		r0 := 2 * oy * rowLen
		for ox := range g.OW {
			o := (oy*g.OW + ox) * c
			p0 := r0 + 2*ox*c
			p1, p2 := p0+c, p0+rowLen
			p3 := p2 + c
			a, b := x[p0:p0+c], x[p1:p1+c]
			d, e := x[p2:p2+c], x[p3:p3+c]
			b, d, e = b[:len(a)], d[:len(a)], e[:len(a)]
			yo, ao := y[o:o+c], arg[o:o+c]
			yo, ao = yo[:len(a)], ao[:len(a)]
			for j, v := range a {
				best, at := v, p0+j
				if b[j] > best {
					best, at = b[j], p1+j
				}
				if d[j] > best {
					best, at = d[j], p2+j
				}
				if e[j] > best {
					best, at = e[j], p3+j
				}
				yo[j], ao[j] = best, int32(at)
			}
		}
	}
}

// MaxPoolGrad sets dx (H×W×C, one image) to the input gradient of
// [MaxPool] given dy, the gradient of its output, and arg from MaxPool:
// each dy[o] goes to dx[arg[o]], the other cells are 0.
//
//	for i: dx[i] = 0
//	for o: dx[arg[o]] += dy[o]
//
// A 2×2 window with strides 2 that never leaves the image sets each cell
// of its window in one pass, without clearing dx first.
func MaxPoolGrad(dx, dy []float32, arg []int32, g *ConvGeom) {
	per := g.OH * g.OW * g.C
	dx, dy, arg = dx[:g.H*g.W*g.C], dy[:per], arg[:per]
	if pool2x2(g) && 2*g.OH == g.H && 2*g.OW == g.W && maxPool2x2GradVec(dx, dy, arg, g) {
		return
	}
	clear(dx)
	for o, d := range dy {
		dx[arg[o]] += d
	}
}

// pool2x2 reports whether g is a 2×2 window with strides 2 that never
// leaves the image.
func pool2x2(g *ConvGeom) bool {
	return g.KH == 2 && g.KW == 2 && g.SH == 2 && g.SW == 2 && g.PadTop == 0 && g.PadLeft == 0 &&
		2*g.OH <= g.H && 2*g.OW <= g.W
}
