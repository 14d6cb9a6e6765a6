package kernels

// The batch normalisation loops work on a block of columns of a matrix of
// rows rows stored ld floats apart: x[r*ld+j] for r < rows and j < the
// block's width, the length of its per-column vectors. They compute in
// float64 where batch normalisation's statistics need it, and each loop
// below is the definition of its result: the AVX-512 loops perform the same
// IEEE operations in the same order, column by column, so both give the
// same bits.

// BatchNormSum adds each column's sum to sum, row after row:
//
//	for r, j: sum[j] += float64(x[r*ld+j])
func BatchNormSum(sum []float64, x []float32, rows, ld int) {
	w := vecBlocks(len(sum), rows, func(j int) { bnSumVec(sum[j:], x[j:], rows, ld) })
	for r := range rows {
		xr := x[r*ld+w : r*ld+len(sum)]
		for j, v := range xr {
			sum[w+j] += float64(v)
		}
	}
}

// BatchNormSqDev adds each column's sum of squared deviations from mean:
//
//	for r, j: d := float64(x[r*ld+j]) - mean[j]; sum[j] += d * d
func BatchNormSqDev(sum, mean []float64, x []float32, rows, ld int) {
	w := vecBlocks(len(sum), rows, func(j int) { bnSqDevVec(sum[j:], mean[j:], x[j:], rows, ld) })
	for r := range rows {
		xr := x[r*ld+w : r*ld+len(sum)]
		for j, v := range xr {
			d := float64(v) - mean[w+j]
			sum[w+j] += d * d
		}
	}
}

// BatchNormOutput normalises x and scales and shifts it:
//
//	for r, j: y[r*ld+j] = g[j]*float32((float64(x[r*ld+j])-mean[j])*invStd[j]) + b[j]
func BatchNormOutput(y, x []float32, mean, invStd []float64, g, b []float32, rows, ld int) {
	w := vecBlocks(len(mean), rows, func(j int) { bnOutputVec(y[j:], x[j:], mean[j:], invStd[j:], g[j:], b[j:], rows, ld) })
	for r := range rows {
		xr, yr := x[r*ld+w:r*ld+len(mean)], y[r*ld+w:r*ld+len(mean)]
		for j, v := range xr {
			k := w + j
			yr[j] = g[k]*float32((float64(v)-mean[k])*invStd[k]) + b[k]
		}
	}
}

// BatchNormGradSums adds the column sums of dy and of dy times the
// normalised input (xhat, rounded to float32 as the output used it):
//
//	for r, j: h := float32((float64(x[r*ld+j])-mean[j])*invStd[j])
//		sum[j] += float64(dy[r*ld+j]); sumXhat[j] += float64(dy[r*ld+j]) * float64(h)
func BatchNormGradSums(sum, sumXhat, mean, invStd []float64, dy, x []float32, rows, ld int) {
	w := vecBlocks(len(sum), rows, func(j int) {
		bnGradSumsVec(sum[j:], sumXhat[j:], mean[j:], invStd[j:], dy[j:], x[j:], rows, ld)
	})
	for r := range rows {
		xr, dr := x[r*ld+w:r*ld+len(sum)], dy[r*ld+w:r*ld+len(sum)]
		for j, d := range dr {
			k := w + j
			h := float32((float64(xr[j]) - mean[k]) * invStd[k])
			sum[k] += float64(d)
			sumXhat[k] += float64(d) * float64(h)
		}
	}
}

// BatchNormGradInput sets the input gradient of batch normalisation in
// training, over n rows in all, with scale[j] = gamma[j]·invStd[j]/n and
// the sums of [BatchNormGradSums]:
//
//	for r, j: h := float32((float64(x[r*ld+j])-mean[j])*invStd[j])
//		dx[r*ld+j] = float32(scale[j] * (n*float64(dy[r*ld+j]) - sum[j] - float64(h)*sumXhat[j]))
func BatchNormGradInput(dx, dy, x []float32, mean, invStd, scale, sum, sumXhat []float64, n float64, rows, ld int) {
	w := vecBlocks(len(mean), rows, func(j int) {
		bnGradInputVec(dx[j:], dy[j:], x[j:], mean[j:], invStd[j:], scale[j:], sum[j:], sumXhat[j:], n, rows, ld)
	})
	for r := range rows {
		xr, dr, dxr := x[r*ld+w:r*ld+len(mean)], dy[r*ld+w:r*ld+len(mean)], dx[r*ld+w:r*ld+len(mean)]
		for j, d := range dr {
			k := w + j
			h := float32((float64(xr[j]) - mean[k]) * invStd[k])
			dxr[j] = float32(scale[k] * (n*float64(d) - sum[k] - float64(h)*sumXhat[k]))
		}
	}
}

// vecBlocks runs block(j) for the blocks of 16 columns j = 0, 16, ... that
// the AVX-512 loops take, and returns the number of columns they did: 0
// without AVX-512 or rows.
func vecBlocks(width, rows int, block func(j int)) int {
	if vecLanes != 16 || rows == 0 {
		return 0
	}
	w := width &^ 15
	for j := 0; j < w; j += 16 {
		block(j)
	}
	return w
}

// GroupNormGradInput sets the input gradient of a normalisation whose
// statistics are per column (a group normalisation's, each column holding
// its group's mean and invStd), with dx = a·dy - b - xhat·c per column:
//
//	for r, j: h := float32((float64(x[r*ld+j])-mean[j])*invStd[j])
//		dx[r*ld+j] = float32(a[j]*float64(dy[r*ld+j]) - b[j] - float64(h)*c[j])
func GroupNormGradInput(dx, dy, x []float32, mean, invStd, a, b, c []float64, rows, ld int) {
	w := vecBlocks(len(mean), rows, func(j int) {
		gnGradInputVec(dx[j:], dy[j:], x[j:], mean[j:], invStd[j:], a[j:], b[j:], c[j:], rows, ld)
	})
	for r := range rows {
		xr, dr, dxr := x[r*ld+w:r*ld+len(mean)], dy[r*ld+w:r*ld+len(mean)], dx[r*ld+w:r*ld+len(mean)]
		for j, d := range dr {
			k := w + j
			h := float32((float64(xr[j]) - mean[k]) * invStd[k])
			dxr[j] = float32(a[k]*float64(d) - b[k] - float64(h)*c[k])
		}
	}
}
