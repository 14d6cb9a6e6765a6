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
