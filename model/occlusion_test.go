package model

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// TestOcclusionClosedForm: a network whose class 0 reads one pixel alone,
// the top left one, through a softmax of two logits 10·x and 0. Hiding
// that pixel (setting it to 0) brings the probability of class 0 from
// σ(10·x) down to 1/2; hiding any other changes nothing. Each pixel's value
// is that fall times the share of the squares over it that hide the top
// left pixel: with 2x2 squares one apart, 1 at (0,0), 1/2 at (0,1) and
// (1,0), 1/4 at (1,1), 0 elsewhere.
func TestOcclusionClosedForm(t *testing.T) {
	m := New(&nn.Flatten{}, &nn.Dense{Units: 2, Activation: "softmax"})
	if err := m.Build([]int{4, 5, 1}, 1); err != nil {
		t.Fatal(err)
	}
	w := m.Layers[1].Params()
	clear(w[0].Value.Data)
	clear(w[1].Value.Data)
	w[0].Value.Data[0] = 10 // kernel [20, 2]: pixel 0 to class 0
	c, err := NewClassifier(m, ClassifierOptions{BatchSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	px := make([]float32, 20)
	for i := range px {
		px[i] = 0.3 + float32(i)/10
	}
	fall := 1/(1+math.Exp(-10*0.3)) - 0.5
	cam, err := c.Occlusion(context.Background(), px, -1, OcclusionOptions{Window: 2, Stride: 1})
	if err != nil {
		t.Fatal(err)
	}
	if cam.Class != 0 || cam.Layer != -1 || cam.Method != "occlusion" || !slices.Equal(cam.Map.Shape, []int{4, 5}) {
		t.Fatalf("class %d, layer %d, method %q, shape %v", cam.Class, cam.Layer, cam.Method, cam.Map.Shape)
	}
	want := make([]float64, 20)
	want[0], want[1], want[5], want[6] = fall, fall/2, fall/2, fall/4
	for p, v := range cam.Map.Data {
		if math.Abs(float64(v)-want[p]) > 1e-6 {
			t.Errorf("pixel (%d,%d): %.7g, want %.7g", p/5, p%5, v, want[p])
		}
	}
	// The other class gains what class 0 loses: its map is empty.
	cam, err = c.Occlusion(context.Background(), px, 1, OcclusionOptions{Window: 2, Stride: 1})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Max(cam.Map.Data) != 0 {
		t.Errorf("class 1: %v, want zeros", cam.Map.Data)
	}
	// The defaults: squares of a quarter of the shorter side (1 pixel here), as CAM gives.
	def, err := c.CAM(context.Background(), px, "occlusion", -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	want = make([]float64, 20)
	want[0] = fall
	for p, v := range def.Map.Data {
		if math.Abs(float64(v)-want[p]) > 1e-6 {
			t.Errorf("defaults, pixel (%d,%d): %.7g, want %.7g", p/5, p%5, v, want[p])
		}
	}
	for _, c2 := range []struct {
		opts OcclusionOptions
		want string
	}{
		{OcclusionOptions{Window: 5}, "window 5 and stride 1: want a window of 1 to 4 pixels"},
		{OcclusionOptions{Window: -1}, "window -1"},
		{OcclusionOptions{Stride: -2}, "stride -2"},
	} {
		if _, err := c.Occlusion(context.Background(), px, -1, c2.opts); err == nil || !strings.Contains(err.Error(), c2.want) {
			t.Errorf("%+v: %v, want %q", c2.opts, err, c2.want)
		}
	}
	// A stride past the image: the squares at the two ends only, as with a
	// stride of the image's side.
	far, err := c.Occlusion(context.Background(), px, -1, OcclusionOptions{Window: 2, Stride: math.MaxInt})
	if err != nil {
		t.Fatal(err)
	}
	side, err := c.Occlusion(context.Background(), px, -1, OcclusionOptions{Window: 2, Stride: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(far.Map.Data, side.Map.Data) {
		t.Errorf("stride math.MaxInt: %v, want the map of stride 5, %v", far.Map.Data, side.Map.Data)
	}
	if _, err := c.CAM(context.Background(), px, "occlusion", -1, 1); err == nil || !strings.Contains(err.Error(), "weighs no layer") {
		t.Errorf("occlusion with a layer: %v", err)
	}
}

// TestWindowStarts: squares a stride apart, and one at the far edge when
// the last stops short of it.
func TestWindowStarts(t *testing.T) {
	for _, c := range []struct {
		n, win, stride int
		want           []int
	}{
		{32, 8, 2, []int{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24}},
		{28, 7, 2, []int{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 21}},
		{5, 5, 3, []int{0}},
		{5, 1, 1, []int{0, 1, 2, 3, 4}},
		{6, 4, 5, []int{0, 2}},
		{6, 4, math.MaxInt, []int{0, 2}},
		{6, 6, math.MaxInt, []int{0}},
	} {
		if got := windowStarts(c.n, c.win, c.stride); !slices.Equal(got, c.want) {
			t.Errorf("windowStarts(%d, %d, %d) = %v, want %v", c.n, c.win, c.stride, got, c.want)
		}
	}
}

// cancelAfter is a layer that cancels a context at its n-th forward pass.
type cancelAfter struct {
	nn.Layer
	n      int
	cancel context.CancelFunc
}

func (l *cancelAfter) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	if l.n--; l.n == 0 {
		l.cancel()
	}
	return l.Layer.Forward(x, training)
}

// TestOcclusionStops: the squares run in batches, and a context that ends
// between two stops the occlusion, alone or in a trace, with its error.
func TestOcclusionStops(t *testing.T) {
	m := classifierModel(t)
	layer := &cancelAfter{Layer: m.Layers[0]}
	m.Layers[0] = layer
	c, err := NewClassifier(m, ClassifierOptions{Workers: 1, BatchSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	px := randomImages(1, 3)[0]
	for _, run := range []struct {
		name string
		f    func(ctx context.Context) error
	}{
		{"Occlusion", func(ctx context.Context) error {
			_, err := c.Occlusion(ctx, px, -1, OcclusionOptions{Window: 1, Stride: 1})
			return err
		}},
		{"TraceWith", func(ctx context.Context) error {
			_, err := c.TraceWith(ctx, px, TraceOptions{CAM: "occlusion", Class: -1, CAMLayer: -1})
			return err
		}},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		layer.n, layer.cancel = 3, cancel
		if err := run.f(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: cancelled at the third forward pass: %v, want context.Canceled", run.name, err)
		}
		if layer.n != 0 {
			t.Errorf("%s: %d forward passes after the one that cancelled, want none", run.name, -layer.n)
		}
		cancel()
	}
}
