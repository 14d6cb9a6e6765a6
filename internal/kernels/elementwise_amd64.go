//go:build !purego

package kernels

// reluGradSum1AVX512 to reluGradSum4AVX512 compute ReLUGradSum over
// columns of 16·nv values (nv = 1..4) of rows rows of stride ld floats,
// reluGradSum1AVX2 to reluGradSum4AVX2 over columns of 8·nv:
//
//	for r < rows, j < 16·nv (8·nv):
//		d := dy[r*ld+j] if y[r*ld+j] > 0 (its bits minus 1 are not negative) else 0
//		dz[r*ld+j] = d
//		sum[j] += d
//
//go:noescape
func reluGradSum1AVX512(dz, dy, y, sum *float32, rows, ld int)

//go:noescape
func reluGradSum2AVX512(dz, dy, y, sum *float32, rows, ld int)

//go:noescape
func reluGradSum3AVX512(dz, dy, y, sum *float32, rows, ld int)

//go:noescape
func reluGradSum4AVX512(dz, dy, y, sum *float32, rows, ld int)

//go:noescape
func reluGradSum1AVX2(dz, dy, y, sum *float32, rows, ld int)

//go:noescape
func reluGradSum2AVX2(dz, dy, y, sum *float32, rows, ld int)

//go:noescape
func reluGradSum3AVX2(dz, dy, y, sum *float32, rows, ld int)

//go:noescape
func reluGradSum4AVX2(dz, dy, y, sum *float32, rows, ld int)

// The loops above, by the number of vectors in a column.
var (
	reluGradSumAVX512 = [...]func(dz, dy, y, sum *float32, rows, ld int){
		reluGradSum1AVX512, reluGradSum2AVX512, reluGradSum3AVX512, reluGradSum4AVX512,
	}
	reluGradSumAVX2 = [...]func(dz, dy, y, sum *float32, rows, ld int){
		reluGradSum1AVX2, reluGradSum2AVX2, reluGradSum3AVX2, reluGradSum4AVX2,
	}
)

// reluGradSumVec runs ReLUGradSum in vector loops and reports true, or
// reports false if it cannot (no vector loops, or rows not a multiple of
// their width).
func reluGradSumVec(dz, dy, y, sum []float32) bool {
	f, w := len(sum), vecLanes
	if w == 0 || f == 0 || f%w != 0 {
		return false
	}
	rows := len(y) / f
	if rows == 0 {
		return true
	}
	_, _ = dz[rows*f-1], dy[rows*f-1]
	loops := pickLoop(reluGradSumAVX512, reluGradSumAVX2)
	for j := 0; j < f; j += 4 * w {
		nv := min(4, (f-j)/w)
		loops[nv-1](&dz[j], &dy[j], &y[j], &sum[j], rows, f)
	}
	return true
}

// reluGradAVX512 and reluGradAVX2 compute ReLUGrad over n values, a
// multiple of 16 (8):
//
//	for i < n: dz[i] = dy[i] if y[i] > 0 (its bits minus 1 are not negative) else 0
//
//go:noescape
func reluGradAVX512(dz, dy, y *float32, n int)

//go:noescape
func reluGradAVX2(dz, dy, y *float32, n int)

// reluGradVec runs ReLUGrad in vector loops over the first values of y,
// a multiple of their width, and returns how many it did: 0 without them.
func reluGradVec(dz, dy, y []float32) int {
	n := vectorPart(len(y))
	if n == 0 {
		return 0
	}
	_, _ = dz[n-1], dy[n-1]
	pickLoop(reluGradAVX512, reluGradAVX2)(&dz[0], &dy[0], &y[0], n)
	return n
}

// depthwise1AVX512 to depthwise4AVX512 run DepthwiseCells on 16·nv
// channels (nv = 1..4) of c.
//
//go:noescape
func depthwise1AVX512(y, b, x, w *float32, cells, c, sx, tx, kh, kw, ld, ldw int)

//go:noescape
func depthwise2AVX512(y, b, x, w *float32, cells, c, sx, tx, kh, kw, ld, ldw int)

//go:noescape
func depthwise3AVX512(y, b, x, w *float32, cells, c, sx, tx, kh, kw, ld, ldw int)

//go:noescape
func depthwise4AVX512(y, b, x, w *float32, cells, c, sx, tx, kh, kw, ld, ldw int)

var depthwiseAVX512 = [...]func(y, b, x, w *float32, cells, c, sx, tx, kh, kw, ld, ldw int){
	depthwise1AVX512, depthwise2AVX512, depthwise3AVX512, depthwise4AVX512,
}

// depthwiseTailAVX512 runs DepthwiseCells for the channels of the mask
// (bit j, channel j) of the 16 that y, b, x and w start at.
//
//go:noescape
func depthwiseTailAVX512(y, b, x, w *float32, cells, c, sx, tx, kh, kw, ld, ldw, mask int)

// addBiasAVX512 and biasReLUAVX512 run AddRows and BiasReLU on rows rows
// of f values, in chunks of 16, the last one under the mask tail.
//
//go:noescape
func addBiasAVX512(y, z, b *float32, rows, f, chunks, tail int)

//go:noescape
func biasReLUAVX512(y, z, b *float32, rows, f, chunks, tail int)

// mulRowsAVX512 runs MulRows, as addBiasAVX512 does AddRows.
//
//go:noescape
func mulRowsAVX512(y, z, b *float32, rows, f, chunks, tail int)

// addBiasAVX2, biasReLUAVX2 and mulRowsAVX2 are their AVX2 loops, for f a
// multiple of 8, in chunks of 8 (tail unread).
//
//go:noescape
func addBiasAVX2(y, z, b *float32, rows, f, chunks, tail int)

//go:noescape
func biasReLUAVX2(y, z, b *float32, rows, f, chunks, tail int)

//go:noescape
func mulRowsAVX2(y, z, b *float32, rows, f, chunks, tail int)

// biasRowsVec runs fn512 (addBiasAVX512, biasReLUAVX512 or mulRowsAVX512)
// or its AVX2 loop fn2 on the whole rows of z and reports true, or reports
// false if it cannot (no vector loops, or in AVX2 rows not a multiple of 8
// values).
func biasRowsVec(fn512, fn2 func(y, z, b *float32, rows, f, chunks, tail int), y, z, b []float32) bool {
	f := len(b)
	rows := len(z) / f
	if rows == 0 {
		return false
	}
	switch {
	case vecLanes == 16:
		_ = y[rows*f-1]
		tail := 1<<(f%16) - 1
		if f%16 == 0 {
			tail = 0xffff
		}
		fn512(&y[0], &z[0], &b[0], rows, f, (f+15)/16, tail)
	case vecLanes == 8 && f%8 == 0:
		_ = y[rows*f-1]
		fn2(&y[0], &z[0], &b[0], rows, f, f/8, 0)
	default:
		return false
	}
	return true
}

// clampAVX512 and clampAVX2 run Clamp on n values, a multiple of 16 (8).
//
//go:noescape
func clampAVX512(y, z *float32, n int, hi float32)

//go:noescape
func clampAVX2(y, z *float32, n int, hi float32)

// depthwiseFilter1AVX512 to depthwiseFilter4AVX512 run
// DepthwiseFilterCells on 16·nv channels (nv = 1..4).
//
//go:noescape
func depthwiseFilter1AVX512(dw, x, dz *float32, cells, c, sx, tx, kh, kw, ld, ldw int)

//go:noescape
func depthwiseFilter2AVX512(dw, x, dz *float32, cells, c, sx, tx, kh, kw, ld, ldw int)

//go:noescape
func depthwiseFilter3AVX512(dw, x, dz *float32, cells, c, sx, tx, kh, kw, ld, ldw int)

//go:noescape
func depthwiseFilter4AVX512(dw, x, dz *float32, cells, c, sx, tx, kh, kw, ld, ldw int)

var depthwiseFilterAVX512 = [...]func(dw, x, dz *float32, cells, c, sx, tx, kh, kw, ld, ldw int){
	depthwiseFilter1AVX512, depthwiseFilter2AVX512, depthwiseFilter3AVX512, depthwiseFilter4AVX512,
}

// depthwiseFilterTailAVX512 runs DepthwiseFilterCells for the channels of
// the mask (bit j, channel j) of the 16 that dw, x and dz start at.
//
//go:noescape
func depthwiseFilterTailAVX512(dw, x, dz *float32, cells, c, sx, tx, kh, kw, ld, ldw, mask int)

// sigmoidAVX512 and siluAVX512 run Sigmoid and SiLU on n values, a
// multiple of 16.
//
//go:noescape
func sigmoidAVX512(y, z *float32, n int)

//go:noescape
func siluAVX512(y, z *float32, n int)

// siluGradAVX512 runs SiLUGrad on n values, a multiple of 16.
//
//go:noescape
func siluGradAVX512(y, dy, z *float32, n int)

// hardSigmoidAVX512 and hardSiLUAVX512 run HardSigmoid and HardSiLU on n
// values, a multiple of 16.
//
//go:noescape
func hardSigmoidAVX512(y, z *float32, n int)

//go:noescape
func hardSiLUAVX512(y, z *float32, n int)

// The loops of smooth.go's functions on n values, a multiple of 16 (8 for
// AVX2); y is the output (dz for a derivative).

//go:noescape
func geluAVX512(y, z *float32, n int)

//go:noescape
func geluGradAVX512(y, dy, z *float32, n int)

//go:noescape
func mishAVX512(y, z *float32, n int)

//go:noescape
func mishGradAVX512(y, dy, z *float32, n int)

//go:noescape
func tanhAVX512(y, z *float32, n int)

//go:noescape
func eluAVX512(y, z *float32, n int, sa, scale float32)

//go:noescape
func eluGradAVX512(y, dy, z *float32, n int, sa, scale float32)

//go:noescape
func softplusAVX512(y, z *float32, n int)

//go:noescape
func softplusGradAVX512(y, dy, z *float32, n int)

//go:noescape
func geluAVX2(y, z *float32, n int)

//go:noescape
func geluGradAVX2(y, dy, z *float32, n int)

//go:noescape
func mishAVX2(y, z *float32, n int)

//go:noescape
func mishGradAVX2(y, dy, z *float32, n int)

//go:noescape
func tanhAVX2(y, z *float32, n int)

//go:noescape
func eluAVX2(y, z *float32, n int, sa, scale float32)

//go:noescape
func eluGradAVX2(y, dy, z *float32, n int, sa, scale float32)

//go:noescape
func softplusAVX2(y, z *float32, n int)

//go:noescape
func softplusGradAVX2(y, dy, z *float32, n int)

// sigmoidAVX2, siluAVX2 and siluGradAVX2 are the AVX2 loops of Sigmoid,
// SiLU and SiLUGrad, on n values, a multiple of 8.
//
//go:noescape
func sigmoidAVX2(y, z *float32, n int)

//go:noescape
func siluAVX2(y, z *float32, n int)

//go:noescape
func siluGradAVX2(y, dy, z *float32, n int)

//go:noescape
func leakyReLUAVX512(y, z *float32, n int, alpha float32)

//go:noescape
func leakyReLUGradAVX512(y, dy, z *float32, n int, alpha float32)

//go:noescape
func leakyReLUAVX2(y, z *float32, n int, alpha float32)

//go:noescape
func leakyReLUGradAVX2(y, dy, z *float32, n int, alpha float32)

// hardSigmoidAVX2 and hardSiLUAVX2 are the AVX2 loops of HardSigmoid and
// HardSiLU, on n values, a multiple of 8.
//
//go:noescape
func hardSigmoidAVX2(y, z *float32, n int)

//go:noescape
func hardSiLUAVX2(y, z *float32, n int)

// preluAVX512, preluGradAVX512, preluAVX2 and preluGradAVX2 are the loops
// of PReLU and PReLUGrad, on n values, a multiple of 16 or 8.
//
//go:noescape
func preluAVX512(y, x, a *float32, n int)

//go:noescape
func preluGradAVX512(dx, da, dy, x, a *float32, n int)

//go:noescape
func preluAVX2(y, x, a *float32, n int)

//go:noescape
func preluGradAVX2(dx, da, dy, x, a *float32, n int)
