package plot

import (
	"sync"
	"testing"
)

// The pictures may be drawn from several goroutines at once (a web server's
// handlers); run under -race.
func TestConcurrentDrawing(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 2 {
		wg.Go(func() {
			Grid([]Cell{uniformCell(8, 8, textColor, "alef ا")}, 1)
		})
		wg.Go(func() {
			_, err := CurvesImage(sampleHistory(3), "t")
			errs <- err
		})
		wg.Go(func() {
			_, err := ConfusionHeatmapImage([][]int{{3, 1}, {0, 2}}, nil, "t")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
