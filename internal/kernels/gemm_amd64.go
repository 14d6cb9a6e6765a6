//go:build !purego

package kernels

//go:generate sh -c "cd _asm && go run . -out ../gemm_amd64.s"

// gemmKernel12x32AVX512 computes a 12×32 tile of C with AVX-512F:
//
//	for i < 12, j < 32:
//		s := 0
//		for p < k: s += a[i*rsA+p*csA] * b[p*ldb+j]
//		if beta == 0 { c[i*ldc+j] = alpha*s } else { c[i*ldc+j] = alpha*s + beta*c[i*ldc+j] }
//
//go:noescape
func gemmKernel12x32AVX512(k int, a *float32, rsA, csA int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// gemmKernel6x16AVX2 computes a 6×16 tile of C with AVX2 and FMA:
//
//	for i < 6, j < 16:
//		s := 0
//		for p < k: s += a[i*rsA+p*csA] * b[p*ldb+j]
//		if beta == 0 { c[i*ldc+j] = alpha*s } else { c[i*ldc+j] = alpha*s + beta*c[i*ldc+j] }
//
//go:noescape
func gemmKernel6x16AVX2(k int, a *float32, rsA, csA int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// gemmKernel12x32PackedAVX512 is gemmKernel12x32AVX512 for A packed in
// slivers: it assumes rsA = 1 and csA = 12.
//
//go:noescape
func gemmKernel12x32PackedAVX512(k int, a *float32, rsA, csA int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// gemmKernel1x128AVX512 computes a 1×128 tile of C (a vector-matrix
// product) with AVX-512F:
//
//	for j < 128:
//		s := 0
//		for p < k: s += a[p*csA] * b[p*ldb+j]
//		if beta == 0 { c[j] = alpha*s } else { c[j] = alpha*s + beta*c[j] }
//
//go:noescape
func gemmKernel1x128AVX512(k int, a *float32, rsA, csA int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// gemmKernel1x64AVX2 computes a 1×64 tile of C (a vector-matrix product)
// with AVX2 and FMA:
//
//	for j < 64:
//		s := 0
//		for p < k: s += a[p*csA] * b[p*ldb+j]
//		if beta == 0 { c[j] = alpha*s } else { c[j] = alpha*s + beta*c[j] }
//
//go:noescape
func gemmKernel1x64AVX2(k int, a *float32, rsA, csA int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// asmImpls returns the assembly paths the CPU supports, slowest first.
func asmImpls(avx2, avx512 bool) []*gemmImpl {
	var out []*gemmImpl
	if avx2 {
		out = append(out, &gemmImpl{name: "avx2", mr: 6, nr: 16, mc: 120, kc: 256, nc: 2048,
			kernel: func(k int, a []float32, rsA, csA int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
				gemmKernel6x16AVX2(k, &a[0], rsA, csA, &b[0], ldb, &c[0], ldc, alpha, beta)
			},
			thin: &gemmImpl{name: "avx2", mr: 1, nr: 64, mc: 1, kc: 256, nc: 2048,
				kernel: func(k int, a []float32, rsA, csA int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
					gemmKernel1x64AVX2(k, &a[0], rsA, csA, &b[0], ldb, &c[0], ldc, alpha, beta)
				}},
		})
	}
	if avx512 {
		out = append(out, &gemmImpl{name: "avx512", mr: 12, nr: 32, mc: 240, kc: 256, nc: 2048,
			kernel: func(k int, a []float32, rsA, csA int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
				gemmKernel12x32AVX512(k, &a[0], rsA, csA, &b[0], ldb, &c[0], ldc, alpha, beta)
			},
			packedKernel: func(k int, a []float32, rsA, csA int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
				gemmKernel12x32PackedAVX512(k, &a[0], rsA, csA, &b[0], ldb, &c[0], ldc, alpha, beta)
			},
			thin: &gemmImpl{name: "avx512", mr: 1, nr: 128, mc: 1, kc: 256, nc: 2048,
				kernel: func(k int, a []float32, rsA, csA int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
					gemmKernel1x128AVX512(k, &a[0], rsA, csA, &b[0], ldb, &c[0], ldc, alpha, beta)
				}},
		})
	}
	return out
}
