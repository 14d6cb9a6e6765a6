package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// bf16ConvCase is a convolution case of values that bfloat16 holds
// exactly: with bfloat16 on, every operation must then match the float64
// reference as closely as in float32.
func bf16ConvCase(g ConvGeom, f, n int, rng *rand.Rand) *convCase {
	r := func(n int) []float32 { return roundBF16(randSlice(rng, n)) }
	return convCaseOf(g, f, n, r(n*g.H*g.W*g.C), r(g.ColWidth()*f), r(n*g.OH*g.OW*f))
}

// TestConvBF16MatchesReference runs every strategy of every geometry of
// the float32 test, over even and odd numbers of channels, with bfloat16
// on, on each path of the tiles on pairs.
func TestConvBF16MatchesReference(t *testing.T) {
	defer func(v int) { parallelConvFlops = v }(parallelConvFlops)
	parallelConvFlops = 0
	defer func(v int) { unpackedCells = v }(unpackedCells)
	rng := rand.New(rand.NewPCG(13, 14))
	var gs []ConvGeom
	for _, g := range geoms() {
		gs = append(gs, g)
		g.C *= 2 // 2 and 6 channels: pairs
		gs = append(gs, g)
	}
	impls := bf16Impls()
	if gemmRace {
		// A third of the geometries on the fastest path: the parallel code
		// is the same for all, and the runs without the race detector check
		// every one on every path.
		impls = impls[len(impls)-1:]
	}
	for gi, g := range gs {
		if gemmRace && gi%3 != 0 {
			continue
		}
		for _, f := range []int{1, 37, 32} {
			cc := bf16ConvCase(g, f, []int{1, 2, 10}[gi%3], rng)
			for _, cells := range []int{0, 1 << 30} {
				unpackedCells = cells
				if f != 32 && cells > 0 {
					continue
				}
				for _, o := range strategies(&g) {
					for _, impl := range impls {
						c := newConv(g, f, o)
						c.setBF16(true, impl)
						if g.C%2 == 0 && c.direct != nil && c.half == nil {
							t.Fatalf("%+v F=%d %+v: no convolution on pairs", g, f, o)
						}
						checkConv(t, fmt.Sprintf("bf16 %+v F=%d %+v %s unpacked=%v", g, f, o, impl.name, cells > 0), c, cc)
					}
				}
			}
		}
	}
	if gemmRace {
		return
	}
	// Several blocks of the sizes the plans choose, on the fastest path (the
	// Go one where there is no assembly), as the float32 test runs them.
	impl := impls[len(impls)-1]
	for _, g := range bigGeoms() {
		cc := bf16ConvCase(g, 8, 2, rng)
		for _, o := range strategies(&g) {
			if o.block == 1 || o.block == 5 {
				continue
			}
			c := newConv(g, 8, o)
			c.setBF16(true, impl)
			checkConv(t, fmt.Sprintf("bf16 %+v F=8 %+v %s", g, o, impl.name), c, cc)
		}
	}
}

// TestConvBF16Rounds checks that bfloat16 is used: values that bfloat16
// rounds give the convolution of the rounded values, not of the values.
func TestConvBF16Rounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, g := range []ConvGeom{geom(12, 12, 8, 3, 3, 1, 1, true), geom(10, 10, 4, 1, 1, 1, 1, true), geom(3, 3, 4, 1, 1, 1, 1, true), geom(9, 9, 6, 3, 3, 2, 2, false)} {
		const n, f = 3, 40
		x, w := randSlice(rng, n*g.H*g.W*g.C), randSlice(rng, g.ColWidth()*f)
		dz := randSlice(rng, n*g.OH*g.OW*f)
		exact := convCaseOf(g, f, n, x, w, dz)
		rounded := convCaseOf(g, f, n, roundBF16(x), roundBF16(w), roundBF16(dz))
		for _, impl := range bf16Impls() {
			c := NewConv(g, f)
			c.setBF16(true, impl)
			z, dx, dw := make([]float32, len(dz)), make([]float32, len(x)), make([]float32, len(w))
			c.Forward(z, x, w, n, ConvEpilogue{}, nil)
			c.BackwardData(dx, dz, w, n)
			c.BackwardFilter(dw, nil, x, dz, n, nil)
			for _, r := range []struct {
				what       string
				got        []float32
				want, away []float64
			}{{"Forward", z, rounded.z, exact.z}, {"BackwardData", dx, rounded.dx, exact.dx}, {"BackwardFilter", dw, rounded.dw, exact.dw}} {
				var near, far float64
				for i, v := range r.got {
					near = max(near, math.Abs(float64(v)-r.want[i]))
					far = max(far, math.Abs(float64(v)-r.away[i]))
				}
				if near > 1e-4 || far < 1e-3 {
					t.Errorf("%s %+v: %s is %g from the convolution of the values rounded to bfloat16 and %g from that of the values; want under 1e-4 and over 1e-3", impl.name, g, r.what, near, far)
				}
			}
		}
	}
}

// TestConvBF16SameResultAnyGOMAXPROCS: with bfloat16 on, the same bits
// whatever the number of cores.
func TestConvBF16SameResultAnyGOMAXPROCS(t *testing.T) {
	checkConvAnyGOMAXPROCS(t, []ConvGeom{geom(20, 20, 16, 5, 5, 1, 1, true), geom(13, 13, 4, 3, 3, 2, 2, true), geom(9, 9, 16, 1, 1, 1, 1, false)}, true)
}

// TestConvBF16Kernel checks that the kernel converted to pairs follows
// the kernel: kept while KeepPacked promises it unchanged, converted again
// after, and that SetBF16(false) goes back to float32.
func TestConvBF16Kernel(t *testing.T) {
	g := geom(8, 8, 4, 3, 3, 1, 1, true)
	const n, f = 2, 32
	rng := rand.New(rand.NewPCG(17, 18))
	x, w := roundBF16(randSlice(rng, n*g.H*g.W*g.C)), roundBF16(randSlice(rng, g.ColWidth()*f))
	c := NewConv(g, f)
	c.SetBF16(true)
	c.KeepPacked(true)
	z := make([]float32, n*g.OH*g.OW*f)
	check := func(what string, w []float32) {
		t.Helper()
		c.Forward(z, x, w, n, ConvEpilogue{}, nil)
		want := convCaseOf(g, f, n, x, w, make([]float32, len(z))).z
		for i, v := range want {
			if math.Abs(float64(z[i])-v) > 1e-4 {
				t.Fatalf("%s: z[%d] = %g, want %g", what, i, z[i], v)
			}
		}
	}
	check("kept", w)
	check("kept, again", w)
	check("kept, another kernel", roundBF16(randSlice(rng, len(w))))
	check("kept, the first again", w)
	c.KeepPacked(false)
	w2 := roundBF16(randSlice(rng, len(w)))
	copy(w, w2)
	check("changed after KeepPacked(false)", w)
	copy(w, roundBF16(randSlice(rng, len(w))))
	check("changed again", w)

	c.SetBF16(false)
	x[0] = 1 + 1.0/1024 // rounded away in bfloat16
	check("float32 again", w)
}
