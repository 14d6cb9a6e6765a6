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
	j.fn, j.n, j.w = fn, int64(n), int64(w)
	j.next.Store(0)
	j.workers.Store(1)
	j.call.Store(calls.Add(1))
	j.open()
	// Idle helpers that still poll find the job in posted; those asleep
	// are woken through the channel.
	posted.Store(j)
	for range w - 1 {
		select {
		case jobs <- j:
		default:
		}
	}
	j.run(0)
	posted.CompareAndSwap(j, nil)
	j.close()
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
	return &job{left: make(chan struct{}, 1)}
}

func putJob(j *job) {
	freeMu.Lock()
	free = append(free, j)
	freeMu.Unlock()
}

// A job is one call of ParallelFor. A helper may hold a pointer to a job
// from an earlier call (from posted or the channel), so it joins only
// through state, which counts the helpers inside and says whether the
// call still takes helpers; a helper that joins a later call of the same
// job (after the job was reused) helps that call, which is open and fully
// set up, so no stale pointer can do harm.
type job struct {
	fn      func(worker, i int)
	n, w    int64
	next    atomic.Int64
	workers atomic.Int64 // worker indexes handed out
	call    atomic.Int64 // which call of ParallelFor the job is

	state atomic.Int64  // helpers inside, plus closed when no more may join
	left  chan struct{} // the last helper out after close says so here
}

const closed = 1 << 62

func (j *job) run(worker int) {
	for {
		i := j.next.Add(1) - 1
		if i >= j.n {
			return
		}
		j.fn(worker, int(i))
	}
}

// open lets helpers join; the job's fields must be set before.
func (j *job) open() { j.state.Store(0) }

// help runs items of j as a helper if the call still takes helpers.
func (j *job) help() {
	for {
		s := j.state.Load()
		if s&closed != 0 {
			return
		}
		if j.state.CompareAndSwap(s, s+1) {
			break
		}
	}
	if worker := j.workers.Add(1) - 1; worker < j.w {
		j.run(int(worker))
	}
	if j.state.Add(-1) == closed {
		j.left <- struct{}{}
	}
}

// close stops helpers from joining and waits for those inside to finish.
func (j *job) close() {
	if j.state.Add(closed) == closed {
		return
	}
	for s := (spinner{}); j.state.Load() != closed && s.more(); {
	}
	<-j.left
}

var (
	jobs   = make(chan *job)
	posted atomic.Pointer[job] // the last call that took helpers
	calls  atomic.Int64        // calls of ParallelFor that took helpers

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
		go helper()
	}
}

// helper runs calls of ParallelFor: it polls posted for a while after each
// call (see spinWait), then sleeps until a call wakes it.
func helper() {
	var last int64 // the last call helped
	for {
		for s := (spinner{}); s.more(); {
			if j := posted.Load(); j != nil {
				if c := j.call.Load(); c != last {
					last = c
					j.help()
					s = spinner{}
				}
			}
		}
		j := <-jobs
		last = j.call.Load()
		j.help()
	}
}
