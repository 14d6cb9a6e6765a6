package model

import (
	"slices"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// TestPredictFusesPadding: a ZeroPadding2D that only a Conv2D or a
// DepthwiseConv2D reads is taken into that layer's window when the model
// predicts or evaluates (not when it keeps every output, or trains), and
// the predictions are those of the padded copy; a ZeroPadding2D read
// twice, or by another layer, runs as it is. The layers whose activation
// needs its input (hard_silu, silu) keep it for Backward only when they
// do not just predict (nn.Predictor): the same probabilities, and the
// input gradient after a prediction.
func TestPredictFusesPadding(t *testing.T) {
	x := Input(13, 12, 3)
	a := Call(&nn.Conv2D{Filters: 8, KernelSize: pair(3), Strides: pair(2), Activation: "relu6"}, Call(&nn.ZeroPadding2D{Padding: [2][2]int{{1, 1}, {1, 1}}}, x))
	b := Call(&nn.DepthwiseConv2D{KernelSize: pair(3), Strides: pair(2), Padding: "same", Activation: "hard_silu"}, Call(&nn.ZeroPadding2D{Padding: [2][2]int{{0, 1}, {2, 0}}}, a))
	twice := Call(&nn.ZeroPadding2D{Padding: [2][2]int{{1, 1}, {1, 1}}}, b) // read by two layers
	c := Call(&nn.Add{}, Call(&nn.Conv2D{Filters: 8, KernelSize: pair(3), Activation: "silu"}, twice), Call(&nn.DepthwiseConv2D{KernelSize: pair(3)}, twice))
	pooled := Call(&nn.MaxPool2D{PoolSize: pair(2)}, Call(&nn.ZeroPadding2D{Padding: [2][2]int{{1, 0}, {1, 0}}}, c))
	out := Call(&nn.Dense{Units: 4, Activation: "softmax"}, Call(&nn.Flatten{}, pooled))
	m, err := NewGraph(x, out)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Build(nil, 5); err != nil {
		t.Fatal(err)
	}
	var fused []string
	for i, z := range m.plan.fused {
		if z >= 0 {
			fused = append(fused, m.Layers[z].Type()+">"+m.Layers[i].Type())
		}
	}
	if want := []string{"ZeroPadding2D>Conv2D", "ZeroPadding2D>DepthwiseConv2D"}; !slices.Equal(fused, want) {
		t.Fatalf("fused %v, want %v", fused, want)
	}
	px := randomPixels(m, 6)
	for i := range px.Data {
		px.Data[i] = px.Data[i]/64 - 2
	}
	all := m.ForwardAll(px)
	want := all[len(all)-1].Clone()
	got := tensor.New(6, 4)
	m.Predict(got, px)
	if !slices.Equal(got.Data, want.Data) {
		t.Fatalf("Predict %v, want ForwardAll's %v", got.Data[:8], want.Data[:8])
	}
	if a := testing.AllocsPerRun(5, func() { m.Predict(got, px) }); a != 0 && !raceEnabled {
		t.Errorf("Predict with the padding taken in: %v allocations per call, want 0", a)
	}
	// After a prediction, every output and the input gradient are there
	// again for the demo and saliency.
	all = m.ForwardAll(px)
	if slices.Contains(all, nil) || !slices.Equal(all[len(all)-1].Data, want.Data) {
		t.Fatal("ForwardAll after Predict: missing outputs or other probabilities")
	}
	m.Predict(got, px)
	if g := m.InputGradient(px, 1); !slices.Equal(g.Shape, px.Shape) {
		t.Fatalf("input gradient shape %v", g.Shape)
	}
}
