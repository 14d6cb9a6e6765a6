package kernels

import (
	"runtime"
	"sync/atomic"
)

// runs counts the passes of models in progress (see BeginRun).
var runs atomic.Int64

// BeginRun notes that a pass of a model (its forward or its backward
// pass) begins; EndRun that it ended. Operations too small to be worth
// more than an idle core (a convolution over one image) share the cores
// with the passes running at the same time rather than take them all
// (see coresPerRun): a server answering one request at a time answers
// it on every core, one answering as many requests as it has cores
// gives each its own.
func BeginRun() { runs.Add(1) }

// EndRun notes that a pass begun with BeginRun ended.
func EndRun() { runs.Add(-1) }

// Runs returns the number of passes begun with BeginRun and not ended.
func Runs() int { return int(runs.Load()) }

// coresPerRun returns this pass's share of the GOMAXPROCS cores: all of
// them divided by the passes in progress, at least one.
func coresPerRun() int {
	return max(1, runtime.GOMAXPROCS(0)/max(1, Runs()))
}
