package optim

import (
	"fmt"
)

// EMA keeps an exponential moving average of the weights an optimizer
// updates, as Keras's optimizer arguments use_ema, ema_momentum and
// ema_overwrite_frequency do. After each update (before the layers'
// constraints, as Keras's order is) the average a of every weight w becomes
//
//	a = momentum·a + (1 − momentum)·w
//
// with momentum 0 at the first step, so that the average starts at the
// weights. The average is a slot of the optimizer's state, "average", kept
// in checkpoints as the others are. [Finalize] puts the averages in place of
// the weights, as Keras's fit does after its last epoch; with
// EMAOverwriteFrequency n, the weights are also replaced by their averages
// after every n-th step.
type EMA struct {
	UseEMA                bool
	EMAMomentum           float64 // in [0, 1]; 0 means Keras's 0.99
	EMAOverwriteFrequency int     // steps between overwrites; 0: only at the end
}

// emaSlot is the name of the average's slot.
const emaSlot = "average"

func (e EMA) momentum() float64 { return orDefault(e.EMAMomentum, 0.99) }

// n is the number of slots the average adds: 1 or 0.
func (e EMA) n() int {
	if e.UseEMA {
		return 1
	}
	return 0
}

// read sets e from the Keras arguments of cfg.
func (e *EMA) read(cfg *config) {
	cfg.bool("use_ema", &e.UseEMA)
	cfg.float("ema_momentum", &e.EMAMomentum)
	cfg.count("ema_overwrite_frequency", &e.EMAOverwriteFrequency, "a whole number of steps >= 1 (or null: only at the end)")
}

// config adds Keras's three arguments to m when e is on.
func (e EMA) config(m map[string]any) map[string]any {
	if !e.UseEMA {
		return m
	}
	m["use_ema"], m["ema_momentum"] = true, e.momentum()
	m["ema_overwrite_frequency"] = nil
	if e.EMAOverwriteFrequency > 0 {
		m["ema_overwrite_frequency"] = e.EMAOverwriteFrequency
	}
	return m
}

// check reports a momentum outside [0, 1] or a negative frequency.
func (e EMA) check(opt string) error {
	if m := e.momentum(); !(m >= 0 && m <= 1) {
		return fmt.Errorf("optimizer %s: ema_momentum = %v, want a number in [0, 1]", opt, e.EMAMomentum)
	}
	if e.EMAOverwriteFrequency < 0 {
		return fmt.Errorf("optimizer %s: ema_overwrite_frequency = %d, want >= 1 (or 0: only at the end)", opt, e.EMAOverwriteFrequency)
	}
	return nil
}

// average updates the moving average of the values lo to hi of parameter i
// after the step's update, then puts it in place of the values if the step
// is one that overwrites them.
func (s *state) average(i, lo, hi int) {
	w := s.params[i].Value.Data[lo:hi]
	a := s.slots[i][s.avgSlot].Data[lo:hi]
	a = a[:len(w)]
	m := float32(0)
	if s.updates() > 0 {
		m = float32(s.avg.momentum())
	}
	c := 1 - m
	for j, x := range w {
		a[j] = float32(m*a[j]) + float32(c*x) // two roundings, as Keras's ops: no fused multiply-add
	}
	if f := s.avg.EMAOverwriteFrequency; f > 0 && (s.updates()+1)%f == 0 {
		copy(w, a)
	}
}

// Finalize puts the moving average of each weight in place of the weight
// when o keeps averages ([EMA]), as Keras's optimizer.finalize_variable_values
// does at the end of fit, and reports whether it did. Weights o has not
// updated yet are left as they are.
func Finalize(o Optimizer) bool {
	f, ok := o.(interface{ finalize() bool })
	return ok && f.finalize()
}

func (s *state) finalize() bool {
	if !s.avg.UseEMA {
		return false
	}
	for i, p := range s.params {
		copy(p.Value.Data, s.slots[i][s.avgSlot].Data)
	}
	return true
}
