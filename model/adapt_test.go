package model

import (
	"iter"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// seqOf yields x in batches of n samples.
func seqOf(x *tensor.Tensor, n int) func() iter.Seq[*tensor.Tensor] {
	return func() iter.Seq[*tensor.Tensor] {
		return func(yield func(*tensor.Tensor) bool) {
			per := len(x.Data) / x.Shape[0]
			for lo := 0; lo < x.Shape[0]; lo += n {
				hi := min(lo+n, x.Shape[0])
				if !yield(&tensor.Tensor{Shape: append([]int{hi - lo}, x.Shape[1:]...), Data: x.Data[lo*per : hi*per]}) {
					return
				}
			}
		}
	}
}

// TestAdapt checks Model.Adapt on a stack whose first Normalization reads
// the input and whose second reads a Rescaling's output: each gets the
// mean and variance of the values that reach it (the second those of
// 2x - 1 after the first, which is about 0 and 4), a model file keeps
// them, and a model given its statistics has nothing to adapt.
func TestAdapt(t *testing.T) {
	m := New(&nn.Normalization{}, &nn.Rescaling{Scale: 2, Offset: -1}, &nn.Normalization{Axis: []int{}},
		&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}}, &nn.Flatten{}, &nn.Dense{Units: 3})
	if err := m.Build([]int{6, 6, 2}, 1); err != nil {
		t.Fatal(err)
	}
	x := tensor.New(40, 6, 6, 2)
	for i := range x.Data {
		x.Data[i] = float32(i%2)*10 + float32(math.Sin(float64(i)))
	}
	if !m.NeedsAdapt() {
		t.Fatal("NeedsAdapt = false before Adapt")
	}
	if err := m.Adapt(seqOf(x, 16)); err != nil {
		t.Fatal(err)
	}
	if m.NeedsAdapt() {
		t.Fatal("NeedsAdapt = true after Adapt")
	}
	mean, variance := m.Layers[0].(*nn.Normalization).Stats()
	for c := range 2 {
		var s, s2 float64
		for i := c; i < len(x.Data); i += 2 {
			s += float64(x.Data[i])
		}
		mu := s / float64(len(x.Data)/2)
		for i := c; i < len(x.Data); i += 2 {
			s2 += (float64(x.Data[i]) - mu) * (float64(x.Data[i]) - mu)
		}
		v := s2 / float64(len(x.Data)/2)
		if math.Abs(float64(mean[c])-mu) > 1e-5 || math.Abs(float64(variance[c])-v) > 1e-5*v {
			t.Errorf("channel %d: mean %v variance %v, want %v %v", c, mean[c], variance[c], mu, v)
		}
	}
	mean, variance = m.Layers[2].(*nn.Normalization).Stats()
	if len(mean) != 1 || math.Abs(float64(mean[0])+1) > 1e-5 || math.Abs(float64(variance[0])-4) > 1e-4 {
		t.Errorf("second layer: mean %v variance %v, want -1 and 4 (2x - 1 of values of mean 0 and variance 1)", mean, variance)
	}
	b := encode(t, m, false)
	got, err := decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.NeedsAdapt() {
		t.Error("a model file lost the adapted statistics")
	}
	want := m.ForwardAll(x)
	out := got.ForwardAll(x)
	if !slices.Equal(out[len(out)-1].Data, want[len(want)-1].Data) {
		t.Error("the model read back predicts otherwise")
	}
	bad := tensor.New(2, 6, 6, 2)
	bad.Data[3] = float32(math.NaN())
	if err := m.Adapt(seqOf(bad, 1)); err == nil || !strings.Contains(err.Error(), "sample 0: value 3 is NaN") {
		t.Errorf("adapting on NaN: %v", err)
	}
	m2 := New(&nn.Rescaling{Scale: 2}, &nn.Normalization{}, &nn.Flatten{}, &nn.Dense{Units: 2})
	if err := m2.Build([]int{6, 6, 2}, 1); err != nil {
		t.Fatal(err)
	}
	if err := m2.Adapt(seqOf(bad, 1)); err == nil || !strings.Contains(err.Error(), "adapting normalization: batch 0: input holds NaN") {
		t.Errorf("adapting after a layer on NaN: %v", err)
	}
}
