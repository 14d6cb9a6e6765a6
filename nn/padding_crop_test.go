package nn_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// TestCropping2D checks the cropped images and the gradient put back in
// place by hand: two 3x4 images of two channels, one row off the top, one
// column off the left and two off the right.
func TestCropping2D(t *testing.T) {
	l := &nn.Cropping2D{Cropping: [2][2]int{{1, 0}, {1, 2}}}
	out, err := l.Build([]int{3, 4, 2}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out, []int{2, 1, 2}) {
		t.Fatalf("output shape %v, want [2 1 2]", out)
	}
	x := tensor.New(2, 3, 4, 2)
	for i := range x.Data {
		x.Data[i] = float32(i)
	}
	// Image i, row y, column x, channel c is 24i + 8y + 2x + c: rows 1 and 2,
	// column 1.
	want := []float32{10, 11, 18, 19, 34, 35, 42, 43}
	if y := l.Forward(x, true); !slices.Equal(y.Data, want) {
		t.Errorf("Forward = %v, want %v", y.Data, want)
	}
	dy := tensor.FromData([]float32{1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 1, 2)
	dx := l.Backward(dy)
	for i, v := range dx.Data {
		w := float32(0)
		if k := slices.Index(want, float32(i)); k >= 0 {
			w = dy.Data[k]
		}
		if v != w {
			t.Fatalf("Backward[%d] = %v, want %v", i, v, w)
		}
	}
	for i := range dx.Data { // a used buffer: the zeros are written again
		dx.Data[i] = 9
	}
	l.Forward(x, true)
	if dx := l.Backward(dy); slices.Contains(dx.Data, 9) {
		t.Errorf("Backward on its used buffer kept old values: %v", dx.Data)
	}
	for _, tt := range []struct {
		crop [2][2]int
		in   []int
		want string
	}{
		{[2][2]int{{1, -1}, {0, 0}}, []int{4, 4, 1}, "Cropping2D: cropping [[1 -1] [0 0]]: want ((top, bottom), (left, right)), none below 0"},
		{[2][2]int{{2, 2}, {0, 0}}, []int{4, 4, 1}, "Cropping2D: cropping [[2 2] [0 0]] leaves nothing of the 4x4 input"},
		{[2][2]int{{0, 0}, {0, 5}}, []int{4, 4, 1}, "leaves nothing of the 4x4 input"},
		{[2][2]int{}, []int{4, 4}, "Cropping2D: input shape [4 4]: want height, width, channels"},
	} {
		if _, err := (&nn.Cropping2D{Cropping: tt.crop}).Build(tt.in, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Build(%v, %v): %v, want an error containing %q", tt.crop, tt.in, err, tt.want)
		}
	}
	// Keras's three spellings of the cropping.
	for _, tt := range []struct {
		v    any
		want [2][2]int
	}{
		{2.0, [2][2]int{{2, 2}, {2, 2}}},
		{[]any{1.0, 3.0}, [2][2]int{{1, 1}, {3, 3}}},
		{[]any{[]any{1.0, 0.0}, []any{0.0, 2.0}}, [2][2]int{{1, 0}, {0, 2}}},
	} {
		l, err := nn.FromConfig("Cropping2D", map[string]any{"cropping": tt.v})
		if err != nil || l.(*nn.Cropping2D).Cropping != tt.want {
			t.Errorf("FromConfig(Cropping2D, cropping %v): %v, %v; want %v", tt.v, l, err, tt.want)
		}
	}
}

// TestZeroPadding2D checks the padded image and the cropped gradient by
// hand: a 2x2 image with one row above and one column on the right.
func TestZeroPadding2D(t *testing.T) {
	l := &nn.ZeroPadding2D{Padding: [2][2]int{{1, 0}, {0, 1}}}
	out, err := l.Build([]int{2, 2, 1}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out, []int{3, 3, 1}) {
		t.Fatalf("output shape %v, want [3 3 1]", out)
	}
	x := tensor.FromData([]float32{1, 2, 3, 4}, 1, 2, 2, 1)
	want := []float32{0, 0, 0, 1, 2, 0, 3, 4, 0}
	y := l.Forward(x, false)
	if !slices.Equal(y.Data, want) {
		t.Errorf("Forward = %v, want %v", y.Data, want)
	}
	for i := range y.Data { // the buffer is reused: every cell is set again
		y.Data[i] = 9
	}
	if y := l.Forward(x, false); !slices.Equal(y.Data, want) {
		t.Errorf("Forward on its used buffer = %v, want %v", y.Data, want)
	}
	// Padding on all four sides, a used buffer: the same image again.
	all := &nn.ZeroPadding2D{Padding: [2][2]int{{2, 1}, {1, 3}}}
	if _, err := all.Build([]int{2, 2, 1}, nil); err != nil {
		t.Fatal(err)
	}
	first := all.Forward(x, false).Clone()
	if s := slices.Clone(first.Data); len(s) != 5*6 || s[2*6+1] != 1 || s[3*6+2] != 4 {
		t.Errorf("Forward with padding ((2, 1), (1, 3)) = %v", s)
	}
	used := all.Forward(x, false)
	for i := range used.Data {
		used.Data[i] = 9
	}
	if y := all.Forward(x, false); !slices.Equal(y.Data, first.Data) {
		t.Errorf("Forward with padding ((2, 1), (1, 3)) on its used buffer = %v, want %v", y.Data, first.Data)
	}
	var sum float32
	for _, v := range first.Data {
		sum += v
	}
	if sum != 10 {
		t.Errorf("Forward with padding ((2, 1), (1, 3)): values add up to %v, want 10", sum)
	}
	dy := tensor.FromData([]float32{9, 9, 9, 5, 6, 9, 7, 8, 9}, 1, 3, 3, 1)
	if dx := l.Backward(dy); !slices.Equal(dx.Data, []float32{5, 6, 7, 8}) {
		t.Errorf("Backward = %v, want [5 6 7 8]", dx.Data)
	}
}
