//go:build unix

package kernels

import (
	"syscall"
	"time"
)

// CPUTime returns the CPU time the process has used so far, user and
// system, and true; or 0 and false where the system does not tell. On a
// shared machine it is a steadier measure of a computation on one thread
// than the wall clock.
func CPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
