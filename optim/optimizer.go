package optim

import (
	"fmt"
	"math"
	"slices"
	"sort"
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

	// Step applies one update to params using Param.Grad and counts one iteration.
	Step(params []*nn.Param)
	// Iterations is the number of Steps taken (Keras's optimizer.iterations).
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

// Names returns the optimizer names that [New] accepts.
func Names() []string {
	return []string{"adadelta", "adagrad", "adam", "adamax", "adamw", "lion", "nadam", "rmsprop", "sgd"}
}

// New returns the optimizer called name (case-insensitive, one of [Names])
// configured from cfg, whose keys are Keras's argument names
// (learning_rate, momentum, rho, epsilon, beta_1, ..., and clipnorm,
// clipvalue or global_clipnorm for every one: see [Clipping]). Missing keys take the
// defaults; an unknown name or key, or a value of the wrong type or range, is
// an error naming it.
func New(name string, cfg map[string]any) (Optimizer, error) {
	c := config{opt: strings.ToLower(name), m: cfg}
	var clip Clipping
	clip.read(&c)
	var o Optimizer
	switch c.opt {
	case "sgd":
		s := &SGD{}
		c.float("learning_rate", &s.LearningRate)
		c.float("momentum", &s.Momentum)
		c.bool("nesterov", &s.Nesterov)
		c.float("weight_decay", &s.WeightDecay)
		o = s
	case "rmsprop":
		r := &RMSprop{}
		c.float("learning_rate", &r.LearningRate)
		c.float("rho", &r.Rho)
		c.float("epsilon", &r.Epsilon)
		c.float("momentum", &r.Momentum)
		c.bool("centered", &r.Centered)
		c.bool("epsilon_inside_sqrt", &r.EpsilonInsideSqrt)
		c.float("weight_decay", &r.WeightDecay)
		o = r
	case "adagrad":
		a := &Adagrad{}
		c.float("learning_rate", &a.LearningRate)
		c.float("initial_accumulator_value", &a.InitialAccumulatorValue)
		c.float("epsilon", &a.Epsilon)
		c.float("weight_decay", &a.WeightDecay)
		o = a
	case "adadelta":
		a := &Adadelta{}
		c.float("learning_rate", &a.LearningRate)
		c.float("rho", &a.Rho)
		c.float("epsilon", &a.Epsilon)
		c.float("weight_decay", &a.WeightDecay)
		o = a
	case "adamax", "nadam":
		var lr, b1, b2, eps, wd float64
		for _, f := range []struct {
			key string
			v   *float64
		}{{"learning_rate", &lr}, {"beta_1", &b1}, {"beta_2", &b2}, {"epsilon", &eps}, {"weight_decay", &wd}} {
			c.float(f.key, f.v)
		}
		if c.opt == "adamax" {
			o = &Adamax{LearningRate: lr, Beta1: b1, Beta2: b2, Epsilon: eps, WeightDecay: wd}
		} else {
			o = &Nadam{LearningRate: lr, Beta1: b1, Beta2: b2, Epsilon: eps, WeightDecay: wd}
		}
	case "lion":
		l := &Lion{}
		c.float("learning_rate", &l.LearningRate)
		c.float("beta_1", &l.Beta1)
		c.float("beta_2", &l.Beta2)
		c.float("weight_decay", &l.WeightDecay)
		o = l
	case "adam", "adamw":
		a := &Adam{}
		c.float("learning_rate", &a.LearningRate)
		c.float("beta_1", &a.Beta1)
		c.float("beta_2", &a.Beta2)
		c.float("epsilon", &a.Epsilon)
		c.float("weight_decay", &a.WeightDecay)
		if c.opt == "adamw" {
			o = &AdamW{Adam: *a}
		} else {
			o = a
		}
	default:
		return nil, fmt.Errorf("unknown optimizer %q (valid: %s)", name, strings.Join(Names(), ", "))
	}
	if c.err != nil {
		return nil, c.err
	}
	*o.(clipper).clipping() = clip
	if extra := c.unused(); len(extra) > 0 {
		return nil, fmt.Errorf("optimizer %s: unknown option %q", c.opt, extra[0])
	}
	if err := validate(o); err != nil {
		return nil, err
	}
	return o, nil
}

// validate checks the ranges of an optimizer's hyperparameters.
func validate(o Optimizer) error {
	bad := func(field string, v float64, want string) error {
		return fmt.Errorf("optimizer %s: %s = %v, want %s", o.Name(), field, v, want)
	}
	if lr := o.LR(); !(lr >= 0) {
		return bad("learning_rate", lr, ">= 0")
	}
	nonNegative := func(field string, v float64) error {
		if !(v >= 0) || math.IsInf(v, 1) {
			return bad(field, v, "a finite number >= 0")
		}
		return nil
	}
	unit := func(field string, v float64) error {
		if !(v >= 0 && v < 1) {
			return bad(field, v, "in [0, 1)")
		}
		return nil
	}
	var errs []error
	if c, ok := o.(clipper); ok {
		errs = append(errs, c.clipping().check(o.Name()))
	}
	switch o := o.(type) {
	case *SGD:
		errs = append(errs, unit("momentum", o.Momentum))
	case *RMSprop:
		errs = append(errs, unit("rho", o.rho()), unit("momentum", o.Momentum))
		if !(o.eps() >= 0) {
			errs = append(errs, bad("epsilon", o.Epsilon, ">= 0"))
		}
	case *Adam:
		errs = append(errs, unit("beta_1", o.beta1()), unit("beta_2", o.beta2()))
	case *AdamW:
		errs = append(errs, unit("beta_1", o.beta1()), unit("beta_2", o.beta2()))
	case *Adagrad:
		errs = append(errs, nonNegative("initial_accumulator_value", o.init()), nonNegative("epsilon", o.eps()))
	case *Adadelta:
		errs = append(errs, unit("rho", o.rho()), nonNegative("epsilon", o.eps()))
	case *Adamax:
		errs = append(errs, unit("beta_1", o.beta1()), unit("beta_2", o.beta2()), nonNegative("epsilon", o.eps()))
	case *Nadam:
		errs = append(errs, unit("beta_1", o.beta1()), unit("beta_2", o.beta2()), nonNegative("epsilon", o.eps()))
	case *Lion:
		// Keras: beta_1 of 0 makes it SignSGD, which it refuses.
		if b := o.beta1(); !(b > 0 && b <= 1) {
			errs = append(errs, bad("beta_1", b, "in (0, 1]"))
		}
		errs = append(errs, unit("beta_2", o.beta2()))
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// config reads typed values from a JSON-decoded map, remembering the first error.
type config struct {
	opt  string
	m    map[string]any
	used []string
	err  error
}

func (c *config) get(key string) (any, bool) {
	v, ok := c.m[key]
	if ok {
		c.used = append(c.used, key)
	}
	return v, ok && v != nil
}

func (c *config) float(key string, dst *float64) {
	v, ok := c.get(key)
	if !ok || c.err != nil {
		return
	}
	switch v := v.(type) {
	case float64:
		*dst = v
	case float32:
		*dst = float64(v)
	case int:
		*dst = float64(v)
	case int64:
		*dst = float64(v)
	default:
		c.err = fmt.Errorf("optimizer %s: option %s = %v (%T), want a number", c.opt, key, v, v)
	}
}

func (c *config) bool(key string, dst *bool) {
	v, ok := c.get(key)
	if !ok || c.err != nil {
		return
	}
	b, isBool := v.(bool)
	if !isBool {
		c.err = fmt.Errorf("optimizer %s: option %s = %v (%T), want true or false", c.opt, key, v, v)
		return
	}
	*dst = b
}

func (c *config) unused() []string {
	var extra []string
	for k := range c.m {
		if k != "name" && !slices.Contains(c.used, k) {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	return extra
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
	sq, scale []float64
	sqFn      func(worker, item int)
	sqBound   *state

	// The update in progress (see each), and the function ParallelFor
	// calls, bound to the state it was made for.
	u     updater
	runFn func(worker, item int)
	bound *state
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
// core, with the gradients clipped as c says.
func (s *state) each(u updater, c Clipping) {
	if s.bound != s {
		s.runFn, s.bound = s.runChunk, s
	}
	s.clip = c
	if c.ClipNorm > 0 || c.GlobalClipNorm > 0 {
		s.norms()
	}
	s.u = u
	kernels.ParallelFor(len(s.chunks), len(s.chunks), s.runFn)
	s.u = nil
}

func (s *state) runChunk(_, item int) {
	c := s.chunks[item]
	s.u.update(c.param, c.lo, c.hi)
}

// span returns the values lo to hi of parameter i and of its gradient,
// after the step's decoupled weight decay (see decay) and clipping.
func (s *state) span(i, lo, hi int, wd, lr float64) (w, g []float32) {
	w, g = s.params[i].Value.Data[lo:hi], s.params[i].Grad.Data[lo:hi]
	decay(w, wd, lr)
	s.clipSpan(i, g)
	return w, g[:len(w)]
}

// slot returns the values lo to hi of slot k of parameter i.
func (s *state) slot(i, k, lo, hi int) []float32 { return s.slots[i][k].Data[lo:hi] }

func trainable(p *nn.Param) bool { return p.Trainable && p.Grad != nil }

// prepare makes sure every trainable parameter of params has nslots slot
// tensors, new ones filled with init's values (one per slot; none: zeros).
// It allocates only when the parameter list changes; state already held
// for a parameter is kept.
func (s *state) prepare(params []*nn.Param, nslots int, init ...float32) {
	j := 0
	same := true
	for _, p := range params {
		if !trainable(p) {
			continue
		}
		if j >= len(s.params) || s.params[j] != p {
			same = false
			break
		}
		j++
	}
	if same && j == len(s.params) {
		return
	}
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
