package model

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// classifierModel returns small(t) with class names and a rescaling
// preprocessing, ready for a classifier.
func classifierModel(t testing.TB) *Sequential {
	t.Helper()
	m := small(t, 1)
	m.ClassNames = []string{"a", "b", "c", "d", "e"}
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}
	return m
}

// randomImages returns n raw 8x8x1 images with values in 0..255.
func randomImages(n int, seed uint64) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 2))
	px := make([][]float32, n)
	for i := range px {
		px[i] = make([]float32, 64)
		for j := range px[i] {
			px[i][j] = float32(rng.IntN(256))
		}
	}
	return px
}

// probe is a real layer that records the batch sizes it sees and panics on
// an input that starts with panicOn.
type probe struct {
	nn.Layer
	mu      sync.Mutex
	batches []int
	panicOn float32
}

func (p *probe) Forward(x *tensor.Tensor, training bool) *tensor.Tensor {
	p.mu.Lock()
	p.batches = append(p.batches, x.Shape[0])
	p.mu.Unlock()
	if x.Data[0] == p.panicOn {
		panic("probe: injected panic")
	}
	return p.Layer.Forward(x, training)
}

func TestNewClassifierErrors(t *testing.T) {
	flat := New(&nn.Dense{Units: 3})
	if err := flat.Build([]int{64}, 1); err != nil {
		t.Fatal(err)
	}
	names := classifierModel(t)
	names.ClassNames = []string{"a", "b"}
	std := classifierModel(t)
	std.Standardizer = &data.Standardizer{ImageCenter: true, MeanImage: []float32{1, 2}}
	tests := []struct {
		name string
		m    *Sequential
		want string
	}{
		{"unbuilt", New(&nn.Flatten{}), "not built"},
		{"not images", flat, "inputs of shape [64], not images"},
		{"class names", names, "2 class names for 5 outputs"},
		{"preprocessing", std, "mean image has 2 values, want 64"},
	}
	for _, tt := range tests {
		if _, err := NewClassifier(tt.m, ClassifierOptions{}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: NewClassifier error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestClassifyPixels(t *testing.T) {
	m := classifierModel(t)
	ref := m.Clone()
	c, err := NewClassifier(m, ClassifierOptions{BatchSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	px := randomImages(7, 1)
	rs, err := c.ClassifyPixels(context.Background(), px, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		x := tensor.FromData(append([]float32(nil), px[i]...), 1, 8, 8, 1)
		ref.Standardizer.Apply(x, x)
		want := tensor.New(1, 5)
		ref.Predict(want, x)
		if fmt.Sprint(r.Probabilities) != fmt.Sprint(want.Data) {
			t.Errorf("image %d: probabilities %v, want %v", i, r.Probabilities, want.Data)
		}
		if len(r.Top) != 2 || r.Top[0].Label != tensor.ArgMax(want.Data) || r.Top[0].Probability < r.Top[1].Probability ||
			r.Top[0].Name != m.ClassNames[r.Top[0].Label] {
			t.Errorf("image %d: top %+v for probabilities %v", i, r.Top, want.Data)
		}
	}
	for _, k := range []int{0, -1, 6} {
		rs, _ := c.ClassifyPixels(context.Background(), px[:1], k)
		if len(rs[0].Top) != 5 {
			t.Errorf("k = %d: %d classes, want all 5", k, len(rs[0].Top))
		}
	}
	bad := randomImages(2, 2)
	bad[1][10] = float32(math.Inf(1))
	for _, tt := range []struct {
		px   [][]float32
		want string
	}{
		{[][]float32{make([]float32, 63)}, "input 1: 63 values, want 64 (8x8x1)"},
		{bad, "input 2: value 10 is +Inf, want a finite number"},
	} {
		if _, err := c.ClassifyPixels(context.Background(), tt.px, 1); err == nil || err.Error() != tt.want {
			t.Errorf("ClassifyPixels error %v, want %q", err, tt.want)
		}
	}
}

// TestClassifierBatches checks that batches hold the images given, up to
// BatchSize, never a full batch for one image.
func TestClassifierBatches(t *testing.T) {
	m := classifierModel(t)
	p := &probe{Layer: m.Layers[0], panicOn: -1}
	m.Layers[0] = p
	c, err := NewClassifier(m, ClassifierOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 70} {
		p.batches = nil
		if _, err := c.ClassifyPixels(context.Background(), randomImages(n, 3), 1); err != nil {
			t.Fatal(err)
		}
		want := map[int]string{1: "[1]", 70: "[64 6]"}[n]
		if got := fmt.Sprint(p.batches); got != want {
			t.Errorf("%d images ran in batches %s, want %s", n, got, want)
		}
	}
}

// TestClassifierReusesInput checks that ClassifyPixels does not allocate a
// new input batch on every call: a test set classified batch by batch would
// leave one behind per batch. Its other allocations (the probabilities and
// the results) are smaller than one input batch of 64 images.
func TestClassifierReusesInput(t *testing.T) {
	if raceEnabled {
		t.Skip("a -race build drops some of what a sync.Pool is given")
	}
	c, err := NewClassifier(classifierModel(t), ClassifierOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	px := randomImages(64, 3)
	const input = 64 * 64 * 4 // bytes of the standardised batch
	if _, err := c.ClassifyPixels(context.Background(), px, 1); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const calls = 20
	for range calls {
		if _, err := c.ClassifyPixels(context.Background(), px, 1); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / calls; per >= input {
		t.Errorf("ClassifyPixels of 64 images allocates %d bytes per call, want less than the %d of its input batch", per, input)
	}
}

// TestClassifierPanic checks that a model that panics goes back to the pool.
func TestClassifierPanic(t *testing.T) {
	m := classifierModel(t)
	m.Layers[0] = &probe{Layer: m.Layers[0], panicOn: 0}
	c, err := NewClassifier(m, ClassifierOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	black := make([]float32, 64)
	calls := []func(){
		func() { c.ClassifyPixels(context.Background(), [][]float32{black}, 1) },
		func() { c.Saliency(context.Background(), black, 1) },
		func() { c.Trace(context.Background(), black, 1) },
	}
	for i, call := range calls {
		func() {
			defer func() {
				if v := recover(); v == nil {
					t.Errorf("call %d did not panic", i)
				}
			}()
			call()
		}()
		if len(c.pool) != 1 {
			t.Fatalf("after panic %d, the pool holds %d models, want 1", i, len(c.pool))
		}
	}
	if _, err := c.ClassifyPixels(context.Background(), randomImages(1, 4), 1); err != nil {
		t.Errorf("after the panics: %v", err)
	}
}

func TestClassifierContext(t *testing.T) {
	c, err := NewClassifier(classifierModel(t), ClassifierOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	held, _ := c.acquire(context.Background()) // the only worker is busy
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.ClassifyPixels(ctx, randomImages(1, 5), 1); !errors.Is(err, context.Canceled) {
		t.Errorf("with the pool empty and ctx cancelled: %v, want context.Canceled", err)
	}
	c.pool <- held
}

// TestClassifierConcurrent classifies from many goroutines at once: the
// answers are those of one goroutine, and no more than Workers copies of
// the model are made.
func TestClassifierConcurrent(t *testing.T) {
	c, err := NewClassifier(classifierModel(t), ClassifierOptions{Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	px := randomImages(5, 6)
	want, err := c.ClassifyPixels(context.Background(), px, 5)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for range 5 {
				got, err := c.ClassifyPixels(context.Background(), px[g%5:g%5+1], 5)
				if err != nil || fmt.Sprint(got[0].Probabilities) != fmt.Sprint(want[g%5].Probabilities) {
					t.Errorf("goroutine %d: %v, %v; want %v", g, got, err, want[g%5].Probabilities)
					return
				}
			}
		})
	}
	wg.Wait()
	if c.made > 3 || len(c.pool) != c.made {
		t.Errorf("%d models made, %d in the pool; want at most 3, all back", c.made, len(c.pool))
	}
}

func TestClassifierTraceAndSaliency(t *testing.T) {
	m := classifierModel(t)
	ref := m.Clone()
	c, err := NewClassifier(m, ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	px := randomImages(1, 7)[0]
	tr, err := c.Trace(context.Background(), px, 3)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.FromData(append([]float32(nil), px...), 1, 8, 8, 1)
	ref.Standardizer.Apply(x, x)
	if fmt.Sprint(tr.Input.Data) != fmt.Sprint(x.Data) {
		t.Errorf("trace input is not the standardised image")
	}
	outs := ref.ForwardAll(x)
	if len(tr.Layers) != len(outs) {
		t.Fatalf("trace has %d layers, want %d", len(tr.Layers), len(outs))
	}
	for i, o := range outs {
		if fmt.Sprint(tr.Layers[i].Data) != fmt.Sprint(o.Data) {
			t.Errorf("trace layer %d differs from ForwardAll", i)
		}
	}
	if len(tr.Top) != 3 || tr.Top[0].Label != tensor.ArgMax(outs[len(outs)-1].Data) {
		t.Errorf("trace top %+v, want the largest output first", tr.Top)
	}

	s, err := c.Saliency(context.Background(), px, -1)
	if err != nil {
		t.Fatal(err)
	}
	if s.Class != tr.Top[0].Label || fmt.Sprint(s.Map.Shape) != "[8 8]" {
		t.Errorf("saliency of the top class: class %d shape %v, want %d [8 8]", s.Class, s.Map.Shape, tr.Top[0].Label)
	}
	g := ref.InputGradient(x, s.Class)
	for i, v := range g.Data {
		if want := float32(math.Abs(float64(v))); s.Map.Data[i] != want {
			t.Fatalf("saliency %d = %v, want |gradient| %v", i, s.Map.Data[i], want)
		}
	}
	if _, err := c.Saliency(context.Background(), px, 5); err == nil {
		t.Error("saliency of class 5 of 5: no error")
	}

	// The trace with its saliency map, from one forward pass: the same
	// layers, result and map as Trace and Saliency apart.
	for _, class := range []int{-1, (s.Class + 1) % 5} {
		want, err := c.Saliency(context.Background(), px, class)
		if err != nil {
			t.Fatal(err)
		}
		tw, err := c.TraceWith(context.Background(), px, TraceOptions{Top: 3, Saliency: true, Class: class})
		if err != nil {
			t.Fatal(err)
		}
		if tw.Saliency == nil || tw.Saliency.Class != want.Class || fmt.Sprint(tw.Saliency.Map.Data) != fmt.Sprint(want.Map.Data) {
			t.Errorf("TraceWith class %d: saliency %+v, want %+v", class, tw.Saliency, want)
		}
		if fmt.Sprint(tw.Top) != fmt.Sprint(tr.Top) || fmt.Sprint(tw.Layers) != fmt.Sprint(tr.Layers) {
			t.Errorf("TraceWith class %d: a trace other than Trace's", class)
		}
	}
	if tr.Saliency != nil {
		t.Error("Trace without saliency returned a map")
	}
	if _, err := c.TraceWith(context.Background(), px, TraceOptions{Saliency: true, Class: 5}); err == nil {
		t.Error("TraceWith class 5 of 5: no error")
	}
}

func TestClassifierNonFinite(t *testing.T) {
	m := classifierModel(t)
	m.Layers[len(m.Layers)-1].Params()[0].Value.Data[0] = float32(math.NaN())
	c, err := NewClassifier(m, ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ClassifyPixels(context.Background(), randomImages(3, 8), 1)
	if nf := new(NonFiniteError); !errors.As(err, &nf) || nf.Index != 0 {
		t.Errorf("a model with NaN weights: %v, want a NonFiniteError for input 0", err)
	}
}

func TestClassifierPixels(t *testing.T) {
	paper := image.NewGray(image.Rect(0, 0, 16, 16)) // dark ink on light paper
	for i := range paper.Pix {
		paper.Pix[i] = 240
	}
	paper.SetGray(8, 8, color.Gray{})
	tests := []struct {
		invert   Invert
		inverted bool
		corner   float32
	}{
		{InvertAuto, true, 15},
		{InvertAlways, true, 15},
		{InvertNever, false, 240},
	}
	for _, tt := range tests {
		c, err := NewClassifier(classifierModel(t), ClassifierOptions{Invert: tt.invert})
		if err != nil {
			t.Fatal(err)
		}
		px, inv := c.Pixels(paper)
		if inv != tt.inverted || len(px) != 64 || px[0] != tt.corner {
			t.Errorf("Invert %d: inverted %v, %d values, corner %v; want %v, 64, %v", tt.invert, inv, len(px), px[0], tt.inverted, tt.corner)
		}
		r, err := c.Classify(context.Background(), paper, 1)
		if err != nil || r.Inverted != tt.inverted {
			t.Errorf("Invert %d: Classify inverted %v, %v", tt.invert, r.Inverted, err)
		}
	}
}
