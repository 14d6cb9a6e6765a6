package model

import (
	"context"
	"testing"
	"time"
)

// TestPoolStats holds the copies of a two-worker classifier busy one by
// one, then makes a third call wait, and reads the pool's use at each step.
func TestPoolStats(t *testing.T) {
	c, err := NewClassifier(classifierModel(t), ClassifierOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string, want PoolStats) {
		t.Helper()
		// A call that has just started waiting may not be counted yet.
		deadline := time.Now().Add(5 * time.Second)
		got := c.PoolStats()
		for got != want && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
			got = c.PoolStats()
		}
		if got != want {
			t.Errorf("%s: PoolStats() = %+v, want %+v", step, got, want)
		}
	}
	check("idle", PoolStats{Size: 2, Copies: 1})

	hold := func() (release func()) {
		started, done := make(chan struct{}), make(chan struct{})
		go c.run(context.Background(), func(*Sequential) { close(started); <-done })
		<-started
		return func() { close(done) }
	}
	release1 := hold()
	check("one batch", PoolStats{Size: 2, Copies: 1, Busy: 1})
	release2 := hold()
	check("two batches", PoolStats{Size: 2, Copies: 2, Busy: 2})

	ctx, cancel := context.WithCancel(context.Background())
	waited := make(chan error)
	go func() { waited <- c.run(ctx, func(*Sequential) {}) }()
	check("a third call waits", PoolStats{Size: 2, Copies: 2, Busy: 2, Waiting: 1})
	cancel()
	if err := <-waited; err == nil {
		t.Error("the waiting call ran after its context was cancelled")
	}
	check("the wait cancelled", PoolStats{Size: 2, Copies: 2, Busy: 2})

	release1()
	release2()
	check("released", PoolStats{Size: 2, Copies: 2})
}

// TestClassifierMaxMemory checks that MaxMemory lowers the copies first,
// then the batch, and that the classifier still classifies within it.
func TestClassifierMaxMemory(t *testing.T) {
	need := classifierModel(t).ActivationBytes(1)
	tests := []struct {
		budget                 int64
		workers, batch         int
		wantWorkers, wantBatch int
	}{
		{0, 4, 64, 4, 64},                // no bound
		{1000 * need, 4, 64, 4, 64},      // everything fits
		{10 * need, 2, 64, 2, 5},         // two copies of five images
		{10*need + need - 1, 2, 8, 2, 5}, // a part of an image does not count
		{3 * need, 4, 64, 3, 1},          // three copies of one image
		{need / 2, 4, 64, 1, 1},          // at least one image on one copy
	}
	for _, tt := range tests {
		c, err := NewClassifier(classifierModel(t), ClassifierOptions{Workers: tt.workers, BatchSize: tt.batch, MaxMemory: tt.budget})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.PoolStats().Size; got != tt.wantWorkers || c.opts.BatchSize != tt.wantBatch {
			t.Errorf("MaxMemory %d (%.1f images), Workers %d, BatchSize %d: got %d copies of %d images, want %d of %d",
				tt.budget, float64(tt.budget)/float64(need), tt.workers, tt.batch, got, c.opts.BatchSize, tt.wantWorkers, tt.wantBatch)
		}
		rs, err := c.ClassifyPixels(context.Background(), randomImages(7, 1), 1)
		if err != nil || len(rs) != 7 {
			t.Errorf("MaxMemory %d: ClassifyPixels() = %d results, %v; want 7", tt.budget, len(rs), err)
		}
	}
}
