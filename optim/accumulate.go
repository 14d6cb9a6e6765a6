package optim

import (
	"fmt"
)

// Accumulation makes an optimizer update the weights once every
// GradientAccumulationSteps steps, with the mean of the gradients of those
// steps, as Keras 3's gradient_accumulation_steps argument does: a batch of
// 32 taken 4 times is a step on the gradient of the 128 images (but for
// BatchNormalization's statistics, which are each batch's). The steps in
// between add their gradient to a per-parameter sum, the slot
// "gradient_accumulator", kept in checkpoints as the others are; the
// update step takes (g + sum)/n and empties it. Clipping and decoupled
// weight decay act on the update step only, on the mean gradient.
//
// Keras's other rules follow: the iteration count of the update rules (the
// bias corrections of Adam and its kin, Nadam's momentum schedule) counts
// updates, Iterations()/n; a learning-rate schedule sees every step, so its
// steps and epochs keep their meaning; the moving average of [EMA] is
// updated at every step, its first update and overwrite frequency counted in
// updates; and the layers' constraints act after every step.
type Accumulation struct {
	GradientAccumulationSteps int // steps per update, >= 2; 0 means off
}

// accumulatorSlot is the name of the gradient sum's slot.
const accumulatorSlot = "gradient_accumulator"

// steps returns the steps per update: 1 when accumulation is off.
func (a Accumulation) steps() int { return max(a.GradientAccumulationSteps, 1) }

// n is the number of slots accumulation adds: 1 or 0.
func (a Accumulation) n() int {
	if a.GradientAccumulationSteps > 0 {
		return 1
	}
	return 0
}

// read sets a from the Keras argument of cfg.
func (a *Accumulation) read(cfg *config) {
	cfg.count("gradient_accumulation_steps", &a.GradientAccumulationSteps, "an integer >= 2 (or null: off)")
}

// config adds Keras's argument to m when a is on.
func (a Accumulation) config(m map[string]any) map[string]any {
	if a.GradientAccumulationSteps > 0 {
		m["gradient_accumulation_steps"] = a.GradientAccumulationSteps
	}
	return m
}

// check reports a count that is not 0 or at least 2: Keras refuses 1 too.
func (a Accumulation) check(opt string) error {
	if n := a.GradientAccumulationSteps; n < 0 || n == 1 {
		return fmt.Errorf("optimizer %s: gradient_accumulation_steps = %d, want an integer >= 2 (or 0: off)", opt, n)
	}
	return nil
}

// updates returns the number of updates made so far, Keras's
// optimizer.iterations: the steps taken, divided by the steps per update.
func (s *state) updates() int { return s.iterations / s.acc.steps() }

// updating reports whether the step in progress updates the weights.
func (s *state) updating() bool { return (s.iterations+1)%s.acc.steps() == 0 }

// sum adds the gradient of the values lo to hi of parameter i to their
// sum, a step that does not update them.
func (s *state) sum(i, lo, hi int) {
	g := s.params[i].Grad.Data[lo:hi]
	a := s.slots[i][s.accSlot].Data[lo:hi]
	a = a[:len(g)]
	for j, x := range g {
		a[j] = x + a[j]
	}
}

// mean puts the mean of the gradients since the last update, (g + sum)/n,
// in place of the gradient of the values of a chunk, and empties their sum.
func (s *state) mean(_, item int) {
	c := s.chunks[item]
	g := s.params[c.param].Grad.Data[c.lo:c.hi]
	a := s.slots[c.param][s.accSlot].Data[c.lo:c.hi]
	a = a[:len(g)]
	n := float32(s.acc.steps())
	for j, x := range g {
		g[j] = (x + a[j]) / n // Keras's order: the sum, then the division
	}
	clear(a)
}
