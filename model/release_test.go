package model

import (
	"context"
	"runtime"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
)

// oneBatch yields one batch per epoch.
type oneBatch struct {
	b    Batch
	done bool
}

func (o *oneBatch) Next() (Batch, bool) {
	if o.done {
		return Batch{}, false
	}
	o.done = true
	return o.b, true
}

// TestFitReleasesBackwardMemory checks that the storage of the backward
// passes is given back when Fit returns, for a stack and a graph: the heap
// after a collection must shrink by at least the buffers the model lent
// its layers, so no tensor still holds them. TestLentBuffersChangeNothing
// checks that training goes on after a release with the same results.
func TestFitReleasesBackwardMemory(t *testing.T) {
	for _, tt := range []struct {
		preset string
		in     []int
	}{{"tutorial", []int{32, 32, 1}}, {"resnet", []int{16, 16, 3}}} {
		t.Run(tt.preset, func(t *testing.T) {
			m, err := PresetFor(tt.preset, tt.in, 10)
			compile(t, m, err)
			const n = 32
			x, y := randomBatch(m, n, 5)
			m.TrainStep(x, y) // the storage of a step, before Fit
			lent := 0
			for _, s := range m.plan.lentSize {
				lent += 4 * n * s
			}
			before := liveHeap()
			hist, err := m.Fit(context.Background(), FitOptions{
				Epochs: 2,
				Train:  func(int, int) (Batches, error) { return &oneBatch{b: Batch{X: x, Y: y}}, nil },
			})
			if err != nil || len(hist.Epochs) != 2 {
				t.Fatalf("Fit: %d epochs, %v", len(hist.Epochs), err)
			}
			after := liveHeap()
			runtime.KeepAlive(m)
			t.Logf("live heap %d bytes before Fit, %d after; %d bytes lent", before, after, lent)
			if before-after < int64(lent) {
				t.Errorf("the live heap shrank by %d bytes when Fit returned, want at least the %d bytes of the lent buffers", before-after, lent)
			}
		})
	}
}

// liveHeap returns the bytes of the heap in use after a collection.
func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// compile builds m, a model or its error, with seed 1 and compiles it with
// RMSprop and a sparse cross-entropy.
func compile(t *testing.T, m *Model, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 1); err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(&optim.RMSprop{LearningRate: 0.001}, nn.CrossEntropy{Sparse: true}); err != nil {
		t.Fatal(err)
	}
}
