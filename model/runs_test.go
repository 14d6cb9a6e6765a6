package model

import (
	"testing"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// TestPassesEnd checks that every pass a model begins for the kernels'
// count of passes in progress ends, a pass that panics on a wrong input
// among them: a count left behind would keep later predictions off the
// cores they could use.
func TestPassesEnd(t *testing.T) {
	m := tutorial(t)
	x, y := randomBatch(m, 2, 1)
	m.TrainStep(x, y)
	m.Predict(tensor.New(2, m.NumClasses()), x)
	m.InputGradient(x, 3)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Predict on 31x32 images did not panic")
			}
		}()
		m.Predict(tensor.New(1, m.NumClasses()), tensor.New(1, 31, 32, 1))
	}()
	if n := kernels.Runs(); n != 0 {
		t.Errorf("%d passes still in progress after the model's calls returned", n)
	}
}
