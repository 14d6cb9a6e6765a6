package nn

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// The plans TestConv2DBlocksMatchNaive relies on: which convolutions run by
// rows, and in how many blocks.
func TestConv2DRowPlans(t *testing.T) {
	tests := []struct {
		in             []int
		f, k, s        int
		pad            string
		rows, trows    bool
		blocks, tblock int // at least this many blocks
	}{
		{[]int{40, 40, 32}, 8, 5, 1, "same", true, false, 2, 0},
		{[]int{36, 36, 16}, 16, 5, 1, "valid", true, true, 1, 2},
		{[]int{32, 32, 32}, 32, 5, 1, "same", true, true, 2, 2}, // the tutorial's second layer
		{[]int{32, 32, 1}, 32, 5, 1, "same", false, false, 0, 0},
		{[]int{16, 16, 64}, 64, 3, 1, "same", true, true, 1, 1},
		{[]int{16, 16, 8}, 64, 3, 1, "same", false, true, 0, 1}, // 3·8 values: too shallow forward
		{[]int{16, 16, 64}, 64, 2, 1, "same", false, false, 0, 0},
		{[]int{16, 16, 64}, 64, 3, 2, "same", false, false, 0, 0},
	}
	for _, tt := range tests {
		l := &Conv2D{Filters: tt.f, KernelSize: [2]int{tt.k, tt.k}, Strides: [2]int{tt.s, tt.s}, Padding: tt.pad}
		if _, err := l.Build(tt.in, rand.New(rand.NewPCG(1, 2))); err != nil {
			t.Fatal(err)
		}
		if (l.rows != nil) != tt.rows || (l.trows != nil) != tt.trows {
			t.Errorf("Conv2D %v f=%d %dx%d: by rows %v, input gradient by rows %v; want %v, %v",
				tt.in, tt.f, tt.k, tt.k, l.rows != nil, l.trows != nil, tt.rows, tt.trows)
			continue
		}
		if l.rows != nil && l.rows.blocks() < tt.blocks {
			t.Errorf("Conv2D %v f=%d: %d blocks, want at least %d", tt.in, tt.f, l.rows.blocks(), tt.blocks)
		}
		if l.trows != nil && l.trows.blocks() < tt.tblock {
			t.Errorf("Conv2D %v f=%d: %d input-gradient blocks, want at least %d", tt.in, tt.f, l.trows.blocks(), tt.tblock)
		}
	}
}

// Convolutions by rows give the same bits whatever the number of cores,
// their forward pass spread over cores too.
func TestConv2DRowsSameResultAnyGOMAXPROCS(t *testing.T) {
	defer func(v int) { parallelConvFlops = v }(parallelConvFlops)
	parallelConvFlops = 0
	run := func(procs int) [][]float32 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		l := &Conv2D{Filters: 16, KernelSize: [2]int{5, 5}, Padding: "same", Activation: "relu"}
		if _, err := l.Build([]int{20, 20, 16}, rand.New(rand.NewPCG(5, 6))); err != nil {
			t.Fatal(err)
		}
		if l.rows == nil || l.trows == nil {
			t.Fatal("the test convolution does not run by rows")
		}
		rng := rand.New(rand.NewPCG(7, 8))
		x := tensor.New(11, 20, 20, 16)
		for i := range x.Data {
			x.Data[i] = float32(rng.NormFloat64())
		}
		y := l.Forward(x, true).Clone()
		g := y.Clone()
		for i := range g.Data {
			g.Data[i] = float32(rng.NormFloat64())
		}
		dx := l.Backward(g)
		return [][]float32{y.Data, dx.Data, l.kernel.Grad.Data, l.bias.Grad.Data}
	}
	a, b := run(1), run(2)
	for i, name := range []string{"y", "dx", "kernel grad", "bias grad"} {
		if !slices.Equal(a[i], b[i]) {
			t.Errorf("Conv2D by rows: %s differs between GOMAXPROCS 1 and 2", name)
		}
	}
}
