package model_test

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/tensor"
)

// TestFeatures checks Features against ForwardAll on the standardised
// batch, across batches of 2 for 5 images, and the standardised input for
// layer -1; bad layers and images are refused.
func TestFeatures(t *testing.T) {
	m, c := ahcdClassifier(t, model.ClassifierOptions{BatchSize: 2})
	ev, err := m.Evaluation()
	if err != nil || ev == nil || len(ev.Samples) < 5 {
		t.Fatalf("the built-in model's evaluation samples: %v", err)
	}
	px := make([][]float32, 5)
	x := tensor.New(5, 32, 32, 1)
	for i := range px {
		for _, b := range ev.Samples[i*40].Pixels {
			px[i] = append(px[i], float32(b))
		}
		copy(x.Data[i*1024:], px[i])
	}
	m.Standardizer.Apply(x, x)
	last := len(m.Layers) - 1
	if m.FeatureLayer() != last-1 {
		t.Errorf("FeatureLayer() = %d, want %d", m.FeatureLayer(), last-1)
	}
	want := m.ForwardAll(x)[last-1].Clone() // before the classifier, which may run on m, overwrites it
	got, err := c.Features(context.Background(), px, last-1)
	if err != nil {
		t.Fatal(err)
	}
	size := want.Len() / 5
	if len(got) != 5 || len(got[0]) != size || size != 256 {
		t.Fatalf("%d feature vectors of %d values, want 5 of 256", len(got), len(got[0]))
	}
	worst := 0.0
	for i := range got {
		for j, v := range got[i] {
			worst = max(worst, math.Abs(float64(v-want.Data[i*size+j])))
		}
	}
	if worst > 1e-5 {
		t.Errorf("features differ from ForwardAll's by up to %g", worst)
	}
	in, err := c.Features(context.Background(), px[:1], -1)
	if err != nil || !slices.Equal(in[0], x.Data[:1024]) {
		t.Errorf("layer -1: %v, not the standardised input", err)
	}
	for _, tt := range []struct {
		px    [][]float32
		layer int
		want  string
	}{
		{px, last + 1, "layer 30: the model has layers 0..29"},
		{px, -2, "layer -2"},
		{[][]float32{px[0], {1, 2}}, 0, "input 2: 2 values, want 1024"},
	} {
		if _, err := c.Features(context.Background(), tt.px, tt.layer); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Features(layer %d): error %v, want %q", tt.layer, err, tt.want)
		}
	}
}
