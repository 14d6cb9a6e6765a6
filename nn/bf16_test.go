package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// With UseBF16(true), a layer's output, input gradient and weight gradient
// are those of float32 on its input, weights and output gradient rounded to
// bfloat16, within float32's rounding, and not those of the values
// themselves.
func TestUseBF16(t *testing.T) {
	round := func(s []float32) []float32 {
		out := make([]float32, len(s))
		for i, v := range s {
			out[i] = kernels.FromBF16(kernels.ToBF16(v))
		}
		return out
	}
	for _, tt := range []struct {
		name string
		make func() nn.Layer
		in   []int
	}{
		{"Conv2D", func() nn.Layer { return &nn.Conv2D{Filters: 8, KernelSize: [2]int{3, 3}, Padding: "same"} }, []int{10, 10, 6}},
		{"Conv2D, strides 2", func() nn.Layer {
			return &nn.Conv2D{Filters: 40, KernelSize: [2]int{5, 5}, Strides: [2]int{2, 2}, Padding: "same"}
		}, []int{15, 15, 6}},
		{"Conv2D 1x1", func() nn.Layer { return &nn.Conv2D{Filters: 16, KernelSize: [2]int{1, 1}} }, []int{6, 7, 8}},
		{"Dense", func() nn.Layer { return &nn.Dense{Units: 40} }, []int{48}},
	} {
		layers := [3]nn.Layer{tt.make(), tt.make(), tt.make()} // bfloat16; float32 on the rounded values; float32
		for _, l := range layers {
			if _, err := l.Build(tt.in, rand.New(rand.NewPCG(3, 4))); err != nil {
				t.Fatal(err)
			}
		}
		layers[0].(nn.BF16User).UseBF16(true)
		kernel := layers[1].Params()[0].Value.Data
		copy(kernel, round(kernel))

		rng := rand.New(rand.NewPCG(5, 6))
		x := tensor.New(append([]int{5}, tt.in...)...)
		fillNormal(rng, 1, x.Data)
		var got [3][3][]float32 // y, dx, kernel gradient
		for i, l := range layers {
			xi := x
			if i == 1 {
				xi = &tensor.Tensor{Shape: x.Shape, Data: round(x.Data)}
			}
			y := l.Forward(xi, true)
			dy := y.Clone()
			fillNormal(rand.New(rand.NewPCG(7, 8)), 1, dy.Data)
			if i == 1 {
				dy.Data = round(dy.Data)
			}
			got[i] = [3][]float32{y.Clone().Data, l.Backward(dy).Clone().Data, l.Params()[0].Grad.Clone().Data}
		}
		for k, what := range []string{"output", "input gradient", "kernel gradient"} {
			var near, far float64
			for i, v := range got[0][k] {
				near = max(near, math.Abs(float64(v-got[1][k][i]))/(1+math.Abs(float64(got[1][k][i]))))
				far = max(far, math.Abs(float64(v-got[2][k][i])))
			}
			if near > 1e-5 || far < 1e-3 {
				t.Errorf("%s with bfloat16: %s %g (relative) from float32's of the rounded values, %g from float32's; want under 1e-5 and over 1e-3", tt.name, what, near, far)
			}
		}
	}
}

// A Dense layer in bfloat16 keeping its kernel converted predicts what it
// predicts converting it at every call, and so does a layer sharing what
// it keeps (the same weights, as a model's copies share them), one image
// (a row: the one-row kernels) or several; SharePacked refuses a Dense
// built otherwise.
func TestDenseKeepPackedBF16(t *testing.T) {
	layers := [3]*nn.Dense{{Units: 70}, {Units: 70}, {Units: 70}} // keeping, sharing, converting at every call
	for _, l := range layers {
		build(t, l, 300)
		l.UseBF16(true)
		l.Params()[0].Value = layers[0].Params()[0].Value
		l.Params()[1].Value = layers[0].Params()[1].Value
	}
	layers[0].KeepPacked(true)
	layers[1].KeepPacked(true)
	layers[1].SharePacked(layers[0])
	rng := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{1, 3, 20} {
		x := tensor.New(n, 300)
		fillNormal(rng, 1, x.Data)
		want := layers[2].Forward(x, false).Clone()
		for i, l := range layers[:2] {
			for range 2 {
				if y := l.Forward(x, false); !slices.Equal(y.Data, want.Data) {
					t.Fatalf("%d images, layer %d: %v, want %v", n, i, y.Data[:4], want.Data[:4])
				}
			}
		}
	}
	for _, other := range []nn.Layer{&nn.Dense{Units: 71}, &nn.Conv2D{Filters: 70, KernelSize: [2]int{1, 1}}} {
		in := []int{300}
		if _, ok := other.(*nn.Conv2D); ok {
			in = []int{1, 1, 300}
		}
		build(t, other, in...)
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "is not a Dense built as this one") {
					t.Errorf("SharePacked(%s) panicked with %v", other.Type(), r)
				}
			}()
			layers[1].SharePacked(other)
		}()
	}
}
