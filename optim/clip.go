package optim

import (
	"fmt"
	"math"

	"github.com/convnet-go/convnet/internal/kernels"
)

// Clipping bounds the gradients before an optimizer's update, as Keras's
// optimizers' arguments of the same names do. At most one field is set;
// zero means off.
//
//	ClipNorm        each parameter's gradient g becomes g·c / max(‖g‖, c)
//	ClipValue       each gradient value is clamped to [-c, c]
//	GlobalClipNorm  every gradient is scaled by c / max(‖G‖, c), ‖G‖ the L2
//	                norm of all the gradients together (PyTorch's
//	                torch.nn.utils.clip_grad_norm_, without its 1e-6)
//
// The norms are summed in float64, chunk by chunk in a fixed order, so that
// they do not depend on the number of cores. A gradient holding NaN or an
// infinity has a NaN norm, and ClipNorm and GlobalClipNorm then make the
// gradients they scale NaN, as Keras's do: the training loop stops at the
// NaN loss rather than taking a step of zero.
type Clipping struct {
	ClipNorm       float64
	ClipValue      float64
	GlobalClipNorm float64
}

// read sets c from the Keras arguments clipnorm, clipvalue and
// global_clipnorm of cfg.
func (c *Clipping) read(cfg *config) {
	cfg.float("clipnorm", &c.ClipNorm)
	cfg.float("clipvalue", &c.ClipValue)
	cfg.float("global_clipnorm", &c.GlobalClipNorm)
}

// config adds the fields that are set to m, under Keras's names.
func (c Clipping) config(m map[string]any) map[string]any {
	for _, f := range c.fields() {
		if f.v != 0 {
			m[f.name] = f.v
		}
	}
	return m
}

type clipField struct {
	name string
	v    float64
}

func (c Clipping) fields() []clipField {
	return []clipField{{"clipnorm", c.ClipNorm}, {"clipvalue", c.ClipValue}, {"global_clipnorm", c.GlobalClipNorm}}
}

// check reports a bound that is negative, infinite or NaN, or more than one
// bound set (Keras refuses that too).
func (c Clipping) check(opt string) error {
	set := ""
	for _, f := range c.fields() {
		if !(f.v >= 0) || math.IsInf(f.v, 1) {
			return fmt.Errorf("optimizer %s: %s = %v, want a positive number (or 0: off)", opt, f.name, f.v)
		}
		if f.v == 0 {
			continue
		}
		if set != "" {
			return fmt.Errorf("optimizer %s: %s and %s are both set: only one of clipnorm, clipvalue and global_clipnorm can be", opt, set, f.name)
		}
		set = f.name
	}
	return nil
}

// norms works out, for the step in progress, the factor each parameter's
// gradient is scaled by under ClipNorm or GlobalClipNorm: the squares of the
// gradients are summed per chunk on every core, then per parameter in chunk
// order.
func (s *state) norms() {
	if s.sqBound != s {
		s.sqFn, s.sqBound = s.sumSquares, s
	}
	kernels.ParallelFor(len(s.chunks), len(s.chunks), s.sqFn)
	c := s.clip
	clear(s.scale) // first each parameter's sum of squares, then its factor
	for item, ch := range s.chunks {
		s.scale[ch.param] += s.sq[item]
	}
	global := 0.0
	for _, sq := range s.scale {
		global += sq
	}
	for k, sq := range s.scale {
		if c.GlobalClipNorm > 0 {
			s.scale[k] = c.GlobalClipNorm / max(math.Sqrt(global), c.GlobalClipNorm)
		} else {
			s.scale[k] = c.ClipNorm / max(math.Sqrt(sq), c.ClipNorm)
		}
	}
}

// sumSquares sums the squares of a chunk's gradient values in float64.
func (s *state) sumSquares(_, item int) {
	c := s.chunks[item]
	sum := 0.0
	for _, g := range s.params[c.param].Grad.Data[c.lo:c.hi] {
		sum += float64(g) * float64(g)
	}
	s.sq[item] = sum
}

// clipSpan applies the step's clipping to g, values of parameter i.
func (s *state) clipSpan(i int, g []float32) {
	switch {
	case s.clip.ClipValue > 0:
		v := float32(s.clip.ClipValue)
		for j, x := range g {
			g[j] = min(max(x, -v), v)
		}
	case s.clip.ClipNorm > 0 || s.clip.GlobalClipNorm > 0:
		if f := float32(s.scale[i]); f != 1 {
			for j := range g {
				g[j] *= f
			}
		}
	}
}
