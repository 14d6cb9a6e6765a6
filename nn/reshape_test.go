package nn_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// TestReshape checks Reshape by hand: a vector of 6 values as an image of
// one cell and as [3 1 2], the same values in order and the gradient laid
// out as the input; bad target shapes are refused with what is wrong.
func TestReshape(t *testing.T) {
	x := tensor.FromData([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 2, 6)
	for _, tt := range []struct {
		target, out []int
	}{{[]int{1, 1, -1}, []int{1, 1, 6}}, {[]int{3, -1, 2}, []int{3, 1, 2}}, {[]int{6}, []int{6}}} {
		l := &nn.Reshape{TargetShape: tt.target}
		out, err := l.Build([]int{6}, nil)
		if err != nil || !slices.Equal(out, tt.out) {
			t.Fatalf("target %v: shape %v, %v; want %v", tt.target, out, err, tt.out)
		}
		y := l.Forward(x, true)
		if !slices.Equal(y.Shape, append([]int{2}, tt.out...)) || !slices.Equal(y.Data, x.Data) {
			t.Errorf("target %v: y %v %v", tt.target, y.Shape, y.Data)
		}
		dx := l.Backward(y)
		if !slices.Equal(dx.Shape, x.Shape) || !slices.Equal(dx.Data, x.Data) {
			t.Errorf("target %v: dx %v %v", tt.target, dx.Shape, dx.Data)
		}
	}
	for _, tt := range []struct {
		target []int
		want   string
	}{
		{nil, "target_shape []: want at least one axis"},
		{[]int{4, -1}, "target_shape [4 -1] does not hold the 6 values of the input [6]"},
		{[]int{-1, -1}, "-1 more than once"},
		{[]int{2, 0, 3}, "size 0 of axis 2 is not positive"},
		{[]int{7}, "target_shape [7] holds more than the 6 values of the input [6]"},
		{[]int{4}, "target_shape [4] does not hold the 6 values"},
		{[]int{1 << 40, 1 << 40}, "holds more than the 6 values"},
	} {
		l := &nn.Reshape{TargetShape: tt.target}
		l.SetName("r")
		if _, err := l.Build([]int{6}, nil); err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "r (Reshape)") {
			t.Errorf("target %v: %v, want %q", tt.target, err, tt.want)
		}
	}
}
