package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestToBF16(t *testing.T) {
	for _, tc := range []struct {
		x    uint32 // float32 bits
		want uint16
	}{
		{0x3f800000, 0x3f80}, // 1
		{0xbf800000, 0xbf80}, // -1
		{0x3f808000, 0x3f80}, // 1 + 2⁻⁸: a tie, to the even 1
		{0x3f818000, 0x3f82}, // 1 + 3·2⁻⁸: a tie, to the even 1 + 2⁻⁶
		{0x3f808001, 0x3f81}, // just past the tie: up
		{0x3f807fff, 0x3f80}, // just short of it: down
		{0x40490fdb, 0x4049}, // π: 3.140625
		{0x7f7fffff, 0x7f80}, // the largest float32: beyond the largest bfloat16, +Inf
		{0x7f800000, 0x7f80}, // +Inf
		{0xff800000, 0xff80}, // -Inf
		{0x7f800001, 0x7fc0}, // a signalling NaN: quieted, not rounded to Inf
		{0xffffffff, 0xffff}, // a NaN with every bit set: stays NaN, not rounded past it
		{0x00000000, 0x0000}, // +0
		{0x80000000, 0x8000}, // -0
		{0x00400000, 0x0000}, // a subnormal: +0
		{0x807fffff, 0x8000}, // a negative subnormal: -0
		{0x00800000, 0x0080}, // the smallest normal stays
	} {
		if got := ToBF16(math.Float32frombits(tc.x)); got != tc.want {
			t.Errorf("ToBF16(%#08x) = %#04x, want %#04x", tc.x, got, tc.want)
		}
	}
	if got := FromBF16(0x4049); got != 3.140625 {
		t.Errorf("FromBF16(0x4049) = %g, want 3.140625", got)
	}
}

// bf16Impls lists the paths of GemmBF16 this CPU runs.
func bf16Impls() []*bf16Impl {
	if activeBF16 == genericBF16 {
		return []*bf16Impl{genericBF16}
	}
	return []*bf16Impl{genericBF16, activeBF16}
}

// TestPairsBF16 checks each path's conversion of values to pairs of
// bfloat16, against ToBF16, over lengths 0 to 99 with special values among
// random ones, and that nothing is written outside the pairs.
func TestPairsBF16(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	special := []uint32{0x7f800001, 0xffffffff, 0x7fc00000, 0x00400000, 0x807fffff, 0x7f7fffff, 0x3f808000, 0x3f818000, 0xff800000, 0x80000000}
	values := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			if rng.IntN(4) == 0 {
				s[i] = math.Float32frombits(special[rng.IntN(len(special))])
			} else {
				s[i] = math.Float32frombits(rng.Uint32())
			}
		}
		return s
	}
	pair := func(lo, hi float32) uint32 { return uint32(ToBF16(lo)) | uint32(ToBF16(hi))<<16 }
	const guard = 0xdeadbeef
	for _, impl := range bf16Impls() {
		for n := range 100 {
			src := values(n)
			dst := make([]uint32, (n+1)/2+3)
			for i := range dst {
				dst[i] = guard
			}
			impl.pairs(dst[:(n+1)/2], src)
			for q := range (n + 1) / 2 {
				want := uint32(ToBF16(src[2*q]))
				if 2*q+1 < n {
					want = pair(src[2*q], src[2*q+1])
				}
				if dst[q] != want {
					t.Fatalf("%s: pairs of %d values: pair %d = %#08x, want %#08x", impl.name, n, q, dst[q], want)
				}
			}
			for i := (n + 1) / 2; i < len(dst); i++ {
				if dst[i] != guard {
					t.Fatalf("%s: pairs of %d values wrote past them, at %d", impl.name, n, i)
				}
			}

			const panel = 40
			lo, hi := src, values(n)
			for _, hi := range [][]float32{hi, nil} {
				dst := make([]uint32, (n/bf16NR+1)*panel)
				for i := range dst {
					dst[i] = guard
				}
				impl.across(dst, lo, hi, panel)
				for x, got := range dst {
					j := x/panel*bf16NR + x%panel
					want := uint32(guard)
					switch {
					case x%panel >= bf16NR || j >= n:
					case hi == nil:
						want = uint32(ToBF16(lo[j]))
					default:
						want = pair(lo[j], hi[j])
					}
					if got != want {
						t.Fatalf("%s: across of %d values (hi nil: %v): word %d = %#08x, want %#08x", impl.name, n, hi == nil, x, got, want)
					}
				}
			}
		}
	}
}

// roundBF16 returns s with every value rounded to bfloat16.
func roundBF16(s []float32) []float32 {
	out := make([]float32, len(s))
	for i, v := range s {
		out[i] = FromBF16(ToBF16(v))
	}
	return out
}

// checkBF16 runs every path of GemmBF16 on tc and compares it with gemmRef
// of the operands rounded to bfloat16, as check compares Gemm.
func checkBF16(t *testing.T, tc gemmCase, rng *rand.Rand) {
	t.Helper()
	f := newGemmFixture(tc, rng)
	f.reference(roundBF16(f.a), roundBF16(f.b))
	impls := bf16Impls()
	if gemmRace {
		impls = impls[len(impls)-1:] // the Go path is checked without the race detector
	}
	for _, impl := range impls {
		f.checkRun(t, impl.name, "GemmBF16", func(tc gemmCase, a, b, c []float32) {
			gemmBF16With(impl, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, f.lda, b, f.ldb, tc.beta, c, f.ldc)
		})
	}
}

func TestGemmBF16Small(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range smallCases([]int{0, 1, 2, 3, 5, 11, 12, 13, 31, 32, 33, 40}) {
		checkBF16(t, tc, rng)
	}
}

func TestGemmBF16Blocks(t *testing.T) {
	// Sizes that cross the tile (12×32), kc (512, an odd k in a block),
	// mc (120) and nc (2048), with every transpose.
	shapes := [][3]int{
		{1, 1, 600}, {13, 33, 257}, {241, 129, 300}, {121, 200, 513}, {30, 40, 1101},
		{5, 2100, 20}, {250, 32, 1025}, {37, 161, 1},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for s, sh := range shapes {
		for tr := range 4 {
			tc := gemmCase{transA: tr&1 != 0, transB: tr&2 != 0, m: sh[0], n: sh[1], k: sh[2],
				alpha: 1, beta: 0, pad: (s + tr) % 4 * 3, off: tr + s%2}
			if (s+tr)%2 == 1 {
				tc.alpha, tc.beta = -1, -2
			}
			checkBF16(t, tc, rng)
		}
	}
}

// TestGemmBF16Exact multiplies small integers, which bfloat16 holds
// exactly and whose sums float32 holds exactly: every path must give the
// exact product, so no pair of values may be lost or counted twice.
func TestGemmBF16Exact(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, sh := range [][3]int{{12, 32, 2}, {13, 33, 3}, {50, 70, 515}, {7, 5, 1}} {
		m, n, k := sh[0], sh[1], sh[2]
		a := make([]float32, m*k)
		b := make([]float32, k*n)
		for i := range a {
			a[i] = float32(rng.IntN(17) - 8)
		}
		for i := range b {
			b[i] = float32(rng.IntN(9) - 4)
		}
		want := make([]float32, m*n)
		gemmRef(false, false, m, n, k, 1, a, k, b, n, 0, want, n)
		for _, impl := range bf16Impls() {
			got := make([]float32, m*n)
			gemmBF16With(impl, false, false, m, n, k, 1, a, k, b, n, 0, got, n)
			for x := range got {
				if got[x] != want[x] {
					t.Fatalf("%s: %dx%dx%d: C[%d][%d] = %g, want %g", impl.name, m, n, k, x/n, x%n, got[x], want[x])
				}
			}
		}
	}
}

// TestGemmBF16Deterministic checks that the result does not depend on how
// many goroutines share the work, and that the paths agree.
func TestGemmBF16Deterministic(t *testing.T) {
	shapes := []gemmCase{
		{m: 300, n: 64, k: 300, alpha: 1, beta: 0},
		{m: 20, n: 700, k: 400, alpha: 1, beta: 1, transB: true},
		{m: 100, n: 32, k: 3001, alpha: 1, beta: 0, transA: true},
	}
	for _, impl := range bf16Impls() {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, tc := range shapes {
			checkAnyGOMAXPROCS(t, impl.name+": GemmBF16", tc, rng, func(tc gemmCase, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
				gemmBF16With(impl, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
			})
		}
	}
}

// TestGemmBF16Error states how far GemmBF16 is from Gemm: each value of A
// and B moves by at most 2⁻⁹ of itself when rounded, so each element of C
// by at most about 2⁻⁸ of |alpha|·Σ|a||b|.
func TestGemmBF16Error(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	tc := gemmCase{m: 200, n: 96, k: 700, alpha: 1}
	a, lda, b, ldb, _, ldc := tc.operands(rng)
	want := make([]float32, tc.m*ldc)
	Gemm(false, false, tc.m, tc.n, tc.k, 1, a, lda, b, ldb, 0, want, ldc)
	mag := make([]float32, tc.m*ldc)
	gemmRef(false, false, tc.m, tc.n, tc.k, 1, absAll(a), lda, absAll(b), ldb, 0, mag, ldc)
	got := make([]float32, tc.m*ldc)
	GemmBF16(false, false, tc.m, tc.n, tc.k, 1, a, lda, b, ldb, 0, got, ldc)
	worst := 0.0
	for i := range tc.m {
		for j := range tc.n {
			x := i*ldc + j
			e := math.Abs(float64(got[x]-want[x])) / float64(mag[x])
			worst = max(worst, e)
		}
	}
	if worst > 1.0/256 || worst == 0 {
		t.Errorf("GemmBF16 differs from Gemm by up to %g of Σ|a||b|, want within (0, 2⁻⁸]", worst)
	}
}

func TestGemmBF16Allocs(t *testing.T) {
	if gemmRace {
		t.Skip("the race detector makes sync.Pool drop items, so GemmBF16 allocates")
	}
	m, n, k := 300, 200, 600
	a := make([]float32, m*k)
	b := make([]float32, k*n)
	c := make([]float32, m*n)
	GemmBF16(false, true, m, n, k, 1, a, k, b, k, 0, c, n)
	if allocs := testing.AllocsPerRun(10, func() { GemmBF16(false, true, m, n, k, 1, a, k, b, k, 0, c, n) }); allocs != 0 {
		t.Errorf("GemmBF16 allocates %g times a call, want 0", allocs)
	}
}

func BenchmarkGemmBF16(b *testing.B) {
	for _, impl := range bf16Impls() {
		for _, sh := range gemmBenchShapes {
			b.Run(fmt.Sprintf("impl=%s/size=%s", impl.name, sh.name), func(b *testing.B) {
				if impl == genericBF16 && 2*sh.m*sh.n*sh.k > 1<<30 {
					b.Skip("generic path too slow for this size")
				}
				benchGemmShape(b, sh, func(a []float32, lda int, bm []float32, ldb int, c []float32) {
					gemmBF16With(impl, sh.transA, sh.transB, sh.m, sh.n, sh.k, 1, a, lda, bm, ldb, 0, c, sh.n)
				})
			})
		}
	}
}
