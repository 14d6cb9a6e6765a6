package model

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// TensorBoard writes the history as TensorBoard event files after every
// epoch, laid out as Keras's TensorBoard callback lays them out: in Dir/train
// the scalars epoch_loss, epoch_accuracy and epoch_learning_rate, in
// Dir/validation epoch_loss and epoch_accuracy, each with the epoch (counted
// from 0) as its step. With HistogramFreq n > 0, every n-th epoch (0, n,
// 2n, ...) it adds to Dir/train the histogram of every weight of every
// layer as "<layer>/<weight>/histogram", in TensorFlow's default buckets as
// PyTorch's SummaryWriter.add_histogram makes them, and with WriteImages
// the weights as images as well, as Keras's write_images=True draws them
// ("<layer>/<weight>/image"). Unless NoGraph, Dir/train
// also holds at step 0 the model as Keras's write_graph=True writes it (the
// tag "keras"), which TensorBoard's Graphs tab draws: each layer a node, its
// class, the edges between layers. Run "tensorboard --logdir Dir" to see
// them.
//
// With UpdateFreq n > 0 (Keras's update_freq; its "batch" is 1), Dir/train
// also gets batch_loss and batch_accuracy after every n-th training step,
// counted over the whole run (n, 2n, ...: the step is their step), the
// epoch's running means as Keras logs them. With WriteStepsPerSecond
// (Keras's write_steps_per_second), each epoch adds epoch_steps_per_second
// (its steps over its time, validation included), and with UpdateFreq each
// of those writes batch_steps_per_second, one over the step's time.
//
// Each Fit writes new files (events.out.tfevents.<seconds>.<host>.<pid>.<n>),
// created with the first epoch (or batch scalars), and begins them with a session start at its
// first epoch: TensorBoard then shows a resumed run's epochs in place of
// those an interrupted run had logged past its checkpoint. The scalars are
// float32 (Summary.Value.simple_value), as PyTorch writes them. Records are
// appended epoch by epoch, as TensorFlow's writers do; a record cut short
// by a crash is one TensorBoard's reader skips.
type TensorBoard struct {
	Dir           string // "": "logs", as Keras's log_dir
	HistogramFreq int    // 0: no histograms
	NoGraph       bool   // true: no graph (Keras's write_graph=False)
	// WriteImages adds to each epoch's histograms the weights as images,
	// as Keras's write_images=True: "<layer>/<weight>/image", drawn as
	// weightImages says, for TensorBoard's Images tab.
	WriteImages         bool
	UpdateFreq          int  // 0: the epochs' scalars only; n > 0: batch scalars every n steps too
	WriteStepsPerSecond bool // epoch_steps_per_second (and batch_steps_per_second)

	train, val *eventWriter
	graphed    bool // this Fit has written the graph
	steps      int  // the steps of the epoch in progress so far
}

// eventWriter appends the events of one run directory to its file.
type eventWriter struct {
	path string
}

// eventFiles numbers the event files of this process, as TensorFlow's
// writers do, so that two created in the same second differ.
var eventFiles atomic.Int64

func newEventWriter(dir string, wallTime float64) (*eventWriter, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tensorboard: %w", err)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	host = strings.Map(func(r rune) rune {
		if r == '/' || r == filepath.Separator {
			return '_'
		}
		return r
	}, host)
	name := fmt.Sprintf("events.out.tfevents.%d.%s.%d.%d", int64(wallTime), host, os.Getpid(), eventFiles.Add(1))
	w := &eventWriter{path: filepath.Join(dir, name)}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("tensorboard: %w", err)
	}
	_, err = f.Write(appendRecord(nil, event(wallTime, 0, fileVersion)))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("tensorboard: %w", err)
	}
	return w, nil
}

// append writes the events, each framed as a record, in one write.
func (w *eventWriter) append(events ...[]byte) error {
	var b []byte
	for _, e := range events {
		b = appendRecord(b, e)
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("tensorboard: %w", err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("tensorboard: %w", err)
	}
	return nil
}

func (tb *TensorBoard) OnEpochEnd(m *Model, h *History) (bool, error) {
	if len(h.Epochs) == 0 {
		return false, nil
	}
	logs := h.Epochs[len(h.Epochs)-1]
	now := float64(time.Now().UnixNano()) / 1e9
	step := logs.Epoch
	if err := tb.open(&tb.train, "train", now, step); err != nil {
		return false, err
	}
	events, err := tb.graph(m, now)
	if err != nil {
		return false, err
	}
	train := summary(nil).scalar("epoch_loss", logs.Loss).scalar("epoch_accuracy", logs.Accuracy).scalar("epoch_learning_rate", logs.LearningRate)
	if tb.WriteStepsPerSecond && logs.Seconds > 0 {
		train = train.scalar("epoch_steps_per_second", float64(tb.steps)/logs.Seconds)
	}
	tb.steps = 0
	events = append(events, event(now, step, train.body))
	if tb.HistogramFreq > 0 && step%tb.HistogramFreq == 0 {
		var s summary
		for _, l := range m.Layers {
			for _, p := range l.Params() {
				s = s.histogram(l.Name()+"/"+p.Name+"/histogram", newHistogram(p.Value.Data))
				if !tb.WriteImages {
					continue
				}
				if h, w, pngs, ok := weightImages(p.Value); ok {
					s = s.images(l.Name()+"/"+p.Name+"/image", h, w, pngs)
				}
			}
		}
		if len(s) > 0 {
			events = append(events, event(now, step, s.body))
		}
	}
	if err := tb.train.append(events...); err != nil {
		return false, err
	}
	if !logs.HasValidation {
		return false, nil
	}
	if err := tb.open(&tb.val, "validation", now, step); err != nil {
		return false, err
	}
	val := summary(nil).scalar("epoch_loss", logs.ValLoss).scalar("epoch_accuracy", logs.ValAccuracy)
	return false, tb.val.append(event(now, step, val.body))
}

// OnBatchEnd counts the epoch's steps and, every UpdateFreq steps, writes
// the batch scalars to Dir/train. The session of a run that begins with
// them starts at its first epoch, as when an epoch comes first: of a run
// resumed at epoch E, TensorBoard shows the new batch scalars and drops the
// interrupted run's from step E on (their steps count batches, the
// session's epochs).
func (tb *TensorBoard) OnBatchEnd(m *Model, b BatchLogs) error {
	tb.steps++
	if tb.UpdateFreq <= 0 || b.GlobalStep%tb.UpdateFreq != 0 {
		return nil
	}
	now := float64(time.Now().UnixNano()) / 1e9
	if err := tb.open(&tb.train, "train", now, b.Epoch); err != nil {
		return err
	}
	events, err := tb.graph(m, now)
	if err != nil {
		return err
	}
	s := summary(nil).scalar("batch_loss", b.Loss).scalar("batch_accuracy", b.Accuracy)
	if tb.WriteStepsPerSecond && b.Seconds > 0 {
		s = s.scalar("batch_steps_per_second", 1/b.Seconds)
	}
	return tb.train.append(append(events, event(now, b.GlobalStep, s.body))...)
}

// graph returns the graph's event, at step 0, the first time this Fit
// writes to Dir/train unless NoGraph.
func (tb *TensorBoard) graph(m *Model, now float64) ([][]byte, error) {
	if tb.graphed || tb.NoGraph {
		return nil, nil
	}
	tb.graphed = true
	doc, err := m.graphDocument()
	if err != nil {
		return nil, fmt.Errorf("tensorboard: %w", err)
	}
	return [][]byte{event(now, 0, summary(nil).kerasModel("keras", doc).body)}, nil
}

// open creates the run's file in Dir/run if this Fit has not yet, and
// starts the session at step.
func (tb *TensorBoard) open(w **eventWriter, run string, now float64, step int) error {
	if *w != nil {
		return nil
	}
	dir := tb.Dir
	if dir == "" {
		dir = "logs"
	}
	ew, err := newEventWriter(filepath.Join(dir, run), now)
	if err != nil {
		return err
	}
	if err := ew.append(event(now, step, sessionStarted)); err != nil {
		return err
	}
	*w = ew
	return nil
}

// OnTrainEnd lets the next Fit write files of its own.
func (tb *TensorBoard) OnTrainEnd(*Model, *History) error {
	tb.train, tb.val, tb.graphed, tb.steps = nil, nil, false, 0
	return nil
}
