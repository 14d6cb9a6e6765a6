package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
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
