package model_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/model/pretrained"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// ahcdClassifier returns the built-in AHCD model, a fresh copy, and its
// classifier.
func ahcdClassifier(t *testing.T, opts model.ClassifierOptions) (*model.Sequential, *model.Classifier) {
	t.Helper()
	m, err := pretrained.Load("ahcd")
	if err != nil {
		t.Fatal(err)
	}
	c, err := model.NewClassifier(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m, c
}

// TestPattern climbs channels of the built-in AHCD model: feature maps of
// its second and last blocks (the last one's channel 8 is zero for noise:
// its batch normalization's output is climbed until it is not) and the logits of
// three classes, whose patterns the model then ranks in its top 3 (for 18
// of its 28 classes the top one).
func TestPattern(t *testing.T) {
	m, c := ahcdClassifier(t, model.ClassifierOptions{})
	ctx := context.Background()
	last := len(m.Layers) - 1
	for _, tt := range []struct{ layer, channel int }{{10, 5}, {21, 8}, {last, 0}, {last, 13}, {last, 27}} {
		p, err := c.Pattern(ctx, tt.layer, tt.channel, model.PatternOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s, channel %d: mean %.4g → %.4g", m.Layers[tt.layer].Name(), tt.channel, p.Start, p.End)
		if p.Layer != tt.layer || p.Channel != tt.channel || fmt.Sprint(p.Input.Shape) != "[32 32 1]" {
			t.Fatalf("pattern of layer %d, channel %d, input %v", p.Layer, p.Channel, p.Input.Shape)
		}
		if tt.layer == 21 && p.Start != 0 {
			t.Errorf("re_lu_5, channel 8: mean %.4g for noise, want 0 (the case of a climb from below)", p.Start)
		}
		if !(p.End > p.Start+1) {
			t.Errorf("%s, channel %d: mean %.4g → %.4g, want a climb of more than 1", m.Layers[tt.layer].Name(), tt.channel, p.Start, p.End)
		}
		// Top is what Predict makes of the pattern: the three most probable classes.
		probs := tensor.New(1, 28)
		m.Predict(probs, p.Input.Reshape(1, 32, 32, 1))
		if len(p.Top) != 3 {
			t.Fatalf("%s, channel %d: top %+v, want 3 classes", m.Layers[tt.layer].Name(), tt.channel, p.Top)
		}
		for i, pr := range p.Top {
			above := 0
			for _, v := range probs.Data {
				if v > pr.Probability {
					above++
				}
			}
			if pr.Probability != probs.Data[pr.Label] || above != i || pr.Name != c.ClassNames()[pr.Label] {
				t.Errorf("%s, channel %d: top %d is %+v, Predict gives it %v with %d classes above", m.Layers[tt.layer].Name(), tt.channel, i, pr, probs.Data[pr.Label], above)
			}
		}
		if tt.layer == last && !slices.ContainsFunc(p.Top, func(pr model.Prediction) bool { return pr.Label == tt.channel }) {
			t.Errorf("the pattern of class %d: top %+v, want it among them", tt.channel, p.Top)
		}
		again, err := c.Pattern(ctx, tt.layer, tt.channel, model.PatternOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(again.Input.Data) != fmt.Sprint(p.Input.Data) {
			t.Errorf("layer %d, channel %d: two patterns of the same options differ", tt.layer, tt.channel)
		}
	}
	// A caller that goes stops the climb between two steps (a million
	// steps would take minutes).
	soon, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Pattern(soon, last, 0, model.PatternOptions{Steps: 1_000_000}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a pattern whose context ends: error %v, want the context's", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a pattern whose context ends after 50 ms returned after %v", d)
	}
	for _, tt := range []struct {
		layer, channel int
		opts           model.PatternOptions
		want           string
	}{
		{last + 1, 0, model.PatternOptions{}, "layers 0..29"},
		{0, 32, model.PatternOptions{}, "channel 32 of layer 0 (conv2d): it has channels 0..31"},
		{0, 0, model.PatternOptions{Steps: -1}, "-1 steps"},
		{0, 0, model.PatternOptions{Steps: 2, Step: 1e300}, "pattern: the input is no longer finite after steps of 1e+300"},
		{last, 3, model.PatternOptions{Steps: 2, Step: 1e38}, "pattern: the input is no longer finite after steps of 1e+38"},
	} {
		if _, err := c.Pattern(ctx, tt.layer, tt.channel, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("pattern of layer %d, channel %d, %+v: error %v, want %q", tt.layer, tt.channel, tt.opts, err, tt.want)
		}
	}
}

// TestPatternBelowOwnReLU climbs a channel that a convolution's own ReLU
// holds at zero (its bias far below, Conv2D(activation="relu") as in the
// tutorial's model), seen at the convolution, after the pooling and after
// the dropout that follow it: the value before the ReLU at the centre cell
// is climbed until it lets some through (the mean of those values, climbed
// instead, stays below zero: bias -4 left all three at 0).
func TestPatternBelowOwnReLU(t *testing.T) {
	m := model.New(
		&nn.Conv2D{Filters: 8, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "relu"},
		&nn.Conv2D{Filters: 8, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "relu"},
		&nn.MaxPool2D{},
		&nn.Dropout{Rate: 0.25},
		&nn.Flatten{},
		&nn.Dense{Units: 4, Activation: "softmax"},
	)
	if err := m.Build([]int{24, 24, 1}, 1); err != nil {
		t.Fatal(err)
	}
	m.Layers[1].Params()[1].Value.Data[3] = -4
	c, err := model.NewClassifier(m, model.ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for layer := 1; layer <= 3; layer++ {
		p, err := c.Pattern(context.Background(), layer, 3, model.PatternOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s, channel 3: mean %.4g → %.4g", m.Layers[layer].Name(), p.Start, p.End)
		if p.Start != 0 || !(p.End > 0) {
			t.Errorf("%s, channel 3: mean %.4g → %.4g, want 0 for the noise, then above 0", m.Layers[layer].Name(), p.Start, p.End)
		}
	}
}

// TestPatternDeprocess checks Keras's deprocessing by hand: mean 0.5,
// standard deviation 0.15, clipped to 0..1: ±1 (mean 0, deviation 1) are
// 0.35 and 0.65 of 255; 10 after twenty zeros lies 4.47 deviations above
// their mean, clipped.
func TestPatternDeprocess(t *testing.T) {
	p := &model.Pattern{Input: tensor.FromData([]float32{-1, 1}, 1, 2, 1)}
	if got := p.Deprocess(); got[0] != 89 || got[1] != 166 {
		t.Errorf("Deprocess of -1, 1 = %v, want [89 166]", got)
	}
	x := make([]float32, 21)
	x[20] = 10
	p.Input = tensor.FromData(x, 3, 7, 1)
	if got := p.Deprocess(); got[0] != 119 || got[20] != 255 {
		t.Errorf("Deprocess of 0 ×20, 10 = %v, want 119 ... 255", got)
	}
}
