package nn_test

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// The layers whose passes are cut into pieces for the cores give the same
// bits whatever GOMAXPROCS is: an input of 2,048 rows of 40 features is cut
// into 6 pieces of rows and 3 groups of features (the last one partial).
func TestSplitLayersSameResultAnyGOMAXPROCS(t *testing.T) {
	layers := map[string]func() nn.Layer{
		"batchnorm": func() nn.Layer { return &nn.BatchNormalization{} },
		"relu":      func() nn.Layer { return &nn.ReLU{} },
		"softmax":   func() nn.Layer { return &nn.Softmax{} },
		"sigmoid":   func() nn.Layer { return &nn.Activation{Func: "sigmoid"} },
	}
	for name, newLayer := range layers {
		for _, training := range []bool{true, false} {
			run := func(procs int) [][]float32 {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				l := newLayer()
				if _, err := l.Build([]int{16, 16, 40}, rand.New(rand.NewPCG(1, 2))); err != nil {
					t.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(3, 4))
				for _, p := range l.Params() { // statistics and scales away from their defaults
					for i := range p.Value.Data {
						p.Value.Data[i] = float32(0.5 + rng.Float64())
					}
				}
				x := tensor.New(8, 16, 16, 40)
				for i := range x.Data {
					x.Data[i] = float32(3*rng.NormFloat64() + 1)
				}
				var got [][]float32
				for range 2 { // the second pass reuses the buffers
					y := l.Forward(x, training)
					dy := y.Clone()
					for i := range dy.Data {
						dy.Data[i] = float32(rng.NormFloat64())
					}
					dx := l.Backward(dy)
					got = append(got, y.Clone().Data, dx.Clone().Data)
					for _, p := range l.Params() {
						got = append(got, slices.Clone(p.Value.Data))
						if p.Grad != nil {
							got = append(got, slices.Clone(p.Grad.Data))
						}
					}
				}
				return got
			}
			one, two, four := run(1), run(2), run(4)
			for i := range one {
				if !slices.Equal(one[i], two[i]) || !slices.Equal(one[i], four[i]) {
					t.Errorf("%s (training %v): result %d differs between GOMAXPROCS 1, 2 and 4", name, training, i)
				}
			}
		}
	}
}
