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

// A Dropout with a noise shape draws one number per cell of that shape, in
// row-major order, and multiplies every value by its cell's scale, in both
// passes. The test builds the mask from that definition, indexing the
// noise shape by each value's coordinates, for noise shapes that share
// draws along every mix of axes, on one core and on several.
func TestDropoutNoiseShape(t *testing.T) {
	in := []int{6, 5, 4} // a sample; batches of 7
	const n, rate = 7, 0.3
	x := tensor.New(n, 6, 5, 4)
	for i := range x.Data {
		x.Data[i] = float32(i%17) - 8.5
	}
	for _, noise := range [][]int{
		{0, 1, 1, 1}, {0, 1, 1, 4}, {0, 6, 5, 1}, {0, 1, 5, 0}, {0, 6, 1, 4},
		{1, 1, 1, 4}, {1, 0, 0, 0}, {1, 1, 1, 1}, {0, 0, 1, 0},
	} {
		// The reference: the noise shape with None resolved, drawn in order.
		cells := slices.Clone(noise)
		if cells[0] == 0 {
			cells[0] = n
		}
		for a := 1; a < 4; a++ {
			if cells[a] == 0 {
				cells[a] = in[a-1]
			}
		}
		ref := rand.New(rand.NewPCG(5, 6))
		scale := make([]float32, tensor.Size(cells))
		drop := uint64(math.Ceil(rate * (1 << 32)))
		for i := range scale {
			if ref.Uint64()>>32 >= drop {
				scale[i] = float32(1 / (1 - rate))
			}
		}
		want := make([]float32, len(x.Data))
		for i := range want {
			coord := []int{i / (6 * 5 * 4), i / (5 * 4) % 6, i / 4 % 5, i % 4}
			cell := 0
			for a, c := range coord {
				if cells[a] == 1 {
					c = 0
				}
				cell = cell*cells[a] + c
			}
			want[i] = x.Data[i] * scale[cell]
		}
		for _, procs := range []int{1, 2, 4} {
			prev := runtime.GOMAXPROCS(procs)
			l := &Dropout{Rate: rate, NoiseShape: noise}
			if _, err := l.Build(in, rand.New(rand.NewPCG(5, 6))); err != nil {
				t.Fatal(err)
			}
			y := slices.Clone(l.Forward(x, true).Data)
			dx := l.Backward(x).Data
			runtime.GOMAXPROCS(prev)
			if !slices.Equal(y, want) || !slices.Equal(dx, want) {
				t.Fatalf("noise_shape %s, GOMAXPROCS %d: the output or gradient differs from the definition", noiseText(noise), procs)
			}
			if got := l.Forward(x, false); !slices.Equal(got.Data, x.Data) {
				t.Errorf("noise_shape %s: inference is not the identity", noiseText(noise))
			}
		}
	}
}

// Noise shapes drop about Rate of their cells: whole samples with
// (None, 1, 1, 1), whose values all keep or lose together.
func TestDropoutWholeSamples(t *testing.T) {
	const n, rate = 4000, 0.2
	l := &Dropout{Rate: rate, NoiseShape: []int{0, 1, 1, 1}}
	if _, err := l.Build([]int{2, 2, 3}, rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Fatal(err)
	}
	x := tensor.New(n, 2, 2, 3)
	for i := range x.Data {
		x.Data[i] = 1
	}
	y := l.Forward(x, true).Data
	dropped := 0
	for s := range n {
		sample := y[s*12 : s*12+12]
		if sample[0] == 0 {
			dropped++
		}
		for _, v := range sample {
			if v != sample[0] || (v != 0 && v != float32(1/(1-rate))) {
				t.Fatalf("sample %d: %v, want twelve equal values, 0 or %v", s, sample, 1/(1-rate))
			}
		}
	}
	if f := float64(dropped) / n; math.Abs(f-rate) > 6*math.Sqrt(rate*(1-rate)/n) {
		t.Errorf("%d of %d samples dropped (%.3f), want about %v", dropped, n, f, rate)
	}
}

func TestDropoutNoiseShapeErrors(t *testing.T) {
	for _, tt := range []struct {
		l    Layer
		in   []int
		want string
	}{
		{&Dropout{Rate: 0.1, NoiseShape: []int{0, 1, 1}}, []int{4, 4, 2}, "Dropout: noise_shape (None, 1, 1): want 4 sizes, the batch's and those of the input [4 4 2]"},
		{&Dropout{Rate: 0.1, NoiseShape: []int{0, 1, 3, 1}}, []int{4, 4, 2}, "Dropout: noise_shape (None, 1, 3, 1): size 3 of axis 2: want None, 1 or the input's 4"},
		{&Dropout{Rate: 0.1, NoiseShape: []int{0, -1}}, []int{4}, "size -1 of axis 1: want None, 1 or the input's 4"},
		{&Dropout{Rate: 0.1, NoiseShape: []int{32, 1}}, []int{4}, "Dropout: noise_shape (32, 1): batch size 32: want None (draws for each sample) or 1 (the same for the batch)"},
		{&AlphaDropout{Rate: 0.1, Dropout: Dropout{NoiseShape: []int{0, 1}}}, []int{4}, "AlphaDropout: noise_shape (None, 1): AlphaDropout drops values one by one"},
	} {
		if _, err := tt.l.Build(tt.in, rand.New(rand.NewPCG(1, 2))); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Build: %v, want an error containing %q", err, tt.want)
		}
	}
}

// The config writes the noise shape as Keras does, None as null, and
// reads it back; a size that is neither positive nor null is refused.
func TestDropoutNoiseShapeConfig(t *testing.T) {
	l := &Dropout{Rate: 0.2, NoiseShape: []int{0, 1, 1, 0}}
	cfg := l.Config()
	if got := cfg["noise_shape"]; !slices.Equal(got.([]any), []any{nil, 1, 1, nil}) {
		t.Errorf("noise_shape %v, want [<nil> 1 1 <nil>]", got)
	}
	back, err := FromConfig("Dropout", map[string]any{"name": "d", "rate": 0.2, "noise_shape": []any{nil, 1.0, 1.0, nil}})
	if err != nil || !slices.Equal(back.(*Dropout).NoiseShape, l.NoiseShape) {
		t.Errorf("FromConfig: %v, %v", back, err)
	}
	if _, ok := (&Dropout{Rate: 0.2}).Config()["noise_shape"]; ok {
		t.Errorf("a Dropout without a noise shape writes one")
	}
	for _, bad := range []any{[]any{nil, 0.0}, []any{nil, -2.0}, []any{"x"}, "x", 1.5} {
		if _, err := FromConfig("Dropout", map[string]any{"rate": 0.2, "noise_shape": bad}); err == nil || !strings.Contains(err.Error(), `field "noise_shape": want a list of positive integers and nulls`) {
			t.Errorf("noise_shape %v: %v", bad, err)
		}
	}
}
