package nn_test

import (
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// A per-channel Rescaling computes x·scale[c] + offset[c] for the value's
// channel c, rounded as a Mul then an Add, and dy·scale[c] back: the test
// checks every value of a batch cut into pieces that start in the middle
// of a pixel, on one core and on several.
func TestRescalingPerChannel(t *testing.T) {
	scales, offsets := []float64{0.5, -2, 1.0 / 255}, []float64{1, 0, -0.25}
	x := tensor.New(3, 100, 100, 3)
	for i := range x.Data {
		x.Data[i] = float32(i%509) - 200
	}
	for _, tt := range []struct {
		l             *nn.Rescaling
		scale, offset func(c int) float32
	}{
		{&nn.Rescaling{Scales: scales, Offsets: offsets}, func(c int) float32 { return float32(scales[c]) }, func(c int) float32 { return float32(offsets[c]) }},
		{&nn.Rescaling{Scales: scales}, func(c int) float32 { return float32(scales[c]) }, func(int) float32 { return 0 }},
		{&nn.Rescaling{Scale: 2, Offsets: offsets}, func(int) float32 { return 2 }, func(c int) float32 { return float32(offsets[c]) }},
	} {
		if _, err := tt.l.Build([]int{100, 100, 3}, nil); err != nil {
			t.Fatal(err)
		}
		for _, procs := range []int{1, 2, 4} {
			prev := runtime.GOMAXPROCS(procs)
			y := tt.l.Forward(x, true)
			dx := tt.l.Backward(x)
			runtime.GOMAXPROCS(prev)
			for i, v := range x.Data {
				c := i % 3
				if want := float32(v*tt.scale(c)) + tt.offset(c); y.Data[i] != want {
					t.Fatalf("%v, GOMAXPROCS %d: y[%d] = %v, want %v", tt.l.Config(), procs, i, y.Data[i], want)
				}
				if want := v * tt.scale(c); dx.Data[i] != want {
					t.Fatalf("%v, GOMAXPROCS %d: dx[%d] = %v, want %v", tt.l.Config(), procs, i, dx.Data[i], want)
				}
			}
		}
	}
	for _, tt := range []struct {
		l    *nn.Rescaling
		want string
	}{
		{&nn.Rescaling{Scale: 1, Scales: scales}, "Rescaling: scale = 1 and scales = [0.5 -2 0.00392156862745098]: give one or the other"},
		{&nn.Rescaling{Scales: []float64{1, 2}}, "Rescaling: scales: 2 values for 3 channels"},
		{&nn.Rescaling{Scales: []float64{1, 0, 2}}, "Rescaling: scale of channel 1 = 0: must be a finite number other than 0"},
		{&nn.Rescaling{Scale: 1, Offsets: []float64{1, 2, math.NaN()}}, "Rescaling: offset of channel 2 = NaN: must be a finite number"},
		{&nn.Rescaling{Scale: 1, Offset: 1, Offsets: offsets}, "offset = 1 and offsets = [1 0 -0.25]: give one or the other"},
	} {
		if _, err := tt.l.Build([]int{4, 4, 3}, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Build: %v, want an error containing %q", err, tt.want)
		}
	}
	if cfg := (&nn.Rescaling{Offsets: offsets}).Config(); cfg["scale"] != 1.0 {
		t.Errorf("per-channel offsets without a scale: the config's scale is %v, want 1", cfg["scale"])
	}
	// Configs: a list per channel, a list of one value as that value.
	cfg := (&nn.Rescaling{Scales: scales, Offset: 0.5}).Config()
	if s, ok := cfg["scale"].([]float64); !ok || !slices.Equal(s, scales) || cfg["offset"] != 0.5 {
		t.Errorf("Config() = %v", cfg)
	}
	for _, tt := range []struct {
		scale, offset any
		want          nn.Rescaling
	}{
		{[]any{0.5, -2.0, 0.25}, 0.0, nn.Rescaling{Scales: []float64{0.5, -2, 0.25}}},
		{[]any{0.5}, []any{[]any{1.0, 2.0, 3.0}}, nn.Rescaling{Scale: 0.5, Offsets: []float64{1, 2, 3}}},
		{[]float64{2, 3, 4}, 1.0, nn.Rescaling{Scales: []float64{2, 3, 4}, Offset: 1}},
	} {
		l, err := nn.FromConfig("Rescaling", map[string]any{"scale": tt.scale, "offset": tt.offset})
		if err != nil {
			t.Fatal(err)
		}
		r := l.(*nn.Rescaling)
		if r.Scale != tt.want.Scale || r.Offset != tt.want.Offset || !slices.Equal(r.Scales, tt.want.Scales) || !slices.Equal(r.Offsets, tt.want.Offsets) {
			t.Errorf("FromConfig(scale %v, offset %v) = %v", tt.scale, tt.offset, r.Config())
		}
	}
	if _, err := nn.FromConfig("Rescaling", map[string]any{"scale": []any{"x"}}); err == nil || !strings.Contains(err.Error(), `field "scale"`) {
		t.Errorf("a scale of a string: %v", err)
	}
}

// TestRescaling checks x·scale + offset and its gradient by hand, the same
// values in pieces on any number of cores, and what Build refuses.
func TestRescaling(t *testing.T) {
	l := &nn.Rescaling{Scale: 1.0 / 127.5, Offset: -1}
	if _, err := l.Build([]int{2, 2, 1}, nil); err != nil {
		t.Fatal(err)
	}
	y := l.Forward(tensor.FromData([]float32{0, 127.5, 255, 51}, 1, 2, 2, 1), false)
	if want := []float32{-1, 0, 1, -0.6}; !slices.EqualFunc(y.Data, want, func(a, b float32) bool { return math.Abs(float64(a-b)) < 1e-6 }) {
		t.Errorf("Forward = %v, want %v", y.Data, want)
	}
	dx := l.Backward(tensor.FromData([]float32{127.5, -255, 1, 0}, 1, 2, 2, 1))
	if want := []float32{1, -2, 1 / 127.5, 0}; !slices.Equal(dx.Data, want) {
		t.Errorf("Backward = %v, want %v", dx.Data, want)
	}
	// A batch larger than a piece of work: each value as computed alone.
	l = &nn.Rescaling{Scale: 1.0 / 127.5, Offset: -1}
	if _, err := l.Build([]int{100, 100, 3}, nil); err != nil {
		t.Fatal(err)
	}
	big := tensor.New(3, 100, 100, 3)
	for i := range big.Data {
		big.Data[i] = float32(i%509) - 200
	}
	for _, procs := range []int{1, 2, 4} {
		prev := runtime.GOMAXPROCS(procs)
		y := l.Forward(big, true)
		dx := l.Backward(big)
		runtime.GOMAXPROCS(prev)
		for i, v := range big.Data {
			if want := float32(v*float32(1.0/127.5)) - 1; y.Data[i] != want {
				t.Fatalf("GOMAXPROCS %d: y[%d] = %v, want %v", procs, i, y.Data[i], want)
			}
			if want := v * float32(1.0/127.5); dx.Data[i] != want {
				t.Fatalf("GOMAXPROCS %d: dx[%d] = %v, want %v", procs, i, dx.Data[i], want)
			}
		}
	}
	for _, tt := range []struct {
		l    nn.Layer
		want string
	}{
		{&nn.Rescaling{}, "Rescaling: scale = 0: must be a finite number other than 0"},
		{&nn.Rescaling{Scale: math.Inf(1)}, "scale = +Inf"},
		{&nn.Rescaling{Scale: 1e39}, "scale = 1e+39"}, // beyond float32
		{&nn.Rescaling{Scale: math.NaN()}, "scale = NaN"},
		{&nn.Rescaling{Scale: 1, Offset: math.NaN()}, "Rescaling: offset = NaN: must be a finite number"},
	} {
		if _, err := tt.l.Build([]int{3, 4}, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Build: %v, want an error containing %q", err, tt.want)
		}
	}
}
