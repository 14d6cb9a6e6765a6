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

func build(t testing.TB, l nn.Layer, in ...int) nn.Layer {
	t.Helper()
	if _, err := l.Build(in, rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Fatal(err)
	}
	return l
}

// fillNormal sets every value of data to scale times a standard normal
// draw from rng.
func fillNormal(rng *rand.Rand, scale float32, data ...[]float32) {
	for _, d := range data {
		for i := range d {
			d[i] = scale * float32(rng.NormFloat64())
		}
	}
}

// Ties: the gradient goes to the first maximum in scan order.
func TestMaxPoolTies(t *testing.T) {
	x := tensor.FromData([]float32{
		5, 5, 1, 7,
		5, 1, 7, 7,
		2, 3, 9, 0,
		3, 3, 0, 9,
	}, 1, 4, 4, 1)
	l := build(t, &nn.MaxPool2D{}, 4, 4, 1)
	y := l.Forward(x, false)
	if want := []float32{5, 7, 3, 9}; !slices.Equal(y.Data, want) {
		t.Fatalf("MaxPool2D.Forward = %v, want %v", y.Data, want)
	}
	dx := l.Backward(tensor.FromData([]float32{1, 2, 3, 4}, 1, 2, 2, 1))
	want := []float32{
		1, 0, 0, 2,
		0, 0, 0, 0,
		0, 3, 4, 0,
		0, 0, 0, 0,
	}
	if !slices.Equal(dx.Data, want) {
		t.Errorf("MaxPool2D.Backward = %v, want %v", dx.Data, want)
	}

	// Overlapping windows with "same" padding: each window routes to its own
	// first maximum, and shared cells add up.
	x3 := tensor.FromData([]float32{
		1, 4, 4,
		4, 2, 0,
		0, 0, 4,
	}, 1, 3, 3, 1)
	l3 := build(t, &nn.MaxPool2D{PoolSize: [2]int{2, 2}, Strides: [2]int{1, 1}, Padding: "same"}, 3, 3, 1)
	y3 := l3.Forward(x3, false)
	if want := []float32{4, 4, 4, 4, 4, 4, 0, 4, 4}; !slices.Equal(y3.Data, want) {
		t.Fatalf("MaxPool2D same Forward = %v, want %v", y3.Data, want)
	}
	dx3 := l3.Backward(tensor.FromData([]float32{1, 1, 1, 1, 1, 1, 1, 1, 1}, 1, 3, 3, 1))
	if want := []float32{0, 2, 1, 1, 0, 0, 1, 0, 4}; !slices.Equal(dx3.Data, want) {
		t.Errorf("MaxPool2D same Backward = %v, want %v", dx3.Data, want)
	}
}

// Keras's same-padding average counts only cells inside the image.
func TestAveragePoolingSameExcludesPadding(t *testing.T) {
	x := ramp(3, 3) // 1..9
	l := build(t, &nn.AveragePooling2D{Padding: "same"}, 3, 3, 1)
	y := l.Forward(x, false)
	// windows: {1,2,4,5}, {3,6}, {7,8}, {9}
	if want := []float32{3, 4.5, 7.5, 9}; !slices.Equal(y.Data, want) {
		t.Errorf("AveragePooling2D same = %v, want %v", y.Data, want)
	}
}

func TestBatchNormalizationMovingStatistics(t *testing.T) {
	l := build(t, &nn.BatchNormalization{Momentum: 0.9}, 2)
	x := tensor.FromData([]float32{1, 10, 3, 20, 5, 30, 7, 40}, 4, 2)
	y := l.Forward(x, true)
	p := l.Params()
	// feature 0: mean 4, biased variance 5; feature 1: mean 25, variance 125.
	wantMean := []float32{0.1 * 4, 0.1 * 25}
	wantVar := []float32{0.9 + 0.1*5, 0.9 + 0.1*125}
	for j := range 2 {
		if math.Abs(float64(p[2].Value.Data[j]-wantMean[j])) > 1e-6 || math.Abs(float64(p[3].Value.Data[j]-wantVar[j])) > 1e-5 {
			t.Errorf("moving mean, variance [%d] = %v, %v, want %v, %v", j, p[2].Value.Data[j], p[3].Value.Data[j], wantMean[j], wantVar[j])
		}
	}
	// y = (x - mean) / sqrt(var + 1e-3)
	if got, want := y.Data[0], float32(-3/math.Sqrt(5+1e-3)); math.Abs(float64(got-want)) > 1e-6 {
		t.Errorf("BatchNormalization training y[0] = %v, want %v", got, want)
	}
	yi := l.Forward(x, false)
	if got, want := yi.Data[0], float32((1-0.4)/math.Sqrt(1.4+1e-3)); math.Abs(float64(got-want)) > 1e-6 {
		t.Errorf("BatchNormalization inference y[0] = %v, want %v", got, want)
	}
	if p[2].Grad != nil || p[3].Grad != nil || p[2].Trainable || p[3].Trainable {
		t.Errorf("moving statistics must not be trainable")
	}
	names := []string{p[0].Name, p[1].Name, p[2].Name, p[3].Name}
	if want := []string{"gamma", "beta", "moving_mean", "moving_variance"}; !slices.Equal(names, want) {
		t.Errorf("BatchNormalization params %v, want %v", names, want)
	}
}

// The softmax layers leave their softmax to the loss on request: the output
// is then the logits, and the loss's gradient through them equals the
// gradient of the loss of the probabilities through the softmax.
func TestOmitSoftmax(t *testing.T) {
	layers := []nn.Layer{
		&nn.Dense{Units: 4, Activation: "softmax"},
		&nn.Softmax{},
		&nn.Activation{Func: "softmax"},
	}
	for _, l := range layers {
		in := 4
		build(t, l, in)
		rng := rand.New(rand.NewPCG(3, 3))
		x := tensor.New(3, in)
		for i := range x.Data {
			x.Data[i] = float32(rng.NormFloat64())
		}
		y := l.Forward(x, true).Clone()
		target := tensor.FromData([]float32{0, 3, 1}, 3)
		dy := tensor.New(3, 4)
		for n, c := range target.Data {
			dy.Data[n*4+int(c)] = -1 / (3 * y.Data[n*4+int(c)])
		}
		dx1 := l.Backward(dy).Clone()

		s := l.(nn.FinalSoftmax)
		if !s.OmitSoftmax(true) {
			t.Errorf("%s.OmitSoftmax(true) = false", l.Type())
		}
		z := l.Forward(x, true)
		p := tensor.New(3, 4)
		nn.SoftmaxRows(p, z)
		for i := range p.Data {
			if math.Abs(float64(p.Data[i]-y.Data[i])) > 1e-6 {
				t.Fatalf("%s: softmax of the output without softmax = %v, output %v", l.Type(), p.Data, y.Data)
			}
		}
		dz := tensor.New(3, 4)
		nn.CrossEntropy{Sparse: true}.FromLogits(dz, z, target)
		dx2 := l.Backward(dz)
		for i := range dx1.Data {
			if math.Abs(float64(dx1.Data[i]-dx2.Data[i])) > 1e-5 {
				t.Errorf("%s: Backward from the logits %v, through the softmax %v", l.Type(), dx2.Data, dx1.Data)
				break
			}
		}
		if !s.OmitSoftmax(false) {
			t.Errorf("%s.OmitSoftmax(false) = false", l.Type())
		}
		if y2 := l.Forward(x, true); !slices.Equal(y2.Data, y.Data) {
			t.Errorf("%s: OmitSoftmax(false) does not restore the softmax", l.Type())
		}
	}
	for _, l := range []nn.Layer{&nn.Dense{Units: 2, Activation: "relu"}, &nn.Activation{Func: "tanh"}, &nn.ReLU{}, &nn.Conv2D{Filters: 2, KernelSize: [2]int{1, 1}}} {
		in := []int{3}
		if l.Type() == "Conv2D" {
			in = []int{2, 2, 3}
		}
		build(t, l, in...)
		x := tensor.New(append([]int{1}, in...)...)
		x.Fill(-0.5)
		y := l.Forward(x, false).Clone()
		if l.(nn.FinalSoftmax).OmitSoftmax(true) {
			t.Errorf("%s.OmitSoftmax(true) = true", l.Type())
		}
		if y2 := l.Forward(x, false); !slices.Equal(y2.Data, y.Data) {
			t.Errorf("%s: OmitSoftmax(true) changes the output of a layer without softmax", l.Type())
		}
	}
}

// TestReLUMaxValue checks ReLU with a max_value (ReLU6) by hand: values
// are clipped to [0, 6] and the gradient passes only strictly between.
func TestReLUMaxValue(t *testing.T) {
	l := &nn.ReLU{MaxValue: 6}
	if _, err := l.Build([]int{5}, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	y := l.Forward(tensor.FromData([]float32{-1, 0, 3, 6, 7.5}, 1, 5), false)
	if want := []float32{0, 0, 3, 6, 6}; !slices.Equal(y.Data, want) {
		t.Errorf("Forward = %v, want %v", y.Data, want)
	}
	dx := l.Backward(tensor.FromData([]float32{1, 1, 1, 1, 1}, 1, 5))
	if want := []float32{0, 0, 1, 0, 0}; !slices.Equal(dx.Data, want) {
		t.Errorf("Backward = %v, want %v", dx.Data, want)
	}
	if c := l.Config(); c["max_value"] != 6.0 {
		t.Errorf("Config max_value = %v, want 6", c["max_value"])
	}
}

// TestChannelShuffle checks ShuffleNet's shuffle by hand: six channels in
// two groups (0 1 2 | 3 4 5) read as 0 3 1 4 2 5, and three groups
// (0 1 | 2 3 | 4 5) as 0 2 4 1 3 5; the gradient goes back the same way.
func TestChannelShuffle(t *testing.T) {
	for _, tt := range []struct {
		groups int
		want   []float32
	}{
		{2, []float32{0, 3, 1, 4, 2, 5, 10, 13, 11, 14, 12, 15}},
		{3, []float32{0, 2, 4, 1, 3, 5, 10, 12, 14, 11, 13, 15}},
		{1, []float32{0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15}},
	} {
		l := &nn.ChannelShuffle{Groups: tt.groups}
		if _, err := l.Build([]int{1, 2, 6}, nil); err != nil {
			t.Fatal(err)
		}
		x := tensor.FromData([]float32{0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15}, 1, 1, 2, 6)
		y := l.Forward(x, false)
		if !slices.Equal(y.Data, tt.want) {
			t.Errorf("groups %d: Forward = %v, want %v", tt.groups, y.Data, tt.want)
		}
		if dx := l.Backward(tensor.FromData(slices.Clone(tt.want), 1, 1, 2, 6)); !slices.Equal(dx.Data, x.Data) {
			t.Errorf("groups %d: Backward = %v, want %v", tt.groups, dx.Data, x.Data)
		}
	}
}

// TestChannelSlice checks the slice and its gradient by hand, and the
// shapes it refuses.
func TestChannelSlice(t *testing.T) {
	l := &nn.ChannelSlice{Start: 1, End: 3}
	out, err := l.Build([]int{2, 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out, []int{2, 2}) {
		t.Fatalf("output shape %v, want [2 2]", out)
	}
	y := l.Forward(tensor.FromData([]float32{0, 1, 2, 3, 4, 5, 6, 7}, 1, 2, 4), false)
	if want := []float32{1, 2, 5, 6}; !slices.Equal(y.Data, want) {
		t.Errorf("Forward = %v, want %v", y.Data, want)
	}
	dx := l.Backward(tensor.FromData([]float32{9, 8, 7, 6}, 1, 2, 2))
	if want := []float32{0, 9, 8, 0, 0, 7, 6, 0}; !slices.Equal(dx.Data, want) {
		t.Errorf("Backward = %v, want %v", dx.Data, want)
	}
	for _, tt := range []struct {
		l    nn.Layer
		want string
	}{
		{&nn.ChannelSlice{Start: 2, End: 2}, "ChannelSlice: channels 2 to 2: want 0 <= start < end <= 4, the input's channels"},
		{&nn.ChannelSlice{Start: -1, End: 2}, "ChannelSlice: channels -1 to 2: want 0 <= start < end <= 4"},
		{&nn.ChannelSlice{Start: 0, End: 5}, "ChannelSlice: channels 0 to 5: want 0 <= start < end <= 4"},
		{&nn.ChannelShuffle{Groups: 3}, "ChannelShuffle: groups = 3: want a positive divisor of the 4 channels"},
		{&nn.ChannelShuffle{}, "ChannelShuffle: groups = 0: want a positive divisor of the 4 channels"},
	} {
		if _, err := tt.l.Build([]int{3, 4}, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Build: %v, want an error containing %q", err, tt.want)
		}
	}
}

// TestMaxPool2DBandsAnyGOMAXPROCS checks a 3x3 pool with strides 2 on a
// large image, whose rows Forward splits into bands when the batch has
// fewer images than cores: the output and the gradient are the same for
// 1, 2 and 4 threads and for a batch of one image or of five (each image
// alone), and a step allocates nothing.
func TestMaxPool2DBandsAnyGOMAXPROCS(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	x := tensor.New(5, 41, 40, 24)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range x.Data {
		x.Data[i] = float32(rng.IntN(7)) // ties
	}
	var want [][]float32
	for _, procs := range []int{1, 2, 4} {
		runtime.GOMAXPROCS(procs)
		for _, n := range []int{1, 5} {
			l := &nn.MaxPool2D{PoolSize: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: "same"}
			if _, err := l.Build([]int{41, 40, 24}, nil); err != nil {
				t.Fatal(err)
			}
			xs := x.Slice(0, n)
			y := l.Forward(xs, true).Clone()
			dx := l.Backward(y).Clone()
			per, size := len(y.Data)/n, len(dx.Data)/n
			got := [][]float32{y.Data[:per], dx.Data[:size]}
			if want == nil {
				want = got
				continue
			}
			for i := range got {
				if !slices.Equal(got[i], want[i]) {
					t.Errorf("GOMAXPROCS %d, batch %d: result %d differs from GOMAXPROCS 1", procs, n, i)
				}
			}
			if !raceEnabled {
				if a := testing.AllocsPerRun(5, func() { l.Backward(l.Forward(xs, true)) }); a != 0 {
					t.Errorf("GOMAXPROCS %d: %v allocations per step, want 0", procs, a)
				}
			}
		}
	}
}

// TestChannelLayersInPieces runs ChannelShuffle, ChannelSlice and
// Concatenate on batches large enough to be cut into pieces run on several
// cores: the same outputs and gradients for 1, 2 and 4 threads.
func TestChannelLayersInPieces(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	x := tensor.New(3, 20, 30, 24)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	run := func() [][]float32 {
		var out [][]float32
		for _, l := range []nn.Layer{&nn.ChannelShuffle{Groups: 3}, &nn.ChannelSlice{Start: 5, End: 17}} {
			if _, err := l.Build([]int{20, 30, 24}, nil); err != nil {
				t.Fatal(err)
			}
			y := l.Forward(x, true)
			out = append(out, slices.Clone(y.Data), slices.Clone(l.Backward(y).Data))
		}
		cat := &nn.Concatenate{}
		if _, err := cat.BuildInputs([][]int{{20, 30, 24}, {20, 30, 24}}, nil); err != nil {
			t.Fatal(err)
		}
		y := cat.ForwardInputs([]*tensor.Tensor{x, x}, true)
		out = append(out, slices.Clone(y.Data))
		for _, dx := range cat.BackwardInputs(y) {
			out = append(out, slices.Clone(dx.Data))
		}
		return out
	}
	runtime.GOMAXPROCS(1)
	want := run()
	for _, procs := range []int{2, 4} {
		runtime.GOMAXPROCS(procs)
		for i, got := range run() {
			if !slices.Equal(got, want[i]) {
				t.Errorf("GOMAXPROCS %d: result %d differs from GOMAXPROCS 1", procs, i)
			}
		}
	}
	// By hand: the gradient of the slice is dy in its channels, 0 around.
	if d := want[3]; d[4] != 0 || d[5] != want[2][0] || d[17] != 0 {
		t.Errorf("ChannelSlice gradient %v..., want 0 before channel 5 and from channel 17", d[:24])
	}
	if !slices.Equal(want[1], x.Data) {
		t.Error("ChannelShuffle's gradient of its output is not its input")
	}
	if !slices.Equal(want[5], x.Data) || !slices.Equal(want[6], x.Data) {
		t.Error("Concatenate gradients are not the input's own values")
	}
}

// Each channel's mean is its cells summed in order in float64, then
// divided: the same bits whatever the channels' count (the AVX-512 blocks
// of 16 and the rest).
func TestGlobalAveragePoolingMeans(t *testing.T) {
	const n, h, w, c = 3, 6, 5, 37
	l := build(t, &nn.GlobalAveragePooling2D{}, h, w, c)
	rng := rand.New(rand.NewPCG(3, 4))
	x := tensor.New(n, h, w, c)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64() * 100)
	}
	y := l.Forward(x, false)
	for i := range n {
		for j := range c {
			var s float64
			for p := range h * w {
				s += float64(x.Data[(i*h*w+p)*c+j])
			}
			if want := float32(s * (1 / float64(h*w))); y.Data[i*c+j] != want {
				t.Fatalf("image %d channel %d: %v, want %v", i, j, y.Data[i*c+j], want)
			}
		}
	}
}

// Each channel's maximum over a 2x2 image of 2 channels, worked by hand;
// channel 1 holds its maximum twice: the gradient goes to the first.
func TestGlobalMaxPooling(t *testing.T) {
	l := build(t, &nn.GlobalMaxPooling2D{}, 2, 2, 2)
	x := tensor.New(1, 2, 2, 2)
	copy(x.Data, []float32{ // cells in rows, channels 0 and 1 in each
		-3, 1,
		-1, 5,
		-2, 0,
		-7, 5,
	})
	y := l.Forward(x, true)
	if want := []float32{-1, 5}; !slices.Equal(y.Data, want) {
		t.Errorf("Forward = %v, want %v", y.Data, want)
	}
	dy := tensor.New(1, 2)
	copy(dy.Data, []float32{0.5, -2})
	dx := l.Backward(dy)
	if want := []float32{0, 0, 0.5, -2, 0, 0, 0, 0}; !slices.Equal(dx.Data, want) {
		t.Errorf("Backward = %v, want %v", dx.Data, want)
	}
}

// TestConfigZeros: Keras refuses strides, pool sizes, dilation rates and
// groups of 0, which convnet's layers would read as their defaults.
func TestConfigZeros(t *testing.T) {
	for _, c := range []struct {
		typ  string
		cfg  map[string]any
		want string
	}{
		{"Conv2D", map[string]any{"filters": 2.0, "kernel_size": []any{3.0, 3.0}, "strides": []any{0.0, 0.0}}, `field "strides": want integers of at least 1, got [0,0]`},
		{"Conv2D", map[string]any{"filters": 2.0, "kernel_size": 3.0, "dilation_rate": 0.0}, `field "dilation_rate": want integers of at least 1, got 0`},
		{"Conv2D", map[string]any{"filters": 2.0, "kernel_size": 3.0, "groups": 0.0}, `field "groups": want an integer of at least 1, got 0`},
		{"DepthwiseConv2D", map[string]any{"kernel_size": 3.0, "strides": []any{1.0, 0.0}}, `field "strides": want integers of at least 1, got [1,0]`},
		{"MaxPooling2D", map[string]any{"pool_size": []any{0.0, 0.0}}, `field "pool_size": want integers of at least 1`},
		{"AveragePooling2D", map[string]any{"strides": -1.0}, `field "strides": want integers of at least 1, got -1`},
	} {
		if _, err := nn.FromConfig(c.typ, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: %v, want %q", c.typ, c.cfg, err, c.want)
		}
	}
	if _, err := nn.FromConfig("MaxPooling2D", map[string]any{"pool_size": []any{2.0, 2.0}, "strides": nil}); err != nil {
		t.Errorf("strides null (Keras's default): %v", err)
	}
}
