package nn_test

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

func TestDropout(t *testing.T) {
	l := build(t, &nn.Dropout{Rate: 0.25}, 1000)
	x := tensor.New(4, 1000)
	x.Fill(1)
	y := l.Forward(x, true)
	zeros := 0
	for _, v := range y.Data {
		switch v {
		case 0:
			zeros++
		case 1 / 0.75:
		default:
			t.Fatalf("Dropout output %v, want 0 or %v", v, 1/0.75)
		}
	}
	if zeros < 900 || zeros > 1100 {
		t.Errorf("Dropout(0.25) zeroed %d of 4000, want about 1000", zeros)
	}
	dx := l.Backward(y)
	for i, v := range dx.Data {
		if want := y.Data[i] * y.Data[i]; v != want {
			t.Fatalf("Dropout.Backward[%d] = %v, want %v", i, v, want)
		}
	}
	if y := l.Forward(x, false); !slices.Equal(y.Data, x.Data) {
		t.Errorf("Dropout at inference is not the identity")
	}
	// The same source state gives the same mask.
	a, b := build(t, &nn.Dropout{Rate: 0.5}, 50), build(t, &nn.Dropout{Rate: 0.5}, 50)
	if !slices.Equal(a.Forward(x.Slice(0, 1).Reshape(1, 1000).Slice(0, 1).Reshape(20, 50), true).Data,
		b.Forward(x.Reshape(80, 50).Slice(0, 20), true).Data) {
		t.Errorf("Dropout masks differ for equal seeds")
	}
}

// TestSpatialDropout2D checks that training drops whole channels of each
// image (about Rate of them) and scales the others, that the gradient goes
// through the same mask, that inference is the identity, that the mask is
// the same for any number of cores, and what Build refuses.
func TestSpatialDropout2D(t *testing.T) {
	const n, h, w, c, rate = 8, 20, 20, 64, 0.25
	x := tensor.New(n, h, w, c)
	for i := range x.Data {
		x.Data[i] = float32(i%13) + 1
	}
	pass := func(procs int) (y, dx []float32) {
		prev := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(prev)
		l := &nn.SpatialDropout2D{Rate: rate}
		if _, err := l.Build([]int{h, w, c}, rand.New(rand.NewPCG(3, 4))); err != nil {
			t.Fatal(err)
		}
		y = slices.Clone(l.Forward(x, true).Data)
		dx = slices.Clone(l.Backward(x).Data)
		if got := l.Forward(x, false); !slices.Equal(got.Data, x.Data) {
			t.Errorf("inference: not the identity")
		}
		if got := l.Backward(x); !slices.Equal(got.Data, x.Data) {
			t.Errorf("inference: the gradient is not dy")
		}
		return y, dx
	}
	y, dx := pass(1)
	dropped := 0
	for i := range n {
		for k := range c {
			first := y[(i*h*w)*c+k] / x.Data[(i*h*w)*c+k]
			if first != 0 && first != 1/(1-rate) {
				t.Fatalf("image %d channel %d scaled by %v, want 0 or %v", i, k, first, 1/(1-rate))
			}
			if first == 0 {
				dropped++
			}
			for p := range h * w {
				j := (i*h*w+p)*c + k
				if y[j] != x.Data[j]*first || dx[j] != y[j] {
					t.Fatalf("image %d channel %d pixel %d: y %v, dx %v, want both %v", i, k, p, y[j], dx[j], x.Data[j]*first)
				}
			}
		}
	}
	if f := float64(dropped) / (n * c); math.Abs(f-rate) > 0.08 {
		t.Errorf("%d of %d channels dropped (%.2f), want about %v", dropped, n*c, f, rate)
	}
	for _, procs := range []int{2, 4} {
		if y2, dx2 := pass(procs); !slices.Equal(y, y2) || !slices.Equal(dx, dx2) {
			t.Errorf("GOMAXPROCS %d: another mask than on one core", procs)
		}
	}
	for _, tt := range []struct {
		l    nn.Layer
		in   []int
		want string
	}{
		{&nn.SpatialDropout2D{Rate: 1}, []int{2, 2, 1}, "SpatialDropout2D: rate = 1: must be in [0, 1)"},
		{&nn.SpatialDropout2D{Rate: 0.1}, []int{4}, "SpatialDropout2D: input shape [4]: want height, width, channels"},
	} {
		if _, err := tt.l.Build(tt.in, rand.New(rand.NewPCG(1, 1))); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Build: %v, want an error containing %q", err, tt.want)
		}
	}
}
