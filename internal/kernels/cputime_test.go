package kernels

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the CPU time the process has used so far (user and
// system). On a shared machine it is a steadier measure of work than the
// wall clock when the benchmark runs on one thread (-cpu 1).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportFlops reports the rate of a benchmark that ran b.N times flops
// FLOP since the CPU time start: GFLOP/s by the wall clock and cpu-GFLOP/s
// by the CPU time of the process.
func reportFlops(b *testing.B, start time.Duration, flops float64) {
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu := cpuTime() - start; cpu > 0 {
		b.ReportMetric(flops*float64(b.N)/cpu.Seconds()/1e9, "cpu-GFLOP/s")
	}
}
