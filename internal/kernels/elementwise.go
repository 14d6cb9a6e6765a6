package kernels

import "math"

// The elementwise kernels below are written for the compiler: slices are
// re-sliced to a common length so that bounds checks leave the loops, and
// the ReLU derivative is computed without a data-dependent branch (half of
// a ReLU layer's outputs are zero, in no predictable pattern).

// AddBias adds the vector b to every row of z (rows of len(b) values).
//
//	for r, j: z[r*len(b)+j] += b[j]
func AddBias(z, b []float32) { AddRows(z, z, b) }

// AddRows sets y = z + b row by row (rows of len(b) values; a broadcast
// sum). y may alias z.
//
//	for r, j: y[r*len(b)+j] = z[r*len(b)+j] + b[j]
func AddRows(y, z, b []float32) {
	f := len(b)
	if f == 0 || biasRowsVec(addBiasAVX512, addBiasAVX2, y, z, b) {
		return
	}
	for r := 0; r+f <= len(z); r += f {
		zr, yr := z[r:r+f:r+f], y[r:r+f:r+f]
		for j, v := range b[:len(zr)] {
			yr[j] = zr[j] + v
		}
	}
}

// MulRows sets y = z·b row by row (rows of len(b) values; a broadcast
// product, such as a squeeze-and-excitation block's channel scales). y may
// alias z.
//
//	for r, j: y[r*len(b)+j] = z[r*len(b)+j] · b[j]
func MulRows(y, z, b []float32) {
	f := len(b)
	if f == 0 || biasRowsVec(mulRowsAVX512, mulRowsAVX2, y, z, b) {
		return
	}
	for r := 0; r+f <= len(z); r += f {
		zr, yr := z[r:r+f:r+f], y[r:r+f:r+f]
		for j, v := range b[:len(zr)] {
			yr[j] = zr[j] * v
		}
	}
}

// BiasReLU sets y = max(z + b, 0) row by row (rows of len(b) values; b may
// be nil for no bias). y may alias z.
//
//	for r, j: y[r*len(b)+j] = max(z[r*len(b)+j] + b[j], 0)
func BiasReLU(y, z, b []float32) {
	y = y[:len(z)]
	if len(b) == 0 {
		for i, v := range z {
			y[i] = max(v, 0)
		}
		return
	}
	f := len(b)
	if biasRowsVec(biasReLUAVX512, biasReLUAVX2, y, z, b) {
		return
	}
	for r := 0; r+f <= len(z); r += f {
		zr := z[r : r+f : r+f]
		yr := y[r : r+f : r+f]
		for j, v := range b[:len(zr)] {
			yr[j] = max(zr[j]+v, 0)
		}
	}
}

// ReLUGrad sets dz = dy where y > 0 and 0 elsewhere, for the output y of a
// ReLU (which is never -0: max(-0, 0) is +0). dz may alias dy.
//
//	for i: dz[i] = dy[i] if y[i] > 0 else 0
func ReLUGrad(dz, dy, y []float32) {
	dz, dy = dz[:len(y)], dy[:len(y)]
	done := reluGradVec(dz, dy, y)
	dz, dy, y = dz[done:], dy[done:], y[done:]
	for i, v := range y {
		// bits-1 has its sign bit set exactly when v is +0 or negative.
		off := uint32(int32(math.Float32bits(v)-1) >> 31)
		dz[i] = math.Float32frombits(math.Float32bits(dy[i]) &^ off)
	}
}

// ClampGrad sets dz = dy where 0 < y < hi and 0 elsewhere, for the output
// y of Clamp with a finite hi > 0 (a ReLU6's). dz may alias dy. No branch
// depends on the data: for y ≥ +0 the float order is the order of the bits,
// so 0 < y < hi exactly when bits(y)-1 < bits(hi)-1 as unsigned integers,
// which -0, the negatives and NaN (bits above hi's) never are.
//
//	for i: dz[i] = dy[i] if 0 < y[i] < hi else 0
func ClampGrad(dz, dy, y []float32, hi float32) {
	dz, dy = dz[:len(y)], dy[:len(y)]
	lim := uint64(math.Float32bits(hi) - 1)
	for i, v := range y {
		// All ones when bits(v)-1 < lim: the subtraction borrows.
		keep := uint32((uint64(math.Float32bits(v)-1) - lim) >> 32)
		dz[i] = math.Float32frombits(math.Float32bits(dy[i]) & keep)
	}
}

// ReLUGradSum is [ReLUGrad] that also adds the column sums of dz (rows of
// len(sum) values) into sum: the bias gradient of a layer ending in ReLU,
// computed in the same pass.
//
//	for r, j: dz[r*f+j] = dy[r*f+j] if y[r*f+j] > 0 else 0; sum[j] += dz[r*f+j]
func ReLUGradSum(dz, dy, y, sum []float32) {
	if reluGradSumVec(dz, dy, y, sum) {
		return
	}
	f := len(sum)
	dz, dy = dz[:len(y)], dy[:len(y)]
	for r := 0; r+f <= len(y); r += f {
		yr, dyr, dzr := y[r:r+f:r+f], dy[r:r+f:r+f], dz[r:r+f:r+f]
		s := sum[:len(yr)]
		for j, v := range yr {
			off := uint32(int32(math.Float32bits(v)-1) >> 31)
			d := math.Float32frombits(math.Float32bits(dyr[j]) &^ off)
			dzr[j] = d
			s[j] += d
		}
	}
}

// AddColumnSums adds the column sums of m (rows of len(sum) values) into
// sum, row after row.
//
//	for r, j: sum[j] += m[r*len(sum)+j]
func AddColumnSums(sum, m []float32) {
	f := len(sum)
	if f == 0 {
		return
	}
	for r := 0; r+f <= len(m); r += f {
		AddTo(sum, m[r:r+f])
	}
}

// Clamp sets y = min(max(z, 0), hi): a ReLU, capped at hi (+Inf for
// none). NaN stays NaN and -0 becomes +0, as with Go's min and max. y may
// alias z.
//
//	for i: y[i] = min(max(z[i], 0), hi)
func Clamp(y, z []float32, hi float32) {
	y = y[:len(z)]
	vec := vectorPart(len(z))
	if vec > 0 {
		pickLoop(clampAVX512, clampAVX2)(&y[0], &z[0], vec, hi)
	}
	for i, v := range z[vec:] {
		y[vec+i] = min(max(v, 0), hi)
	}
}
