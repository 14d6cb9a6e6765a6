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
