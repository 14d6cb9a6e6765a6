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

// TestPaddingFuser checks ForwardPadded on the unpadded images against
// Forward after a ZeroPadding2D, value for value, for even and odd pads
// (PyTorch's stride-2 convolutions), on top of "same" padding, grouped,
// 1x1 and depthwise windows (one dilated), for one image and several; then that Forward
// and Backward are as they were.
func TestPaddingFuser(t *testing.T) {
	pads := [][2][2]int{{{1, 1}, {1, 1}}, {{0, 1}, {2, 0}}, {{2, 3}, {1, 1}}}
	layers := map[string]func() nn.Layer{
		"conv3x3-s2": func() nn.Layer {
			return &nn.Conv2D{Filters: 32, KernelSize: [2]int{3, 3}, Strides: [2]int{2, 2}, Activation: "relu6"}
		},
		"conv5x3-same": func() nn.Layer {
			return &nn.Conv2D{Filters: 5, KernelSize: [2]int{5, 3}, Padding: "same", Activation: "relu"}
		},
		"conv1x1": func() nn.Layer { return &nn.Conv2D{Filters: 8, KernelSize: [2]int{1, 1}} },
		"conv-group": func() nn.Layer {
			return &nn.Conv2D{Filters: 6, KernelSize: [2]int{3, 3}, Groups: 2, Activation: "tanh"}
		},
		"depthwise-s2": func() nn.Layer {
			return &nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, Strides: [2]int{2, 2}, Activation: "relu6"}
		},
		"depthwise-m2-same": func() nn.Layer {
			return &nn.DepthwiseConv2D{KernelSize: [2]int{5, 5}, Padding: "same", DepthMultiplier: 2}
		},
		"depthwise-dilated-same": func() nn.Layer {
			return &nn.DepthwiseConv2D{KernelSize: [2]int{3, 3}, DilationRate: [2]int{2, 3}, Padding: "same", Activation: "relu"}
		},
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for name, newLayer := range layers {
		for _, p := range pads {
			for _, n := range []int{1, 5} {
				t.Run(fmt.Sprintf("%s/pad=%v/n=%d", name, p, n), func(t *testing.T) {
					in := []int{11, 12, 4}
					zp := &nn.ZeroPadding2D{Padding: p}
					mid, err := zp.Build(in, nil)
					if err != nil {
						t.Fatal(err)
					}
					l := build(t, newLayer(), mid...)
					for _, q := range l.Params() {
						fillNormal(rng, 1, q.Value.Data)
					}
					x := tensor.New(append([]int{n}, in...)...)
					fillNormal(rng, 4, x.Data)
					want := l.Forward(zp.Forward(x, false), false).Clone()
					f := l.(nn.PaddingFuser)
					if !f.FusePadding(p) {
						t.Fatal("FusePadding refused")
					}
					got := f.ForwardPadded(x)
					if !slices.Equal(got.Shape, want.Shape) || !slices.Equal(got.Data, want.Data) {
						t.Fatalf("ForwardPadded differs from Forward after the padding (shape %v, want %v)", got.Shape, want.Shape)
					}
					func() {
						defer func() {
							if r := fmt.Sprint(recover()); !strings.Contains(r, "Backward after ForwardPadded") {
								t.Errorf("Backward after ForwardPadded: panic %q", r)
							}
						}()
						l.Backward(got.Clone())
					}()
					// The layer is as it was: Forward, then Backward.
					y := l.Forward(zp.Forward(x, true), true)
					if !slices.Equal(y.Data, want.Data) {
						t.Fatal("Forward after ForwardPadded differs")
					}
					dy := y.Clone()
					if dx := l.Backward(dy); !slices.Equal(dx.Shape[1:], mid) {
						t.Fatalf("Backward after ForwardPadded: dx shape %v, want [N %v]", dx.Shape, mid)
					}
				})
			}
		}
	}
	// Padding that would leave nothing, or is negative, is refused.
	l := &nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}}
	if _, err := l.Build([]int{4, 4, 1}, rng); err != nil {
		t.Fatal(err)
	}
	for _, p := range [][2][2]int{{{2, 2}, {0, 0}}, {{-1, 0}, {0, 0}}} {
		if l.FusePadding(p) {
			t.Errorf("FusePadding(%v) of a 4x4 input accepted", p)
		}
	}
}
