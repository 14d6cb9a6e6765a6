//go:build !purego

package kernels

// maxPool2x2AVX512 computes one output row of a 2×2 max-pool with strides
// 2 over c channels (a multiple of 16; of 8 for maxPool2x2AVX2): x is the
// first of the row's two input rows, of rowLen floats, and p0 the index of
// x[0] in the image.
//
//	for ox < ow, j < c:
//		p := p0 + 2*ox*c + j; the window's cells are p, p+c, p+rowLen, p+rowLen+c
//		y[ox*c+j] = the largest of them, the first in that order on ties
//		arg[ox*c+j] = its index
//
//go:noescape
func maxPool2x2AVX512(y *float32, arg *int32, x *float32, ow, c, rowLen, p0 int)

//go:noescape
func maxPool2x2AVX2(y *float32, arg *int32, x *float32, ow, c, rowLen, p0 int)

// maxPool2x2GradAVX512 and maxPool2x2GradAVX2 set the two input rows of dx
// (rowLen floats each, the first at index p0 of the image) under one
// output row of maxPool2x2AVX512:
//
//	for ox < ow, j < c, each cell q of the window of (ox, j): dx[q-p0] = dy[ox*c+j] if arg[ox*c+j] == q else 0
//
//go:noescape
func maxPool2x2GradAVX512(dx, dy *float32, arg *int32, ow, c, rowLen, p0 int)

//go:noescape
func maxPool2x2GradAVX2(dx, dy *float32, arg *int32, ow, c, rowLen, p0 int)

// maxPoolCellAVX512 computes one output cell of a max pool over c
// channels, in chunks of 16 (the last under the mask tail), from the n ≥ 1
// cells of its window at the indices off[0], ..., off[n-1] of x:
//
//	for j < c, i < n: q := off[i]+j
//		if i == 0 || x[q] > y[j] (ordered: a NaN never wins) { y[j], arg[j] = x[q], q }
//
//go:noescape
func maxPoolCellAVX512(y *float32, arg *int32, x *float32, off *int32, n, chunks, tail int)

// maxPoolCellAVX2 is maxPoolCellAVX512 for c a multiple of 8, in chunks
// of 8 (tail unread).
//
//go:noescape
func maxPoolCellAVX2(y *float32, arg *int32, x *float32, off *int32, n, chunks, tail int)

// maxPoolCellVec sets best and am, one output cell of a max pool, from the
// window cells at the indices off of x in vector loops and reports true,
// or reports false if it cannot (none, or in AVX2 channels not a multiple
// of 8).
func maxPoolCellVec(best []float32, am []int32, x []float32, off []int32) bool {
	c := len(best)
	if vecLanes == 0 || vecLanes == 8 && c%8 != 0 || len(off) == 0 || c == 0 {
		return false
	}
	_ = am[c-1]
	for _, q := range off {
		_ = x[int(q)+c-1]
	}
	if vecLanes == 8 {
		maxPoolCellAVX2(&best[0], &am[0], &x[0], &off[0], len(off), c/8, 0)
		return true
	}
	tail := 1<<(c%16) - 1
	if c%16 == 0 {
		tail = 0xffff
	}
	maxPoolCellAVX512(&best[0], &am[0], &x[0], &off[0], len(off), (c+15)/16, tail)
	return true
}

// maxPool2x2Vec runs maxPool2x2 in vector loops and reports true, or
// reports false if it cannot.
func maxPool2x2Vec(y []float32, arg []int32, x []float32, g *ConvGeom, oy0, oy1 int) bool {
	loop := pickLoop(maxPool2x2AVX512, maxPool2x2AVX2)
	return pool2x2Rows(g, oy0, oy1, func(oy, p0, row, per int) {
		_, _, _ = x[p0+row+2*per-1], y[(oy+1)*per-1], arg[(oy+1)*per-1]
		loop(&y[oy*per], &arg[oy*per], &x[p0], g.OW, g.C, row, p0)
	})
}

// maxPool2x2GradVec runs maxPool2x2Grad in vector loops and reports true,
// or reports false if it cannot.
func maxPool2x2GradVec(dx, dy []float32, arg []int32, g *ConvGeom) bool {
	loop := pickLoop(maxPool2x2GradAVX512, maxPool2x2GradAVX2)
	return pool2x2Rows(g, 0, g.OH, func(oy, p0, row, per int) {
		_, _, _ = dx[p0+row+2*per-1], dy[(oy+1)*per-1], arg[(oy+1)*per-1]
		loop(&dx[p0], &dy[oy*per], &arg[oy*per], g.OW, g.C, row, p0)
	})
}

// pool2x2Rows calls run for each output row oy0 ≤ oy < oy1 of a 2×2 pool with strides
// 2, with p0 the index in the image of the first of its two input rows, row
// the length of an input row and per that of an output row, and reports
// true; or reports false, calling nothing, when the vector loops cannot
// run (none, or channels not a multiple of their width).
func pool2x2Rows(g *ConvGeom, oy0, oy1 int, run func(oy, p0, row, per int)) bool {
	c := g.C
	if vecLanes == 0 || c%vecLanes != 0 {
		return false
	}
	row, per := g.W*c, g.OW*c
	for oy := oy0; oy < oy1; oy++ {
		run(oy, 2*oy*row, row, per)
	}
	return true
}
