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
// Each Fit writes new files (events.out.tfevents.<seconds>.<host>.<pid>.<n>),
// created with the first epoch, and begins them with a session start at its
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
	WriteImages bool

	train, val *eventWriter
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
	first := tb.train == nil
	if err := tb.open(&tb.train, "train", now, step); err != nil {
		return false, err
	}
	var events [][]byte
	if first && !tb.NoGraph {
		doc, err := m.graphDocument()
		if err != nil {
			return false, fmt.Errorf("tensorboard: %w", err)
		}
		events = append(events, event(now, 0, summary(nil).kerasModel("keras", doc).body))
	}
	train := summary(nil).scalar("epoch_loss", logs.Loss).scalar("epoch_accuracy", logs.Accuracy).scalar("epoch_learning_rate", logs.LearningRate)
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
	tb.train, tb.val = nil, nil
	return nil
}
