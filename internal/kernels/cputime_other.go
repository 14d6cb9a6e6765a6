//go:build !unix

package kernels

import "time"

// CPUTime returns the CPU time the process has used so far, user and
// system, and true; or 0 and false where the system does not tell, as
// here.
func CPUTime() (time.Duration, bool) { return 0, false }
