package model

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
	"google.golang.org/protobuf/proto"
)

// TestONNXNormalization exports Normalization layers of each kind (per
// channel, per row and channel, one for all, inverted per feature, and one
// per row on the input, which preprocessing cannot take) and imports them
// back: each is a Normalization again, with statistics of the same shape,
// the same means and divisors, bit for bit, and the same predictions (but
// the one of one value for all, which comes back as Rescalings within
// rounding). A per-channel one on
// the input comes back as the model's channel preprocessing.
func TestONNXNormalization(t *testing.T) {
	m := New(
		&nn.Normalization{Axis: []int{1}},
		&nn.Conv2D{Filters: 3, KernelSize: pair(3), Padding: "same"},
		&nn.Normalization{},
		&nn.Normalization{Axis: []int{1, 3}, Invert: true},
		&nn.Normalization{Axis: []int{}, Mean: []float64{0.5}, Variance: []float64{3}},
		&nn.Flatten{},
		&nn.Normalization{Invert: true},
		&nn.Dense{Units: 2, Activation: "softmax"},
	)
	if err := m.Build([]int{5, 4, 2}, 1); err != nil {
		t.Fatal(err)
	}
	randomStats(m, 3)
	x := randomPixels(m, 16)
	got := roundTrip(t, m, x)
	var norms []*nn.Normalization
	for _, l := range got.Layers {
		if n, ok := l.(*nn.Normalization); ok {
			norms = append(norms, n)
		}
	}
	// The one-value Normalization comes back as a Rescaling's offset and
	// scale (constants of one value).
	want := []*nn.Normalization{m.Layers[0].(*nn.Normalization), m.Layers[2].(*nn.Normalization), m.Layers[3].(*nn.Normalization), m.Layers[6].(*nn.Normalization)}
	if len(norms) != len(want) {
		t.Fatalf("imported layers %v, want 4 Normalizations", got.Layers)
	}
	for i, n := range norms {
		w := want[i]
		wm, _ := w.Stats()
		gm, _ := n.Stats()
		if !slices.Equal(n.StatsShape(), w.StatsShape()) || n.Invert != w.Invert ||
			!slices.Equal(gm, wm) || !slices.Equal(n.Divisors(), w.Divisors()) {
			t.Errorf("Normalization %d: axis %v invert %v mean %v divisors %v; exported %v %v %v %v", i, n.StatsShape(), n.Invert, gm, n.Divisors(), w.StatsShape(), w.Invert, wm, w.Divisors())
		}
	}

	// On the input, per channel: the model's preprocessing.
	m2 := New(&nn.Normalization{}, &nn.Flatten{}, &nn.Dense{Units: 2})
	if err := m2.Build([]int{3, 3, 2}, 1); err != nil {
		t.Fatal(err)
	}
	randomStats(m2, 4)
	got = roundTrip(t, m2, randomPixels(m2, 8))
	if s := got.Standardizer; s == nil || !s.FeaturewiseStd || len(got.Layers) != 2 {
		t.Errorf("a per-channel Normalization on the input came back as %v and preprocessing %+v, want the channel preprocessing", got.Layers, s)
	}
}

// TestImportONNXNormalizationErrors checks that arithmetic with a constant
// that is no Normalization is refused naming the node and the constant: a
// divisor below 1e-7, the constant first in a Sub, a constant that does
// not broadcast.
func TestImportONNXNormalizationErrors(t *testing.T) {
	m := New(&nn.Conv2D{Filters: 3, KernelSize: pair(3)}, &nn.Normalization{}, &nn.Flatten{}, &nn.Dense{Units: 2})
	if err := m.Build([]int{5, 4, 1}, 1); err != nil {
		t.Fatal(err)
	}
	randomStats(m, 5)
	for _, tt := range []struct {
		change func(mp *onnxpb.ModelProto)
		want   string
	}{
		{func(mp *onnxpb.ModelProto) { weightNamed(mp, "normalization/divisor").FloatData[1] = -2 },
			`node "normalization" (Div): Div by "normalization/divisor", whose value 1 is -2: a Normalization's divisor is from 1e-7 to 1.84e+19`},
		{func(mp *onnxpb.ModelProto) {
			weightNamed(mp, "normalization/divisor").FloatData[2] = float32(math.NaN())
		},
			`whose value 2 is NaN`},
		{func(mp *onnxpb.ModelProto) {
			in := nodeNamed(mp, "normalization/center").Input
			in[0], in[1] = in[1], in[0]
		}, `node "normalization/center" (Sub): the constant "normalization/mean" comes first: c - x is not a convnet layer`},
		{func(mp *onnxpb.ModelProto) { weightNamed(mp, "normalization/mean").Dims = []int64{1, 3} },
			`constant "normalization/mean" of shape [1 3] does not broadcast to the input [N 3 3 2]`},
	} {
		mp, err := onnxModel(m, ONNXExportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range mp.Graph.Initializer {
			if strings.HasPrefix(w.GetName(), "normalization/") {
				w.FloatData = bytesToFloats(w.RawData)
				w.RawData = nil
			}
		}
		tt.change(mp)
		b, err := proto.Marshal(mp)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := importBytes(b, ONNXImportOptions{}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v, want %q", err, tt.want)
		}
	}
}

func weightNamed(mp *onnxpb.ModelProto, name string) *onnxpb.TensorProto {
	for _, w := range mp.Graph.Initializer {
		if w.GetName() == name {
			return w
		}
	}
	panic("no initializer " + name)
}

func nodeNamed(mp *onnxpb.ModelProto, name string) *onnxpb.NodeProto {
	for _, n := range mp.Graph.Node {
		if n.GetName() == name {
			return n
		}
	}
	panic("no node " + name)
}

func bytesToFloats(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24)
	}
	return out
}

// A Rescaling of one scale or offset per channel goes to ONNX as a Mul and
// an Add of per-channel constants and comes back as one Rescaling when a
// scale is no Normalization's divisor (below 0), the offsets joining it;
// a flattened image's per-feature rescaling comes back too.
func TestONNXRescalingPerChannel(t *testing.T) {
	m := New(&nn.Conv2D{Filters: 3, KernelSize: [2]int{3, 3}, Activation: "relu"},
		&nn.Rescaling{Scales: []float64{-1, 0.5, 2}, Offsets: []float64{0.25, -1, 0}},
		&nn.Rescaling{Scale: 0.5, Offsets: []float64{1, 2, 3}},
		&nn.Flatten{}, &nn.Rescaling{Scales: []float64{-1, 1, -1, 2, -2, 1}, Offset: 1},
		&nn.Dense{Units: 2, Activation: "softmax"})
	if err := m.Build([]int{4, 3, 1}, 1); err != nil {
		t.Fatal(err)
	}
	got := roundTrip(t, m, randomPixels(m, 8))
	var kinds []string
	for _, l := range got.Layers {
		kinds = append(kinds, l.Type())
	}
	if want := []string{"Conv2D", "Rescaling", "Rescaling", "Flatten", "Rescaling", "Dense"}; !slices.Equal(kinds, want) {
		t.Fatalf("imported as %v, want %v", kinds, want)
	}
	first := got.Layers[1].(*nn.Rescaling)
	if s, o := first.PerChannel(); !slices.Equal(s, []float32{-1, 0.5, 2}) || !slices.Equal(o, []float32{0.25, -1, 0}) {
		t.Errorf("the first rescaling came back as scales %v, offsets %v", s, o)
	}
}
