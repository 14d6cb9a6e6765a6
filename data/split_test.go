package data

import (
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// toyDataset returns n 1x1x1 images whose pixel is the image's index, with
// labels i % classes.
func toyDataset(n, classes int) *Dataset {
	x := tensor.New(n, 1, 1, 1)
	y := make([]int, n)
	for i := range n {
		x.Data[i] = float32(i)
		y[i] = i % classes
	}
	names := make([]string, classes)
	for i := range names {
		names[i] = string(rune('a' + i))
	}
	return &Dataset{X: x, Y: y, ClassNames: names}
}

// ids returns the original indices of a toy dataset's images.
func ids(d *Dataset) []int {
	out := make([]int, d.Len())
	for i := range out {
		out[i] = int(d.X.Data[i])
	}
	return out
}

func checkPartition(t *testing.T, name string, n int, train, val *Dataset) {
	t.Helper()
	seen := make([]int, n)
	for _, d := range []*Dataset{train, val} {
		prev := -1
		for i, id := range ids(d) {
			seen[id]++
			if id <= prev {
				t.Fatalf("%s: not in the dataset's order at %d", name, i)
			}
			prev = id
			if d.Y[i] != id%len(d.ClassNames) {
				t.Fatalf("%s: image %d has label %d, want %d", name, id, d.Y[i], id%len(d.ClassNames))
			}
		}
	}
	for id, k := range seen {
		if k != 1 {
			t.Fatalf("%s: image %d appears %d times, want once", name, id, k)
		}
	}
}

func TestSplits(t *testing.T) {
	d := toyDataset(100, 4)
	train, val, err := SplitRandom(d, 0.2, 1)
	if err != nil || val.Len() != 20 || train.Len() != 80 {
		t.Fatalf("SplitRandom(0.2) = %d, %d, %v; want 80, 20", train.Len(), val.Len(), err)
	}
	checkPartition(t, "SplitRandom", 100, train, val)
	_, val2, _ := SplitRandom(d, 0.2, 1)
	_, val3, _ := SplitRandom(d, 0.2, 2)
	if !equalInts(ids(val), ids(val2)) || equalInts(ids(val), ids(val3)) {
		t.Errorf("SplitRandom: seed 1 twice gives %v and %v, seed 2 gives %v", ids(val), ids(val2), ids(val3))
	}

	train, val, err = SplitStratified(toyDataset(103, 4), 0.2, 1)
	if err != nil {
		t.Fatal(err)
	}
	checkPartition(t, "SplitStratified", 103, train, val)
	// Classes of 26, 26, 26, 25 images: 5 of each held out.
	for k, n := range val.ClassCounts() {
		if n != 5 {
			t.Errorf("SplitStratified: class %d has %d validation images, want 5", k, n)
		}
	}

	// Classes of 2, 2, 1, 1, 1 images and half held out: one image of each
	// class of two, none of the classes of one, which stay in training.
	train, val, err = SplitStratified(toyDataset(7, 5), 0.5, 1)
	if err != nil {
		t.Fatal(err)
	}
	checkPartition(t, "SplitStratified", 7, train, val)
	if got, want := val.ClassCounts(), []int{1, 1, 0, 0, 0}; !equalInts(got, want) {
		t.Errorf("SplitStratified of tiny classes: validation counts %v, want %v", got, want)
	}
	if got, want := train.ClassCounts(), []int{1, 1, 1, 1, 1}; !equalInts(got, want) {
		t.Errorf("SplitStratified of tiny classes: training counts %v, want %v", got, want)
	}

	train, val, err = SplitBlocks(toyDataset(100, 4), 10, 3, 1)
	if err != nil || val.Len() != 30 {
		t.Fatalf("SplitBlocks(10, 3) = %d, %v; want 30 validation images", val.Len(), err)
	}
	checkPartition(t, "SplitBlocks", 100, train, val)
	for _, id := range ids(val) {
		if !contains(ids(val), id/10*10) || !contains(ids(val), id/10*10+9) {
			t.Fatalf("SplitBlocks: block of image %d is not whole in validation: %v", id, ids(val))
		}
	}

	for _, c := range []struct {
		name string
		err  error
	}{
		{"frac 0", second(SplitRandom(d, 0, 1))},
		{"frac 1", second(SplitRandom(d, 1, 1))},
		{"frac tiny", second(SplitStratified(d, 0.001, 1))},
		{"no blocks", second(SplitBlocks(d, 10, 0, 1))},
		{"all blocks", second(SplitBlocks(d, 10, 10, 1))},
		{"block size", second(SplitBlocks(d, 0, 1, 1))},
	} {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	// A block as large as the largest int is one block, not -1.
	if _, _, err := SplitBlocks(d, math.MaxInt, 1, 1); err == nil || !strings.Contains(err.Error(), "make 1 block(s): want at least 2") {
		t.Errorf("SplitBlocks of one huge block: %v, want that it makes 1 block", err)
	}

	s := Shuffle(d, 7)
	if equalInts(ids(s), ids(d)) || !equalInts(ids(Shuffle(d, 7)), ids(s)) {
		t.Errorf("Shuffle(seed 7) did not shuffle, or not reproducibly")
	}
}

func second(_, _ *Dataset, err error) error { return err }

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// TestAHCDWriterBlocks documents the layout SplitBlocks relies on: in the
// training set each block of 224 rows is one writer. Writers differ in how
// much ink they use, so the block a row belongs to explains much of the
// variance of its ink; blocks shifted by half a block explain less.
func TestAHCDWriterBlocks(t *testing.T) {
	train, _ := loadRealAHCD(t)
	ink := make([]float64, train.Len())
	for i := range ink {
		for _, v := range train.Image(i) {
			if v > 127 {
				ink[i]++
			}
		}
	}
	aligned := explained(ink, AHCDBlockSize, 0)
	shifted := explained(ink, AHCDBlockSize, AHCDBlockSize/2)
	if aligned < 0.4 || aligned < shifted+0.05 {
		t.Errorf("ink variance explained by 224-row blocks: %.3f aligned, %.3f shifted by 112; want aligned >= 0.4 and clearly above", aligned, shifted)
	}
}

// explained returns the share of v's variance explained by the means of
// blocks of size b starting at offset -off.
func explained(v []float64, b, off int) float64 {
	var mean float64
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	sums := map[int]float64{}
	counts := map[int]float64{}
	var total float64
	for i, x := range v {
		g := (i + off) / b
		sums[g] += x
		counts[g]++
		total += (x - mean) * (x - mean)
	}
	var between float64
	for g, s := range sums {
		m := s / counts[g]
		between += counts[g] * (m - mean) * (m - mean)
	}
	return between / total
}
