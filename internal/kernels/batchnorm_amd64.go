//go:build !purego

package kernels

// bnSum16AVX512 to bnGradInput16AVX512, and gnGradInput16AVX512, are the loops of batchnorm.go for
// one block of 16 columns, in AVX-512: each column's float64 values in
// lanes of two vectors of 8, the float32 ones in halves of 8.

//go:noescape
func bnSum16AVX512(sum *float64, x *float32, rows, ld int)

//go:noescape
func bnSqDev16AVX512(sum, mean *float64, x *float32, rows, ld int)

//go:noescape
func bnOutput16AVX512(y, x *float32, mean, invStd *float64, gamma, beta *float32, rows, ld int)

//go:noescape
func bnGradSums16AVX512(sum, sumXhat, mean, invStd *float64, dy, x *float32, rows, ld int)

//go:noescape
func bnGradInput16AVX512(dx, dy, x *float32, mean, invStd, scale, sum, sumXhat *float64, n float64, rows, ld int)

//go:noescape
func gnGradInput16AVX512(dx, dy, x *float32, mean, invStd, a, b, c *float64, rows, ld int)

// last is the index of the last value of a block of 16 columns over rows
// rows of stride ld: the bounds check of the slices an AVX-512 loop reads.
func last(rows, ld int) int { return (rows-1)*ld + 15 }

func bnSumVec(sum []float64, x []float32, rows, ld int) {
	_, _ = sum[15], x[last(rows, ld)]
	bnSum16AVX512(&sum[0], &x[0], rows, ld)
}

func bnSqDevVec(sum, mean []float64, x []float32, rows, ld int) {
	_, _, _ = sum[15], mean[15], x[last(rows, ld)]
	bnSqDev16AVX512(&sum[0], &mean[0], &x[0], rows, ld)
}

func bnOutputVec(y, x []float32, mean, invStd []float64, g, b []float32, rows, ld int) {
	_, _, _, _, _, _ = y[last(rows, ld)], x[last(rows, ld)], mean[15], invStd[15], g[15], b[15]
	bnOutput16AVX512(&y[0], &x[0], &mean[0], &invStd[0], &g[0], &b[0], rows, ld)
}

func bnGradSumsVec(sum, sumXhat, mean, invStd []float64, dy, x []float32, rows, ld int) {
	_, _, _, _, _, _ = sum[15], sumXhat[15], mean[15], invStd[15], dy[last(rows, ld)], x[last(rows, ld)]
	bnGradSums16AVX512(&sum[0], &sumXhat[0], &mean[0], &invStd[0], &dy[0], &x[0], rows, ld)
}

func bnGradInputVec(dx, dy, x []float32, mean, invStd, scale, sum, sumXhat []float64, n float64, rows, ld int) {
	_, _, _ = dx[last(rows, ld)], dy[last(rows, ld)], x[last(rows, ld)]
	_, _, _, _, _ = mean[15], invStd[15], scale[15], sum[15], sumXhat[15]
	bnGradInput16AVX512(&dx[0], &dy[0], &x[0], &mean[0], &invStd[0], &scale[0], &sum[0], &sumXhat[0], n, rows, ld)
}

func gnGradInputVec(dx, dy, x []float32, mean, invStd, a, b, c []float64, rows, ld int) {
	_, _, _ = dx[last(rows, ld)], dy[last(rows, ld)], x[last(rows, ld)]
	_, _, _, _, _ = mean[15], invStd[15], a[15], b[15], c[15]
	gnGradInput16AVX512(&dx[0], &dy[0], &x[0], &mean[0], &invStd[0], &a[0], &b[0], &c[0], rows, ld)
}
