package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"
)

// gemmCase is one product for the tests: shapes, transposes, scalars and the
// padding of each stride.
type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	pad            int // added to every leading dimension
	off            int // offset of each matrix in its slice
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("tA=%v,tB=%v,m=%d,n=%d,k=%d,alpha=%g,beta=%g,pad=%d,off=%d",
		tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.pad, tc.off)
}

const gemmGuard = float32(-12345.5)

// operands builds A, B and C for tc: random values in [-1, 1) inside each
// matrix, gemmGuard values around and between rows, NaN in C when beta is 0.
func (tc gemmCase) operands(rng *rand.Rand) (a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	mat := func(rows, cols int, fill func() float32) ([]float32, int) {
		ld := cols + tc.pad
		if ld == 0 {
			ld = 1
		}
		s := make([]float32, tc.off+rows*ld+7)
		for i := range s {
			s[i] = gemmGuard
		}
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				s[tc.off+i*ld+j] = fill()
			}
		}
		return s, ld
	}
	uniform := func() float32 { return 2*rng.Float32() - 1 }
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = ac, ar
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = bc, br
	}
	a, lda = mat(ar, ac, uniform)
	b, ldb = mat(br, bc, uniform)
	cfill := uniform
	if tc.beta == 0 {
		cfill = func() float32 { return float32(math.NaN()) }
	}
	c, ldc = mat(tc.m, tc.n, cfill)
	return
}

// gemmFixture is a product with its operands and the reference result.
type gemmFixture struct {
	tc            gemmCase
	a, b, c       []float32
	lda, ldb, ldc int
	want, mag     []float32 // gemmRef's C, and |alpha|·Σ|a||b| for each element
}

func newGemmFixture(tc gemmCase, rng *rand.Rand) *gemmFixture {
	f := &gemmFixture{tc: tc}
	f.a, f.lda, f.b, f.ldb, f.c, f.ldc = tc.operands(rng)
	f.reference(f.a, f.b)
	return f
}

// reference sets f.want and f.mag from the operands a and b, laid out as
// f.a and f.b.
func (f *gemmFixture) reference(a, b []float32) {
	tc := f.tc
	f.want = clone(f.c)
	gemmRef(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a[tc.off:], f.lda, b[tc.off:], f.ldb, tc.beta, f.want[tc.off:], f.ldc)
	f.mag = make([]float32, len(f.c))
	gemmRef(tc.transA, tc.transB, tc.m, tc.n, tc.k, abs32(tc.alpha), absAll(a)[tc.off:], f.lda, absAll(b)[tc.off:], f.ldb, 0, f.mag[tc.off:], f.ldc)
}

// checkGemm runs impl on tc and compares it with gemmRef.
func checkGemm(t *testing.T, impl *gemmImpl, tc gemmCase, rng *rand.Rand) {
	t.Helper()
	newGemmFixture(tc, rng).check(t, impl)
}

// check runs impl on the fixture: each element of C must be within
// 1e-5·sqrt(k+1) of the magnitude |alpha|·Σ|a||b| + |beta·c| from gemmRef's,
// every value outside C must be untouched and A and B must not change.
func (f *gemmFixture) check(t *testing.T, impl *gemmImpl) {
	t.Helper()
	f.checkRun(t, impl.name, "Gemm", func(tc gemmCase, a, b, c []float32) {
		gemmWith(impl, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, f.lda, b, f.ldb, tc.beta, c, f.ldc)
	})
}

// checkRun is check for the product that run computes on the fixture's
// operands (from their offset on), named name and fn in messages.
func (f *gemmFixture) checkRun(t *testing.T, name, fn string, run func(tc gemmCase, a, b, c []float32)) {
	t.Helper()
	tc, a, b, c, ldc := f.tc, clone(f.a), clone(f.b), f.c, f.ldc
	got := clone(c)
	run(tc, a[tc.off:], b[tc.off:], got[tc.off:])

	tol := 1e-5 * math.Sqrt(float64(tc.k+1))
	inC := func(x int) (int, int, bool) {
		x -= tc.off
		if x < 0 || tc.n == 0 {
			return 0, 0, false
		}
		i, j := x/ldc, x%ldc
		return i, j, i < tc.m && j < tc.n
	}
	bad := 0
	for x := range got {
		i, j, ok := inC(x)
		if !ok {
			if got[x] != c[x] {
				t.Errorf("%s: %s(%v) wrote %g at %d outside C, want %g", name, fn, tc, got[x], x, c[x])
				bad++
			}
		} else {
			bound := float64(f.mag[x])
			if tc.beta != 0 {
				bound += math.Abs(float64(tc.beta * c[x]))
			}
			d := math.Abs(float64(got[x]) - float64(f.want[x]))
			if !(d <= tol*bound+1e-30) {
				t.Errorf("%s: %s(%v) C[%d][%d] = %g, want %g (tolerance %g)", name, fn, tc, i, j, got[x], f.want[x], tol*bound)
				bad++
			}
		}
		if bad > 5 {
			t.FailNow()
		}
	}
	for x := range a {
		if a[x] != f.a[x] {
			t.Fatalf("%s: %s(%v) modified A[%d]", name, fn, tc, x)
		}
	}
	for x := range b {
		if b[x] != f.b[x] {
			t.Fatalf("%s: %s(%v) modified B[%d]", name, fn, tc, x)
		}
	}
}

func clone(s []float32) []float32 { return append([]float32(nil), s...) }

func absAll(s []float32) []float32 {
	out := make([]float32, len(s))
	for i, v := range s {
		if v == gemmGuard {
			continue
		}
		out[i] = abs32(v)
	}
	return out
}

// forEachImpl runs f for every path this CPU supports.
func forEachImpl(t *testing.T, f func(t *testing.T, impl *gemmImpl)) {
	for _, impl := range gemmImpls {
		t.Run("impl="+impl.name, func(t *testing.T) { f(t, impl) })
	}
}

func TestGemmSmall(t *testing.T) {
	forEachImpl(t, func(t *testing.T, impl *gemmImpl) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, tc := range smallCases([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 15, 16, 17, 23, 31, 32, 33, 40}) {
			checkGemm(t, impl, tc, rng)
		}
	})
}

// smallCases are the products of every m and n of dims, with a k of dims
// too, each transpose, padding, offset and three pairs of alpha and beta
// in turn.
func smallCases(dims []int) []gemmCase {
	var cases []gemmCase
	for x, m := range dims {
		for y, n := range dims {
			k := dims[(x*7+y*3)%len(dims)]
			tc := gemmCase{transA: (x+y)%2 == 1, transB: (x/2+y)%2 == 1, m: m, n: n, k: k,
				alpha: 1, beta: 0, pad: (x + y) % 3, off: y % 5}
			switch (x + 2*y) % 3 {
			case 1:
				tc.alpha, tc.beta = -0.5, 1
			case 2:
				tc.alpha, tc.beta = 1.5, 0.75
			}
			cases = append(cases, tc)
		}
	}
	return cases
}

func TestGemmBlocks(t *testing.T) {
	// Sizes that cross every block boundary of every path: the micro-tile
	// (2×4, 6×16, 12×32, and 1×64, 1×128 for m ≤ 3), kc = 256, 512 (1024
	// for narrow C), mc = 64, 120, nc = 1024, 2048, the packing of A when
	// n > 4·nr, B read in place.
	shapes := [][3]int{
		{1, 1, 600}, {13, 33, 257}, {241, 129, 300}, {121, 200, 513}, {65, 70, 20},
		{250, 32, 260}, {100, 64, 40}, {7, 300, 9}, {300, 5, 130}, {37, 161, 1},
		{30, 40, 1100}, {5, 2100, 20}, {2, 300, 1100}, {3, 700, 300},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for s, sh := range shapes {
		for tr := 0; tr < 4; tr++ {
			tc := gemmCase{transA: tr&1 != 0, transB: tr&2 != 0, m: sh[0], n: sh[1], k: sh[2],
				alpha: 1, beta: 0, pad: (s + tr) % 4 * 3, off: tr + s%2}
			switch (s + tr) % 3 {
			case 1:
				tc.alpha, tc.beta = 0.25, 1
			case 2:
				tc.alpha, tc.beta = -1, -2
			}
			f := newGemmFixture(tc, rng)
			for _, impl := range gemmImpls {
				f.check(t, impl)
			}
		}
	}
}

// TestGemmDeterministic checks that the result does not depend on how many
// goroutines share the work.
func TestGemmDeterministic(t *testing.T) {
	shapes := []gemmCase{
		{m: 300, n: 64, k: 300, alpha: 1, beta: 0},               // split along m
		{m: 20, n: 700, k: 400, alpha: 1, beta: 1, transB: true}, // split along n
		{m: 100, n: 32, k: 3000, alpha: 1, beta: 0, transA: true},
		{m: 250, n: 250, k: 270, alpha: 0.5, beta: 0.5},
		{m: 2, n: 1000, k: 3000, alpha: 1, beta: 0},                               // one-row kernel
		{m: 1, n: 4099, k: 300, alpha: 1, beta: 0, transB: true},                  // dot products
		{m: 3, n: 1001, k: 1500, alpha: 0.5, beta: 1, transA: true, transB: true}, // the same, scaled
	}
	forEachImpl(t, func(t *testing.T, impl *gemmImpl) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, tc := range shapes {
			checkAnyGOMAXPROCS(t, impl.name+": Gemm", tc, rng, func(tc gemmCase, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
				gemmWith(impl, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
			})
		}
	})
}

// checkAnyGOMAXPROCS runs mul on tc's operands with GOMAXPROCS 1, 2 and 4
// and fails t, naming the product label, unless C has the same bits each
// time.
func checkAnyGOMAXPROCS(t *testing.T, label string, tc gemmCase, rng *rand.Rand, mul func(tc gemmCase, a []float32, lda int, b []float32, ldb int, c []float32, ldc int)) {
	t.Helper()
	a, lda, b, ldb, c, ldc := tc.operands(rng)
	var first []float32
	for _, procs := range []int{1, 2, 4} {
		old := runtime.GOMAXPROCS(procs)
		got := clone(c)
		mul(tc, a, lda, b, ldb, got, ldc)
		runtime.GOMAXPROCS(old)
		if first == nil {
			first = got
			continue
		}
		for x := range got {
			if math.Float32bits(got[x]) != math.Float32bits(first[x]) {
				t.Fatalf("%s(%v) with GOMAXPROCS %d: C at %d = %g, with 1: %g", label, tc, procs, x, got[x], first[x])
			}
		}
	}
}

func TestGemmAllocs(t *testing.T) {
	if gemmRace {
		t.Skip("the race detector makes sync.Pool drop items, so Gemm allocates")
	}
	for _, sh := range [][3]int{{8, 8, 8}, {1, 256, 4096}, {400, 64, 300}, {40, 700, 300}, {1, 4096, 256}, {2, 512, 100}} {
		m, n, k := sh[0], sh[1], sh[2]
		a := make([]float32, m*k)
		b := make([]float32, k*n)
		c := make([]float32, m*n)
		for _, transB := range []bool{false, true} {
			ldb := n
			if transB {
				ldb = k
			}
			Gemm(false, transB, m, n, k, 1, a, k, b, ldb, 0.5, c, n)
			allocs := testing.AllocsPerRun(20, func() {
				Gemm(false, transB, m, n, k, 1, a, k, b, ldb, 0.5, c, n)
			})
			if allocs != 0 {
				t.Errorf("Gemm(%dx%dx%d, transB %v) allocates %v times per call, want 0", m, n, k, transB, allocs)
			}
		}
	}
}

func TestGemmPanics(t *testing.T) {
	tests := []struct {
		name    string
		a, b, c int
		lda     int
	}{
		{"short A", 11, 9, 12, 3},
		{"short B", 12, 8, 12, 3},
		{"short C", 12, 9, 11, 3},
		{"small lda", 12, 9, 12, 2},
	}
	fns := map[string]func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int){
		"Gemm": Gemm, "GemmBF16": GemmBF16,
	}
	for name, fn := range fns {
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				defer func() {
					if recover() == nil {
						t.Errorf("%s with %s did not panic", name, tt.name)
					}
				}()
				// A 4×3, B 3×3 and C 4×3 need 12, 9 and 12 elements.
				fn(false, false, 4, 3, 3, 1, make([]float32, tt.a), tt.lda, make([]float32, tt.b), 3, 0, make([]float32, tt.c), 3)
			})
		}
	}
}

func TestChooseImpl(t *testing.T) {
	fastest := gemmImpls[len(gemmImpls)-1]
	tests := []struct{ env, want string }{
		{"generic", "generic"},
		{"", fastest.name},
		{"bogus", fastest.name},
		{"avx512", fastest.name},
	}
	for _, tt := range tests {
		if got := chooseImpl(tt.env).name; got != tt.want {
			t.Errorf("chooseImpl(%q) = %q, want %q", tt.env, got, tt.want)
		}
	}
	env := os.Getenv("CONVNET_KERNELS")
	if got, want := Impl(), chooseImpl(env).name; got != want {
		t.Errorf("Impl() with CONVNET_KERNELS=%q = %q, want %q", env, got, want)
	}
}

// TestGemmConcurrent runs products from several goroutines at once, as a
// caller that splits a batch does, and checks each against a lone run.
func TestGemmConcurrent(t *testing.T) {
	forEachImpl(t, func(t *testing.T, impl *gemmImpl) {
		rng := rand.New(rand.NewPCG(7, 8))
		tc := gemmCase{m: 200, n: 96, k: 150, alpha: 1, beta: 0}
		a, lda, b, ldb, c, ldc := tc.operands(rng)
		want := clone(c)
		gemmWith(impl, false, false, tc.m, tc.n, tc.k, 1, a, lda, b, ldb, 0, want, ldc)
		const goroutines = 4
		got := make([][]float32, goroutines)
		done := make(chan int)
		for g := range goroutines {
			got[g] = clone(c)
			go func() {
				for range 3 {
					gemmWith(impl, false, false, tc.m, tc.n, tc.k, 1, a, lda, b, ldb, 0, got[g], ldc)
				}
				done <- g
			}()
		}
		for range goroutines {
			g := <-done
			for x := range want {
				if math.Float32bits(got[g][x]) != math.Float32bits(want[x]) {
					t.Fatalf("%s: concurrent Gemm(%v) in goroutine %d: C at %d = %g, want %g", impl.name, tc, g, x, got[g][x], want[x])
				}
			}
		}
	})
}

// TestTransposeInto checks the packing of A's slivers, in vector
// registers and in Go, against its definition: rows of 1 to 13 (the avx2
// path's 6, the avx512 path's 12), columns around the vector loop's 8,
// strides past the rows; nothing outside the transposed block is written.
func TestTransposeInto(t *testing.T) { forEachLoops(t, testTransposeInto) }

func testTransposeInto(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for rows := 1; rows <= 13; rows++ {
		for _, cols := range []int{0, 1, 7, 8, 9, 16, 31, 64} {
			lds, ld := cols+3, rows+2
			src := randSlice(rng, rows*lds)
			dst := make([]float32, max(cols, 1)*ld+5)
			for i := range dst {
				dst[i] = guard
			}
			transposeInto(dst, ld, src, lds, rows, cols)
			for i, v := range dst {
				p, r := i/ld, i%ld
				want := guard
				if p < cols && r < rows {
					want = src[r*lds+p]
				}
				if v != want {
					t.Fatalf("rows %d, cols %d: dst[%d] (column %d, row %d) = %v, want %v", rows, cols, i, p, r, v, want)
				}
			}
		}
	}
}
