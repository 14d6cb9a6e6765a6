package nn

import (
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// TestAlphaDropout checks AlphaDropout against its definition: it drops
// the elements Dropout drops from the same source; a kept element becomes
// a·x + b and a dropped one a·α' + b, with a and b computed here from
// Keras's formula (α' = -1.0507·1.6733 = -1.7581; for rate 0.2, a = 0.8789,
// b = 0.3090 and a dropped element -1.2362, as PyTorch's alpha_dropout gives
// them: 0.30904 for a kept 0, 1.187943 for a kept 1, -1.23616 dropped), and
// unit-normal inputs keep mean 0 and variance 1; the gradient is a·dy where kept and 0 where dropped; inference is the
// identity; the same for GOMAXPROCS 1 and all; a rate of 1 is refused,
// naming the layer's type.
func TestAlphaDropout(t *testing.T) {
	const rate, n = 0.2, 200000
	alphaP := -1.0507009873554805 * 1.6732632423543772
	a := math.Pow((1-rate)*(1+rate*alphaP*alphaP), -0.5)
	b := -a * alphaP * rate
	if math.Abs(a-0.878903) > 1e-6 || math.Abs(b-0.30904) > 1e-6 || math.Abs(a*alphaP+b+1.23616) > 1e-5 {
		t.Fatalf("a = %v, b = %v, a dropped element %v; PyTorch's 0.878903, 0.30904, -1.23616", a, b, a*alphaP+b)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	x, dy := tensor.New(4, n/4), tensor.New(4, n/4)
	for i := range x.Data {
		x.Data[i], dy.Data[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	var first *tensor.Tensor
	for _, procs := range []int{1, runtime.GOMAXPROCS(0)} {
		prev := runtime.GOMAXPROCS(procs)
		l := &AlphaDropout{Rate: rate}
		d := &Dropout{Rate: rate}
		for _, layer := range []Layer{l, d} {
			if _, err := layer.Build([]int{n / 4}, rand.New(rand.NewPCG(1, 2))); err != nil {
				t.Fatal(err)
			}
		}
		y := l.Forward(x, true).Clone()
		mask := d.Forward(x, true)
		dx := l.Backward(dy)
		runtime.GOMAXPROCS(prev)

		var sum, sq float64
		for i, v := range x.Data {
			kept := mask.Data[i] != 0 || v == 0
			want, wantD := float32(a*alphaP+b), float32(0)
			if kept {
				want, wantD = float32(v*float32(a))+float32(b), dy.Data[i]*float32(a)
			}
			if math.Abs(float64(y.Data[i]-want)) > 1e-6 || dx.Data[i] != wantD {
				t.Fatalf("GOMAXPROCS %d, element %d (x %v, kept %v): y %v, dx %v; want %v, %v", procs, i, v, kept, y.Data[i], dx.Data[i], want, wantD)
			}
			sum += float64(y.Data[i])
			sq += float64(y.Data[i]) * float64(y.Data[i])
		}
		mean := sum / n
		if v := sq/n - mean*mean; math.Abs(mean) > 0.01 || math.Abs(v-1) > 0.02 {
			t.Errorf("GOMAXPROCS %d: the output's mean %.4f and variance %.4f, want 0 and 1", procs, mean, v)
		}
		if first == nil {
			first = y
		} else {
			for i := range y.Data {
				if y.Data[i] != first.Data[i] {
					t.Fatalf("element %d: %v with GOMAXPROCS %d, %v with 1", i, y.Data[i], procs, first.Data[i])
				}
			}
		}
		if y := l.Forward(x, false); y.Data[5] != x.Data[5] || y.Data[n-1] != x.Data[n-1] {
			t.Errorf("inference changed the input: %v, %v; want %v, %v", y.Data[5], y.Data[n-1], x.Data[5], x.Data[n-1])
		}
	}
	l := &AlphaDropout{Rate: 1}
	if _, err := l.Build([]int{3}, rand.New(rand.NewPCG(1, 2))); err == nil || !strings.Contains(err.Error(), "AlphaDropout: rate = 1: must be in [0, 1)") {
		t.Errorf("AlphaDropout{Rate: 1}.Build: %v", err)
	}
}
