package plot

import (
	"math"
	"testing"
)

func TestLRFindImage(t *testing.T) {
	lr := []float64{1e-4, 1e-3, 1e-2, 1e-1, 1}
	loss := []float64{2.3, 2.2, 1.5, 1.2, 9}
	img, err := LRFindImage(lr, loss, 2)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 400 {
		t.Errorf("picture of %dx%d, want at least 600x400", b.Dx(), b.Dy())
	}
	if _, err := LRFindImage(lr, loss, -1); err != nil {
		t.Errorf("no suggestion: %v", err)
	}
	for _, c := range []struct {
		lr, loss  []float64
		suggested int
	}{
		{lr, loss[:4], 1},
		{lr, loss, 5},
		{[]float64{0, -1}, []float64{1, 2}, -1},
		{[]float64{1e-3}, []float64{math.NaN()}, -1},
	} {
		if _, err := LRFindImage(c.lr, c.loss, c.suggested); err == nil {
			t.Errorf("%v %v %d: no error", c.lr, c.loss, c.suggested)
		}
	}
}
