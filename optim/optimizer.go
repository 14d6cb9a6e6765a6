package optim

import (
	"fmt"
	"strings"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// Optimizer updates parameters from their gradients.
//
// Step skips parameters that are not trainable or have no gradient. Its
// per-parameter state (momentum, moving averages) is allocated at the first
// Step and reused after, so steady-state steps do not allocate.
type Optimizer interface {
	// Name is the lower-case Keras name: "sgd", "rmsprop", "adam", "adamw".
	Name() string
	// Config returns the hyperparameters under their Keras names, JSON-ready;
	// New(Name(), Config()) makes an equal optimizer with fresh state.
	Config() map[string]any

	// LR returns the current learning rate; SetLR changes it between steps
	// (schedules and ReduceLROnPlateau do).
	LR() float64
	SetLR(lr float64)

	// Step applies one update to params using Param.Grad and counts one
	// iteration (with [Accumulation], it may add the gradients to their sum
	// instead).
	Step(params []*nn.Param)
	// Iterations is the number of Steps taken: Keras's optimizer.iterations,
	// or with [Accumulation] its optimizer._iterations, which counts the steps
	// that did not update the weights too.
	Iterations() int

	// SlotNames names the state tensors kept per parameter, such as
	// ["m", "v"] for Adam; it may be empty (plain SGD).
	SlotNames() []string
	// State returns the state of every parameter updated so far, in Step order.
	// The tensors are the optimizer's own, not copies.
	State() []ParamState
	// SetState restores the iteration count and per-parameter state saved by
	// State, for resuming training. Each ParamState must hold one tensor per
	// slot, shaped like its parameter; the tensors are copied.
	SetState(iterations int, state []ParamState) error
}

// ParamState is an optimizer's state for one parameter: one tensor per slot,
// in SlotNames order.
type ParamState struct {
	Param *nn.Param
	Slots []*tensor.Tensor
}

// state is the bookkeeping every optimizer shares: the iteration count and
// the slot tensors of each trainable parameter, keyed by the parameter.
type state struct {
	iterations int
	params     []*nn.Param
	slots      [][]*tensor.Tensor
	chunks     []chunk // the items of each, from params (see split)

	// The clipping of the step in progress; each chunk's sum of squares and
	// each parameter's factor (see norms).
	clip      Clipping
	avg       EMA          // of the step in progress (see prepare)
	acc       Accumulation // of the step in progress (see prepare)
	avgSlot   int          // the index of the average's slot, when avg is on
	accSlot   int          // the index of the gradient sum's slot, when acc is on
	exclude   []string     // the names weight decay leaves alone, and
	noDecay   []bool       // the parameters it leaves alone (see excluded)
	sq, scale []float64
	sqFn      func(worker, item int)
	sqBound   *state

	// The update in progress (see each; nil: a step that sums the
	// gradients), and the functions ParallelFor calls, bound to the state
	// they were made for.
	u      updater
	runFn  func(worker, item int)
	meanFn func(worker, item int)
	bound  *state
}

// updater is an optimizer's update of the values lo to hi of parameter i
// (of state.params) for the step in progress. The update of a value reads
// and writes that value alone, its gradient and its slots, so that ranges
// can run on different cores with the same results, bit for bit.
type updater interface{ update(i, lo, hi int) }

// chunk is a range of the values of one parameter: an item of each.
type chunk struct{ param, lo, hi int }

// chunkLen bounds the values of a chunk: 64 KiB of each array an update
// reads, many times the cost of handing the chunk to another core, and the
// weights of a large Dense layer split into many chunks.
const chunkLen = 1 << 14

// each runs u on every value of the parameters, chunk by chunk, on every
// core, with the gradients clipped as c says, and counts the step. With
// [Accumulation], a step that does not update adds the gradients to their
// sum instead, and one that does runs u on their mean.
func (s *state) each(u updater, c Clipping) {
	if s.bound != s {
		s.runFn, s.meanFn, s.bound = s.runChunk, s.mean, s
	}
	if s.updating() {
		if s.acc.n() > 0 {
			kernels.ParallelFor(len(s.chunks), len(s.chunks), s.meanFn)
		}
		s.clip = c
		if c.ClipNorm > 0 || c.GlobalClipNorm > 0 {
			s.norms()
		}
		s.u = u
	}
	kernels.ParallelFor(len(s.chunks), len(s.chunks), s.runFn)
	s.u = nil
	s.iterations++
}

func (s *state) runChunk(_, item int) {
	c := s.chunks[item]
	if s.u != nil {
		s.u.update(c.param, c.lo, c.hi)
	} else {
		s.sum(c.param, c.lo, c.hi)
	}
	if s.avg.UseEMA {
		s.average(c.param, c.lo, c.hi)
	}
}

// span returns the values lo to hi of parameter i and of its gradient,
// after the step's decoupled weight decay (see decay) and clipping.
func (s *state) span(i, lo, hi int, wd, lr float64) (w, g []float32) {
	w, g = s.params[i].Value.Data[lo:hi], s.params[i].Grad.Data[lo:hi]
	if !s.noDecay[i] {
		decay(w, wd, lr)
	}
	s.clipSpan(i, g)
	return w, g[:len(w)]
}

// slot returns the values lo to hi of slot k of parameter i.
func (s *state) slot(i, k, lo, hi int) []float32 { return s.slots[i][k].Data[lo:hi] }

func trainable(p *nn.Param) bool { return p.Trainable && p.Grad != nil }

// prepare makes sure every trainable parameter of params has nslots slot
// tensors, then the average's when o's EMA is on and the gradient sum's
// when its Accumulation is, new ones filled with init's values (one per
// slot; none: zeros), and knows which parameters weight decay leaves alone.
// It allocates only when the parameter list, the number of slots or the
// exclusions change; state already held for a parameter is kept.
func (s *state) prepare(params []*nn.Param, o Options, nslots int, init ...float32) {
	e, a := o.EMA, o.Accumulation
	defer s.excluded(o.DecayExclusion)
	s.avg, s.acc = e, a
	s.avgSlot, s.accSlot = nslots, nslots+e.n()
	nslots += e.n() + a.n()
	j := 0
	same := true
	for _, p := range params {
		if !trainable(p) {
			continue
		}
		if j >= len(s.params) || s.params[j] != p || len(s.slots[j]) != nslots {
			same = false
			break
		}
		j++
	}
	if same && j == len(s.params) {
		return
	}
	s.noDecay = nil // worked out again for the new list
	old := make(map[*nn.Param][]*tensor.Tensor, len(s.params))
	for i, p := range s.params {
		old[p] = s.slots[i]
	}
	s.params, s.slots = s.params[:0:0], s.slots[:0:0]
	for _, p := range params {
		if !trainable(p) {
			continue
		}
		if p.Grad.Len() != p.Value.Len() {
			panic(fmt.Sprintf("optim: parameter %s: gradient size %d, value size %d", p.Name, p.Grad.Len(), p.Value.Len()))
		}
		sl, ok := old[p]
		if !ok || len(sl) != nslots {
			sl = make([]*tensor.Tensor, nslots)
			for k := range sl {
				sl[k] = tensor.New(p.Value.Shape...)
				if k < len(init) {
					sl[k].Fill(init[k])
				}
			}
		}
		s.params = append(s.params, p)
		s.slots = append(s.slots, sl)
	}
	s.split()
}

// split cuts the parameters' values into chunks.
func (s *state) split() {
	s.chunks = s.chunks[:0:0]
	for i, p := range s.params {
		for lo, n := 0, p.Value.Len(); lo < n; lo += chunkLen {
			s.chunks = append(s.chunks, chunk{i, lo, min(lo+chunkLen, n)})
		}
	}
	s.sq, s.scale = make([]float64, len(s.chunks)), make([]float64, len(s.params))
}

func (s *state) Iterations() int { return s.iterations }

func (s *state) State() []ParamState {
	out := make([]ParamState, len(s.params))
	for i, p := range s.params {
		out[i] = ParamState{Param: p, Slots: s.slots[i]}
	}
	return out
}

func (s *state) setState(name string, slotNames []string, iterations int, st []ParamState) error {
	if iterations < 0 {
		return fmt.Errorf("optimizer %s: iterations = %d, want >= 0", name, iterations)
	}
	params := make([]*nn.Param, len(st))
	slots := make([][]*tensor.Tensor, len(st))
	for i, ps := range st {
		if ps.Param == nil {
			return fmt.Errorf("optimizer %s: state %d has no parameter", name, i)
		}
		if len(ps.Slots) != len(slotNames) {
			return fmt.Errorf("optimizer %s: parameter %s: %d state tensors, want %d (%s)",
				name, ps.Param.Name, len(ps.Slots), len(slotNames), strings.Join(slotNames, ", "))
		}
		slots[i] = make([]*tensor.Tensor, len(slotNames))
		for k, t := range ps.Slots {
			if t == nil || !tensor.SameShape(t.Shape, ps.Param.Value.Shape) {
				var got []int
				if t != nil {
					got = t.Shape
				}
				return fmt.Errorf("optimizer %s: parameter %s: slot %s has shape %v, want %v",
					name, ps.Param.Name, slotNames[k], got, ps.Param.Value.Shape)
			}
			slots[i][k] = t.Clone()
		}
		params[i] = ps.Param
	}
	s.iterations, s.params, s.slots = iterations, params, slots
	s.noDecay = nil // worked out again for these parameters
	s.split()
	return nil
}

// decay applies decoupled weight decay the Keras 3 way, w -= w*wd*lr,
// before the gradient update.
func decay(w []float32, wd, lr float64) {
	if wd != 0 {
		kernels.Decay(w, float32(wd*lr))
	}
}

// orDefault returns v, or def when v is zero.
func orDefault(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}
