package data

import (
	"context"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data/augment"
	"github.com/convnet-go/convnet/tensor"
)

// patternDataset returns n images of 8x8x1 with varied content and labels
// i % 3.
func patternDataset(n int) *Dataset {
	x := tensor.New(n, 8, 8, 1)
	for i := range x.Data {
		x.Data[i] = float32((i * 7919) % 256)
	}
	y := make([]int, n)
	for i := range y {
		y[i] = i % 3
	}
	return &Dataset{X: x, Y: y, ClassNames: []string{"a", "b", "c"}}
}

// collect runs one epoch and returns copies of its batches.
func collect(l *Loader, epoch int) []*Batch {
	var out []*Batch
	for b := range l.Epoch(epoch) {
		out = append(out, &Batch{X: b.X.Clone(), Y: b.Y.Clone(), Labels: append([]int(nil), b.Labels...),
			Indices: append([]int(nil), b.Indices...), Epoch: b.Epoch, Step: b.Step, Mixing: b.Mixing})
	}
	return out
}

func TestLoaderBatches(t *testing.T) {
	ds := patternDataset(10)
	std := &Standardizer{Rescale: 0.5}
	l := NewLoader(ds, LoaderOptions{BatchSize: 4, Standardizer: std})
	defer l.Close()
	if l.Len() != 3 {
		t.Fatalf("Len() = %d, want 3", l.Len())
	}
	batches := collect(l, 0)
	if len(batches) != 3 {
		t.Fatalf("epoch has %d batches, want 3", len(batches))
	}
	for s, b := range batches {
		want := min(4, 10-4*s)
		if b.X.Shape[0] != want || b.Y.Shape[0] != want || len(b.Labels) != want || b.Step != s {
			t.Fatalf("batch %d: shapes %v %v, %d labels, step %d; want %d images", s, b.X.Shape, b.Y.Shape, len(b.Labels), b.Step, want)
		}
		for i, idx := range b.Indices {
			if idx != 4*s+i {
				t.Fatalf("batch %d: Indices = %v, want the dataset's order without shuffling", s, b.Indices)
			}
			if b.Labels[i] != ds.Y[idx] || b.Y.Data[i*3+ds.Y[idx]] != 1 {
				t.Fatalf("batch %d image %d: label %d, one-hot %v; want %d", s, i, b.Labels[i], b.Y.Data[i*3:i*3+3], ds.Y[idx])
			}
			for p, v := range b.X.Data[i*64 : (i+1)*64] {
				if want := ds.Image(idx)[p] * 0.5; v != want {
					t.Fatalf("batch %d image %d pixel %d = %v, want %v (rescaled)", s, i, p, v, want)
				}
			}
		}
	}
	l2 := NewLoader(ds, LoaderOptions{BatchSize: 4, DropLast: true})
	defer l2.Close()
	if n := len(collect(l2, 0)); n != 2 || l2.Len() != 2 {
		t.Errorf("DropLast: %d batches, Len() = %d, want 2", n, l2.Len())
	}
}

func TestLoaderShuffle(t *testing.T) {
	ds := patternDataset(50)
	l := NewLoader(ds, LoaderOptions{BatchSize: 7, Shuffle: true, Seed: 3})
	defer l.Close()
	order := func(epoch int) []int {
		var idx []int
		for _, b := range collect(l, epoch) {
			idx = append(idx, b.Indices...)
		}
		return idx
	}
	e0, e1, e0again := order(0), order(1), order(0)
	seen := make([]bool, 50)
	for _, i := range e0 {
		seen[i] = true
	}
	for i, ok := range seen {
		if !ok {
			t.Fatalf("epoch 0 misses image %d", i)
		}
	}
	if equalInts(e0, e1) {
		t.Errorf("epochs 0 and 1 have the same order")
	}
	if !equalInts(e0, e0again) {
		t.Errorf("epoch 0 twice: different orders")
	}
}

// TestLoaderDeterministic checks that the batches depend on the seed and
// epoch only, not on the number of workers or how far a previous epoch ran.
func TestLoaderDeterministic(t *testing.T) {
	ds := patternDataset(37)
	aug := &augment.Config{RotationRange: 20, WidthShiftRange: 0.1, ZoomRange: augment.ZoomRangeOf(0.2), HorizontalFlip: true}
	run := func(workers, prefetch int, breakEarly bool) []*Batch {
		l := NewLoader(ds, LoaderOptions{BatchSize: 5, Shuffle: true, Seed: 11, Augment: aug, Workers: workers, Prefetch: prefetch})
		defer l.Close()
		if breakEarly {
			for range l.Epoch(0) {
				break
			}
		}
		return collect(l, 2)
	}
	want := run(1, 1, false)
	for _, c := range []struct {
		workers, prefetch int
		breakEarly        bool
	}{{4, 2, false}, {4, 8, true}, {2, 1, true}} {
		got := run(c.workers, c.prefetch, c.breakEarly)
		if len(got) != len(want) {
			t.Fatalf("workers=%d: %d batches, want %d", c.workers, len(got), len(want))
		}
		for s := range got {
			if !equalInts(got[s].Indices, want[s].Indices) || !equalFloats(got[s].X.Data, want[s].X.Data) {
				t.Fatalf("workers=%d prefetch=%d: batch %d differs from the one-worker run", c.workers, c.prefetch, s)
			}
		}
	}
	// Augmentation did change the images.
	same := true
	for i, idx := range want[0].Indices {
		if !equalFloats(want[0].X.Data[i*64:(i+1)*64], ds.Image(idx)) {
			same = false
		}
	}
	if same {
		t.Errorf("augmented batch equals the source images")
	}
}

// TestLoaderMix checks the mixing of batches: after the standardizer, as
// each batch's Mixing says, the same whatever the number of workers, with
// the labels left as they were.
func TestLoaderMix(t *testing.T) {
	ds := patternDataset(23)
	std := &Standardizer{Rescale: 1.0 / 255}
	opts := LoaderOptions{BatchSize: 6, Shuffle: true, Seed: 5, Standardizer: std, Mix: augment.Mix{MixUp: 0.4, CutMix: 1}}
	mixed := collect(NewLoader(ds, opts), 1)
	opts.Workers = 3
	again := collect(NewLoader(ds, opts), 1)
	opts.Mix, opts.Workers = augment.Mix{}, 1
	plain := collect(NewLoader(ds, opts), 1)
	kinds := map[bool]int{}
	for s, b := range mixed {
		p := plain[s]
		if !equalInts(b.Indices, p.Indices) || !equalInts(b.Labels, p.Labels) {
			t.Fatalf("batch %d: mixing changed the images chosen or their labels", s)
		}
		if !equalFloats(b.X.Data, again[s].X.Data) || !equalFloats(b.Y.Data, again[s].Y.Data) || b.Mixing != again[s].Mixing {
			t.Fatalf("batch %d: 1 and 3 workers mix differently", s)
		}
		n := len(b.Indices)
		b.Mixing.Apply(p.X.Data, p.Y.Data, n, 8, 8, 1, 3, nil)
		if !equalFloats(b.X.Data, p.X.Data) || !equalFloats(b.Y.Data, p.Y.Data) {
			t.Fatalf("batch %d: not the standardized batch mixed as %+v", s, b.Mixing)
		}
		for i := range n {
			var sum float32
			for _, v := range b.Y.Data[i*3 : i*3+3] {
				sum += v
			}
			if sum < 0.9999 || sum > 1.0001 {
				t.Errorf("batch %d target %d sums to %v", s, i, sum)
			}
		}
		kinds[b.Mixing.CutMix]++
	}
	if kinds[true] == 0 || kinds[false] == 0 {
		t.Errorf("MixUp and CutMix on: %d CutMix and %d MixUp batches, want both", kinds[true], kinds[false])
	}
}

func TestLoaderNextAndStop(t *testing.T) {
	ds := patternDataset(9)
	l := NewLoader(ds, LoaderOptions{BatchSize: 2, Workers: 2})
	if _, ok := l.Next(); ok {
		t.Errorf("Next before Start returned a batch")
	}
	l.Start(0)
	n := 0
	for {
		b, ok := l.Next()
		if !ok {
			break
		}
		if b.Step != n {
			t.Fatalf("Next returned step %d, want %d", b.Step, n)
		}
		n++
	}
	if n != 5 {
		t.Errorf("Next gave %d batches, want 5", n)
	}
	l.Start(1)
	l.Next()
	l.Close()
	l.Close()
	if _, ok := l.Next(); ok {
		t.Errorf("Next after Close returned a batch")
	}
}

// BenchmarkLoaderEpoch runs one augmented epoch of 13,440 32x32x1 images in
// batches of 64 with two workers.
func BenchmarkLoaderEpoch(b *testing.B) {
	x := tensor.New(13440, 32, 32, 1)
	for i := range x.Data {
		x.Data[i] = float32(i % 256)
	}
	ds := &Dataset{X: x, Y: make([]int, 13440), ClassNames: AHCDClassNames()}
	aug := &augment.Config{RotationRange: 10, WidthShiftRange: 0.1, HeightShiftRange: 0.1, ZoomRange: augment.ZoomRangeOf(0.1)}
	l := NewLoader(ds, LoaderOptions{BatchSize: 64, Shuffle: true, Augment: aug, Standardizer: &Standardizer{Rescale: 1.0 / 255}, Workers: 2})
	defer l.Close()
	epoch := 0
	for b.Loop() {
		for range l.Epoch(epoch) {
		}
		epoch++
	}
}

// TestLoaderUnlabelled runs a loader over the images of a CSV file read
// with NoLabels, as one predicting a Kaggle test set would: their labels are
// -1, their targets zeros, and neither stops the loader's workers.
func TestLoaderUnlabelled(t *testing.T) {
	ds, err := ReadCSV(context.Background(), "test.csv", strings.NewReader("1,2,3,4\n5,6,7,8\n9,10,11,12\n"), CSVOptions{NoLabels: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, mix := range []augment.Mix{{}, {MixUp: 0.2}} {
		l := NewLoader(ds, LoaderOptions{BatchSize: 2, NumClasses: 3, Mix: mix})
		images := 0
		for b := range l.Epoch(0) {
			for i, y := range b.Labels {
				if y != -1 {
					t.Errorf("Mix %+v: label %d, want -1", mix, y)
				}
				for _, v := range b.Y.Data[i*3 : (i+1)*3] {
					if v != 0 {
						t.Errorf("Mix %+v: target %v, want zeros", mix, b.Y.Data[i*3:(i+1)*3])
					}
				}
			}
			images += b.X.Shape[0]
		}
		l.Close()
		if images != 3 {
			t.Errorf("Mix %+v: %d images, want 3", mix, images)
		}
	}
	if c := ds.ClassCounts(); len(c) != 0 {
		t.Errorf("ClassCounts() = %v, want none", c)
	}
	if _, _, err := SplitStratified(ds, 0.5, 1); err == nil || !strings.Contains(err.Error(), "image 1 has no label") {
		t.Errorf("SplitStratified of unlabelled images: error %v, want image 1 has no label", err)
	}
}
