package kernels

// gemmRef is the specification of [Gemm]: the plain triple loop, kept simple
// so that every faster path can be tested against it.
func gemmRef(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		ci := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(ci)
		} else if beta != 1 {
			for j := range ci {
				ci[j] *= beta
			}
		}
		for p := 0; p < k; p++ {
			var av float32
			if transA {
				av = a[p*lda+i]
			} else {
				av = a[i*lda+p]
			}
			av *= alpha
			if transB {
				for j := range ci {
					ci[j] += av * b[j*ldb+p]
				}
			} else {
				bp := b[p*ldb : p*ldb+n]
				for j, bv := range bp {
					ci[j] += av * bv
				}
			}
		}
	}
}

// gemmKernel2x4 is the pure-Go micro-kernel of the blocked generic path:
//
//	for i < 2, j < 4:
//		s := 0
//		for p < k: s += a[i*rsA+p*csA] * b[p*ldb+j]
//		if beta == 0 { c[i*ldc+j] = alpha*s } else { c[i*ldc+j] = alpha*s + beta*c[i*ldc+j] }
//
// Its 8 accumulators and 6 operands stay in registers on amd64; taller
// tiles spill.
func gemmKernel2x4(k int, a []float32, rsA, csA int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	ia, ib := 0, 0
	for p := 0; p < k; p++ {
		a0, a1 := a[ia], a[ia+rsA]
		bp := b[ib : ib+4 : ib+4]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		ia += csA
		ib += ldb
	}
	store4(c[0:4:4], alpha, beta, c00, c01, c02, c03)
	store4(c[ldc:ldc+4:ldc+4], alpha, beta, c10, c11, c12, c13)
}

// store4 writes alpha·s + beta·c into one row of four, not reading c when
// beta is 0.
func store4(c []float32, alpha, beta float32, s0, s1, s2, s3 float32) {
	c = c[:4]
	if beta == 0 {
		c[0], c[1], c[2], c[3] = alpha*s0, alpha*s1, alpha*s2, alpha*s3
		return
	}
	c[0] = alpha*s0 + beta*c[0]
	c[1] = alpha*s1 + beta*c[1]
	c[2] = alpha*s2 + beta*c[2]
	c[3] = alpha*s3 + beta*c[3]
}
