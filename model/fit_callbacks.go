package model

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
)

// Callback is called by [Model.Fit] after every epoch, once the epoch's
// logs are in the history, and once when training ends.
type Callback interface {
	// OnEpochEnd may ask training to stop by returning true.
	OnEpochEnd(m *Model, h *History) (stop bool, err error)
	OnTrainEnd(m *Model, h *History) error
}

// A BatchCallback is a [Callback] that [Model.Fit] also calls after every
// training step, as Keras calls a callback's on_train_batch_end.
type BatchCallback interface {
	Callback
	OnBatchEnd(m *Model, b BatchLogs) error
}

// BatchLogs are the figures of one training step, as Keras gives them to
// on_train_batch_end: the loss and accuracy of the epoch so far (the
// running means the progress bar shows), not the step's alone.
type BatchLogs struct {
	Epoch      int     // counted from 0
	Step       int     // within the epoch, from 1
	GlobalStep int     // the steps of every epoch up to this one (Keras's optimizer.iterations after it)
	Loss       float64 // the epoch's so far
	Accuracy   float64 // the epoch's so far
	Seconds    float64 // the step's time
}

// A Resumer is a [Callback] with state that a resumed run takes up: [Model.Fit]
// calls Resume with the history of the epochs done before its first step,
// so that the callback goes on as if it had seen them.
type Resumer interface {
	Resume(m *Model, h *History) error
}

// monitor is the improvement test shared by EarlyStopping and
// ModelCheckpoint, with Keras's rules.
type monitor struct {
	name     string
	minDelta float64
	max      bool
}

func newMonitor(name, mode string, minDelta float64) (monitor, error) {
	if name == "" {
		name = "val_loss"
	}
	if math.IsNaN(minDelta) || math.IsInf(minDelta, 0) { // no value would improve
		return monitor{}, fmt.Errorf("min_delta %v, want a finite number", minDelta)
	}
	mon := monitor{name: name, minDelta: math.Abs(minDelta)}
	switch mode {
	case "min":
	case "max":
		mon.max = true
	case "", "auto":
		switch {
		case strings.HasSuffix(name, "loss"):
		case strings.HasSuffix(name, "acc"), strings.HasSuffix(name, "accuracy"):
			mon.max = true
		default:
			return mon, fmt.Errorf("cannot tell whether %q should rise or fall: set the mode to min or max", name)
		}
	default:
		return mon, fmt.Errorf("mode %q: want auto, min or max", mode)
	}
	return mon, nil
}

// worst is the starting best value.
func (mon monitor) worst() float64 {
	if mon.max {
		return math.Inf(-1)
	}
	return math.Inf(1)
}

// better reports whether v improves on ref by more than minDelta.
func (mon monitor) better(v, ref float64) bool {
	if mon.max {
		return v-mon.minDelta > ref
	}
	return v+mon.minDelta < ref
}

// value reads the monitored metric of the last epoch: ok is false, with no
// error, when it is a validation metric of an epoch the run did not
// validate after, which the callback skips, as Keras's do.
func (mon monitor) value(h *History) (v float64, ok bool, err error) {
	last := h.Epochs[len(h.Epochs)-1]
	if v, ok = last.Get(mon.name); !ok && !last.skips(mon.name) {
		return 0, false, fmt.Errorf("metric %q is not logged (have %s)", mon.name, strings.Join(last.Names(), ", "))
	}
	return v, ok, nil
}

// EarlyStopping stops training when a metric has stopped improving, with
// the semantics of Keras 3's callback: patience counts epochs without an
// improvement larger than MinDelta; a Baseline, if set, must be beaten. An
// epoch without the metric (a validation metric of an epoch that was not
// validated, see [FitOptions].ValidationFreq) is skipped: it counts for
// nothing and its weights are never the best.
// With RestoreBestWeights, the end of training puts back the weights of the
// best epoch, whether it stopped early or not (and after the optimizer's
// moving averages, if any, took the weights' place).
type EarlyStopping struct {
	mon                monitor
	patience           int
	baseline           *float64
	restoreBestWeights bool
	startFromEpoch     int

	best       float64
	wait       int
	bestEpoch  int
	bestWeight [][]float32
	Stopped    int // the epoch (from 1) at which training stopped; 0 if it did not
	Restored   int // the epoch (from 1) whose weights were put back at the end; 0 if none
	// BestPath, if set, is a model file where RestoreBestWeights keeps the
	// best epoch's weights while training runs, so that a run resumed from
	// a checkpoint can put them back (see [Resumer]).
	BestPath string
}

// EarlyStoppingOptions are Keras's arguments; zero values are its defaults.
type EarlyStoppingOptions struct {
	Monitor            string // default "val_loss"
	MinDelta           float64
	Patience           int
	Mode               string // "auto", "min", "max"
	Baseline           *float64
	RestoreBestWeights bool
	StartFromEpoch     int
}

// NewEarlyStopping checks the options and returns the callback.
func NewEarlyStopping(o EarlyStoppingOptions) (*EarlyStopping, error) {
	mon, err := newMonitor(o.Monitor, o.Mode, o.MinDelta)
	if err != nil {
		return nil, fmt.Errorf("early stopping: %w", err)
	}
	if o.Patience < 0 {
		return nil, fmt.Errorf("early stopping: patience %d is negative", o.Patience)
	}
	return &EarlyStopping{mon: mon, patience: o.Patience, baseline: o.Baseline,
		restoreBestWeights: o.RestoreBestWeights, startFromEpoch: o.StartFromEpoch, best: mon.worst(), bestEpoch: -1}, nil
}

func (e *EarlyStopping) OnEpochEnd(m *Model, h *History) (bool, error) {
	epoch := h.Epochs[len(h.Epochs)-1].Epoch
	if epoch < e.startFromEpoch {
		return false, nil
	}
	v, ok, err := e.mon.value(h)
	if err != nil {
		return false, fmt.Errorf("early stopping: %w", err)
	}
	if !ok {
		return false, nil
	}
	if e.restoreBestWeights && e.bestWeight == nil && e.bestEpoch < 0 {
		e.bestWeight, e.bestEpoch = m.weights(nil), epoch
		if err := e.keepBest(m); err != nil {
			return false, err
		}
	}
	e.wait++
	if e.mon.better(v, e.best) {
		e.best, e.bestEpoch = v, epoch
		if e.restoreBestWeights {
			e.bestWeight = m.weights(e.bestWeight)
			if err := e.keepBest(m); err != nil {
				return false, err
			}
		}
		if e.baseline == nil || e.mon.better(v, *e.baseline) {
			e.wait = 0
		}
		return false, nil
	}
	if e.wait >= e.patience && epoch > 0 {
		e.Stopped = epoch + 1
		return true, nil
	}
	return false, nil
}

// keepBest writes the best weights, m's now, to BestPath if it is set.
func (e *EarlyStopping) keepBest(m *Model) error {
	if e.BestPath == "" {
		return nil
	}
	if err := Save(e.BestPath, m, SaveOptions{Overwrite: true}); err != nil {
		return fmt.Errorf("early stopping: keeping the best weights: %w", err)
	}
	return nil
}

// Resume replays the epochs of h, the best value and the patience, and
// with RestoreBestWeights reads the best epoch's weights from BestPath.
func (e *EarlyStopping) Resume(m *Model, h *History) error {
	restore := e.restoreBestWeights
	e.restoreBestWeights = false // replayed without weights
	for i := range h.Epochs {
		if stop, err := e.OnEpochEnd(m, &History{Epochs: h.Epochs[:i+1]}); err != nil || stop {
			e.restoreBestWeights = restore
			return err // a run that stopped early ended: nothing to resume
		}
	}
	e.restoreBestWeights = restore
	if !restore || len(h.Epochs) == 0 || e.bestEpoch < 0 {
		return nil
	}
	if e.BestPath == "" {
		return fmt.Errorf("early stopping: resuming with restore_best_weights needs the best epoch's weights (BestPath)")
	}
	b, err := Load(e.BestPath)
	if err != nil {
		return fmt.Errorf("early stopping: the best epoch's weights: %w", err)
	}
	if len(b.params) != len(m.params) {
		return fmt.Errorf("early stopping: the best epoch's weights in %s: %d parameters, the model has %d", e.BestPath, len(b.params), len(m.params))
	}
	for i, p := range b.params {
		if len(p.Value.Data) != len(m.params[i].Value.Data) {
			return fmt.Errorf("early stopping: the best epoch's weights in %s: parameter %d of %d values, want %d", e.BestPath, i, len(p.Value.Data), len(m.params[i].Value.Data))
		}
	}
	e.bestWeight = b.weights(nil)
	return nil
}

func (e *EarlyStopping) OnTrainEnd(m *Model, _ *History) error {
	if e.restoreBestWeights && e.bestWeight != nil {
		m.setWeights(e.bestWeight)
		e.Restored = e.bestEpoch + 1
	}
	return nil
}

// BestEpoch returns the epoch (from 1) with the best monitored value so far.
func (e *EarlyStopping) BestEpoch() int { return e.bestEpoch + 1 }

// weights copies every parameter's values into dst (reused when its shape fits).
func (m *Model) weights(dst [][]float32) [][]float32 {
	if len(dst) != len(m.params) {
		dst = make([][]float32, len(m.params))
	}
	for i, p := range m.params {
		dst[i] = append(dst[i][:0], p.Value.Data...)
	}
	return dst
}

// setWeights restores values copied by weights.
func (m *Model) setWeights(w [][]float32) {
	for i, p := range m.params {
		copy(p.Value.Data, w[i])
	}
	if m.keep {
		m.KeepPacked(true) // drops what was packed from the old weights
	}
}

// ModelCheckpoint saves the model after every epoch, or only when the
// monitored metric improves (SaveBestOnly), like Keras's callback; with
// SaveBestOnly, an epoch without the metric saves nothing. Path may
// hold Keras-style fields: {epoch}, {epoch:02d}, {val_loss:.4f}, ...
// Files are written atomically with the optimizer state, so a checkpoint can
// resume training.
type ModelCheckpoint struct {
	Path         string
	SaveBestOnly bool
	mon          monitor
	best         float64
	// Meta is called before each save to refresh the model's metadata
	// (for example with the history so far); it may be nil.
	Meta func(m *Model, h *History)
}

// NewModelCheckpoint checks the options and returns the callback.
func NewModelCheckpoint(path, monitorName, mode string, saveBestOnly bool) (*ModelCheckpoint, error) {
	mon, err := newMonitor(monitorName, mode, 0)
	if err != nil {
		return nil, fmt.Errorf("model checkpoint: %w", err)
	}
	if _, err := formatPath(path, EpochLogs{HasValidation: true}); err != nil {
		return nil, fmt.Errorf("model checkpoint: %w", err)
	}
	return &ModelCheckpoint{Path: path, SaveBestOnly: saveBestOnly, mon: mon, best: mon.worst()}, nil
}

func (c *ModelCheckpoint) OnEpochEnd(m *Model, h *History) (bool, error) {
	last := h.Epochs[len(h.Epochs)-1]
	if c.SaveBestOnly {
		v, ok, err := c.mon.value(h)
		if err != nil {
			return false, fmt.Errorf("model checkpoint: %w", err)
		}
		if !ok || !c.mon.better(v, c.best) {
			return false, nil
		}
		c.best = v
	}
	path, err := formatPath(c.Path, last)
	if err != nil {
		return false, err
	}
	if c.Meta != nil {
		c.Meta(m, h)
	}
	return false, Save(path, m, SaveOptions{Overwrite: true, IncludeOptimizer: true})
}

func (c *ModelCheckpoint) OnTrainEnd(*Model, *History) error { return nil }

// Resume takes up the best value of the epochs of h, so that a resumed run
// saves only what improves on them.
func (c *ModelCheckpoint) Resume(_ *Model, h *History) error {
	if !c.SaveBestOnly {
		return nil
	}
	for i := range h.Epochs {
		v, ok, err := c.mon.value(&History{Epochs: h.Epochs[:i+1]})
		if err != nil {
			return fmt.Errorf("model checkpoint: %w", err)
		}
		if ok && c.mon.better(v, c.best) {
			c.best = v
		}
	}
	return nil
}

var (
	fieldRE = regexp.MustCompile(`\{([^{}:]*)(?::([^{}]*))?\}`)
	specRE  = regexp.MustCompile(`^[0-9]*(\.[0-9]+)?[dfeg]$`)
)

// formatPath fills Keras-style {name:spec} fields from the epoch's logs: a
// name that is not a logged metric, or a spec other than a width and
// precision and one of d, f, e and g, is an error.
func formatPath(path string, l EpochLogs) (string, error) {
	var bad error
	out := fieldRE.ReplaceAllStringFunc(path, func(f string) string {
		sub := fieldRE.FindStringSubmatch(f)
		name, spec := sub[1], sub[2]
		if spec != "" && !specRE.MatchString(spec) && bad == nil {
			bad = fmt.Errorf("file name field %s: format %q, want a width and precision and one of d, f, e and g, such as 02d or .4f", f, spec)
			return f
		}
		var v float64
		if name == "epoch" {
			v = float64(l.Epoch + 1)
			if spec == "" {
				spec = "d"
			}
		} else {
			var ok bool
			if v, ok = l.Get(name); !ok && bad == nil {
				bad = fmt.Errorf("file name field {%s}: not a logged metric", name)
			}
			if spec == "" {
				spec = "g"
			}
		}
		if strings.HasSuffix(spec, "d") {
			return fmt.Sprintf("%"+spec, int(v))
		}
		return fmt.Sprintf("%"+spec, v)
	})
	if bad != nil {
		return "", bad
	}
	if rest := fieldRE.ReplaceAllString(path, ""); strings.ContainsAny(rest, "{}") {
		return "", fmt.Errorf("file name %q: a { or } outside a field such as {epoch:02d} or {val_loss:.4f}", path)
	}
	return out, nil
}

// Marshal helpers for the model's metadata.

// SetHistory stores h in m.Meta["history"] as JSON.
func (m *Model) SetHistory(h *History) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	if m.Meta == nil {
		m.Meta = map[string]string{}
	}
	m.Meta["history"] = string(b)
	return nil
}

// History returns the training history stored in the model's metadata, or
// nil if there is none.
func (m *Model) History() (*History, error) {
	s, ok := m.Meta["history"]
	if !ok {
		return nil, nil
	}
	h := &History{}
	if err := json.Unmarshal([]byte(s), h); err != nil {
		return nil, fmt.Errorf("history in model metadata: %w", err)
	}
	return h, nil
}
