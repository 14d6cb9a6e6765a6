package model

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// TestGradCAMIsCAM checks Grad-CAM where it has a closed form: maps
// averaged by a global pool into a Dense layer give ∂score/∂A_k = W[k,c]/
// (h·w) at every cell, so the map is ReLU(Σ_k W[k,c]·A_k)/(h·w), the class
// activation map of Zhou et al. 2016.
func TestGradCAMIsCAM(t *testing.T) {
	m := New(
		&nn.Conv2D{Filters: 4, KernelSize: pair(3), Padding: "same", Activation: "tanh"},
		&nn.GlobalAveragePooling2D{},
		&nn.Dense{Units: 3, Activation: "softmax"},
	)
	if err := m.Build([]int{6, 5, 1}, 3); err != nil {
		t.Fatal(err)
	}
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}
	if got := m.CAMLayer(); got != 0 {
		t.Fatalf("CAMLayer() = %d, want 0, the convolution", got)
	}
	c, err := NewClassifier(m.Clone(), ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	px := make([]float32, 30)
	for i := range px {
		px[i] = float32((i * 97) % 256)
	}
	x := tensor.FromData(append([]float32(nil), px...), 1, 6, 5, 1)
	m.Standardizer.Apply(x, x)
	a := m.ForwardAll(x)[0].Data
	w := m.Layers[2].Params()[0].Value.Data // [4, 3]
	positive := 0
	for class := range 3 {
		cam, err := c.GradCAM(context.Background(), px, class, -1)
		if err != nil {
			t.Fatal(err)
		}
		if cam.Class != class || cam.Layer != 0 || fmt.Sprint(cam.Map.Shape) != "[6 5]" {
			t.Fatalf("class %d: Grad-CAM of class %d, layer %d, shape %v; want [6 5] of layer 0", class, cam.Class, cam.Layer, cam.Map.Shape)
		}
		for p, got := range cam.Map.Data {
			s := 0.0
			for k := range 4 {
				s += float64(w[k*3+class]) * float64(a[p*4+k])
			}
			want := max(s, 0) / 30
			if want > 0 {
				positive++
			}
			if math.Abs(float64(got)-want) > 1e-6*max(want, 1e-3) {
				t.Errorf("class %d, cell %d: Grad-CAM %.8g, want ReLU(Σ W·A)/(h·w) = %.8g", class, p, got, want)
			}
		}
	}
	if positive < 20 || positive > 80 {
		t.Errorf("%d of 90 cells positive: a test that shows little of the ReLU", positive)
	}
}

// TestCAMLayer checks the layer Grad-CAM weighs by default: after the last
// convolution, its batch normalization and activation, or a residual
// block's Add and ReLU, but no pooling.
func TestCAMLayer(t *testing.T) {
	for _, tt := range []struct{ preset, want string }{
		{"tutorial", "conv2d_3"},
		{"convnet-bn", "re_lu_5"},
		{"resnet", "re_lu_8"},
	} {
		m, err := Preset(tt.preset)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Build(nil, 1); err != nil {
			t.Fatal(err)
		}
		i := m.CAMLayer()
		if i < 0 || m.Layers[i].Name() != tt.want {
			t.Errorf("%s: CAMLayer() = %d, want %s", tt.preset, i, tt.want)
		}
	}
	m := New(&nn.Flatten{}, &nn.Dense{Units: 3})
	if err := m.Build([]int{4, 4, 1}, 1); err != nil {
		t.Fatal(err)
	}
	if got := m.CAMLayer(); got != -1 {
		t.Errorf("a model without convolution: CAMLayer() = %d, want -1", got)
	}
	c, err := NewClassifier(m, ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GradCAM(context.Background(), make([]float32, 16), -1, -1); err == nil || !strings.Contains(err.Error(), "no convolution") {
		t.Errorf("Grad-CAM of a model without convolution: error %v", err)
	}
}

// TestGradCAMTrace checks the trace's Grad-CAM against GradCAM's, with the
// saliency map from the same forward pass, and the layers refused.
func TestGradCAMTrace(t *testing.T) {
	m := classifierModel(t)
	c, err := NewClassifier(m, ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	px := randomImages(1, 7)[0]
	for _, tt := range []struct{ class, layer int }{{-1, -1}, {2, -1}, {-1, 2}, {4, 0}} {
		want, err := c.GradCAM(ctx, px, tt.class, tt.layer)
		if err != nil {
			t.Fatal(err)
		}
		sal, err := c.Saliency(ctx, px, tt.class)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := c.TraceWith(ctx, px, TraceOptions{Top: 1, Saliency: true, GradCAM: true, Class: tt.class, CAMLayer: tt.layer})
		if err != nil {
			t.Fatal(err)
		}
		if tt.class < 0 && want.Class != tr.Top[0].Label {
			t.Errorf("Grad-CAM of the top class: class %d, want %d", want.Class, tr.Top[0].Label)
		}
		if tr.GradCAM == nil || fmt.Sprint(*tr.GradCAM) != fmt.Sprint(*want) {
			t.Errorf("class %d, layer %d: trace's Grad-CAM %v, want GradCAM's %v", tt.class, tt.layer, tr.GradCAM, want)
		}
		if fmt.Sprint(tr.Saliency.Map.Data) != fmt.Sprint(sal.Map.Data) {
			t.Errorf("class %d, layer %d: trace's saliency is not Saliency's", tt.class, tt.layer)
		}
		wantLayer := tt.layer
		if wantLayer < 0 {
			wantLayer = 1 // the convolution's batch normalization
		}
		if want.Layer != wantLayer || len(want.Map.Shape) != 2 {
			t.Errorf("class %d, layer %d: Grad-CAM of layer %d, shape %v", tt.class, tt.layer, want.Layer, want.Map.Shape)
		}
	}
	for _, tt := range []struct {
		layer int
		want  string
	}{
		{7, "layers 0..6"},
		{4, "outputs shape [64], not an image"},
	} {
		if _, err := c.GradCAM(ctx, px, -1, tt.layer); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Grad-CAM of layer %d: error %v, want one containing %q", tt.layer, err, tt.want)
		}
		if _, err := c.TraceWith(ctx, px, TraceOptions{GradCAM: true, CAMLayer: tt.layer}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("TraceWith Grad-CAM of layer %d: error %v, want one containing %q", tt.layer, err, tt.want)
		}
	}
}
