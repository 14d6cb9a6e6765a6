package kernels

// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices, where
// op(X) is X or its transpose. op(A) is m×k, op(B) is k×n and C is m×n; lda,
// ldb and ldc are the row strides of A, B and C as stored.
//
//	for i < m, j < n:
//		s := 0
//		for p < k: s += opA[i][p] * opB[p][j]
//		C[i][j] = alpha*s + beta*C[i][j]
//
// When beta is 0, C is not read (NaNs in C do not propagate).
// C must not alias A or B.
//
// Large products are split across goroutines by blocks of C, never along k,
// and the order of the k reduction is fixed by k alone, so the result is
// bit-identical whatever GOMAXPROCS is. The SIMD paths round differently from
// the generic one (fused multiply-add, another summation order); they agree
// with it within float32 rounding.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmWith(active, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmWith runs [Gemm] on the implementation impl.
func gemmWith(impl *gemmImpl, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !gemmOperands("Gemm", transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc) {
		return
	}
	if m <= thinRows && transB && impl.dots != nil {
		gemmDots(impl, transA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if m <= thinRows && impl.thin != nil {
		impl = impl.thin
	}
	gemmBlocked(impl, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmOperands panics, naming fn, unless the operands fit a product of
// m×k by k×n, and reports whether there is a product left to compute: when
// C is empty there is none, and when k is 0 it sets C = beta·C.
func gemmOperands(fn string, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) bool {
	if m < 0 || n < 0 || k < 0 {
		panic("kernels: " + fn + ": negative dimension")
	}
	if m == 0 || n == 0 {
		return false
	}
	if ldc < n || len(c) < (m-1)*ldc+n {
		panic("kernels: " + fn + ": C too short for m, n, ldc")
	}
	if k == 0 {
		scaleRows(m, n, beta, c, ldc)
		return false
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	if lda < ac || len(a) < (ar-1)*lda+ac {
		panic("kernels: " + fn + ": A too short for m, k, lda")
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if ldb < bc || len(b) < (br-1)*ldb+bc {
		panic("kernels: " + fn + ": B too short for k, n, ldb")
	}
	return true
}

// scaleRows sets C = beta·C without reading C when beta is 0.
func scaleRows(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		ci := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(ci)
		} else if beta != 1 {
			for j := range ci {
				ci[j] *= beta
			}
		}
	}
}
