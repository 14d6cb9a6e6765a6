package nn_test

import (
	"math"
	"testing"

	"github.com/convnet-go/convnet/nn"
)

// Sizes no Build would accept still get a cost, saturated, so that a model
// file asking for them is refused before anything is allocated.
func TestCostSaturates(t *testing.T) {
	const huge = 1 << 40
	tests := []struct {
		l    nn.Layer
		in   []int
		want nn.Cost
	}{
		{&nn.Conv2D{Filters: huge, KernelSize: [2]int{huge, huge}, Padding: "same"}, []int{huge, huge, huge}, nn.Cost{Params: math.MaxInt64, MACs: math.MaxInt64}},
		{&nn.Conv2D{Filters: 3, KernelSize: [2]int{1, 1}}, []int{huge, huge, 1}, nn.Cost{Params: 6, MACs: math.MaxInt64}},
		{&nn.Dense{Units: huge}, []int{huge}, nn.Cost{Params: math.MaxInt64, MACs: math.MaxInt64}},
		{&nn.BatchNormalization{}, []int{math.MaxInt64 / 2}, nn.Cost{Params: math.MaxInt64}},
	}
	for _, tt := range tests {
		if got := tt.l.Cost(tt.in); got != tt.want {
			t.Errorf("%s.Cost(%v) = %+v, want %+v", tt.l.Type(), tt.in, got, tt.want)
		}
	}
}

// Configurations that Build refuses get a cost without a panic.
func TestCostOfRefusedConfigs(t *testing.T) {
	tests := []struct {
		l    nn.Layer
		in   []int
		want nn.Cost
	}{
		{&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, Strides: [2]int{0, 1}}, []int{8, 8, 1}, nn.Cost{Params: 20}},
		{&nn.Conv2D{Filters: 2, KernelSize: [2]int{-3, 3}}, []int{8, 8, 1}, nn.Cost{Params: 2}},
		{&nn.Conv2D{Filters: 2, KernelSize: [2]int{9, 9}}, []int{8, 8, 1}, nn.Cost{Params: 164}},
		{&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, Padding: "full"}, []int{8, 8, 1}, nn.Cost{Params: 20}},
		{&nn.Conv2D{Filters: -2, KernelSize: [2]int{3, 3}}, []int{8, 8, 1}, nn.Cost{}},
		{&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}}, []int{8, 8}, nn.Cost{}},
		{&nn.Dense{Units: -5}, []int{8}, nn.Cost{}},
		{&nn.Dense{Units: 5}, nil, nn.Cost{}},
		{&nn.BatchNormalization{}, nil, nn.Cost{}},
		{&nn.BatchNormalization{}, []int{-4}, nn.Cost{}},
	}
	for _, tt := range tests {
		if got := tt.l.Cost(tt.in); got != tt.want {
			t.Errorf("%s.Cost(%v) = %+v, want %+v", tt.l.Type(), tt.in, got, tt.want)
		}
	}
}
