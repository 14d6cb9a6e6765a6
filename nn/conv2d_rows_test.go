package nn

import (
	"math/rand/v2"
	"testing"
)

// The plans TestConv2DBlocksMatchNaive relies on: which convolutions run by
// rows, and in how many blocks.
func TestConv2DRowPlans(t *testing.T) {
	tests := []struct {
		in             []int
		f, k           int
		pad            string
		rows, trows    bool
		blocks, tblock int // at least this many blocks
	}{
		{[]int{40, 40, 32}, 8, 5, "same", true, false, 2, 0},
		{[]int{36, 36, 16}, 16, 5, "valid", true, true, 1, 2},
		{[]int{32, 32, 32}, 32, 5, "same", true, true, 2, 2}, // the tutorial's second layer
		{[]int{32, 32, 1}, 32, 5, "same", false, false, 0, 0},
		{[]int{16, 16, 64}, 64, 3, "same", false, false, 0, 0},
	}
	for _, tt := range tests {
		l := &Conv2D{Filters: tt.f, KernelSize: [2]int{tt.k, tt.k}, Padding: tt.pad}
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
