package kernels

import (
	"os"

	"golang.org/x/sys/cpu"
)

// The implementation is chosen once, here, at start-up: the fastest path
// that the CPU supports, unless the environment variable CONVNET_KERNELS
// names another one ("generic", "avx2" or "avx512"; a path the CPU lacks
// falls back to the next slower one, an unknown name to the fastest).

// gemmImpl is one way to compute [Gemm]: a micro-kernel computing an mr×nr
// tile of C and the cache blocking that suits it.
type gemmImpl struct {
	name   string
	mr, nr int
	kernel microKernel
	// packedKernel, if set, replaces kernel when A is packed in slivers
	// (rsA = 1, csA = mr).
	packedKernel microKernel
	mc           int          // rows of A per block (kept in L2 when packed)
	kc           int          // depth of a block (the B sliver kc×nr stays in L1 or L2)
	nc           int          // columns of B per block (kept in L3)
	tiles        *tileSet     // the convolution tiles
	narrow       *tileSet     // if set, the tiles of convolutions of at most narrow.nr filters
	wino         *winoKernels // if set, Winograd's transforms (see useWinograd)

	// thin, if set, serves products with at most thinRows rows, where a
	// tall micro-kernel would mostly multiply padding.
	thin *gemmImpl
	// dots, if set, serves the products of at most thinRows rows with B
	// transposed, where packing B would copy all of it for a few rows:
	// each value of C is then the dot product of a row of A with a row of
	// B as stored. It sets, in an order fixed by k alone,
	//
	//	for j < n: c[j] = Σ_p a[p] * b[j*ldb+p]   (p < k)
	dots func(c, a, b []float32, n, k, ldb int)
}

const thinRows = 3

// microKernel computes one mr×nr tile of C from slivers of A and B:
//
//	for i < mr, j < nr:
//		s := 0
//		for p < k: s += a[i*rsA+p*csA] * b[p*ldb+j]
//		if beta == 0 { c[i*ldc+j] = alpha*s } else { c[i*ldc+j] = alpha*s + beta*c[i*ldc+j] }
type microKernel func(k int, a []float32, rsA, csA int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32)

var genericImpl = &gemmImpl{name: "generic", mr: 2, nr: 4, kernel: gemmKernel2x4, mc: 64, kc: 256, nc: 1024, tiles: genericTiles}

var (
	// gemmImpls lists the paths this CPU can run, slowest first.
	gemmImpls = append([]*gemmImpl{genericImpl}, asmImpls(
		cpu.X86.HasAVX2 && cpu.X86.HasFMA,
		cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ,
	)...)
	active = chooseImpl(os.Getenv("CONVNET_KERNELS"))

	// vecLanes is the width of the element-wise and pooling loops: 16
	// (AVX-512) on the avx512 path, 8 (AVX2) on the avx2 path, 0 (the Go
	// loops) otherwise. A loop written in AVX-512 alone runs only at 16.
	// Tests change it.
	vecLanes = map[string]int{"avx512": 16, "avx2": 8}[active.name]
)

// vectorPart returns the values of n the vector loops take: a multiple of
// their lanes.
func vectorPart(n int) int {
	if vecLanes == 0 {
		return 0
	}
	return n / vecLanes * vecLanes
}

// pickLoop returns the loop of the vectors' width: v512 (AVX-512) or v2
// (AVX2).
func pickLoop[F any](v512, v2 F) F {
	if vecLanes == 16 {
		return v512
	}
	return v2
}

// chooseImpl returns the implementation named by want, or the fastest one
// not faster than it.
func chooseImpl(want string) *gemmImpl {
	rank := map[string]int{"generic": 0, "avx2": 1, "avx512": 2}
	limit, ok := rank[want]
	if !ok {
		return gemmImpls[len(gemmImpls)-1]
	}
	best := genericImpl
	for _, im := range gemmImpls {
		if rank[im.name] <= limit {
			best = im
		}
	}
	return best
}

// Impl names the path that [Gemm] runs on: "generic", "avx2" or "avx512".
// It is the fastest path the CPU supports unless the environment variable
// CONVNET_KERNELS, read once at start-up, names a slower one:
// CONVNET_KERNELS=generic runs the pure-Go code everywhere. Building with
// -tags purego leaves out the assembly altogether.
func Impl() string { return active.name }

// chooseBF16 returns the path of [GemmBF16]: AVX512-BF16 when the CPU has
// it and CONVNET_KERNELS leaves the avx512 path on, else Go.
func chooseBF16() *bf16Impl {
	if im := asmBF16(cpu.X86.HasAVX512BF16 && cpu.X86.HasAVX512BW); im != nil && active.name == "avx512" {
		return im
	}
	return genericBF16
}
