package nn

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// The mask is the one Dropout's documentation defines: runs of 16,384
// elements, each drawn by a PCG generator seeded with two numbers from the
// layer's source, two elements per number. The test computes it from that
// definition, element by element, for inputs of one run, of several and of
// a part of one, on one core and on all.
func TestDropoutMaskFollowsItsDefinition(t *testing.T) {
	for _, tt := range []struct {
		rate float64
		n    int
	}{{0.25, 3000}, {0.3, 3 * 20000}, {0.5, 16384}, {1e-17, 40000}, {0.9999999, 1000}, {0.2, 16384*2 + 1}} {
		for _, procs := range []int{1, runtime.GOMAXPROCS(0)} {
			prev := runtime.GOMAXPROCS(procs)
			l := &Dropout{Rate: tt.rate}
			if _, err := l.Build([]int{tt.n}, rand.New(rand.NewPCG(3, uint64(tt.rate*1e6)))); err != nil {
				t.Fatal(err)
			}
			x := tensor.New(1, tt.n)
			for i := range x.Data {
				x.Data[i] = float32(i%13) - 6
			}
			y := l.Forward(x, true)
			runtime.GOMAXPROCS(prev)

			ref := rand.New(rand.NewPCG(3, uint64(tt.rate*1e6)))
			scale := float32(1 / (1 - tt.rate))
			drop := uint64(math.Ceil(tt.rate * (1 << 32)))
			var src *rand.PCG
			var r uint64
			dropped := 0
			for i, v := range x.Data {
				if i%16384 == 0 {
					s1, s2 := ref.Uint64(), ref.Uint64()
					src = rand.NewPCG(s1, s2)
				}
				if i%2 == 0 {
					r = src.Uint64()
				}
				u := r & (1<<32 - 1)
				if i%2 == 1 {
					u = r >> 32
				}
				m := scale
				if u < drop {
					m, dropped = 0, dropped+1
				}
				if y.Data[i] != v*m {
					t.Fatalf("Dropout{Rate: %v}, %d elements, GOMAXPROCS %d: output[%d] = %v, want %v", tt.rate, tt.n, procs, i, y.Data[i], v*m)
				}
			}
			if tt.n >= 40000 {
				if f := float64(dropped) / float64(tt.n); math.Abs(f-tt.rate) > 6*math.Sqrt(tt.rate*(1-tt.rate)/float64(tt.n))+1e-9 {
					t.Errorf("Dropout{Rate: %v} dropped %d of %d elements (%.4f)", tt.rate, dropped, tt.n, f)
				}
			}
		}
	}
}
