package nn_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// TestPredictor checks Predict against Forward in inference, value for
// value, for the layers whose activation needs its input (silu, hard_silu:
// Predict runs it in place), plain, grouped, 1x1 and depthwise, then that a
// Backward after Predict panics and that Forward and Backward after it give
// the input gradient they gave before it.
func TestPredictor(t *testing.T) {
	layers := map[string]func() nn.Layer{
		"conv3x3-hard_silu": func() nn.Layer {
			return &nn.Conv2D{Filters: 40, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "hard_silu"}
		},
		"conv1x1-silu": func() nn.Layer { return &nn.Conv2D{Filters: 24, KernelSize: [2]int{1, 1}, Activation: "silu"} },
		"conv-group-hard_silu": func() nn.Layer {
			return &nn.Conv2D{Filters: 6, KernelSize: [2]int{3, 3}, Groups: 2, Activation: "hard_silu"}
		},
		"conv-relu": func() nn.Layer { return &nn.Conv2D{Filters: 8, KernelSize: [2]int{3, 3}, Activation: "relu"} },
		"depthwise-hard_silu": func() nn.Layer {
			return &nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: "same", Activation: "hard_silu"}
		},
		"depthwise-m2-silu": func() nn.Layer {
			return &nn.DepthwiseConv2D{KernelSize: [2]int{5, 5}, Padding: "same", DepthMultiplier: 2, Activation: "silu"}
		},
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for name, newLayer := range layers {
		for _, n := range []int{1, 5} {
			t.Run(fmt.Sprintf("%s/n=%d", name, n), func(t *testing.T) {
				in := []int{11, 12, 4}
				l := build(t, newLayer(), in...)
				for _, q := range l.Params() {
					fillNormal(rng, 1, q.Value.Data)
				}
				x := tensor.New(append([]int{n}, in...)...)
				fillNormal(rng, 2, x.Data)
				want := l.Forward(x, false).Clone()
				dy := want.Clone()
				fillNormal(rng, 1, dy.Data)
				dxWant := l.Backward(dy).Clone()

				got := l.(nn.Predictor).Predict(x)
				if !slices.Equal(got.Shape, want.Shape) || !slices.Equal(got.Data, want.Data) {
					t.Fatalf("Predict differs from Forward (shape %v, want %v)", got.Shape, want.Shape)
				}
				func() {
					defer func() {
						if r := fmt.Sprint(recover()); !strings.Contains(r, "Backward after ForwardPadded or Predict") {
							t.Errorf("Backward after Predict: panic %q", r)
						}
					}()
					l.Backward(dy)
				}()
				if y := l.Forward(x, false); !slices.Equal(y.Data, want.Data) {
					t.Fatal("Forward after Predict differs")
				}
				if dx := l.Backward(dy); !slices.Equal(dx.Data, dxWant.Data) {
					t.Fatal("Backward after Predict and Forward: dx differs from before")
				}
			})
		}
	}
}
