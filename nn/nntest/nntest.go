// Package nntest is the conformance harness that every layer and loss of
// package nn passes, in the spirit of Keras's run_layer_test and gonum's
// diff/fd. For a layer it checks:
//
//   - the output shape from Build equals OutputShape and the real Forward shape;
//   - the parameter count, and that Cost, asked before and after Build,
//     counts those parameters and the expected multiply-adds;
//   - Forward leaves x unchanged and Backward leaves dy unchanged;
//   - Backward accumulates into Param.Grad (a second pass doubles it);
//   - a layer that computes in lent buffers (nn.BufferSharer) returns the
//     same gradients, bit for bit, in two lent buffers holding stale values,
//     and with dy in the buffer lent for its temporary values;
//   - the config round-trips through encoding/json and nn.FromConfig to an
//     equal config, and the rebuilt layer with copied weights gives a
//     bit-identical output;
//   - a central finite-difference gradient check, in float64 arithmetic, of
//     L = Σ y·r (r random) with respect to the input and every trainable
//     parameter;
//   - one gradient step on the parameters (or the input, for layers without
//     trainable parameters) lowers L.
//
// A layer that ends in a softmax ([nn.FinalSoftmax]) is then checked again
// with the softmax omitted: its output must be logits whose softmax is the
// full output, and the gradient checks and the step run once more.
//
// # Gradient check
//
// Each checked element v is moved to fl(v±Eps) and the derivative estimated
// as (L⁺ - L⁻)/(h⁺ + h⁻) with the actual float32 steps h. The analytic value
// a and the estimate n agree when |a-n| ≤ Tol·max(1, |a|, |n|). Piecewise
// linear layers (ReLU, max pooling) have kinks: when the two one-sided
// estimates disagree the element straddles a kink, and a must then match one
// of them instead (a wrong gradient matches neither). One output near a
// kink puts every element that feeds it at the kink, so only more than half
// of the elements at kinks is a failure (choose inputs away from them). Tensors larger than 200 elements are
// checked on a random subset of 60.
//
// Layers that draw random numbers in Forward (Dropout) get a source that is
// reseeded before every Forward, so every evaluation sees the same mask.
//
// A layer with several inputs ([nn.MultiInput], such as nn.Add) is checked
// the same way through BuildInputs, ForwardInputs and BackwardInputs, with
// the input shapes in Case.Ins: every input is checked like x.
package nntest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// Case is one layer configuration to check.
type Case struct {
	New      func() nn.Layer // a fresh, unbuilt layer
	In       []int           // input shape without the batch axis
	Ins      [][]int         // the input shapes of an nn.MultiInput layer, in place of In
	Batch    int             // batch size; 0 means 2
	Params   int             // expected total parameter count (trainable or not)
	MACs     int64           // expected multiply-adds per sample (Cost)
	Training bool            // mode of the Forward calls
	// Input fills each input; nil draws values ±[0.1, 1.1) (away from
	// ReLU's kink).
	Input func(rng *rand.Rand, x []float32)
	Seed  uint64
	Eps   float64 // 0 means 1e-3
	Tol   float64 // 0 means 1e-2
	// NoConfig leaves out the config round trip, for a composite under test
	// that nn.FromConfig does not know (a model used as a layer).
	NoConfig bool
	// AggTol bounds the relative error of all smooth checked elements of a
	// tensor together, ||analytic-numeric|| / ||numeric||; 0 means 2e-3.
	AggTol float64
}

// Run runs [Check] and reports every problem as a test error.
func Run(t *testing.T, c Case) {
	t.Helper()
	for _, err := range Check(c) {
		t.Error(err)
	}
}

// Check runs every check of the package comment and returns the problems
// found (nil when the layer conforms). A panic in the layer is reported as
// a problem.
func Check(c Case) (errs []error) {
	defer func() {
		if r := recover(); r != nil {
			errs = append(errs, fmt.Errorf("panic: %v", r))
		}
	}()
	h := newHarness(c)
	if err := h.build(); err != nil {
		return []error{err}
	}
	h.checkShapes()
	h.checkParamCount()
	h.checkBackward()
	h.checkSharedBuffers()
	if !c.NoConfig {
		h.checkConfig()
	}
	h.checkGradients()
	h.checkStep()
	if h.omitSoftmax() {
		h.checkBackward()
		h.checkGradients()
		h.checkStep()
	}
	return h.errs
}

type harness struct {
	c       Case
	l       nn.Layer
	rng     *rand.Rand // for data
	src     *rand.PCG  // the layer's source, reseeded before each Forward
	out     []int
	xs      []*tensor.Tensor // the inputs
	r       *tensor.Tensor
	dxs     []*tensor.Tensor // analytic dL/dx for each input
	grads   []*tensor.Tensor // analytic dL/dparam (nil for non-trainable)
	errs    []error
	kinks   int
	checked int
	mode    string // "" or "without softmax: ", prefixed to problems
}

func newHarness(c Case) *harness {
	if c.Batch == 0 {
		c.Batch = 2
	}
	if c.Eps == 0 {
		c.Eps = 1e-3
	}
	if c.AggTol == 0 {
		c.AggTol = 2e-3
	}
	if c.Tol == 0 {
		c.Tol = 1e-2
	}
	return &harness{c: c, rng: rand.New(rand.NewPCG(c.Seed, 1)), src: rand.NewPCG(c.Seed, 2)}
}

func (h *harness) errorf(format string, args ...any) {
	h.errs = append(h.errs, fmt.Errorf("%s: %s%s", h.l.Type(), h.mode, fmt.Sprintf(format, args...)))
}

// buildLayer builds l for the case's input shapes.
func (h *harness) buildLayer(l nn.Layer, rng *rand.Rand) ([]int, error) {
	if h.c.Ins == nil {
		return l.Build(slices.Clone(h.c.In), rng)
	}
	m, ok := l.(nn.MultiInput)
	if !ok {
		return nil, fmt.Errorf("Case.Ins is set but %s is not an nn.MultiInput", l.Type())
	}
	ins := make([][]int, len(h.c.Ins))
	for k, s := range h.c.Ins {
		ins[k] = slices.Clone(s)
	}
	return m.BuildInputs(ins, rng)
}

func (h *harness) build() error {
	h.l = h.c.New()
	h.l.SetName("layer_under_test")
	out, err := h.buildLayer(h.l, rand.New(h.src))
	if err != nil {
		if h.c.Ins != nil {
			return fmt.Errorf("%s.BuildInputs(%v): %v", h.l.Type(), h.c.Ins, err)
		}
		return fmt.Errorf("%s.Build(%v): %v", h.l.Type(), h.c.In, err)
	}
	h.out = out
	ins := h.c.Ins
	if ins == nil {
		ins = [][]int{h.c.In}
	}
	for _, in := range ins {
		x := tensor.New(append([]int{h.c.Batch}, in...)...)
		if h.c.Input != nil {
			h.c.Input(h.rng, x.Data)
		} else {
			for i := range x.Data {
				v := 0.1 + h.rng.Float64()
				if h.rng.IntN(2) == 0 {
					v = -v
				}
				x.Data[i] = float32(v)
			}
		}
		h.xs = append(h.xs, x)
	}
	h.r = tensor.New(append([]int{h.c.Batch}, out...)...)
	for i := range h.r.Data {
		h.r.Data[i] = float32(h.rng.NormFloat64())
	}
	return nil
}

// forward runs the layer on the inputs with a reseeded source.
func (h *harness) forward(l nn.Layer, training bool) *tensor.Tensor {
	h.src.Seed(h.c.Seed, 3)
	if h.c.Ins != nil {
		return l.(nn.MultiInput).ForwardInputs(h.xs, training)
	}
	return l.Forward(h.xs[0], training)
}

// backward runs the layer's backward pass and returns one gradient per input.
func (h *harness) backward(dy *tensor.Tensor) []*tensor.Tensor {
	if h.c.Ins != nil {
		return h.l.(nn.MultiInput).BackwardInputs(dy)
	}
	return []*tensor.Tensor{h.l.Backward(dy)}
}

// loss returns L = Σ y·r in float64.
func (h *harness) loss() float64 {
	y := h.forward(h.l, h.c.Training)
	var s float64
	for i, v := range y.Data {
		s += float64(v) * float64(h.r.Data[i])
	}
	return s
}

func (h *harness) checkShapes() {
	if got := h.l.OutputShape(); !slices.Equal(got, h.out) {
		h.errorf("OutputShape() = %v, Build returned %v", got, h.out)
	}
	y := h.forward(h.l, h.c.Training)
	want := append([]int{h.c.Batch}, h.out...)
	if !slices.Equal(y.Shape, want) {
		h.errorf("Forward shape %v, Build promised %v", y.Shape, want)
	}
	if len(y.Data) != tensor.Size(y.Shape) {
		h.errorf("Forward returned %d values for shape %v", len(y.Data), y.Shape)
	}
}

func (h *harness) checkParamCount() {
	n := 0
	for _, p := range h.l.Params() {
		n += p.Value.Len()
		if p.Trainable != (p.Grad != nil) {
			h.errorf("param %q: Trainable %v but Grad is %v", p.Name, p.Trainable, p.Grad)
		}
		if p.Grad != nil && !slices.Equal(p.Grad.Shape, p.Value.Shape) {
			h.errorf("param %q: Grad shape %v, Value shape %v", p.Name, p.Grad.Shape, p.Value.Shape)
		}
	}
	if n != h.c.Params {
		h.errorf("parameter count %d, want %d", n, h.c.Params)
	}
	want := nn.Cost{Params: int64(n), MACs: h.c.MACs}
	if got := h.c.New().Cost(slices.Clone(h.c.In)); got != want {
		h.errorf("Cost(%v) before Build = %+v, want %+v", h.c.In, got, want)
	}
	if got := h.l.Cost(slices.Clone(h.c.In)); got != want {
		h.errorf("Cost(%v) after Build = %+v, want %+v", h.c.In, got, want)
	}
}

func (h *harness) zeroGrads() {
	for _, p := range h.l.Params() {
		if p.Grad != nil {
			p.Grad.Zero()
		}
	}
}

func (h *harness) checkConfig() {
	cfg := h.l.Config()
	b1, err := json.Marshal(cfg)
	if err != nil {
		h.errorf("Config() does not encode as JSON: %v", err)
		return
	}
	var m map[string]any
	if err := json.Unmarshal(b1, &m); err != nil {
		h.errorf("decoding config %s: %v", b1, err)
		return
	}
	l2, err := nn.FromConfig(h.l.Type(), m)
	if err != nil {
		h.errorf("FromConfig(%s): %v", b1, err)
		return
	}
	b2, _ := json.Marshal(l2.Config())
	if !bytes.Equal(b1, b2) {
		h.errorf("config round trip:\n got %s\nwant %s", b2, b1)
	}
	if l2.Name() != h.l.Name() {
		h.errorf("FromConfig name %q, want %q", l2.Name(), h.l.Name())
	}
	out2, err := h.buildLayer(l2, rand.New(rand.NewPCG(99, 99)))
	if err != nil {
		h.errorf("rebuilt layer: Build: %v", err)
		return
	}
	if !slices.Equal(out2, h.out) {
		h.errorf("rebuilt layer: output shape %v, want %v", out2, h.out)
	}
	p1, p2 := h.l.Params(), l2.Params()
	if len(p1) != len(p2) {
		h.errorf("rebuilt layer has %d params, want %d", len(p2), len(p1))
		return
	}
	for i := range p1 {
		if p1[i].Name != p2[i].Name || !slices.Equal(p1[i].Value.Shape, p2[i].Value.Shape) {
			h.errorf("rebuilt param %d: %q %v, want %q %v", i, p2[i].Name, p2[i].Value.Shape, p1[i].Name, p1[i].Value.Shape)
			return
		}
		p2[i].Value.CopyFrom(p1[i].Value)
	}
	y1 := h.forward(h.l, false).Clone()
	y2 := h.forward(l2, false)
	if !slices.Equal(y1.Data, y2.Data) {
		h.errorf("rebuilt layer with copied weights gives a different output")
	}
}

// checkStep takes one normalised gradient step and expects L to drop.
func (h *harness) checkStep() {
	l0 := h.loss()
	type pair struct{ v, g []float32 }
	var steps []pair
	for i, p := range h.l.Params() {
		if p.Grad != nil {
			steps = append(steps, pair{p.Value.Data, h.grads[i].Data})
		}
	}
	if len(steps) == 0 {
		for k, x := range h.xs {
			steps = append(steps, pair{x.Data, h.dxs[k].Data})
		}
	}
	var norm float64
	for _, s := range steps {
		for _, g := range s.g {
			norm += float64(g) * float64(g)
		}
	}
	if norm == 0 {
		h.errorf("gradient is zero: cannot take a step")
		return
	}
	lr := 1e-2 / math.Sqrt(norm)
	for _, s := range steps {
		for i, g := range s.g {
			s.v[i] -= float32(lr * float64(g))
		}
	}
	if l1 := h.loss(); !(l1 < l0) {
		h.errorf("one gradient step did not lower the loss: %v -> %v", l0, l1)
	}
}

// omitSoftmax switches a layer that ends in a softmax to computing logits
// (see nn.FinalSoftmax), checks that their softmax is the full output and
// reports whether the layer is to be checked again in that mode.
func (h *harness) omitSoftmax() bool {
	f, ok := h.l.(nn.FinalSoftmax)
	if !ok {
		return false
	}
	y := h.forward(h.l, h.c.Training).Clone()
	cfg, _ := json.Marshal(h.l.Config())
	if !f.OmitSoftmax(true) {
		return false
	}
	h.mode = "without softmax: "
	if cfg2, _ := json.Marshal(h.l.Config()); !bytes.Equal(cfg, cfg2) {
		h.errorf("config %s, want %s", cfg2, cfg)
	}
	z := h.forward(h.l, h.c.Training)
	if !slices.Equal(z.Shape, y.Shape) {
		h.errorf("output shape %v, want %v", z.Shape, y.Shape)
		return false
	}
	p := tensor.New(y.Shape...)
	nn.SoftmaxRows(p, z)
	for i := range p.Data {
		if math.Abs(float64(p.Data[i]-y.Data[i])) > 1e-6 {
			h.errorf("softmax of the output [%d] = %v, output with softmax %v", i, p.Data[i], y.Data[i])
			return false
		}
	}
	if !f.OmitSoftmax(true) {
		h.errorf("OmitSoftmax(true) reports no softmax once omitted")
	}
	return true
}
