package model

import (
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/nn"
)

// TestONNXReshape exports Reshape layers and imports them back: a vector
// made an image of one cell (a squeeze-and-excitation block's weights, as
// Keras's EfficientNet writes it) is a Reshape again, an image made a
// vector comes back as a Flatten, both with the same predictions; an image
// reshaped to another image exports (NHWC, Reshape, NCHW) but does not come
// back, and a reshape to a rank convnet's samples do not have is refused.
func TestONNXReshape(t *testing.T) {
	m := reshapes(t)
	got := roundTrip(t, m, randomPixels(m, 8))
	var types []string
	for _, l := range got.Layers {
		types = append(types, l.Type())
	}
	if !slices.Contains(types, "Reshape") || !slices.Contains(types, "Flatten") {
		t.Errorf("imported layers %v, want a Reshape (the weights) and a Flatten", types)
	}

	m2 := New(&nn.Conv2D{Filters: 2, KernelSize: pair(3)}, &nn.Reshape{TargetShape: []int{2, -1, 4}}, &nn.Flatten{}, &nn.Dense{Units: 2})
	if err := m2.Build([]int{6, 6, 1}, 1); err != nil {
		t.Fatal(err)
	}
	mp, err := onnxModel(m2, ONNXExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, n := range mp.Graph.Node {
		if strings.HasPrefix(n.GetName(), "reshape") {
			ops = append(ops, n.GetOpType())
		}
	}
	if !slices.Equal(ops, []string{"Transpose", "Reshape", "Transpose"}) {
		t.Errorf("an image reshaped to an image exports as %v, want Transpose, Reshape, Transpose", ops)
	}
	if _, err := importBytes(exportBytes(t, m2), ONNXImportOptions{}); err == nil || !strings.Contains(err.Error(), `node "reshape/reshape" (Reshape)`) {
		t.Errorf("importing it back: %v, want the Reshape named", err)
	}
	m3 := New(&nn.Reshape{TargetShape: []int{6, -1}}, &nn.Flatten{}, &nn.Dense{Units: 2})
	if err := m3.Build([]int{6, 6, 1}, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := onnxModel(m3, ONNXExportOptions{}); err == nil || !strings.Contains(err.Error(), "a reshape of [6 6 1] to [6 6]: the ONNX export takes images [H W C] and vectors") {
		t.Errorf("a reshape to rank 2: %v", err)
	}
}

// reshapes is a graph whose squeeze-and-excitation weights a Reshape makes
// an image of one cell, and whose maps another Reshape makes a vector.
func reshapes(t testing.TB) *Model {
	in := Input(6, 5, 4)
	x := Call(&nn.Conv2D{Filters: 4, KernelSize: pair(3), Padding: "same", Activation: "relu"}, in)
	g := Call(&nn.Reshape{TargetShape: []int{1, 1, -1}}, Call(&nn.GlobalAveragePooling2D{}, x))
	g = Call(&nn.Conv2D{Filters: 4, KernelSize: pair(1), Activation: "sigmoid"}, g)
	x = Call(&nn.Multiply{}, x, g)
	v := Call(&nn.Reshape{TargetShape: []int{-1}}, x)
	m, err := NewGraph(in, Call(&nn.Dense{Units: 3, Activation: "softmax"}, v))
	if err == nil {
		err = m.Build(nil, 2)
	}
	if err != nil {
		t.Fatal(err)
	}
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}
	return m
}
