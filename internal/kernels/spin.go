package kernels

import (
	"runtime"
	"sync/atomic"
	"time"
)

// spinWait is how long an idle helper goroutine, or a caller waiting for the
// helpers, keeps polling before it blocks. A blocked goroutine's thread
// sleeps, and waking it costs 0.1–0.3 ms on a virtual machine (measured on
// 2-core VMs: a worker began its half of a 1024³ product 0.18 ms after the
// caller, 2.4% of the product), while the products and convolutions of a
// training step follow each other within microseconds. Thread pools of
// BLAS and OpenMP libraries spin for the same reason. BenchmarkParallelFor
// sets it to 0 to measure what the polling saves.
var spinWait atomic.Int64 // time.Duration

func init() { spinWait.Store(int64(200 * time.Microsecond)) }

// spinner bounds a polling loop to spinWait:
//
//	var s spinner
//	for s.more() {
//		if ready() { ... }
//	}
//	// block
type spinner struct {
	n     int
	start time.Time
}

// more yields the processor and reports whether polling may go on.
func (s *spinner) more() bool {
	if s.n&63 == 0 {
		wait := time.Duration(spinWait.Load())
		if wait <= 0 {
			return false
		}
		if s.n == 0 {
			s.start = time.Now()
		} else if time.Since(s.start) > wait {
			return false
		}
	}
	s.n++
	runtime.Gosched()
	return true
}
