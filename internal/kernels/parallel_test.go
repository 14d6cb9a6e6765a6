package kernels

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestParallelForConcurrent makes calls from several goroutines at once, over
// and over, so that helpers meet jobs reused by later calls: every call must
// still run each of its items once, on distinct workers below its bound.
func TestParallelForConcurrent(t *testing.T) {
	old := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(old)
	var wg sync.WaitGroup
	var bad atomic.Int64
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range 300 {
				n, maxW := 1+(r+c)%9, 1+r%4
				counts := make([]atomic.Int32, n)
				busy := make([]atomic.Bool, maxW)
				ParallelFor(n, maxW, func(w, i int) {
					if w < 0 || w >= maxW || busy[w].Swap(true) {
						bad.Add(1)
						return
					}
					counts[i].Add(1)
					for range 100 * (i%3 + 1) {
						runtime.Gosched()
					}
					busy[w].Store(false)
				})
				for i := range counts {
					if counts[i].Load() != 1 {
						bad.Add(1)
					}
				}
			}
		}()
	}
	wg.Wait()
	if b := bad.Load(); b != 0 {
		t.Errorf("%d items ran on a shared or out-of-range worker, or not exactly once", b)
	}
}

// BenchmarkParallelFor times calls that split 40 µs of work in two, each
// after 20 µs of work on the calling goroutine alone (as a training step
// alternates), with the helpers polling for spinWait before they sleep and
// with them sleeping at once.
func BenchmarkParallelFor(b *testing.B) {
	spin := func(d time.Duration) {
		for t := time.Now(); time.Since(t) < d; {
		}
	}
	defer spinWait.Store(spinWait.Load())
	for _, wait := range []time.Duration{time.Duration(spinWait.Load()), 0} {
		b.Run(fmt.Sprintf("poll=%v", wait), func(b *testing.B) {
			spinWait.Store(int64(wait))
			for b.Loop() {
				spin(20 * time.Microsecond)
				ParallelFor(2, 2, func(_, _ int) { spin(20 * time.Microsecond) })
			}
		})
	}
}
