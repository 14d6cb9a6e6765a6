package nn

import (
	"math/rand/v2"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// The mask is the one that rng.Float64() < Rate draws, element by element.
func TestDropoutMaskMatchesFloat64(t *testing.T) {
	for _, rate := range []float64{0.25, 0.3, 0.5, 1e-17, 0.9999999} {
		l := &Dropout{Rate: rate}
		if _, err := l.Build([]int{1000}, rand.New(rand.NewPCG(3, uint64(rate*1e6)))); err != nil {
			t.Fatal(err)
		}
		x := tensor.New(3, 1000)
		for i := range x.Data {
			x.Data[i] = float32(i%13) - 6
		}
		y := l.Forward(x, true)
		ref := rand.New(rand.NewPCG(3, uint64(rate*1e6)))
		scale := float32(1 / (1 - rate))
		for i, v := range x.Data {
			m := scale
			if ref.Float64() < rate {
				m = 0
			}
			if y.Data[i] != v*m {
				t.Fatalf("Dropout{Rate: %v} output[%d] = %v, want %v", rate, i, y.Data[i], v*m)
			}
		}
	}
}
