package web

import (
	"fmt"
	"math"
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// TestKernelNormalization checks the statistics the kernel endpoint answers
// for a Normalization: the means and the divisors, max(√variance, 1e-7), of
// one channel, [h w] of each for one per pixel, [1 1] for one per channel,
// [1] for a unit; a channel beyond the last is refused.
func TestKernelNormalization(t *testing.T) {
	in := model.Input(6, 5, 1)
	x := model.Call(&nn.Conv2D{Filters: 3, KernelSize: [2]int{3, 3}, Padding: "same"}, in)
	x = model.Call(&nn.Normalization{Axis: []int{1, 2, 3}}, x)
	x = model.Call(&nn.Normalization{}, x)
	x = model.Call(&nn.Dense{Units: 4}, model.Call(&nn.Flatten{}, x))
	x = model.Call(&nn.Normalization{Invert: true}, x)
	m := ahcdGraph(t, in, x)
	for i, l := range m.Layers {
		if l.Type() == "Normalization" {
			p := l.Params()
			for j := range p[0].Value.Data {
				p[0].Value.Data[j], p[1].Value.Data[j] = float32(100*i+j), float32(j*j)
			}
		}
	}
	s, err := NewServer([]Model{{"norm", classifier(t, m, model.ClassifierOptions{})}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		layer, channel int
		shape          string
		first, last    int // the first and last statistic's index j: mean 100·layer + j, divisor max(j, 1e-7)
	}{
		{1, 1, "[6 5]", 1, 29*3 + 1}, // [6 5 3]: (y, x, 1) at (y·5 + x)·3 + 1
		{2, 2, "[1 1]", 2, 2},
		{5, 3, "[1]", 3, 3},
	} {
		target := fmt.Sprintf("/api/models/norm/layers/%d/kernel?channel=%d", tt.layer, tt.channel)
		got := decode[kernelAnswer](t, do(s, "GET", target, "", nil))
		div := func(j int) float32 { return max(float32(j), 1e-7) }
		if got.Type != "Normalization" || fmt.Sprint(got.Shape) != tt.shape || len(got.Divisors) != len(got.Values) ||
			got.Values[0] != float32(100*tt.layer+tt.first) || got.Values[len(got.Values)-1] != float32(100*tt.layer+tt.last) ||
			got.Divisors[0] != div(tt.first) || got.Divisors[len(got.Divisors)-1] != div(tt.last) {
			t.Errorf("GET %s = %s shape %v means %v divisors %v; want Normalization %s, statistics %d to %d", target, got.Type, got.Shape, got.Values, got.Divisors, tt.shape, tt.first, tt.last)
		}
	}
	if got := decode[kernelAnswer](t, do(s, "GET", "/api/models/norm/layers/1/kernel?channel=0", "", nil)); got.Divisors[0] != float32(1e-7) || math.IsNaN(float64(got.Values[0])) {
		t.Errorf("a variance of 0: divisor %v, want 1e-7", got.Divisors[0])
	}
	if r := do(s, "GET", "/api/models/norm/layers/5/kernel?channel=4", "", nil); r.status != 400 {
		t.Errorf("unit 4 of 4: status %d, want 400", r.status)
	}
}

// TestKernelPReLU checks the slopes answered for a channel of a PReLU
// with one slope per value of an image ([h, w] of the channel's), one
// per column ([1, w] for every channel) and one per unit of a vector
// ([1]); a channel beyond the last is refused.
func TestKernelPReLU(t *testing.T) {
	in := model.Input(6, 5, 1)
	x := model.Call(&nn.Conv2D{Filters: 3, KernelSize: [2]int{3, 3}, Padding: "same"}, in)
	x = model.Call(&nn.PReLU{}, x)
	x = model.Call(&nn.PReLU{SharedAxes: []int{1, 3}}, x)
	x = model.Call(&nn.Dense{Units: 4}, model.Call(&nn.Flatten{}, x))
	x = model.Call(&nn.PReLU{}, x)
	m := ahcdGraph(t, in, x)
	for i, l := range m.Layers {
		if l.Type() == "PReLU" {
			for j := range l.Params()[0].Value.Data {
				l.Params()[0].Value.Data[j] = float32(100*i + j)
			}
		}
	}
	s, err := NewServer([]Model{{"slopes", classifier(t, m, model.ClassifierOptions{})}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		layer, channel int
		shape          string
		first, last    float32 // the first and last slope
	}{
		{1, 1, "[6 5]", 101, 100 + 29*3 + 1}, // alpha [6 5 3]: (y, x, 1) at (y·5 + x)·3 + 1
		{2, 2, "[1 5]", 200, 204},            // alpha [1 5 1]: every channel reads the same
		{5, 3, "[1]", 503, 503},
	} {
		target := fmt.Sprintf("/api/models/slopes/layers/%d/kernel?channel=%d", tt.layer, tt.channel)
		got := decode[kernelAnswer](t, do(s, "GET", target, "", nil))
		if got.Type != "PReLU" || fmt.Sprint(got.Shape) != tt.shape || got.Values[0] != tt.first || got.Values[len(got.Values)-1] != tt.last {
			t.Errorf("GET %s = %s shape %v values %v; want PReLU %s from %v to %v", target, got.Type, got.Shape, got.Values, tt.shape, tt.first, tt.last)
		}
	}
	if r := do(s, "GET", "/api/models/slopes/layers/5/kernel?channel=4", "", nil); r.status != 400 {
		t.Errorf("unit 4 of 4: status %d, want 400", r.status)
	}
}

// TestKernelLayerNormSequence checks the gamma and beta answered for a
// channel of a LayerNormalization of a sequence [T, C] (an image reshaped
// to rows of channels): [1] when it normalises each row's channels (all
// rows share them), [T] when it normalises the whole sequence.
func TestKernelLayerNormSequence(t *testing.T) {
	m := model.New(
		&nn.Conv2D{Filters: 3, KernelSize: [2]int{3, 3}, Padding: "same"},
		&nn.Reshape{TargetShape: []int{16, 3}},
		&nn.LayerNormalization{},
		&nn.LayerNormalization{Axis: []int{1, 2}},
		&nn.Flatten{},
		&nn.Dense{Units: 3, Activation: "softmax"},
	)
	if err := m.Build([]int{4, 4, 1}, 1); err != nil {
		t.Fatal(err)
	}
	m.ClassNames = []string{"a", "b", "c"}
	for i, l := range m.Layers {
		if l.Type() == "LayerNormalization" {
			gamma, beta := l.Params()[0].Value.Data, l.Params()[1].Value.Data
			for j := range gamma {
				gamma[j], beta[j] = float32(100*i+j), -float32(100*i+j)
			}
		}
	}
	s, err := NewServer([]Model{{"seq", classifier(t, m, model.ClassifierOptions{})}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		layer       int
		shape       string
		first, last float32 // the first and last gamma of channel 1, beta their negatives
	}{
		{2, "[1]", 201, 201},
		{3, "[16]", 301, 300 + 15*3 + 1}, // gamma [16 3]: (t, 1) at t·3 + 1
	} {
		target := fmt.Sprintf("/api/models/seq/layers/%d/kernel?channel=1", tt.layer)
		got := decode[kernelAnswer](t, do(s, "GET", target, "", nil))
		n := len(got.Values)
		if fmt.Sprint(got.Shape) != tt.shape || n == 0 || len(got.Offsets) != n || got.Values[0] != tt.first || got.Values[n-1] != tt.last || got.Offsets[n-1] != -tt.last {
			t.Errorf("GET %s = shape %v gamma %v beta %v; want %s from %v to %v", target, got.Shape, got.Values, got.Offsets, tt.shape, tt.first, tt.last)
		}
	}
}
