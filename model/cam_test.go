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
	if got := fmt.Sprint(m.Layers[0].OutputShape()); got != "[6 5 4]" {
		t.Fatalf("the convolution's output %s, want [6 5 4]", got)
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
	positive := closedForm(t, c, px, "gradcam", 3, func(class, p int) float64 {
		s := 0.0
		for k := range 4 {
			s += float64(w[k*3+class]) * float64(a[p*4+k])
		}
		return max(s, 0) / 30
	})
	if positive < 20 || positive > 80 {
		t.Errorf("%d of 90 cells positive: a test that shows little of the ReLU", positive)
	}
}

// closedForm checks the maps of method for each of classes classes
// against want(class, cell), within 1e-6 relative, and returns the number
// of positive cells wanted.
func closedForm(t *testing.T, c *Classifier, px []float32, method string, classes int, want func(class, p int) float64) (positive int) {
	t.Helper()
	for class := range classes {
		cam, err := c.CAM(context.Background(), px, method, class, -1)
		if err != nil {
			t.Fatal(err)
		}
		if cam.Method != method || cam.Class != class || cam.Layer != 0 || len(cam.Map.Shape) != 2 {
			t.Fatalf("class %d: %s of class %d, layer %d, shape %v; want the class's of layer 0", class, cam.Method, cam.Class, cam.Layer, cam.Map.Shape)
		}
		for p, got := range cam.Map.Data {
			w := want(class, p)
			if w > 0 {
				positive++
			}
			if math.Abs(float64(got)-w) > 1e-6*max(w, 1e-3) {
				t.Errorf("class %d, cell %d: %s %.8g, want %.8g", class, p, method, got, w)
			}
		}
	}
	return positive
}

// TestHiResCAMClosedForm checks HiResCAM where it has a closed form:
// maps flattened into a Dense layer give ∂score/∂A[p,k] = W[p·C+k, c], so
// the map at cell p is ReLU(Σ_k W[p·C+k, c]·A[p,k]), the share of the
// score the cell's features add; after a global average pool it is
// Grad-CAM's map.
func TestHiResCAMClosedForm(t *testing.T) {
	m := New(
		&nn.Conv2D{Filters: 3, KernelSize: pair(3), Padding: "same", Activation: "tanh"},
		&nn.Flatten{},
		&nn.Dense{Units: 4},
	)
	if err := m.Build([]int{5, 6, 1}, 5); err != nil {
		t.Fatal(err)
	}
	c, err := NewClassifier(m.Clone(), ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	px := make([]float32, 30)
	for i := range px {
		px[i] = float32((i*53)%256) / 64
	}
	x := tensor.FromData(append([]float32(nil), px...), 1, 5, 6, 1)
	a := m.ForwardAll(x)[0].Data
	w := m.Layers[2].Params()[0].Value.Data // [90, 4]
	positive := closedForm(t, c, px, "hirescam", 4, func(class, p int) float64 {
		s := 0.0
		for k := range 3 {
			s += float64(w[(p*3+k)*4+class]) * float64(a[p*3+k])
		}
		return max(s, 0)
	})
	if positive < 25 || positive > 95 {
		t.Errorf("%d of 120 cells positive: a test that shows little of the ReLU", positive)
	}

	g := New(
		&nn.Conv2D{Filters: 4, KernelSize: pair(3), Padding: "same", Activation: "relu"},
		&nn.GlobalAveragePooling2D{},
		&nn.Dense{Units: 3},
	)
	if err := g.Build([]int{5, 6, 1}, 6); err != nil {
		t.Fatal(err)
	}
	c, err = NewClassifier(g, ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for class := range 3 {
		hi, err := c.CAM(context.Background(), px, "hirescam", class, -1)
		if err != nil {
			t.Fatal(err)
		}
		grad, err := c.CAM(context.Background(), px, "gradcam", class, -1)
		if err != nil {
			t.Fatal(err)
		}
		for p, v := range hi.Map.Data {
			if w := grad.Map.Data[p]; math.Abs(float64(v-w)) > 1e-6*math.Abs(float64(w))+1e-9 {
				t.Errorf("after a global pool, class %d, cell %d: HiResCAM %.8g, Grad-CAM %.8g", class, p, v, w)
			}
		}
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
	if _, err := c.CAM(context.Background(), make([]float32, 16), "gradcam", -1, -1); err == nil || !strings.Contains(err.Error(), "no convolution") {
		t.Errorf("Grad-CAM of a model without convolution: error %v", err)
	}
}

// TestCAMTrace checks the trace's class activation maps against CAM's,
// with the saliency map from the same forward pass, and the methods and
// layers refused.
func TestCAMTrace(t *testing.T) {
	m := classifierModel(t)
	c, err := NewClassifier(m, ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	px := randomImages(1, 7)[0]
	for _, tt := range []struct {
		method       string
		class, layer int
	}{{"gradcam", -1, -1}, {"hirescam", 2, -1}, {"gradcam", -1, 2}, {"hirescam", 4, 0}} {
		want, err := c.CAM(ctx, px, tt.method, tt.class, tt.layer)
		if err != nil {
			t.Fatal(err)
		}
		sal, err := c.Saliency(ctx, px, tt.class)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := c.TraceWith(ctx, px, TraceOptions{Top: 1, Saliency: true, CAM: tt.method, Class: tt.class, CAMLayer: tt.layer})
		if err != nil {
			t.Fatal(err)
		}
		if tt.class < 0 && want.Class != tr.Top[0].Label {
			t.Errorf("%s of the top class: class %d, want %d", tt.method, want.Class, tr.Top[0].Label)
		}
		if tr.CAM == nil || fmt.Sprint(*tr.CAM) != fmt.Sprint(*want) || want.Method != tt.method {
			t.Errorf("%s, class %d, layer %d: trace's map %v, want CAM's %v", tt.method, tt.class, tt.layer, tr.CAM, want)
		}
		if fmt.Sprint(tr.Saliency.Map.Data) != fmt.Sprint(sal.Map.Data) {
			t.Errorf("class %d, layer %d: trace's saliency is not Saliency's", tt.class, tt.layer)
		}
		wantLayer := tt.layer
		if wantLayer < 0 {
			wantLayer = 1 // the convolution's batch normalization
		}
		if want.Layer != wantLayer || len(want.Map.Shape) != 2 {
			t.Errorf("%s, class %d, layer %d: map of layer %d, shape %v", tt.method, tt.class, tt.layer, want.Layer, want.Map.Shape)
		}
	}
	for _, tt := range []struct {
		method string
		layer  int
		want   string
	}{
		{"gradcam", 7, "layers 0..6"},
		{"hirescam", 4, "outputs shape [64], not an image"},
		{"cam", 0, `"cam": want one of [gradcam hirescam occlusion]`},
	} {
		if _, err := c.CAM(ctx, px, tt.method, -1, tt.layer); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s of layer %d: error %v, want one containing %q", tt.method, tt.layer, err, tt.want)
		}
		if _, err := c.TraceWith(ctx, px, TraceOptions{CAM: tt.method, CAMLayer: tt.layer}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("TraceWith %s of layer %d: error %v, want one containing %q", tt.method, tt.layer, err, tt.want)
		}
	}
}
