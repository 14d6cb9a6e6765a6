package web

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/tensor"
)

// The answers of /api/activations and /api/saliency: every layer's output,
// the saliency map and the class activation maps.

func TestActivations(t *testing.T) {
	s := testServer(t)
	type answer struct {
		Pixels   []byte
		Input    encoded
		Layers   []encoded
		Top      []struct{ Label int }
		Saliency *saliencyAnswer
	}
	got := decode[answer](t, do(s, "POST", "/api/activations?model=letters&full=-1,0&saliency=1", "application/json", []byte(pixelsJSON(64, 255))))
	if len(got.Pixels) != 64 || got.Pixels[0] != 255 {
		t.Errorf("pixels = %v, want 64 values of 255", got.Pixels)
	}
	if len(got.Layers) != 4 || len(got.Top) != 5 || got.Saliency == nil {
		t.Fatalf("activations: %d layers, %d top, saliency %v", len(got.Layers), len(got.Top), got.Saliency)
	}
	if got.Input.Encoding != "f32" || got.Input.Min != 1 || got.Input.Max != 1 {
		t.Errorf("input = %+v, want f32 of ones", got.Input)
	}
	m := letters(t)
	x := tensor.New(1, 8, 8, 1)
	x.Fill(1) // 255 rescaled
	want := m.ForwardAll(x)
	for i, l := range got.Layers {
		raw, err := base64.StdEncoding.DecodeString(l.Data)
		if err != nil {
			t.Fatalf("layer %d data: %v", i, err)
		}
		w := want[i].Data
		if fmt.Sprint(l.Shape) != fmt.Sprint(want[i].Shape[1:]) {
			t.Errorf("layer %d shape %v, want %v", i, l.Shape, want[i].Shape[1:])
		}
		for j := range w {
			var v float32
			switch l.Encoding {
			case "f32":
				v = math.Float32frombits(uint32(raw[4*j]) | uint32(raw[4*j+1])<<8 | uint32(raw[4*j+2])<<16 | uint32(raw[4*j+3])<<24)
			case "u8":
				v = l.Min + float32(raw[j])/255*(l.Max-l.Min)
			}
			tol := 1e-6 + float64(l.Max-l.Min)/510
			if l.Encoding == "f32" {
				tol = 0
			}
			if math.Abs(float64(v-w[j])) > tol+1e-6 {
				t.Fatalf("layer %d (%s) value %d = %v, want %v", i, l.Encoding, j, v, w[j])
			}
		}
		if wantEnc := map[bool]string{true: "f32", false: "u8"}[i == 0]; l.Encoding != wantEnc {
			t.Errorf("layer %d encoding %q, want %q", i, l.Encoding, wantEnc)
		}
	}
	if got.Saliency.Class != got.Top[0].Label || fmt.Sprint(got.Saliency.Shape) != "[8 8]" {
		t.Errorf("saliency = %+v, want class %d of shape [8 8]", got.Saliency, got.Top[0].Label)
	}
}

func TestSaliency(t *testing.T) {
	s := testServer(t)
	got := decode[saliencyAnswer](t, do(s, "POST", "/api/saliency?model=letters&class=3", "application/json", []byte(pixelsJSON(64, 100))))
	raw, _ := base64.StdEncoding.DecodeString(got.Data)
	if got.Class != 3 || len(raw) != 64 || got.Max <= 0 {
		t.Fatalf("saliency = %+v (%d values), want class 3, 64 values, max > 0", got, len(raw))
	}
	top := 0
	for _, v := range raw {
		top = max(top, int(v))
	}
	if top != 255 {
		t.Errorf("saliency maximum level = %d, want 255", top)
	}
	// The map is the model's own input gradient: |d score / d input|.
	m := letters(t)
	x := tensor.New(1, 8, 8, 1)
	x.Fill(100.0 / 255)
	g := m.InputGradient(x, 3)
	var want float32
	for _, v := range g.Data {
		want = max(want, float32(math.Abs(float64(v))))
	}
	if math.Abs(float64(got.Max-want)) > 1e-6*float64(want) {
		t.Errorf("saliency max = %v, want %v", got.Max, want)
	}
}

// TestActivationsCAM checks the class activation maps of the activations'
// answer and of /api/cam against the classifier's, at the default layer
// (the convolution) and at the pool's, and the occlusion map of the input;
// /api/cam's method is HiResCAM unless asked.
func TestActivationsCAM(t *testing.T) {
	s := testServer(t)
	models := decode[struct{ Models []modelInfo }](t, do(s, "GET", "/api/models", "", nil))
	if got := models.Models[0].CAMLayer; got != 0 {
		t.Errorf("letters' cam_layer = %d, want 0, its convolution", got)
	}
	c, err := model.NewClassifier(letters(t), model.ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	px := make([]float32, 64)
	for i := range px {
		px[i] = float32(i * 4 % 256)
	}
	var parts []string
	for _, v := range px {
		parts = append(parts, fmt.Sprint(v))
	}
	body := []byte(`{"pixels":[` + strings.Join(parts, ",") + `]}`)
	for _, tt := range []struct {
		query, method string
		class, layer  int
		layerName     string
	}{{"cam=gradcam", "gradcam", -1, 0, "conv2d"}, {"cam=hirescam&camlayer=1&class=2", "hirescam", 2, 1, "max_pooling2d"}, {"cam=occlusion&class=1", "occlusion", 1, -1, "input"}} {
		got := decode[struct{ CAM *camAnswer }](t, do(s, "POST", "/api/activations?model=letters&"+tt.query, "application/json", body))
		// /api/cam answers the same map alone.
		alone := decode[camAnswer](t, do(s, "POST", "/api/cam?model=letters&"+tt.query, "application/json", body))
		if alone.Model != "letters" || fmt.Sprint(alone.saliencyAnswer.Data, alone.Method, alone.Layer) != fmt.Sprint(got.CAM.Data, got.CAM.Method, got.CAM.Layer) {
			t.Errorf("%q: /api/cam answers %+v, /api/activations %+v", tt.query, alone, got.CAM)
		}
		want, err := c.CAM(context.Background(), px, tt.method, tt.class, tt.layer)
		if err != nil {
			t.Fatal(err)
		}
		g := got.CAM
		if g == nil || g.Method != tt.method || g.Layer != tt.layer || g.LayerName != tt.layerName || g.Class != want.Class || fmt.Sprint(g.Shape) != fmt.Sprint(want.Map.Shape) {
			t.Fatalf("%q: map %+v, want %s of class %d of layer %d (%s), shape %v", tt.query, g, tt.method, want.Class, tt.layer, tt.layerName, want.Map.Shape)
		}
		raw, _ := base64.StdEncoding.DecodeString(g.Data)
		var top float32
		for _, v := range want.Map.Data {
			top = max(top, v)
		}
		if g.Max != top {
			t.Errorf("%q: max %v, want %v", tt.query, g.Max, top)
		}
		if tt.method == "hirescam" && tt.layer == 1 {
			def := decode[camAnswer](t, do(s, "POST", "/api/cam?model=letters&camlayer=1&class=2", "application/json", body))
			if def.Method != "hirescam" || def.Data != g.Data {
				t.Errorf("/api/cam without cam: %+v, want HiResCAM's map", def)
			}
		}
		for i, v := range want.Map.Data {
			if top > 0 && math.Abs(float64(raw[i])-float64(v/top*255)) > 0.5 {
				t.Fatalf("%q: level %d = %d, want %.1f", tt.query, i, raw[i], v/top*255)
			}
		}
		if tt.method == "occlusion" && top == 0 {
			t.Errorf("%q: an empty map: a test that shows nothing", tt.query)
		}
	}
	// Occlusion hides squares of the input: it weighs no layer.
	if rec := do(s, "POST", "/api/cam?model=letters&cam=occlusion&camlayer=0", "application/json", body); rec.status != 400 || !strings.Contains(string(rec.body), "parameter camlayer: cam=occlusion hides squares of the input") {
		t.Errorf("occlusion with a layer: %d %s", rec.status, rec.body)
	}
}

// TestPattern checks the pattern answer against the classifier's, as bytes
// of Keras's deprocessing (model.Pattern.Deprocess), for a feature map and
// a class.
func TestPattern(t *testing.T) {
	s := testServer(t)
	c, err := model.NewClassifier(letters(t), model.ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ layer, channel int }{{0, 1}, {3, 4}} {
		got := decode[patternAnswer](t, do(s, "GET", fmt.Sprintf("/api/models/letters/layers/%d/pattern?channel=%d", tt.layer, tt.channel), "", nil))
		want, err := c.Pattern(context.Background(), tt.layer, tt.channel, model.PatternOptions{})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := base64.StdEncoding.DecodeString(got.Data)
		if got.Model != "letters" || got.Layer != tt.layer || got.Channel != tt.channel || fmt.Sprint(got.Shape) != "[8 8 1]" || len(raw) != 64 {
			t.Fatalf("pattern %+v (%d bytes), want layer %d, channel %d, [8 8 1]", got, len(raw), tt.layer, tt.channel)
		}
		if got.Start != want.Start || got.End != want.End || !(got.End > got.Start) {
			t.Errorf("layer %d, channel %d: mean %v → %v, the classifier's %v → %v", tt.layer, tt.channel, got.Start, got.End, want.Start, want.End)
		}
		if fmt.Sprint(got.Top) != fmt.Sprint(want.Top) || len(got.Top) != 3 {
			t.Errorf("layer %d, channel %d: top %+v, the classifier's %+v", tt.layer, tt.channel, got.Top, want.Top)
		}
		if string(raw) != string(want.Deprocess()) {
			t.Errorf("layer %d, channel %d: the pattern's bytes are not the classifier's pattern deprocessed", tt.layer, tt.channel)
		}
	}
}
