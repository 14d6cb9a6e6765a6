package web

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

func TestModels(t *testing.T) {
	s := testServer(t)
	got := decode[struct{ Models []modelInfo }](t, do(s, "GET", "/api/models", "", nil))
	if len(got.Models) != 2 || got.Models[0].Name != "letters" || got.Models[1].Name != "digits" {
		t.Fatalf("GET /api/models: %+v, want letters and digits", got.Models)
	}
	m := got.Models[0]
	if fmt.Sprint(m.InputShape) != "[8 8 1]" || len(m.Classes) != 5 || len(m.Layers) != 4 || !m.HasHistory || !m.HasEvaluation {
		t.Errorf("letters: %+v", m)
	}
	if c := m.Classes[0]; c.Short != "alef" || c.Glyph != "ا" || c.Name != "alef ا" {
		t.Errorf("letters class 0 = %+v, want alef ا split", c)
	}
	if l := m.Layers[0]; l.Type != "Conv2D" || len(l.Params) != 2 || fmt.Sprint(l.Params[0].Shape) != "[3 3 1 4]" {
		t.Errorf("letters layer 0 = %+v", l)
	}
	// The windows are the layers' own: "same" 3x3 pads one cell, the
	// pooling strides by its size.
	wantWindows := []string{"&{[3 3] [1 1] [1 1] [1 1]}", "&{[2 2] [2 2] [0 0] [1 1]}", "<nil>", "<nil>"}
	for i, l := range m.Layers {
		if got := fmt.Sprint(l.Window); got != wantWindows[i] {
			t.Errorf("letters layer %d window = %s, want %s", i, got, wantWindows[i])
		}
	}
	if got.Models[1].HasHistory {
		t.Errorf("digits has_history = true, want false")
	}
}

func TestPredict(t *testing.T) {
	s := testServer(t)
	tests := []struct {
		name, target, ctype string
		body                []byte
		k                   int
		inverted, blank     bool
		label               int // the expected top class, or -1
	}{
		{"json", "/api/predict?model=letters", "application/json", []byte(pixelsJSON(64, 30)), 5, false, true, -1},
		{"json k=2", "/api/predict?model=letters&k=2", "application/json; charset=utf-8", []byte(pixelsJSON(64, 30)), 2, false, true, -1},
		{"png white on black", "/api/predict?model=letters", "image/png", bars(t, 0, 120, 100, 255, 0), 5, false, false, 0},
		{"png ink on paper", "/api/predict?model=letters", "image/png", bars(t, 3, 64, 64, 0, 255), 5, true, false, 3},
		{"png exact size", "/api/predict?model=letters&k=1", "image/png", bars(t, 4, 8, 8, 250, 10), 1, false, false, 4},
		{"jpeg", "/api/predict?model=digits&k=3", "image/jpeg", encodeImage(t, "jpeg", 50, 70, 0, 240), 3, true, false, -1},
		{"tiny png", "/api/predict?model=digits", "image/png", encodeImage(t, "png", 1, 1, 0, 0), 3, false, true, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decode[predictAnswer](t, do(s, "POST", tt.target, tt.ctype, tt.body))
			if len(got.Top) != tt.k {
				t.Fatalf("POST %s: %d predictions, want %d", tt.target, len(got.Top), tt.k)
			}
			var sum float32
			for i, p := range got.Top {
				sum += p.Probability
				if i > 0 && p.Probability > got.Top[i-1].Probability {
					t.Errorf("POST %s: top not sorted: %+v", tt.target, got.Top)
				}
				if p.Name == "" {
					t.Errorf("POST %s: prediction %d has no name", tt.target, i)
				}
			}
			if sum > 1.0001 || (tt.k == len(s.byName[got.Model].classes) && math.Abs(float64(sum)-1) > 1e-4) {
				t.Errorf("POST %s: probabilities sum to %v", tt.target, sum)
			}
			if got.Inverted != tt.inverted || got.Blank != tt.blank {
				t.Errorf("POST %s: inverted = %v, blank = %v; want %v, %v", tt.target, got.Inverted, got.Blank, tt.inverted, tt.blank)
			}
			if tt.label >= 0 && got.Top[0].Label != tt.label {
				t.Errorf("POST %s: top class %+v, want label %d", tt.target, got.Top[0], tt.label)
			}
		})
	}
}

// TestPredictTrained checks that the trained letters model, served, tells
// its classes apart from raw pixels.
func TestPredictTrained(t *testing.T) {
	s := testServer(t)
	rng := rand.New(rand.NewPCG(5, 6))
	correct := 0
	for i := range 50 {
		c := i % 5
		px := barImage(c, rng)
		body := `{"pixels":[` + strings.Trim(strings.Join(strings.Fields(fmt.Sprint(px)), ","), "[]") + `]}`
		got := decode[predictAnswer](t, do(s, "POST", "/api/predict?model=letters&k=1", "application/json", []byte(body)))
		if got.Top[0].Label == c {
			correct++
		}
	}
	if correct < 48 {
		t.Errorf("the trained letters model classifies %d of 50 bars correctly, want at least 48", correct)
	}
}

// TestPredictMatchesModel checks the answer against the model run directly
// on the standardised input.
func TestPredictMatchesModel(t *testing.T) {
	s := testServer(t)
	px := make([]float32, 64)
	var parts []string
	for i := range px {
		px[i] = float32(i * 3)
		parts = append(parts, fmt.Sprint(i*3))
	}
	body := `{"pixels":[` + strings.Join(parts, ",") + `]}`
	got := decode[predictAnswer](t, do(s, "POST", "/api/predict?model=letters&k=5", "application/json", []byte(body)))
	m := letters(t)
	x := tensor.FromData(px, 1, 8, 8, 1)
	m.Standardizer.Apply(x, x)
	want := tensor.New(1, 5)
	m.Predict(want, x)
	for _, p := range got.Top {
		if math.Abs(float64(p.Probability-want.Data[p.Label])) > 1e-6 {
			t.Errorf("probability of class %d = %v, want %v", p.Label, p.Probability, want.Data[p.Label])
		}
	}
}

func TestKernel(t *testing.T) {
	s := testServer(t)
	layers := s.byName["letters"].m.Layers
	got := decode[kernelAnswer](t, do(s, "GET", "/api/models/letters/layers/0/kernel?channel=2", "", nil))
	if fmt.Sprint(got.Shape) != "[3 3 1]" || len(got.Values) != 9 || got.Bias == nil {
		t.Fatalf("kernel = %+v", got)
	}
	k, b := layers[0].Params()[0].Value, layers[0].Params()[1].Value
	for j, v := range got.Values {
		if w := k.Data[j*4+2]; v != w {
			t.Errorf("kernel value %d = %v, want %v", j, v, w)
		}
	}
	if *got.Bias != b.Data[2] {
		t.Errorf("bias = %v, want %v", *got.Bias, b.Data[2])
	}
	d := decode[kernelAnswer](t, do(s, "GET", "/api/models/letters/layers/3/kernel?channel=4", "", nil))
	if fmt.Sprint(d.Shape) != "[64]" || len(d.Values) != 64 {
		t.Errorf("dense kernel shape %v with %d values, want [64]", d.Shape, len(d.Values))
	}
}

// TestKernelDepthwise checks the kernel answered for each output channel o
// of a DepthwiseConv2D with two maps per input map: the weights
// depthwise_kernel[ky, kx, o/2, o%2], the bias b[o] and the one input
// channel o/2 they read.
func TestKernelDepthwise(t *testing.T) {
	s, err := NewServer([]Model{{"depthwise", classifier(t, depthwiseModel(t), model.ClassifierOptions{})}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := s.byName["depthwise"].m.Layers[1]
	k, b := param(l, "depthwise_kernel").Value, param(l, "bias").Value
	if fmt.Sprint(k.Shape) != "[3 3 3 2]" {
		t.Fatalf("depthwise_kernel shape %v, want [3 3 3 2]", k.Shape)
	}
	for o := range 6 {
		target := fmt.Sprintf("/api/models/depthwise/layers/1/kernel?channel=%d", o)
		got := decode[kernelAnswer](t, do(s, "GET", target, "", nil))
		c, m := o/2, o%2
		if got.Type != "DepthwiseConv2D" || got.Channel != o || got.InputChannel != c || fmt.Sprint(got.Shape) != "[3 3 1]" || len(got.Values) != 9 {
			t.Fatalf("GET %s = %s channel %d, input channel %d, shape %v, %d values; want DepthwiseConv2D channel %d, input channel %d, shape [3 3 1], 9 values",
				target, got.Type, got.Channel, got.InputChannel, got.Shape, len(got.Values), o, c)
		}
		for ky := range 3 {
			for kx := range 3 {
				want := k.Data[((ky*3+kx)*3+c)*2+m]
				if v := got.Values[ky*3+kx]; v != want {
					t.Errorf("GET %s: weight (%d, %d) = %v, want depthwise_kernel[%d, %d, %d, %d] = %v", target, ky, kx, v, ky, kx, c, m, want)
				}
			}
		}
		if got.Bias == nil {
			t.Errorf("GET %s: bias null, want %v", target, b.Data[o])
		} else if *got.Bias != b.Data[o] {
			t.Errorf("GET %s: bias %v, want %v", target, *got.Bias, b.Data[o])
		}
	}
	// The Conv2D before it reads every input channel from the first.
	conv := decode[kernelAnswer](t, do(s, "GET", "/api/models/depthwise/layers/0/kernel?channel=2", "", nil))
	if conv.InputChannel != 0 || fmt.Sprint(conv.Shape) != "[2 2 1]" {
		t.Errorf("Conv2D kernel: input channel %d, shape %v; want 0, [2 2 1]", conv.InputChannel, conv.Shape)
	}
	if r := do(s, "GET", "/api/models/depthwise/layers/1/kernel?channel=6", "", nil); r.status != 400 {
		t.Errorf("channel 6 of 6: status %d, want 400", r.status)
	}
}

// TestKernelGrouped checks the kernel answered for each output channel o
// of two grouped Conv2D layers: the weights kernel[ky, kx, i, o] of the
// C/g input channels of its group, input_channel the first of them, and
// the bias b[o]; the sums the page computes with it (the answer's weights
// times input channels input_channel+i, plus the bias) give the layer's
// outputs at every cell, and the sums over the group's channels that the
// test computes from the definition too.
func TestKernelGrouped(t *testing.T) {
	gm := groupedModel(t)
	s, err := NewServer([]Model{{"grouped", classifier(t, gm, model.ClassifierOptions{})}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(1, 32, 32, 1)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range x.Data {
		x.Data[i] = rng.Float32()
	}
	outs := gm.ForwardAll(x)
	tests := []struct {
		layer, groups int
		shape         string
		act           func(float64) float64
	}{
		{1, 2, "[3 3 2]", math.Tanh},                            // 4 channels, 6 filters: 3 filters on each pair of channels
		{2, 3, "[1 1 2]", func(z float64) float64 { return z }}, // 6 channels, 6 filters: 2 filters on each pair
	}
	for _, tt := range tests {
		l := gm.Layers[tt.layer].(*nn.Conv2D)
		k, b := param(l, "kernel").Value, param(l, "bias").Value
		in, out := outs[tt.layer-1], outs[tt.layer]
		kh, kw, n, f := k.Shape[0], k.Shape[1], k.Shape[2], k.Shape[3]
		_, h, w, c := in.Shape[0], in.Shape[1], in.Shape[2], in.Shape[3]
		_, oh, ow, _ := out.Shape[0], out.Shape[1], out.Shape[2], out.Shape[3]
		win, _ := nn.WindowOf(l)
		for o := range f {
			target := fmt.Sprintf("/api/models/grouped/layers/%d/kernel?channel=%d", tt.layer, o)
			got := decode[kernelAnswer](t, do(s, "GET", target, "", nil))
			first := o / (f / tt.groups) * n
			if got.Type != "Conv2D" || got.Channel != o || got.InputChannel != first || fmt.Sprint(got.Shape) != tt.shape || len(got.Values) != kh*kw*n {
				t.Fatalf("GET %s = %s channel %d, input channel %d, shape %v, %d values; want Conv2D channel %d, input channel %d, shape %s, %d values",
					target, got.Type, got.Channel, got.InputChannel, got.Shape, len(got.Values), o, first, tt.shape, kh*kw*n)
			}
			if got.Config["groups"] != float64(tt.groups) {
				t.Errorf("GET %s: config groups %v, want %d", target, got.Config["groups"], tt.groups)
			}
			for j, v := range got.Values {
				if want := k.Data[j*f+o]; v != want {
					t.Errorf("GET %s: weight %d = %v, want kernel[%d, %d, %d, %d] = %v", target, j, v, j/n/kw, j/n%kw, j%n, o, want)
				}
			}
			if got.Bias == nil || *got.Bias != b.Data[o] {
				t.Fatalf("GET %s: bias %v, want %v", target, got.Bias, b.Data[o])
			}
			// The page's arithmetic, with the answer, at every cell.
			var worst float64
			for y := range oh {
				for xx := range ow {
					z := float64(*got.Bias)
					for ky := range kh {
						for kx := range kw {
							iy, ix := y*win.Strides[0]+ky-win.Pad[0], xx*win.Strides[1]+kx-win.Pad[1]
							if iy < 0 || iy >= h || ix < 0 || ix >= w {
								continue
							}
							for i := range n {
								z += float64(in.Data[(iy*w+ix)*c+got.InputChannel+i]) * float64(got.Values[(ky*kw+kx)*n+i])
							}
						}
					}
					if d := math.Abs(z - groupedSum(l, tensor.FromData(in.Data, h, w, c), y, xx, o)); d > 1e-9 {
						t.Errorf("GET %s: at (%d, %d) the answer's sum is %.7g, the definition's differs by %.3g", target, y, xx, z, d)
					}
					worst = max(worst, math.Abs(tt.act(z)-float64(out.Data[(y*ow+xx)*f+o])))
				}
			}
			if worst > 1e-5 {
				t.Errorf("GET %s: the sums with the answer differ from the layer's outputs by up to %.3g", target, worst)
			}
		}
	}
}

func TestActivation(t *testing.T) {
	s := testServer(t)
	tests := []struct {
		target string
		act    string
		want   []float32
	}{
		{"/api/models/letters/layers/0/activation?z=-1.5,2,0", "relu", []float32{0, 2, 0}},
		{"/api/models/letters/layers/3/activation?z=0,0", "softmax", []float32{0.5, 0.5}},
		{"/api/models/letters/layers/3/activation?z=1", "softmax", []float32{1}},
	}
	for _, tt := range tests {
		got := decode[activationAnswer](t, do(s, "GET", tt.target, "", nil))
		if got.Activation != tt.act || fmt.Sprint(got.Values) != fmt.Sprint(tt.want) {
			t.Errorf("GET %s = %s %v, want %s %v", tt.target, got.Activation, got.Values, tt.act, tt.want)
		}
	}
}

func TestHistoryAndEvaluation(t *testing.T) {
	s := testServer(t)
	h := decode[map[string][]float64](t, do(s, "GET", "/api/models/letters/history", "", nil))
	if len(h["val_accuracy"]) != 2 || h["loss"][1] != 0.9 {
		t.Errorf("history = %v", h)
	}
	type evalAnswer struct {
		Matrix       [][]int
		SampleCounts [][]int `json:"sample_counts"`
		Samples      []sample
		Accuracy     float64
	}
	e := decode[evalAnswer](t, do(s, "GET", "/api/models/letters/evaluation", "", nil))
	if len(e.Matrix) != 5 || e.Matrix[1][2] != 1 || e.SampleCounts[1][2] != 1 || e.Samples != nil || e.Accuracy != 0.6 {
		t.Errorf("evaluation = %+v", e)
	}
	type samplesAnswer struct {
		Count   int
		Samples []sample
	}
	sm := decode[samplesAnswer](t, do(s, "GET", "/api/models/letters/evaluation/samples?true=1&pred=2", "", nil))
	if sm.Count != 1 || len(sm.Samples) != 1 || sm.Samples[0].Index != 7 || len(sm.Samples[0].Pixels) != 64 || sm.Samples[0].Pixels[0] != 200 {
		t.Errorf("samples(1,2) = %+v", sm)
	}
	empty := decode[samplesAnswer](t, do(s, "GET", "/api/models/letters/evaluation/samples?true=3&pred=4", "", nil))
	if empty.Count != 0 || len(empty.Samples) != 0 {
		t.Errorf("samples(3,4) = %+v, want none", empty)
	}
}
