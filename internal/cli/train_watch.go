package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/web"
)

// The --watch part of convnet train: the demo page, served while the model
// trains. At the end of every epoch the page's model becomes a copy of that
// epoch's network, with the history so far and an evaluation on a fixed
// sample of the test images (a fiftieth of the training set's size, at
// least 50), then the page is told. That work is done between two epochs,
// in the training goroutine: it costs about one percent of an epoch.

// watchLinger is how long the page is still served once the run is over,
// for the requests the last epoch's news set off.
const watchLinger = time.Second

// trainWatch serves the page of one run.
type trainWatch struct {
	t      *trainer
	name   string
	srv    *web.Server
	watch  *web.Watch
	sample *data.Dataset // nil without a test or validation set
	done   chan error    // the server's end
	cancel context.CancelFunc
}

// startWatch serves the page on --addr with the untrained model.
func (t *trainer) startWatch() (*trainWatch, error) {
	w := &trainWatch{t: t, watch: web.NewWatch(), name: strings.TrimSuffix(filepath.Base(t.out), filepath.Ext(t.out))}
	if !validWatchName(w.name) {
		w.name = "model"
	}
	if ds := t.test; ds != nil || t.val != nil {
		if ds == nil {
			ds = t.val
		}
		w.sample = limit(ds, min(ds.Len(), max(50, t.train.Len()/50)))
	}
	c, err := w.snapshot(t.m, nil)
	if err != nil {
		return nil, err
	}
	srv, err := web.NewServer([]web.Model{{Name: w.name, Classifier: c}}, web.Options{Log: t.stderr, Watch: w.watch, Concurrency: 1, DrainDelay: watchLinger})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", t.o.WatchAddr)
	if err != nil {
		return nil, fmt.Errorf("--watch: %w", err)
	}
	w.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel, w.done = cancel, make(chan error, 1)
	go func() { w.done <- srv.Serve(ctx, ln) }()
	fmt.Fprintf(t.stderr, "Watch the training at http://%s/\n", ln.Addr())
	return w, nil
}

func validWatchName(s string) bool {
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == "" && s != "." && s != ".."
}

// snapshot returns a classifier of a copy of m, with the history h and the
// evaluation of the sample in its metadata.
func (w *trainWatch) snapshot(m *model.Sequential, h *model.History) (*model.Classifier, error) {
	c := m.Clone()
	if h != nil {
		if err := c.SetHistory(h); err != nil {
			return nil, err
		}
	}
	if w.sample != nil {
		ev, err := evaluateModel(c, w.sample, 256)
		if err == nil {
			err = ev.store(c, w.sample)
		}
		if err != nil {
			return nil, err
		}
	}
	return model.NewClassifier(c, model.ClassifierOptions{Workers: 1})
}

// OnEpochEnd shows the epoch's network on the page. A failure is reported
// and training goes on.
func (w *trainWatch) OnEpochEnd(m *model.Sequential, h *model.History) (bool, error) {
	c, err := w.snapshot(m, h)
	if err == nil {
		err = w.srv.Replace(web.Model{Name: w.name, Classifier: c})
	}
	if err != nil {
		fmt.Fprintf(w.t.stderr, "--watch: %v\n", err)
		return false, nil
	}
	last := h.Epochs[len(h.Epochs)-1]
	logs := map[string]float64{}
	for _, n := range last.Names() {
		logs[n], _ = last.Get(n)
	}
	w.watch.Epoch(web.EpochEvent{Model: w.name, Epoch: last.Epoch + 1, Epochs: w.t.o.Epochs, Logs: logs})
	return false, nil
}

func (w *trainWatch) OnTrainEnd(*model.Sequential, *model.History) error { return nil }

// end tells the page how the run ended (err is the run's), then stops the
// server once the pages have been told.
func (w *trainWatch) end(err error) {
	w.watch.End(endMessage(err, w.t.out, w.t.ckpt))
	w.cancel()
	if err := <-w.done; err != nil {
		fmt.Fprintf(w.t.stderr, "--watch: %v\n", err)
	}
}

// endMessage is the page's sentence on how a run ended: err is the run's,
// out its model file and ckpt its checkpoint.
func endMessage(err error, out, ckpt string) string {
	switch {
	case err == nil:
		return fmt.Sprintf("Training finished: the model is saved in %s (convnet serve --model %s shows it).", out, out)
	case errors.Is(err, errInterrupted):
		return fmt.Sprintf("Training was interrupted; its checkpoint is saved (convnet train --resume %s continues it).", ckpt)
	}
	return "Training stopped: " + err.Error() + "."
}
