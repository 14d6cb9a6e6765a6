package nntest

import (
	"fmt"
	"math"
	"slices"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// checkBackward computes the analytic gradients and checks that inputs are
// left alone and that gradients accumulate.
func (h *harness) checkBackward() {
	var x0 []*tensor.Tensor
	for _, x := range h.xs {
		x0 = append(x0, x.Clone())
	}
	h.zeroGrads()
	h.forward(h.l, h.c.Training)
	dy := h.r.Clone()
	dxs := h.backward(dy)
	if len(dxs) != len(h.xs) {
		h.errorf("Backward returned %d gradients for %d inputs", len(dxs), len(h.xs))
		return
	}
	h.dxs = nil
	for k, dx := range dxs {
		if !slices.Equal(dx.Shape, h.xs[k].Shape) {
			h.errorf("Backward returned shape %v, want the input's %v", dx.Shape, h.xs[k].Shape)
		}
		h.dxs = append(h.dxs, dx.Clone())
		if !slices.Equal(h.xs[k].Data, x0[k].Data) {
			h.errorf("Forward or Backward modified the input %s", h.inputName(k))
		}
	}
	if !slices.Equal(dy.Data, h.r.Data) {
		h.errorf("Backward modified dy")
	}
	h.grads = nil
	for _, p := range h.l.Params() {
		if p.Grad == nil {
			h.grads = append(h.grads, nil)
			continue
		}
		h.grads = append(h.grads, p.Grad.Clone())
	}
	// A second pass must add the same gradient again.
	h.forward(h.l, h.c.Training)
	h.backward(dy)
	for i, p := range h.l.Params() {
		if p.Grad == nil {
			continue
		}
		for j, g := range h.grads[i].Data {
			if got := p.Grad.Data[j]; math.Abs(float64(got-2*g)) > 1e-5*math.Max(1, math.Abs(float64(2*g))) {
				h.errorf("param %q: Backward does not accumulate: grad[%d] = %v after two passes, want %v", p.Name, j, got, 2*g)
				break
			}
		}
	}
	h.zeroGrads()
}

// inputName names input k in messages: "x", or "x1", "x2", ... for a layer
// with several inputs.
func (h *harness) inputName(k int) string {
	if h.c.Ins == nil {
		return "x"
	}
	return fmt.Sprintf("x%d", k+1)
}

// indices returns the elements of a tensor of n values to check.
func (h *harness) indices(n int) []int {
	if n <= 200 {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	return h.rng.Perm(n)[:60]
}

func (h *harness) close(a, b float64) bool {
	return math.Abs(a-b) <= h.c.Tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// checkElems compares analytic derivatives with finite differences for the
// elements of v (the input or a parameter value).
func (h *harness) checkElems(what string, v []float32, analytic []float32) {
	l0 := h.loss()
	bad := 0
	var diff2, norm2 float64 // over the smooth elements, for the aggregate check
	for _, i := range h.indices(len(v)) {
		orig := v[i]
		v[i] = float32(float64(orig) + h.c.Eps)
		hp := float64(v[i]) - float64(orig)
		lp := h.loss()
		v[i] = float32(float64(orig) - h.c.Eps)
		hm := float64(orig) - float64(v[i])
		lm := h.loss()
		v[i] = orig
		a := float64(analytic[i])
		num := (lp - lm) / (hp + hm)
		h.checked++
		d1, d2 := (lp-l0)/hp, (l0-lm)/hm
		if !h.close(d1, d2) && (h.close(a, d1) || h.close(a, d2)) {
			h.kinks++
			continue
		}
		diff2 += (a - num) * (a - num)
		norm2 += num * num
		if h.close(a, num) {
			continue
		}
		if bad++; bad <= 3 {
			h.errorf("gradient of %s[%d]: Backward gives %.6g, finite difference %.6g (one-sided %.6g, %.6g)", what, i, a, num, d1, d2)
		}
	}
	if bad > 3 {
		h.errorf("gradient of %s: %d more mismatches", what, bad-3)
	}
	// Element by element the tolerance must absorb float32 rounding; over
	// all smooth elements together the noise averages out, so a gradient
	// off by a small factor everywhere (a wrong scale, a missing term) shows.
	if rel := math.Sqrt(diff2 / math.Max(norm2, 1e-30)); norm2 > 0 && rel > h.c.AggTol {
		h.errorf("gradient of %s: relative error %.2g over the checked elements, want at most %.2g", what, rel, h.c.AggTol)
	}
}

func (h *harness) checkGradients() {
	for k, x := range h.xs {
		h.checkElems(h.inputName(k), x.Data, h.dxs[k].Data)
	}
	for i, p := range h.l.Params() {
		if p.Grad != nil {
			h.checkElems("param "+p.Name, p.Value.Data, h.grads[i].Data)
		}
	}
	if h.kinks > max(2, h.checked/2) {
		h.errorf("%d of %d checked elements sit at kinks: choose inputs away from them", h.kinks, h.checked)
	}
}

// checkSharedBuffers runs Backward of a layer that can compute in lent
// buffers ([nn.BufferSharer]) with two lent buffers, then with the same two
// swapped, so that each holds the other's stale values, then with dy in the
// scratch buffer: the input and parameter gradients must be those of the
// layer's own buffers, bit for bit.
func (h *harness) checkSharedBuffers() {
	s, ok := h.l.(nn.BufferSharer)
	if !ok || h.c.Ins != nil {
		return
	}
	defer s.ShareBuffers(nil, nil)
	a, b := new(nn.Buffer), new(nn.Buffer)
	for pass, lent := range [][2]*nn.Buffer{{a, b}, {b, a}, {a, b}} {
		s.ShareBuffers(lent[0], lent[1])
		h.zeroGrads()
		h.forward(h.l, h.c.Training)
		dy := h.r.Clone()
		if pass == 2 {
			dy = lent[1].Tensor(h.r.Shape...)
			copy(dy.Data, h.r.Data)
		}
		dx := h.backward(dy)[0]
		if lent[0].Cap() < len(dx.Data) {
			h.errorf("with lent buffers, Backward returned dL/dx outside the lent buffer")
		}
		if !bitsEqual(dx.Data, h.dxs[0].Data) {
			h.errorf("with lent buffers (pass %d), Backward returned another dL/dx than with its own", pass+1)
		}
		for i, p := range h.l.Params() {
			if p.Grad != nil && !bitsEqual(p.Grad.Data, h.grads[i].Data) {
				h.errorf("with lent buffers (pass %d), param %q gets another gradient than with the layer's own buffers", pass+1, p.Name)
			}
		}
	}
	h.zeroGrads()
}

// bitsEqual reports whether a and b hold the same float32 values, bit for
// bit.
func bitsEqual(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(u, v float32) bool { return math.Float32bits(u) == math.Float32bits(v) })
}
