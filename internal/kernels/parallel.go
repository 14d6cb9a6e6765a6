package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// ParallelFor calls fn(worker, i) once for every i in [0, n) on at most
// maxWorkers goroutines (and never more than GOMAXPROCS), and returns when all
// calls are done. worker is in [0, maxWorkers) and no two concurrent calls
// share a worker index, so fn may use per-worker scratch buffers.
//
// Items are handed out dynamically, so fn must make the result of item i
// depend only on i (write disjoint outputs, or per-item partial sums that the
// caller reduces in a fixed order); the results are then bit-identical
// whatever GOMAXPROCS is.
//
// The helpers are long-lived goroutines shared by all callers; a call made
// while they are busy (for example a nested ParallelFor) runs on the calling
// goroutine alone. In steady state ParallelFor does not allocate.
func ParallelFor(n, maxWorkers int, fn func(worker, i int)) {
	w := min(n, maxWorkers, runtime.GOMAXPROCS(0))
	if w <= 1 {
		for i := 0; i < n; i++ {
			fn(0, i)
		}
		return
	}
	startHelpers(w - 1)
	j := getJob()
	j.fn, j.n = fn, int64(n)
	j.next.Store(0)
	j.workers.Store(1)
	for range w - 1 {
		j.wg.Add(1)
		select {
		case jobs <- j:
		default:
			j.wg.Done()
		}
	}
	j.run(0)
	j.wg.Wait()
	j.fn = nil
	putJob(j)
}

// getJob takes a job from the free list (a plain list rather than a
// sync.Pool, which drops items at random under the race detector).
func getJob() *job {
	freeMu.Lock()
	defer freeMu.Unlock()
	if n := len(free); n > 0 {
		j := free[n-1]
		free = free[:n-1]
		return j
	}
	return new(job)
}

func putJob(j *job) {
	freeMu.Lock()
	free = append(free, j)
	freeMu.Unlock()
}

type job struct {
	fn      func(worker, i int)
	n       int64
	next    atomic.Int64
	workers atomic.Int64
	wg      sync.WaitGroup
}

func (j *job) run(worker int) {
	for {
		i := j.next.Add(1) - 1
		if i >= j.n {
			return
		}
		j.fn(worker, int(i))
	}
}

var (
	jobs = make(chan *job)

	freeMu sync.Mutex
	free   []*job

	helpersMu sync.Mutex
	helpers   int
)

// startHelpers makes sure at least n helper goroutines exist.
func startHelpers(n int) {
	helpersMu.Lock()
	defer helpersMu.Unlock()
	for ; helpers < n; helpers++ {
		go func() {
			for j := range jobs {
				j.run(int(j.workers.Add(1) - 1))
				j.wg.Done()
			}
		}()
	}
}
