package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// TestConvSharePacked: convolutions sharing a packing compute what one
// alone does, read one packed copy of the kernel, run at the same time
// (under -race, an unguarded write to it would show), and after a drop
// pack again into a new buffer, leaving the old one as it was for whoever
// still reads it; in bfloat16, the kernel's pairs and their packing alike.
func TestConvSharePacked(t *testing.T) {
	for _, bf16 := range []bool{false, true} {
		t.Run(map[bool]string{false: "float32", true: "bfloat16"}[bf16], func(t *testing.T) { testConvSharePacked(t, bf16) })
	}
}

func testConvSharePacked(t *testing.T, bf16 bool) {
	rng := rand.New(rand.NewPCG(19, 20))
	g := geom(7, 7, 8, 3, 3, 1, 1, true)
	const f, n = 40, 2
	x, w := randSlice(rng, n*g.H*g.W*g.C), randSlice(rng, g.ColWidth()*f)
	forward := func(c *Conv) []float32 {
		z := make([]float32, n*g.OH*g.OW*f)
		c.Forward(z, x, w, n, ConvEpilogue{}, nil)
		return z
	}
	newConv := func() *Conv {
		c := NewConv(g, f)
		c.SetBF16(bf16)
		return c
	}
	// What the tiles read: the packed kernel, in bfloat16 that of its pairs.
	kept := func(c *Conv) *packing {
		if bf16 {
			return c.half.kept
		}
		return c.kept
	}
	want := forward(newConv())
	src := newConv()
	src.KeepPacked(true)
	copies := make([]*Conv, 4)
	for i := range copies {
		copies[i] = newConv()
		copies[i].KeepPacked(true)
		copies[i].SharePacked(src)
	}
	var wg sync.WaitGroup
	got := make([][]float32, len(copies))
	for i, c := range copies {
		wg.Go(func() { got[i] = forward(c) })
	}
	wg.Wait()
	for i, z := range got {
		if !slices.Equal(z, want) {
			t.Fatalf("copy %d: differs from an unshared convolution", i)
		}
	}
	packed := kept(src).data
	if z := forward(src); !slices.Equal(z, want) {
		t.Fatal("source: differs from an unshared convolution")
	}
	for i, c := range copies {
		if kept(c) != kept(src) || c.pairs != src.pairs {
			t.Errorf("copy %d keeps its own packing", i)
		}
	}
	old := slices.Clone(packed)
	for i := range w {
		w[i] = -w[i]
	}
	copies[0].KeepPacked(false) // the kernel changed: every sharer packs again
	neg := forward(newConv())
	if z := forward(copies[1]); !slices.Equal(z, neg) {
		t.Error("after a drop, a sharer used the old packing")
	}
	if &kept(src).data[0] == &packed[0] || !slices.Equal(packed, old) {
		t.Error("after a drop, the packing was rewritten in place while shared")
	}
	defer func() {
		if recover() == nil {
			t.Error("SharePacked with another geometry did not panic")
		}
	}()
	NewConv(geom(7, 7, 8, 3, 3, 1, 1, false), f).SharePacked(src)
}

// A kept kernel is packed once: later calls with the same slice use the
// packing even after the values change (the caller promised they would
// not), a different slice or KeepPacked(false) packs again.
func TestConvKeepPacked(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, g := range []ConvGeom{geom(7, 7, 8, 3, 3, 1, 1, true), geom(9, 9, 16, 1, 1, 1, 1, false)} {
		const f = 40
		x, w := randSlice(rng, g.H*g.W*g.C), randSlice(rng, g.ColWidth()*f)
		w2 := randSlice(rng, len(w))
		out := g.OH * g.OW * f
		forward := func(c *Conv, w []float32) []float32 {
			z := make([]float32, out)
			c.Forward(z, x, w, 1, ConvEpilogue{}, nil)
			return z
		}
		for _, impl := range gemmImpls {
			name := fmt.Sprintf("%+v %s", g, impl.name)
			ref := newConv(g, f, convOptions{tiles: impl.tiles})
			want, want2 := forward(ref, w), forward(ref, w2)
			c := newConv(g, f, convOptions{tiles: impl.tiles})
			c.KeepPacked(true)
			if z := forward(c, w); !slices.Equal(z, want) {
				t.Fatalf("%s: kept, first call differs from the unkept", name)
			}
			saved := slices.Clone(w)
			copy(w, w2)
			if z := forward(c, w); !slices.Equal(z, want) {
				t.Errorf("%s: kept, the kernel was packed again", name)
			}
			if z := forward(c, slices.Clone(w)); !slices.Equal(z, want2) {
				t.Errorf("%s: kept, another kernel slice used the old packing", name)
			}
			copy(w, saved)
			c.KeepPacked(false)
			if z := forward(c, w); !slices.Equal(z, want) {
				t.Errorf("%s: after KeepPacked(false), the old packing was used", name)
			}
		}
	}
}

// A kept kernel is flipped once for the input gradient, as it is packed
// once for the forward pass: later calls with the same slice use the flip
// even after the values change, a different slice or KeepPacked(false)
// flips again.
func TestConvKeepFlipped(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	g := geom(7, 7, 8, 3, 3, 1, 1, true)
	const f = 40
	dz, w := randSlice(rng, g.OH*g.OW*f), randSlice(rng, g.ColWidth()*f)
	w2 := randSlice(rng, len(w))
	data := func(c *Conv, w []float32) []float32 {
		dx := make([]float32, g.H*g.W*g.C)
		c.BackwardData(dx, dz, w, 1)
		return dx
	}
	for _, impl := range gemmImpls {
		opts := convOptions{flip: true, tiles: impl.tiles}
		ref := newConv(g, f, opts)
		if ref.data == nil {
			t.Fatalf("%s: the input gradient is not a convolution", impl.name)
		}
		want, want2 := data(ref, w), data(ref, w2)
		c := newConv(g, f, opts)
		c.KeepPacked(true)
		if dx := data(c, w); !slices.Equal(dx, want) {
			t.Fatalf("%s: kept, first call differs from the unkept", impl.name)
		}
		saved := slices.Clone(w)
		copy(w, w2)
		if dx := data(c, w); !slices.Equal(dx, want) {
			t.Errorf("%s: kept, the kernel was flipped again", impl.name)
		}
		if dx := data(c, slices.Clone(w)); !slices.Equal(dx, want2) {
			t.Errorf("%s: kept, another kernel slice used the old flip", impl.name)
		}
		if dx := data(c, w); !slices.Equal(dx, want2) {
			t.Errorf("%s: kept, the first slice again used the other's flip", impl.name)
		}
		copy(w, saved)
		c.KeepPacked(false)
		if dx := data(c, w); !slices.Equal(dx, want) {
			t.Errorf("%s: after KeepPacked(false), the old flip was used", impl.name)
		}
		copy(w, w2)
		if dx := data(c, w); !slices.Equal(dx, want2) {
			t.Errorf("%s: not kept, the kernel was not flipped again", impl.name)
		}
	}
}
