package optim

import (
	"fmt"
	"math"
)

// Schedule gives the learning rate for a training step (counted from 0 over
// the whole run) in an epoch (counted from 0). A training loop calls
// Optimizer.SetLR(s.LR(step, epoch)) before each step.
type Schedule interface {
	LR(step, epoch int) float64
}

// Constant is a fixed learning rate.
type Constant struct{ Value float64 }

func (s Constant) LR(step, epoch int) float64 { return s.Value }

// StepDecay multiplies the rate by Factor every Every epochs:
// Initial * Factor^floor(epoch/Every). Every <= 0 means no decay.
type StepDecay struct {
	Initial float64
	Factor  float64
	Every   int
}

func (s StepDecay) LR(step, epoch int) float64 {
	if s.Every <= 0 {
		return s.Initial
	}
	return s.Initial * math.Pow(s.Factor, float64(epoch/s.Every))
}

// Warmup raises the rate in a straight line from 0 to Target over the
// first Steps steps (the first Epochs epochs), then hands over to After,
// whose steps and epochs count from the end of the warmup: the rate of
// PyTorch's SequentialLR of a LinearLR warmup and another schedule, with
// the first step at 0 (Goyal et al., 2017, arXiv:1706.02677). [Cosine]
// has Keras's own warmup, the same rates.
type Warmup struct {
	Target        float64
	Steps, Epochs int
	After         Schedule
}

func (s Warmup) LR(step, epoch int) float64 {
	if step < s.Steps {
		return s.Target * float64(max(step, 0)) / float64(s.Steps)
	}
	return s.After.LR(step-s.Steps, epoch-s.Epochs)
}

// Cosine decays the rate from Initial to Initial*Alpha along half a cosine
// over DecaySteps steps, then stays there (Keras's CosineDecay; Loshchilov
// and Hutter, 2016, arXiv:1608.03983):
//
//	Initial * ((1-Alpha)*0.5*(1+cos(pi*min(step, DecaySteps)/DecaySteps)) + Alpha)
//
// With WarmupSteps > 0, Keras's warmup comes first: the rate goes in a
// straight line from Initial to WarmupTarget over WarmupSteps steps, then
// decays from WarmupTarget as above over the DecaySteps steps after them
// (Keras's CosineDecay with warmup_target and warmup_steps; Goyal et al.,
// 2017, arXiv:1706.02677).
type Cosine struct {
	Initial    float64
	DecaySteps int
	Alpha      float64

	WarmupTarget float64
	WarmupSteps  int
}

func (s Cosine) LR(step, epoch int) float64 {
	step, peak := max(step, 0), s.Initial
	if s.WarmupSteps > 0 {
		step = min(step, s.DecaySteps+s.WarmupSteps)
		if step < s.WarmupSteps {
			return (s.WarmupTarget-s.Initial)*float64(step)/float64(s.WarmupSteps) + s.Initial
		}
		step, peak = step-s.WarmupSteps, s.WarmupTarget
	}
	if s.DecaySteps <= 0 {
		return peak
	}
	p := float64(min(step, s.DecaySteps)) / float64(s.DecaySteps)
	c := 0.5 * (1 + math.Cos(math.Pi*p))
	return peak * ((1-s.Alpha)*c + s.Alpha)
}

// ReduceLROnPlateau lowers the learning rate when a monitored metric stops
// improving, with the exact semantics of Keras's callback of the same name:
//
//   - Mode "min" minimises, "max" maximises, "auto" (or "") maximises when
//     Monitor contains "acc" and minimises otherwise.
//   - A value improves on the best so far if it beats it by more than
//     MinDelta (an absolute threshold): current < best - MinDelta in min mode.
//   - After Patience epochs without improvement, and outside a cooldown, a
//     rate above MinLR becomes max(lr*Factor, MinLR) and a cooldown of
//     Cooldown epochs starts, during which the wait counter stays at zero.
//
// Use [NewReduceLROnPlateau] for Keras's defaults; a struct literal is taken
// as written. Call Validate once before the first Update.
type ReduceLROnPlateau struct {
	Monitor  string  // metric name, Keras default "val_loss"
	Factor   float64 // in (0, 1), default 0.1
	Patience int     // default 10
	MinDelta float64 // default 1e-4
	Cooldown int
	MinLR    float64
	Mode     string // "auto", "min" or "max"

	best     float64
	wait     int
	cooldown int
	started  bool
}

// NewReduceLROnPlateau returns the callback with Keras's defaults
// (factor 0.1, patience 10, min_delta 1e-4, cooldown 0, min_lr 0, mode auto)
// watching monitor ("val_loss" if empty).
func NewReduceLROnPlateau(monitor string) *ReduceLROnPlateau {
	if monitor == "" {
		monitor = "val_loss"
	}
	return &ReduceLROnPlateau{Monitor: monitor, Factor: 0.1, Patience: 10, MinDelta: 1e-4, Mode: "auto"}
}

// Validate reports a setting Keras would reject.
func (r *ReduceLROnPlateau) Validate() error {
	switch {
	case r.Factor >= 1:
		return fmt.Errorf("ReduceLROnPlateau: factor = %v, want < 1 (it does not support a factor >= 1)", r.Factor)
	case !(r.Factor > 0):
		return fmt.Errorf("ReduceLROnPlateau: factor = %v, want > 0", r.Factor)
	case r.Patience < 0:
		return fmt.Errorf("ReduceLROnPlateau: patience = %d, want >= 0", r.Patience)
	case r.Cooldown < 0:
		return fmt.Errorf("ReduceLROnPlateau: cooldown = %d, want >= 0", r.Cooldown)
	case !(r.MinLR >= 0) || math.IsInf(r.MinLR, 1): // NaN or +Inf would never let the rate fall
		return fmt.Errorf("ReduceLROnPlateau: min_lr = %v, want a finite number >= 0", r.MinLR)
	case math.IsNaN(r.MinDelta) || math.IsInf(r.MinDelta, 0): // no value would improve
		return fmt.Errorf("ReduceLROnPlateau: min_delta = %v, want a finite number", r.MinDelta)
	case r.Mode != "" && r.Mode != "auto" && r.Mode != "min" && r.Mode != "max":
		return fmt.Errorf("ReduceLROnPlateau: mode %q, want auto, min or max", r.Mode)
	}
	return nil
}

// maximize reports whether larger values of the monitored metric are better.
func (r *ReduceLROnPlateau) maximize() bool {
	switch r.Mode {
	case "max":
		return true
	case "min":
		return false
	}
	return containsAcc(r.Monitor)
}

func containsAcc(s string) bool {
	for i := 0; i+3 <= len(s); i++ {
		if s[i:i+3] == "acc" {
			return true
		}
	}
	return false
}

// Reset forgets the best value and the counters, as at the start of training.
func (r *ReduceLROnPlateau) Reset() {
	r.best = math.Inf(1)
	if r.maximize() {
		r.best = math.Inf(-1)
	}
	r.wait, r.cooldown, r.started = 0, 0, true
}

// Update takes the monitored value at the end of an epoch and the current
// learning rate, and returns the learning rate to use from now on; reduced
// reports whether it changed.
func (r *ReduceLROnPlateau) Update(value, lr float64) (newLR float64, reduced bool) {
	if !r.started {
		r.Reset()
	}
	if r.cooldown > 0 {
		r.cooldown--
		r.wait = 0
	}
	improved := value < r.best-r.MinDelta
	if r.maximize() {
		improved = value > r.best+r.MinDelta
	}
	switch {
	case improved:
		r.best = value
		r.wait = 0
	case r.cooldown <= 0:
		r.wait++
		if r.wait >= r.Patience && lr > float64(float32(r.MinLR)) {
			newLR = max(lr*r.Factor, r.MinLR)
			r.cooldown = r.Cooldown
			r.wait = 0
			return newLR, true
		}
	}
	return lr, false
}

// Best returns the best monitored value seen so far.
func (r *ReduceLROnPlateau) Best() float64 { return r.best }

// Wait returns the number of epochs since the last improvement, as Keras counts them.
func (r *ReduceLROnPlateau) Wait() int { return r.wait }
