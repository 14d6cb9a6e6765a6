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

// TestConv2DGroupsIsBlockDiagonalConv2D checks a grouped convolution
// against the ungrouped one whose kernel is zero outside the groups: filter
// f of group f/(F/g) reads the channels of that group alone. Outputs, dL/dx
// and the gradients of the kernel (where the grouped one has weights) and
// bias agree within 1e-5; two cases have as many groups as channels, which
// the layer runs as a DepthwiseConv2D (one as ConvNeXt's 7×7).
func TestConv2DGroupsIsBlockDiagonalConv2D(t *testing.T) {
	for _, tc := range []struct {
		c, f, groups int
		k, s         [2]int
		padding, act string
		in           [2]int
	}{
		{6, 9, 3, [2]int{3, 3}, [2]int{1, 1}, "same", "relu", [2]int{7, 6}},
		{32, 64, 32, [2]int{3, 3}, [2]int{2, 2}, "same", "", [2]int{8, 9}},
		{64, 64, 4, [2]int{3, 3}, [2]int{1, 1}, "same", "silu", [2]int{6, 7}},
		{8, 4, 2, [2]int{1, 1}, [2]int{1, 1}, "valid", "tanh", [2]int{5, 5}},
		{12, 24, 6, [2]int{2, 3}, [2]int{2, 1}, "valid", "hard_silu", [2]int{7, 8}},
		{16, 16, 16, [2]int{7, 7}, [2]int{1, 1}, "same", "gelu", [2]int{9, 8}},
	} {
		c, f, gr := tc.c, tc.f, tc.groups
		cg, fg := c/gr, f/gr
		in := []int{tc.in[0], tc.in[1], c}
		grouped := &nn.Conv2D{Filters: f, KernelSize: tc.k, Strides: tc.s, Padding: tc.padding, Groups: gr, Activation: tc.act}
		full := &nn.Conv2D{Filters: f, KernelSize: tc.k, Strides: tc.s, Padding: tc.padding, Activation: tc.act}
		build(t, grouped, in...)
		build(t, full, in...)
		taps := tc.k[0] * tc.k[1]
		k, fk := grouped.Params()[0].Value.Data, full.Params()[0].Value.Data
		if len(k) != taps*cg*f {
			t.Fatalf("%+v: kernel of %d values, want %d", tc, len(k), taps*cg*f)
		}
		clear(fk)
		for tap := range taps {
			for j := range f {
				for ci := range cg {
					fk[(tap*c+j/fg*cg+ci)*f+j] = k[(tap*cg+ci)*f+j]
				}
			}
		}
		rng := rand.New(rand.NewPCG(5, 6))
		for i := range grouped.Params()[1].Value.Data {
			v := float32(rng.NormFloat64())
			grouped.Params()[1].Value.Data[i], full.Params()[1].Value.Data[i] = v, v
		}
		x := tensor.New(3, in[0], in[1], in[2])
		for i := range x.Data {
			x.Data[i] = float32(rng.NormFloat64())
		}
		close := func(what string, a, b []float32) {
			t.Helper()
			if len(a) != len(b) {
				t.Fatalf("%+v: %s: %d values, want %d", tc, what, len(a), len(b))
			}
			for i := range a {
				if math.Abs(float64(a[i]-b[i])) > 1e-5*max(1, math.Abs(float64(b[i]))) {
					t.Fatalf("%+v: %s[%d] = %v, the block-diagonal Conv2D gives %v", tc, what, i, a[i], b[i])
				}
			}
		}
		y := grouped.Forward(x, true)
		close("output", y.Data, full.Forward(x, true).Data)
		dy := y.Clone()
		for i := range dy.Data {
			dy.Data[i] = float32(rng.NormFloat64())
		}
		close("dx", grouped.Backward(dy).Data, full.Backward(dy).Data)
		g, fgrad := grouped.Params()[0].Grad.Data, full.Params()[0].Grad.Data
		kept := make([]float32, len(g))
		for tap := range taps {
			for j := range f {
				for ci := range cg {
					kept[(tap*cg+ci)*f+j] = fgrad[(tap*c+j/fg*cg+ci)*f+j]
				}
			}
		}
		close("kernel gradient", g, kept)
		close("bias gradient", grouped.Params()[1].Grad.Data, full.Params()[1].Grad.Data)
	}
}

// TestConv2DGroupsSameResultAnyGOMAXPROCS checks bit-identical outputs
// and gradients of a grouped convolution for 1, 2 and 4 threads, and no
// allocation per step once its buffers have grown.
func TestConv2DGroupsSameResultAnyGOMAXPROCS(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var want [][]float32
	for _, procs := range []int{1, 2, 4} {
		runtime.GOMAXPROCS(procs)
		l := &nn.Conv2D{Filters: 32, KernelSize: [2]int{3, 3}, Padding: "same", Groups: 8, Activation: "relu"}
		build(t, l, 10, 9, 16)
		x := tensor.New(6, 10, 9, 16)
		rng := rand.New(rand.NewPCG(7, 7))
		for i := range x.Data {
			x.Data[i] = float32(rng.NormFloat64())
		}
		y := l.Forward(x, true).Clone()
		dx := l.Backward(y).Clone()
		got := [][]float32{y.Data, dx.Data, slices.Clone(l.Params()[0].Grad.Data), slices.Clone(l.Params()[1].Grad.Data)}
		if want == nil {
			want = got
			continue
		}
		for i := range got {
			if !slices.Equal(got[i], want[i]) {
				t.Errorf("GOMAXPROCS %d: result %d differs from GOMAXPROCS 1", procs, i)
			}
		}
		if !raceEnabled {
			if n := testing.AllocsPerRun(5, func() { l.Backward(l.Forward(x, true)) }); n != 0 {
				t.Errorf("GOMAXPROCS %d: %v allocations per step, want 0", procs, n)
			}
		}
	}
}

func TestConv2DGroupsBuildErrors(t *testing.T) {
	for _, tc := range []struct {
		l    *nn.Conv2D
		in   []int
		want string
	}{
		{&nn.Conv2D{Filters: 8, KernelSize: [2]int{3, 3}, Groups: 3}, []int{8, 8, 6}, "Conv2D: groups = 3: must divide the input's 6 channels and the 8 filters"},
		{&nn.Conv2D{Filters: 6, KernelSize: [2]int{3, 3}, Groups: 4}, []int{8, 8, 6}, "groups = 4: must divide the input's 6 channels"},
		{&nn.Conv2D{Filters: 6, KernelSize: [2]int{3, 3}, Groups: -2}, []int{8, 8, 6}, "groups = -2"},
	} {
		if _, err := tc.l.Build(tc.in, rand.New(rand.NewPCG(1, 1))); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Build(%+v, %v) error = %v, want %q", tc.l, tc.in, err, tc.want)
		}
	}
}

// A Conv2D of one group per channel reads its kernel and bias where they
// are at each call: a replica's weights are the tensors of the model it
// copies, swapped in after Build.
func TestConv2DPerChannelReadsSwappedWeights(t *testing.T) {
	a := &nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Padding: "same", Groups: 4}
	b := &nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Padding: "same", Groups: 4}
	build(t, a, 5, 5, 4)
	if _, err := b.Build([]int{5, 5, 4}, rand.New(rand.NewPCG(9, 9))); err != nil {
		t.Fatal(err)
	}
	for i := range a.Params()[1].Value.Data {
		a.Params()[1].Value.Data[i] = float32(i) - 1.5
	}
	x := tensor.New(2, 5, 5, 4)
	for i := range x.Data {
		x.Data[i] = float32(i%7) - 3
	}
	want := a.Predict(x).Clone()
	for i, p := range b.Params() {
		p.Value = a.Params()[i].Value
	}
	if got := b.Predict(x); !slices.Equal(got.Data, want.Data) {
		t.Errorf("with a's weights swapped in, b predicts differently from a")
	}
}
