package kernels

import (
	"fmt"
	"testing"
)

// gemmBenchShapes are the square reference product and the products of a
// small CNN at batch 100 (im2col in NHWC: rows are output pixels), their
// backward passes, and batch-1 inference and input gradient (saliency).
var gemmBenchShapes = []gemmBenchShape{
	{"1024", false, false, 1024, 1024, 1024},
	{"conv1", false, false, 102400, 32, 25},
	{"conv2", false, false, 102400, 32, 800},
	{"conv3", false, false, 25600, 64, 288},
	{"conv4", false, false, 25600, 64, 576},
	{"dense1", false, false, 100, 256, 4096},
	{"dense2", false, false, 100, 256, 256},
	{"conv2dW", true, false, 800, 32, 102400},
	{"conv4dW", true, false, 576, 64, 25600},
	{"conv2dX", false, true, 102400, 800, 32},
	{"conv4dX", false, true, 25600, 576, 64},
	{"dense1dW", true, false, 4096, 256, 100},
	{"dense1dX", false, true, 100, 4096, 256},
	{"b1conv1", false, false, 1024, 32, 25},
	{"b1conv2", false, false, 1024, 32, 800},
	{"b1dense1", false, false, 1, 256, 4096},
	{"b1dense2", false, false, 1, 10, 256},
	{"b1dense1dX", false, true, 1, 4096, 256},
}

type gemmBenchShape struct {
	name           string
	transA, transB bool
	m, n, k        int
}

func BenchmarkGemm(b *testing.B) {
	for _, impl := range gemmImpls {
		for _, sh := range gemmBenchShapes {
			b.Run(fmt.Sprintf("impl=%s/size=%s", impl.name, sh.name), func(b *testing.B) {
				if impl == genericImpl && 2*sh.m*sh.n*sh.k > 1<<30 {
					b.Skip("generic path too slow for this size")
				}
				benchGemmShape(b, sh, func(a []float32, lda int, bm []float32, ldb int, c []float32) {
					gemmWith(impl, sh.transA, sh.transB, sh.m, sh.n, sh.k, 1, a, lda, bm, ldb, 0, c, sh.n)
				})
			})
		}
	}
}

// benchGemmShape times mul, a product of sh's shape, on operands of small
// repeating values, and reports its GFLOP/s.
func benchGemmShape(b *testing.B, sh gemmBenchShape, mul func(a []float32, lda int, bm []float32, ldb int, c []float32)) {
	lda, ldb := sh.k, sh.n
	if sh.transA {
		lda = sh.m
	}
	if sh.transB {
		ldb = sh.k
	}
	a := make([]float32, sh.m*sh.k)
	bm := make([]float32, sh.k*sh.n)
	c := make([]float32, sh.m*sh.n)
	for i := range a {
		a[i] = float32(i%7) * 0.25
	}
	for i := range bm {
		bm[i] = float32(i%5) * 0.5
	}
	start := cpuTime()
	for b.Loop() {
		mul(a, lda, bm, ldb, c)
	}
	reportFlops(b, start, 2*float64(sh.m)*float64(sh.n)*float64(sh.k))
}
