package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// special mixes random values with zeros of both signs, infinities and
// tiny values, the cases where a bit trick could go wrong.
func special(rng *rand.Rand, n int) []float32 {
	v := randSlice(rng, n)
	extra := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32}
	for i, e := range extra {
		if i*3 < n {
			v[i*3] = e
		}
	}
	return v
}

// forEachLoops runs f with the Go loops and each width of vector loops
// the CPU runs (vecLanes).
func forEachLoops(t *testing.T, f func(t *testing.T)) {
	defer func(n int) { vecLanes = n }(vecLanes)
	has := map[string]bool{}
	for _, im := range gemmImpls {
		has[im.name] = true
	}
	for _, l := range []struct {
		lanes int
		impl  string
	}{{0, "generic"}, {8, "avx2"}, {16, "avx512"}} {
		if !has[l.impl] {
			continue
		}
		vecLanes = l.lanes
		t.Run("loops="+l.impl, f)
	}
}

// sameBits reports whether a and b are the same float32, bit for bit, or
// both NaN.
func sameBits(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || isNaN(a) && isNaN(b)
}

func TestElementwise(t *testing.T) { forEachLoops(t, testElementwise) }

func testElementwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, f := range []int{1, 3, 8, 16, 17, 24, 32, 48, 56, 64, 80, 144} {
		for _, rows := range []int{0, 1, 4, 9} {
			n := rows * f
			z, b, dy := special(rng, n), special(rng, f), special(rng, n)
			y := make([]float32, n)
			for i, v := range z {
				y[i] = max(v, 0)
			}

			got := append([]float32(nil), z...)
			AddBias(got, b)
			for i := range got {
				if want := z[i] + b[i%f]; !sameBits(got[i], want) {
					t.Fatalf("AddBias f=%d rows=%d [%d] = %v, want %v", f, rows, i, got[i], want)
				}
			}

			added, prod := make([]float32, n), append([]float32(nil), z...)
			AddRows(added, z, b)
			MulRows(prod, prod, b)
			for i := range added {
				if !sameBits(added[i], z[i]+b[i%f]) || !sameBits(prod[i], z[i]*b[i%f]) {
					t.Fatalf("AddRows, MulRows f=%d rows=%d [%d] = %v, %v; want %v, %v", f, rows, i, added[i], prod[i], z[i]+b[i%f], z[i]*b[i%f])
				}
			}

			out := make([]float32, n)
			BiasReLU(out, z, b)
			inPlace := append([]float32(nil), z...)
			BiasReLU(inPlace, inPlace, b)
			noBias := make([]float32, n)
			BiasReLU(noBias, z, nil)
			for i := range out {
				want := max(z[i]+b[i%f], 0)
				if !sameBits(out[i], want) || !sameBits(inPlace[i], want) {
					t.Fatalf("BiasReLU f=%d rows=%d [%d] = %v (in place %v), want %v", f, rows, i, out[i], inPlace[i], want)
				}
				if noBias[i] != y[i] {
					t.Fatalf("BiasReLU(nil bias) f=%d [%d] = %v, want %v", f, i, noBias[i], y[i])
				}
			}

			dz := make([]float32, n)
			ReLUGrad(dz, dy, y)
			sum := make([]float32, f)
			for j := range sum {
				sum[j] = 1
			}
			dz2 := append([]float32(nil), dy...) // in place
			ReLUGradSum(dz2, dz2, y, sum)
			wantSum := make([]float32, f)
			for j := range wantSum {
				wantSum[j] = 1
			}
			for i, v := range y {
				want := float32(0)
				if v > 0 {
					want = dy[i]
				}
				if math.Float32bits(dz[i]) != math.Float32bits(want) || math.Float32bits(dz2[i]) != math.Float32bits(want) {
					t.Fatalf("ReLUGrad f=%d [%d] (y=%v, dy=%v) = %v, %v; want %v", f, i, v, dy[i], dz[i], dz2[i], want)
				}
				wantSum[i%f] += want
			}
			for j := range sum {
				if sum[j] != wantSum[j] && !(isNaN(sum[j]) && isNaN(wantSum[j])) {
					t.Fatalf("ReLUGradSum f=%d sum[%d] = %v, want %v", f, j, sum[j], wantSum[j])
				}
			}
			cs := make([]float32, f)
			AddColumnSums(cs, dz)
			wantCS := make([]float32, f)
			for i, v := range dz {
				wantCS[i%f] += v
			}
			for j := range cs {
				if cs[j] != wantCS[j] && !(isNaN(cs[j]) && isNaN(wantCS[j])) {
					t.Fatalf("AddColumnSums f=%d [%d] = %v, want %v", f, j, cs[j], wantCS[j])
				}
			}
		}
	}
}

func isNaN(v float32) bool { return v != v }

func TestFlipKernel(t *testing.T) {
	// 2×1 kernel, 2 input channels, 3 filters: w[ky,0,c,f] = 100ky+10c+f.
	w := []float32{0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112}
	got := make([]float32, len(w))
	FlipKernel(got, w, 2, 1, 2, 3)
	// dst[1-ky, 0, f, c]
	want := []float32{100, 110, 101, 111, 102, 112, 0, 10, 1, 11, 2, 12}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("FlipKernel = %v, want %v", got, want)
		}
	}
}

func BenchmarkReLUGradSum(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	dy, y := randSlice(rng, 32*1024), randSlice(rng, 32*1024)
	for i, v := range y {
		y[i] = max(v, 0)
	}
	dz, sum := make([]float32, len(y)), make([]float32, 32)
	b.SetBytes(4 * int64(len(y)))
	for b.Loop() {
		ReLUGradSum(dz, dy, y, sum)
	}
}

func BenchmarkBiasReLU(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	z, bias := randSlice(rng, 32*1024), randSlice(rng, 32)
	y := make([]float32, len(z))
	b.SetBytes(4 * int64(len(z)))
	for b.Loop() {
		BiasReLU(y, z, bias)
	}
}

func TestClamp(t *testing.T) { forEachLoops(t, testClamp) }

// testClamp checks Clamp bit for bit against Go's min and max, NaN, -0
// and the infinities included, in place and not, on lengths around the
// vector loops' 16 and 64.
func testClamp(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{0, 1, 15, 16, 17, 63, 64, 65, 130, 1000} {
		z := special(rng, n)
		if n > 5 {
			z[5] = float32(math.NaN())
		}
		for _, hi := range []float32{6, 0.5, float32(math.Inf(1))} {
			got := make([]float32, n)
			Clamp(got, z, hi)
			inPlace := append([]float32(nil), z...)
			Clamp(inPlace, inPlace, hi)
			for i, v := range z {
				want := min(max(v, 0), hi)
				if math.Float32bits(got[i]) != math.Float32bits(want) && !(isNaN(got[i]) && isNaN(want)) ||
					math.Float32bits(inPlace[i]) != math.Float32bits(got[i]) && !(isNaN(got[i]) && isNaN(inPlace[i])) {
					t.Fatalf("Clamp n=%d hi=%v [%d]: %v gives %v (in place %v), want %v", n, hi, i, v, got[i], inPlace[i], want)
				}
			}
		}
	}
}

// TestClampGrad checks ClampGrad against the comparison it stands for, on
// zeros of both signs, infinities, values at and around hi, and NaN.
func TestClampGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, hi := range []float32{6, 0.5, 1e-30, math.MaxFloat32} {
		y := special(rng, 200)
		y[1], y[2], y[4] = hi, math.Nextafter32(hi, 0), math.Nextafter32(hi, float32(math.Inf(1)))
		y[5] = float32(math.NaN())
		dy := randSlice(rng, len(y))
		dz := make([]float32, len(y))
		ClampGrad(dz, dy, y, hi)
		inPlace := append([]float32(nil), dy...)
		ClampGrad(inPlace, inPlace, y, hi)
		for i, v := range y {
			want := float32(0)
			if v > 0 && v < hi {
				want = dy[i]
			}
			if dz[i] != want || inPlace[i] != want {
				t.Fatalf("ClampGrad hi=%v: y=%v dy=%v gives %v (in place %v), want %v", hi, v, dy[i], dz[i], inPlace[i], want)
			}
		}
	}
}
