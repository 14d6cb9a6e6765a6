package nn_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// By hand: two pixels of three channels, gamma (2, -1, 0.5).
func TestLayerScaleHandComputed(t *testing.T) {
	l := build(t, &nn.LayerScale{InitValues: 1e-6, ProjectionDim: 3}, 1, 2, 3).(*nn.LayerScale)
	if g := l.Params()[0].Value.Data; !slices.Equal(g, []float32{1e-6, 1e-6, 1e-6}) {
		t.Fatalf("gamma starts at %v, want init_values 1e-6", g)
	}
	copy(l.Params()[0].Value.Data, []float32{2, -1, 0.5})
	x := tensor.FromData([]float32{1, 2, 3, -4, 5, 6}, 1, 1, 2, 3)
	if y := l.Forward(x, true); !slices.Equal(y.Data, []float32{2, -2, 1.5, -8, -5, 3}) {
		t.Errorf("y = %v, want [2 -2 1.5 -8 -5 3]", y.Data)
	}
	dx := l.Backward(tensor.FromData([]float32{1, 1, 1, 0.5, -1, 2}, 1, 1, 2, 3))
	if !slices.Equal(dx.Data, []float32{2, -1, 0.5, 1, 1, 1}) {
		t.Errorf("dx = %v, want [2 -1 0.5 1 1 1]", dx.Data)
	}
	// dgamma = Σ dy·x: 1·1 + 0.5·-4, 1·2 + -1·5, 1·3 + 2·6.
	if dg := l.Params()[0].Grad.Data; !slices.Equal(dg, []float32{-1, -3, 15}) {
		t.Errorf("gamma's gradient = %v, want [-1 -3 15]", dg)
	}
	back, err := nn.FromConfig("LayerScale", l.Config())
	if err != nil {
		t.Fatal(err)
	}
	if b := back.(*nn.LayerScale); b.InitValues != 1e-6 || b.ProjectionDim != 3 {
		t.Errorf("from its config: %+v", b)
	}
	for _, c := range []struct {
		l    *nn.LayerScale
		want string
	}{
		{&nn.LayerScale{ProjectionDim: 4}, "projection_dim = 4: the input [2 3] has 3 channels"},
		{&nn.LayerScale{InitValues: math.Inf(1)}, "init_values = +Inf: must be a finite number"},
	} {
		if _, err := c.l.Build([]int{2, 3}, rand.New(rand.NewPCG(1, 2))); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Build(%+v) = %v, want an error containing %q", c.l, err, c.want)
		}
	}
}
