package kernels

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// TestConvSharePacked: convolutions sharing a packing compute what one
// alone does, read one packed copy of the kernel, run at the same time
// (under -race, an unguarded write to it would show), and after a drop
// pack again into a new buffer, leaving the old one as it was for whoever
// still reads it.
func TestConvSharePacked(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	g := geom(7, 7, 8, 3, 3, 1, 1, true)
	const f, n = 40, 2
	x, w := randSlice(rng, n*g.H*g.W*g.C), randSlice(rng, g.ColWidth()*f)
	forward := func(c *Conv) []float32 {
		z := make([]float32, n*g.OH*g.OW*f)
		c.Forward(z, x, w, n, ConvEpilogue{}, nil)
		return z
	}
	want := forward(NewConv(g, f))
	src := NewConv(g, f)
	src.KeepPacked(true)
	copies := make([]*Conv, 4)
	for i := range copies {
		copies[i] = NewConv(g, f)
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
	packed := src.kept.data
	if z := forward(src); !slices.Equal(z, want) {
		t.Fatal("source: differs from an unshared convolution")
	}
	for i, c := range copies {
		if c.kept != src.kept {
			t.Errorf("copy %d keeps its own packing", i)
		}
	}
	old := slices.Clone(packed)
	for i := range w {
		w[i] = -w[i]
	}
	copies[0].KeepPacked(false) // the kernel changed: every sharer packs again
	neg := forward(NewConv(g, f))
	if z := forward(copies[1]); !slices.Equal(z, neg) {
		t.Error("after a drop, a sharer used the old packing")
	}
	if &src.kept.data[0] == &packed[0] || !slices.Equal(packed, old) {
		t.Error("after a drop, the packing was rewritten in place while shared")
	}
	defer func() {
		if recover() == nil {
			t.Error("SharePacked with another geometry did not panic")
		}
	}()
	NewConv(geom(7, 7, 8, 3, 3, 1, 1, false), f).SharePacked(src)
}
