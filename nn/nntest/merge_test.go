package nntest_test

import (
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/nn/nntest"
	"github.com/convnet-go/convnet/tensor"
)

func TestMergeLayers(t *testing.T) {
	cases := map[string]nntest.Case{
		"add":             {New: func() nn.Layer { return &nn.Add{} }, Ins: [][]int{{3, 4, 2}, {3, 4, 2}}},
		"add-3":           {New: func() nn.Layer { return &nn.Add{} }, Ins: [][]int{{5}, {5}, {5}}, Batch: 3},
		"multiply":        {New: func() nn.Layer { return &nn.Multiply{} }, Ins: [][]int{{2, 3, 2}, {2, 3, 2}}},
		"multiply-3":      {New: func() nn.Layer { return &nn.Multiply{} }, Ins: [][]int{{4}, {4}, {4}}},
		"average":         {New: func() nn.Layer { return &nn.Average{} }, Ins: [][]int{{2, 2, 3}, {2, 2, 3}}},
		"average-3":       {New: func() nn.Layer { return &nn.Average{} }, Ins: [][]int{{6}, {6}, {6}}},
		"multiply-se":     {New: func() nn.Layer { return &nn.Multiply{} }, Ins: [][]int{{3, 4, 5}, {1, 1, 5}}, Batch: 3},
		"multiply-se-3":   {New: func() nn.Layer { return &nn.Multiply{} }, Ins: [][]int{{1, 1, 3}, {2, 3, 3}, {2, 1, 1}}},
		"add-broadcast":   {New: func() nn.Layer { return &nn.Add{} }, Ins: [][]int{{2, 1, 3}, {1, 4, 3}}},
		"subtract":        {New: func() nn.Layer { return &nn.Subtract{} }, Ins: [][]int{{3, 2, 2}, {3, 2, 2}}},
		"subtract-se":     {New: func() nn.Layer { return &nn.Subtract{} }, Ins: [][]int{{1, 1, 3}, {2, 3, 3}}, Batch: 3},
		"subtract-rows":   {New: func() nn.Layer { return &nn.Subtract{} }, Ins: [][]int{{2, 4}, {1, 4}}},
		"scaled-add":      {New: func() nn.Layer { return &nn.ScaledAdd{Scale: 0.17} }, Ins: [][]int{{3, 2, 2}, {3, 2, 2}}},
		"scaled-add-se":   {New: func() nn.Layer { return &nn.ScaledAdd{Scale: -1.5} }, Ins: [][]int{{2, 3, 3}, {1, 1, 3}}, Batch: 3},
		"maximum":         {New: func() nn.Layer { return &nn.Maximum{} }, Ins: [][]int{{3, 2, 2}, {3, 2, 2}}},
		"maximum-3":       {New: func() nn.Layer { return &nn.Maximum{} }, Ins: [][]int{{5}, {5}, {5}}, Batch: 3},
		"minimum-se":      {New: func() nn.Layer { return &nn.Minimum{} }, Ins: [][]int{{2, 3, 3}, {1, 1, 3}}, Batch: 3},
		"minimum-3":       {New: func() nn.Layer { return &nn.Minimum{} }, Ins: [][]int{{1, 1, 3}, {2, 3, 3}, {2, 1, 1}}},
		"average-scalar":  {New: func() nn.Layer { return &nn.Average{} }, Ins: [][]int{{3, 2}, {1, 1}}},
		"concat-channels": {New: func() nn.Layer { return &nn.Concatenate{} }, Ins: [][]int{{2, 3, 2}, {2, 3, 1}}},
		"concat-axis1":    {New: func() nn.Layer { return &nn.Concatenate{Axis: 1} }, Ins: [][]int{{2, 3, 2}, {1, 3, 2}, {3, 3, 2}}},
		"concat-axis-2":   {New: func() nn.Layer { return &nn.Concatenate{Axis: -2} }, Ins: [][]int{{2, 3, 2}, {2, 1, 2}}},
		"concat-flat":     {New: func() nn.Layer { return &nn.Concatenate{Axis: 1} }, Ins: [][]int{{3}, {5}}, Batch: 4},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			c.Seed = uint64(len(name))
			nntest.Run(t, c)
		})
	}
}

// brokenMerge wraps a merge layer and scales the gradient of its last input.
type brokenMerge struct {
	nn.MultiInput
	factor float32
	dxs    []*tensor.Tensor
}

func (b *brokenMerge) BackwardInputs(dy *tensor.Tensor) []*tensor.Tensor {
	b.dxs = nil
	for _, dx := range b.MultiInput.BackwardInputs(dy) {
		b.dxs = append(b.dxs, dx.Clone())
	}
	last := b.dxs[len(b.dxs)-1]
	for i := range last.Data {
		last.Data[i] *= b.factor
	}
	return b.dxs
}

// The harness must fail on a wrong gradient of any input of a merge layer.
func TestHarnessCatchesBrokenMerge(t *testing.T) {
	for _, l := range []func() nn.MultiInput{
		func() nn.MultiInput { return &nn.Add{} },
		func() nn.MultiInput { return &nn.Multiply{} },
		func() nn.MultiInput { return &nn.Subtract{} },
		func() nn.MultiInput { return &nn.ScaledAdd{Scale: 0.2} },
		func() nn.MultiInput { return &nn.Maximum{} },
		func() nn.MultiInput { return &nn.Concatenate{} },
	} {
		c := nntest.Case{New: func() nn.Layer { return &brokenMerge{MultiInput: l(), factor: 1.1} }, Ins: [][]int{{3, 2}, {3, 2}}}
		errs := nntest.Check(c)
		found := false
		for _, err := range errs {
			found = found || strings.Contains(err.Error(), "gradient of x2")
		}
		if !found {
			t.Errorf("Check(%s with x2's gradient scaled by 1.1) = %v, want an error about x2", l().Type(), errs)
		}
	}
}
