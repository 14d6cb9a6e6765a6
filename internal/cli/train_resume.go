package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/optim"
)

// trainState is what a checkpoint records beyond the model and optimizer to
// resume a run: where it stopped and the command line that started it.
type trainState struct {
	Args    []string            `json:"args"`
	Epoch   int                 `json:"epoch"` // epoch in progress, from 0
	Step    int                 `json:"step"`  // steps of it done
	Plateau *optim.PlateauState `json:"plateau,omitempty"`
	Version int                 `json:"version"`
	// Dir is the working directory of the run, against which the paths of
	// its command line are read when it resumes from another.
	Dir string `json:"dir,omitempty"`
}

const (
	trainStateKey     = "train_state"
	trainStateVersion = 1
)

// resume loads the checkpoint at path: the model and its optimizer, where
// the run stopped, and the options of the command line that started it,
// with the workers and the watching of the command line that resumes it.
func (t *trainer) resume(path string, now *trainOptions) error {
	// The model's memory is checked once the options are known, in
	// buildModel, before its first step.
	m, err := model.LoadWith(path, model.LoadOptions{MaxMemory: -1})
	if err != nil {
		return err
	}
	s, ok := m.Meta[trainStateKey]
	if !ok {
		return fmt.Errorf("%s: not a training checkpoint (no %s)", path, trainStateKey)
	}
	var st trainState
	if err := json.Unmarshal([]byte(s), &st); err != nil {
		return fmt.Errorf("%s: training state: %w", path, err)
	}
	if st.Version != trainStateVersion {
		return fmt.Errorf("%s: training state version %d, want %d", path, st.Version, trainStateVersion)
	}
	o, err := parseStored(path, st.Args, st.Dir)
	if err != nil {
		return err
	}
	if st.Epoch < 0 || st.Epoch > o.Epochs || st.Step < 0 {
		return fmt.Errorf("%s: training state at epoch %d, step %d: want an epoch in [0, %d] and a step >= 0", path, st.Epoch, st.Step, o.Epochs)
	}
	if !m.Compiled() {
		return fmt.Errorf("%s: the checkpoint has no optimizer state", path)
	}
	o.Workers, o.Watch, o.WatchAddr = now.Workers, now.Watch, now.WatchAddr
	if now.MaxMemory != 0 {
		o.MaxMemory = now.MaxMemory
	}
	t.o, t.args, t.from, t.resumed, t.state = o, st.Args, path, m, st
	return nil
}

// parseStored parses the command line stored in the checkpoint at path,
// its relative paths read against dir, the run's working directory, when
// it is known. It may no longer parse (a flag or a recipe gone, a range
// narrowed): the error names the checkpoint and the argument at fault.
func parseStored(path string, args []string, dir string) (*trainOptions, error) {
	o := &trainOptions{}
	fs := newFlagSet("train", "[flags]", io.Discard)
	o.register(fs)
	err := fs.Parse(args)
	defaultOut := o.Out == ""
	if err == nil && dir != "" {
		o.relativeTo(dir)
	}
	switch {
	case err == nil && o.Resume != "":
		err = errors.New("--resume in the options of a run")
	case err == nil:
		err = o.settle(fs)
	}
	if err == nil && dir != "" && defaultOut {
		o.Out = filepath.Join(dir, o.outPath()) // named after --model, in dir too
	}
	if err != nil {
		return nil, fmt.Errorf("%s: the stored command line %q no longer parses: %v",
			path, strings.TrimSpace("convnet train "+strings.Join(args, " ")), err)
	}
	return o, nil
}

// resumeAt sets fit to continue the run where the checkpoint left it.
func (t *trainer) resumeAt(fit *model.FitOptions) error {
	fit.InitialEpoch, fit.InitialStep = t.state.Epoch, t.state.Step
	if fit.InitialStep >= fit.StepsPerEpoch {
		fit.InitialEpoch, fit.InitialStep = fit.InitialEpoch+1, 0
	}
	if fit.InitialEpoch > fit.Epochs {
		return fmt.Errorf("%s: training state at epoch %d, step %d is past the run's %d epochs", t.from, t.state.Epoch, t.state.Step, fit.Epochs)
	}
	h, err := t.m.History()
	if err != nil {
		return fmt.Errorf("%s: %w", t.from, err)
	}
	fit.History = h
	if fit.Plateau != nil && t.state.Plateau != nil {
		fit.Plateau.SetState(*t.state.Plateau)
	}
	fmt.Fprintf(t.stderr, "Resuming %s at epoch %d, step %d.\n", t.from, fit.InitialEpoch+1, fit.InitialStep)
	return nil
}

// saveCheckpoint writes the run's checkpoint: the model, the optimizer and
// the random state, the history, and where to resume.
func (t *trainer) saveCheckpoint(epoch, step int, plateau *optim.ReduceLROnPlateau) error {
	st := trainState{Args: t.args, Epoch: epoch, Step: step, Version: trainStateVersion, Dir: t.dir}
	if plateau != nil {
		ps := plateau.State()
		st.Plateau = &ps
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	t.m.Meta[trainStateKey] = string(b)
	defer delete(t.m.Meta, trainStateKey)
	return model.Save(t.ckpt, t.m, model.SaveOptions{Overwrite: true, IncludeOptimizer: true})
}

// epochCheckpoint saves the run's checkpoint at the end of every epoch, so
// a crash or a diverging loss leaves the last good state behind.
type epochCheckpoint struct {
	t       *trainer
	plateau *optim.ReduceLROnPlateau
}

func (c *epochCheckpoint) OnEpochEnd(m *model.Sequential, h *model.History) (bool, error) {
	m.SetHistory(h)
	return false, c.t.saveCheckpoint(h.Epochs[len(h.Epochs)-1].Epoch+1, 0, c.plateau)
}

func (c *epochCheckpoint) OnTrainEnd(*model.Sequential, *model.History) error { return nil }

// relativeTo reads the relative paths of the options against dir, the
// working directory of the run they started: the files it reads and
// writes, and --model when dir holds such a file (a preset's name is no
// path).
func (o *trainOptions) relativeTo(dir string) {
	for _, p := range []*string{&o.Out, &o.Checkpoint, &o.CSVLog, &o.TensorBoard, &o.Source.CSV, &o.Source.TestCSV,
		&o.Source.Images, &o.Source.TestImg, &o.Source.DataDir} {
		if *p != "" && *p != "-" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	if m := filepath.Join(dir, o.Model); o.Model != "" && !filepath.IsAbs(o.Model) {
		if _, err := os.Stat(m); err == nil {
			o.Model = m
		}
	}
}
