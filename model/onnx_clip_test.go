package model

import (
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/internal/onnxpb"
	"github.com/convnet-go/convnet/nn"
)

// TestONNXClip: a ReLU with a max_value exports as Clip(0, max) and a Clip
// from 0 imports as that ReLU (PyTorch's ReLU6); other Clips are refused.
func TestONNXClip(t *testing.T) {
	m := New(
		&nn.Conv2D{Filters: 2, KernelSize: pair(3)},
		&nn.ReLU{MaxValue: 0.3},
		&nn.Flatten{},
		&nn.Dense{Units: 3, Activation: "softmax"},
	)
	if err := m.Build([]int{6, 6, 1}, 2); err != nil {
		t.Fatal(err)
	}
	m.ClassNames = []string{"x", "y", "z"}
	mp, err := onnxModel(m, ONNXExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(mp.Graph.Node, func(n *onnxpb.NodeProto) bool { return n.GetOpType() == "Clip" }) {
		t.Fatal("no Clip node")
	}
	got := roundTrip(t, m, randomPixels(m, 8))
	if r, ok := got.Layers[1].(*nn.ReLU); !ok || r.MaxValue != 0.3 {
		t.Errorf("layer 2 is %s %v, want ReLU with max_value 0.3", got.Layers[1].Type(), got.Layers[1].Config())
	}
	for _, n := range mp.Graph.Initializer {
		if strings.HasSuffix(n.GetName(), "/min") {
			n.RawData = nil
			n.FloatData = []float32{-1}
		}
	}
	_, err = importBytes(marshal(t, mp), ONNXImportOptions{})
	if want := "(Clip): clips to [-1, 0.3]: convnet clips from 0 to a positive maximum or none"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Clip from -1: %v, want an error containing %q", err, want)
	}
}

// TestONNXReLU6: a Clip from 0 to 6 that alone reads a convolution's or a
// Dense layer's output becomes that layer's relu6 (one layer, the clamp
// applied while the output is in cache), exported back as Clip(0, 6); a
// ReLU6 after a layer with an activation, or whose input is also read
// elsewhere, stays a ReLU layer.
func TestONNXReLU6(t *testing.T) {
	x := Input(6, 6, 2)
	c := Call(&nn.Conv2D{Filters: 4, KernelSize: pair(3), Padding: "same"}, x)
	r := Call(&nn.ReLU{MaxValue: 6}, c) // folds: only it reads c
	d := Call(&nn.DepthwiseConv2D{KernelSize: pair(3), Padding: "same", Activation: "relu6"}, r)
	e := Call(&nn.Conv2D{Filters: 4, KernelSize: pair(1)}, d)
	kept := Call(&nn.ReLU{MaxValue: 6}, e) // e is also read by the Add
	sum := Call(&nn.Add{}, kept, e)
	f := Call(&nn.Dense{Units: 5, Activation: "relu"}, Call(&nn.Flatten{}, sum))
	out := Call(&nn.Dense{Units: 3, Activation: "softmax"}, Call(&nn.ReLU{MaxValue: 6}, f)) // f has an activation
	m, err := NewGraph(x, out)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 3); err != nil {
		t.Fatal(err)
	}
	m.ClassNames = []string{"x", "y", "z"}
	px := randomPixels(m, 8)
	for i := range px.Data {
		px.Data[i] *= 20 // values beyond 6 before the clamps
	}
	got := roundTrip(t, m, px)
	var types []string
	for _, l := range got.Layers {
		ty := l.Type()
		if a, _ := l.Config()["activation"].(string); a != "" && a != "linear" {
			ty += ":" + a
		}
		types = append(types, ty)
	}
	want := []string{"Conv2D:relu6", "DepthwiseConv2D:relu6", "Conv2D", "ReLU", "Add", "Flatten", "Dense:relu", "ReLU", "Dense:softmax"}
	if !slices.Equal(types, want) {
		t.Errorf("imported layers %v, want %v", types, want)
	}
}
