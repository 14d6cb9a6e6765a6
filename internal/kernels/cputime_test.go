package kernels

import (
	"testing"
	"time"
)

// cpuTime returns [CPUTime], 0 where it is unknown.
func cpuTime() time.Duration {
	t, _ := CPUTime()
	return t
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
