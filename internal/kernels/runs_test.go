package kernels

import (
	"runtime"
	"testing"
)

// TestCoresPerRun checks each pass's share of the cores as passes begin
// and end.
func TestCoresPerRun(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	if Runs() != 0 {
		t.Fatalf("Runs() = %d before any pass", Runs())
	}
	for i, want := range []int{4, 2, 1, 1, 1} {
		BeginRun()
		if got := coresPerRun(); got != want {
			t.Errorf("%d passes on 4 cores: coresPerRun() = %d, want %d", i+1, got, want)
		}
	}
	for range 5 {
		EndRun()
	}
	if Runs() != 0 || coresPerRun() != 4 {
		t.Errorf("after every pass ended: Runs() = %d, coresPerRun() = %d, want 0 and 4", Runs(), coresPerRun())
	}
}
