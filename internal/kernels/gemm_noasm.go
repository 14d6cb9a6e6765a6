//go:build purego || !amd64

package kernels

// asmImpls returns no paths: this build has no assembly.
func asmImpls(avx2, avx512 bool) []*gemmImpl { return nil }

func reluGradSumVec(dz, dy, y, sum []float32) bool                          { return false }
func reluGradVec(dz, dy, y []float32) int                                   { return 0 }
func transpose4Vec(dst []float32, ld int, src []float32, lds, cols int) int { return 0 }
func scatterRowVec(dst []float32, stride int, src []float32, n, nr int) int { return 0 }
func maxPool2x2Vec(y []float32, arg []int32, x []float32, g *ConvGeom, oy0, oy1 int) bool {
	return false
}
func maxPool2x2GradVec(dx, dy []float32, arg []int32, g *ConvGeom) bool        { return false }
func maxPoolCellVec(best []float32, am []int32, x []float32, off []int32) bool { return false }

// The batch normalisation loops are never called without AVX-512.

func bnSumVec(sum []float64, x []float32, rows, ld int)         { panic("kernels: no AVX-512") }
func bnSqDevVec(sum, mean []float64, x []float32, rows, ld int) { panic("kernels: no AVX-512") }
func bnOutputVec(y, x []float32, mean, invStd []float64, g, b []float32, rows, ld int) {
	panic("kernels: no AVX-512")
}
func bnGradSumsVec(sum, sumXhat, mean, invStd []float64, dy, x []float32, rows, ld int) {
	panic("kernels: no AVX-512")
}
func bnGradInputVec(dx, dy, x []float32, mean, invStd, scale, sum, sumXhat []float64, n float64, rows, ld int) {
	panic("kernels: no AVX-512")
}
func gnGradInputVec(dx, dy, x []float32, mean, invStd, a, b, c []float64, rows, ld int) {
	panic("kernels: no AVX-512")
}

// depthwiseAVX512 is never called without AVX-512.
var depthwiseAVX512 [4]func(y, b, x, w *float32, cells, c, sx, tx, kh, kw, ld, ldw int)

func depthwiseTailAVX512(y, b, x, w *float32, cells, c, sx, tx, kh, kw, ld, ldw, mask int) {
	panic("kernels: no AVX-512")
}

func clampAVX512(y, z *float32, n int, hi float32) { panic("kernels: no AVX-512") }
func clampAVX2(y, z *float32, n int, hi float32)   { panic("kernels: no AVX2") }

func biasRowsVec(fn512, fn2 func(y, z, b *float32, rows, f, chunks, tail int), y, z, b []float32) bool {
	return false
}

// The bias loops are never called without the assembly.
var addBiasAVX512, biasReLUAVX512, mulRowsAVX512, addBiasAVX2, biasReLUAVX2, mulRowsAVX2 func(y, z, b *float32, rows, f, chunks, tail int)

// depthwiseFilterAVX512 is never called without AVX-512.
var depthwiseFilterAVX512 [4]func(dw, x, dz *float32, cells, c, sx, tx, kh, kw, ld, ldw int)

func depthwiseFilterTailAVX512(dw, x, dz *float32, cells, c, sx, tx, kh, kw, ld, ldw, mask int) {
	panic("kernels: no AVX-512")
}

func sigmoidAVX512(y, z *float32, n int)       { panic("kernels: no AVX-512") }
func sigmoidAVX2(y, z *float32, n int)         { panic("kernels: no AVX2") }
func siluAVX2(y, z *float32, n int)            { panic("kernels: no AVX2") }
func siluGradAVX2(y, dy, z *float32, n int)    { panic("kernels: no AVX2") }
func siluAVX512(y, z *float32, n int)          { panic("kernels: no AVX-512") }
func siluGradAVX512(dz, dy, z *float32, n int) { panic("kernels: no AVX-512") }
func hardSigmoidAVX512(y, z *float32, n int)   { panic("kernels: no AVX-512") }
func hardSiLUAVX512(y, z *float32, n int)      { panic("kernels: no AVX-512") }
func hardSigmoidAVX2(y, z *float32, n int)     { panic("kernels: no AVX2") }
func hardSiLUAVX2(y, z *float32, n int)        { panic("kernels: no AVX2") }

func geluAVX512(y, z *float32, n int)                             { panic("kernels: no AVX-512") }
func geluGradAVX512(y, dy, z *float32, n int)                     { panic("kernels: no AVX-512") }
func mishAVX512(y, z *float32, n int)                             { panic("kernels: no AVX-512") }
func mishGradAVX512(y, dy, z *float32, n int)                     { panic("kernels: no AVX-512") }
func tanhAVX512(y, z *float32, n int)                             { panic("kernels: no AVX-512") }
func eluAVX512(y, z *float32, n int, sa, scale float32)           { panic("kernels: no AVX-512") }
func eluGradAVX512(y, dy, z *float32, n int, sa, scale float32)   { panic("kernels: no AVX-512") }
func softplusAVX512(y, z *float32, n int)                         { panic("kernels: no AVX-512") }
func softplusGradAVX512(y, dy, z *float32, n int)                 { panic("kernels: no AVX-512") }
func leakyReLUAVX512(y, z *float32, n int, alpha float32)         { panic("kernels: no AVX-512") }
func leakyReLUGradAVX512(y, dy, z *float32, n int, alpha float32) { panic("kernels: no AVX-512") }
func leakyReLUAVX2(y, z *float32, n int, alpha float32)           { panic("kernels: no AVX2") }
func leakyReLUGradAVX2(y, dy, z *float32, n int, alpha float32)   { panic("kernels: no AVX2") }
func geluAVX2(y, z *float32, n int)                               { panic("kernels: no AVX2") }
func geluGradAVX2(y, dy, z *float32, n int)                       { panic("kernels: no AVX2") }
func mishAVX2(y, z *float32, n int)                               { panic("kernels: no AVX2") }
func mishGradAVX2(y, dy, z *float32, n int)                       { panic("kernels: no AVX2") }
func tanhAVX2(y, z *float32, n int)                               { panic("kernels: no AVX2") }
func eluAVX2(y, z *float32, n int, sa, scale float32)             { panic("kernels: no AVX2") }
func eluGradAVX2(y, dy, z *float32, n int, sa, scale float32)     { panic("kernels: no AVX2") }
func softplusAVX2(y, z *float32, n int)                           { panic("kernels: no AVX2") }
func softplusGradAVX2(y, dy, z *float32, n int)                   { panic("kernels: no AVX2") }
func preluAVX512(y, x, a *float32, n int)                         { panic("kernels: no AVX-512") }
func preluGradAVX512(dx, da, dy, x, a *float32, n int)            { panic("kernels: no AVX-512") }
func preluAVX2(y, x, a *float32, n int)                           { panic("kernels: no AVX2") }
func preluGradAVX2(dx, da, dy, x, a *float32, n int)              { panic("kernels: no AVX2") }

func sgdAVX512(w, grad, m *float32, n int, lr, mu float32, flags int) {
	panic("kernels: no AVX-512")
}
func rmspropAVX512(w, grad, a, m, ag *float32, n int, rho, c, lr, eps, mu float32, flags int) {
	panic("kernels: no AVX-512")
}
func adamAVX512(w, grad, m, v *float32, n int, alpha, c1, c2, eps float32) {
	panic("kernels: no AVX-512")
}
func decayAVX512(w *float32, n int, f float32) { panic("kernels: no AVX-512") }
func sgdAVX2(w, grad, m *float32, n int, lr, mu float32, flags int) {
	panic("kernels: no AVX2")
}
func rmspropAVX2(w, grad, a, m, ag *float32, n int, rho, c, lr, eps, mu float32, flags int) {
	panic("kernels: no AVX2")
}
func adamAVX2(w, grad, m, v *float32, n int, alpha, c1, c2, eps float32) {
	panic("kernels: no AVX2")
}
func decayAVX2(w *float32, n int, f float32) { panic("kernels: no AVX2") }

// asmBF16 returns no path: this build has no assembly.
func asmBF16(ok bool) *bf16Impl { return nil }
