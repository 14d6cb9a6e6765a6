package nn_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// TestBackwardPreActivation checks each layer with an activation of its
// own (a ReLU, some biases pushed below zero so that whole channels are
// held at zero) against its twin without one, the same weights: the
// gradient before the activation gives the twin's input gradient bit for
// bit, and afterwards Backward is the ReLU's again, the twin's for the
// gradient masked where the output is zero.
func TestBackwardPreActivation(t *testing.T) {
	for _, tt := range []struct {
		name string
		make func(act string) nn.Layer
		in   []int
	}{
		{"Conv2D", func(a string) nn.Layer {
			return &nn.Conv2D{Filters: 6, KernelSize: [2]int{3, 3}, Padding: "same", Activation: a}
		}, []int{7, 6, 3}},
		{"Conv2D strided", func(a string) nn.Layer {
			return &nn.Conv2D{Filters: 5, KernelSize: [2]int{2, 2}, Strides: [2]int{2, 2}, Activation: a}
		}, []int{8, 7, 2}},
		{"Conv2D grouped", func(a string) nn.Layer {
			return &nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Groups: 2, Activation: a}
		}, []int{6, 6, 4}},
		{"Conv2D dilated", func(a string) nn.Layer {
			return &nn.Conv2D{Filters: 3, KernelSize: [2]int{3, 3}, DilationRate: [2]int{2, 2}, Padding: "same", Activation: a}
		}, []int{9, 8, 2}},
		{"Conv2D one group per channel", func(a string) nn.Layer {
			return &nn.Conv2D{Filters: 6, KernelSize: [2]int{3, 3}, Groups: 3, Padding: "same", Activation: a}
		}, []int{6, 6, 3}},
		{"DepthwiseConv2D", func(a string) nn.Layer {
			return &nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, DepthMultiplier: 2, Activation: a}
		}, []int{6, 7, 3}},
		{"Dense", func(a string) nn.Layer { return &nn.Dense{Units: 9, Activation: a} }, []int{11}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			relu, twin := tt.make("relu"), tt.make("linear")
			for _, l := range []nn.Layer{relu, twin} {
				if _, err := l.Build(tt.in, rand.New(rand.NewPCG(1, 2))); err != nil {
					t.Fatal(err)
				}
			}
			pre, ok := relu.(nn.PreActivation)
			if !ok || !pre.Activated() || twin.(nn.PreActivation).Activated() {
				t.Fatalf("%T: a PreActivation activated by a ReLU, not by linear", relu)
			}
			rng := rand.New(rand.NewPCG(3, 4))
			for i, p := range relu.Params() {
				for j := range p.Value.Data {
					p.Value.Data[j] = float32(rng.NormFloat64() * 0.5)
					if p.Name == "bias" && j%2 == 0 {
						p.Value.Data[j] = -8 // held at zero
					}
				}
				copy(twin.Params()[i].Value.Data, p.Value.Data)
			}
			x := tensor.New(append([]int{2}, tt.in...)...)
			for i := range x.Data {
				x.Data[i] = float32(rng.NormFloat64())
			}
			y, yt := relu.Forward(x, false).Clone(), twin.Forward(x, false)
			dz := tensor.New(y.Shape...)
			masked := tensor.New(y.Shape...)
			zeros := 0
			for i := range dz.Data {
				dz.Data[i] = float32(rng.NormFloat64())
				if y.Data[i] > 0 {
					masked.Data[i] = dz.Data[i]
				} else {
					zeros++
				}
				if want := max(yt.Data[i], 0); y.Data[i] != want {
					t.Fatalf("output %d: %v, the twin's %v through a ReLU is %v", i, y.Data[i], yt.Data[i], want)
				}
			}
			if zeros < len(y.Data)/2 {
				t.Fatalf("%d of %d outputs at zero, want at least half", zeros, len(y.Data))
			}
			got := pre.BackwardPreActivation(dz).Clone()
			want := twin.Backward(dz).Clone()
			if !slices.Equal(got.Data, want.Data) {
				t.Fatalf("BackwardPreActivation's input gradient differs from the linear twin's:\n%v\n%v", got.Data[:8], want.Data[:8])
			}
			back := relu.Backward(dz).Clone()
			if wantBack := twin.Backward(masked); !slices.Equal(back.Data, wantBack.Data) || slices.Equal(back.Data, got.Data) {
				t.Fatalf("Backward after BackwardPreActivation is not the ReLU's: %v, want %v", back.Data[:8], wantBack.Data[:8])
			}
			if fmt.Sprint(got.Shape) != fmt.Sprint(x.Shape) {
				t.Fatalf("input gradient shape %v, want %v", got.Shape, x.Shape)
			}
		})
	}
}
