package nn

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// TestGaussianNoise checks GaussianNoise and GaussianDropout against their
// definitions: over 200,000 values (several runs of the noise) the added
// noise has mean 0 and standard deviation Stddev, the factor mean 1 and
// standard deviation sqrt(rate/(1-rate)), 68.3% of the draws within one
// standard deviation; the first two draws are those the documented recipe
// gives from the model's source; the gradient is dy, or dy times the
// factor; inference is the identity; GOMAXPROCS 1 and all give the same
// bits; bad settings are refused naming the layer.
func TestGaussianNoise(t *testing.T) {
	const n = 200000
	ones, dy := tensor.New(2, n/2), tensor.New(2, n/2)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range ones.Data {
		ones.Data[i], dy.Data[i] = 1, float32(rng.NormFloat64())
	}
	for _, tt := range []struct {
		l  Layer
		sd float64
	}{
		{&GaussianNoise{Stddev: 0.5}, 0.5},
		{&GaussianDropout{Rate: 0.2}, 0.5}, // sqrt(0.2/0.8)
		{&GaussianDropout{Rate: 0.5}, 1},
	} {
		var runs [][]float32
		for _, procs := range []int{1, runtime.GOMAXPROCS(0)} {
			prev := runtime.GOMAXPROCS(procs)
			if _, err := tt.l.Build([]int{n / 2}, rand.New(rand.NewPCG(1, 2))); err != nil {
				t.Fatal(err)
			}
			y := tt.l.Forward(ones, true).Clone()
			dx := tt.l.Backward(dy)
			runtime.GOMAXPROCS(prev)
			_, scaled := tt.l.(*GaussianDropout)
			var sum, sq float64
			within := 0
			for i, v := range y.Data {
				z := float64(v) - 1 // the noise, or the factor less 1
				sum += z
				sq += z * z
				if math.Abs(z) <= tt.sd {
					within++
				}
				want := dy.Data[i]
				if scaled {
					want *= v
				}
				if dx.Data[i] != want {
					t.Fatalf("%s: dx[%d] = %v, want %v", tt.l.Type(), i, dx.Data[i], want)
				}
			}
			mean, sd := sum/n, math.Sqrt(sq/n-sum/n*sum/n)
			if math.Abs(mean) > 0.01*tt.sd || math.Abs(sd-tt.sd) > 0.01*tt.sd || math.Abs(float64(within)/n-0.6827) > 0.005 {
				t.Errorf("%s: noise of mean %.4f, standard deviation %.4f, %.4f within one; want 0, %v, 0.6827", tt.l.Type(), mean, sd, float64(within)/n, tt.sd)
			}
			// The recipe: the run's seed from the model's source, then u, v.
			src := rand.New(rand.NewPCG(1, 2))
			pcg := rand.NewPCG(src.Uint64(), src.Uint64())
			u := float64(pcg.Uint64()>>11+1) * 0x1p-53
			w := float64(pcg.Uint64()>>11) * 0x1p-53
			r := tt.sd * math.Sqrt(-2*math.Log(u))
			if z0, z1 := float32(1+r*math.Cos(2*math.Pi*w)), float32(1+r*math.Sin(2*math.Pi*w)); y.Data[0] != z0 || y.Data[1] != z1 {
				t.Errorf("%s: the first two values %v, %v; the recipe gives %v, %v", tt.l.Type(), y.Data[0], y.Data[1], z0, z1)
			}
			runs = append(runs, slices.Concat(y.Data, dx.Data))
			if y := tt.l.Forward(dy, false); !slices.Equal(y.Data, dy.Data) {
				t.Errorf("%s: inference changed its input", tt.l.Type())
			}
		}
		if !slices.Equal(runs[0], runs[1]) {
			t.Errorf("%s: GOMAXPROCS %d gives other bits than 1", tt.l.Type(), runtime.GOMAXPROCS(0))
		}
	}
	for _, tt := range []struct {
		l    Layer
		want string
	}{
		{&GaussianNoise{Stddev: -0.1}, "GaussianNoise: stddev = -0.1: must be a finite number, at least 0"},
		{&GaussianNoise{Stddev: math.NaN()}, "stddev = NaN"},
		{&GaussianNoise{Stddev: math.Inf(1)}, "stddev = +Inf"},
		{&GaussianDropout{Rate: 1}, "GaussianDropout: rate = 1: must be in [0, 1)"},
		{&GaussianDropout{Rate: -0.5}, "rate = -0.5"},
	} {
		if _, err := tt.l.Build([]int{3}, rand.New(rand.NewPCG(1, 2))); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%T.Build: %v, want %q", tt.l, err, tt.want)
		}
	}
}
