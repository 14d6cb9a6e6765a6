package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
)

// buildModel builds and compiles the model (or takes the resumed one),
// checks what a training batch of it needs against --max-memory and fits
// the preprocessing on the training set.
func (t *trainer) buildModel() error {
	if err := t.makeModel(); err != nil {
		return err
	}
	limit := t.o.MaxMemory
	if limit == 0 {
		limit = defaultTrainMemory
	}
	if need := t.m.ActivationBytes(t.o.BatchSize); need > limit {
		name, hint := t.o.Model, "--max-memory, or a smaller --batch-size"
		if t.from != "" {
			name, hint = t.from, "--max-memory: a resumed run keeps its --batch-size"
		}
		return fmt.Errorf("%s: the model needs %v for a training batch of %d samples of shape %v, more than the limit of %v (%s)",
			name, model.Bytes(need), t.o.BatchSize, t.m.InputShape(), model.Bytes(limit), hint)
	}
	return nil
}

// makeModel builds and compiles the model (or takes the resumed one) and
// fits the preprocessing on the training set.
func (t *trainer) makeModel() error {
	o := t.o
	classes := t.train.ClassNames
	if r := t.resumed; r != nil {
		if !slices.Equal(r.InputShape(), t.train.Shape()) || r.NumClasses() != len(classes) {
			return fmt.Errorf("%s: the model takes %v with %d classes, the data has %v with %d classes",
				t.from, r.InputShape(), r.NumClasses(), t.train.Shape(), len(classes))
		}
		t.m, t.std = r, r.Standardizer
		return nil
	}
	var m *model.Sequential
	if o.modelFile {
		var err error
		if m, err = t.fromBase(); err != nil {
			return err
		}
	} else if slices.Contains(model.PresetNames(), o.Model) {
		var err error
		if m, err = model.PresetFor(o.Model, t.train.Shape(), len(classes)); err != nil {
			return err
		}
	} else {
		if _, err := os.Stat(o.Model); errors.Is(err, os.ErrNotExist) {
			return usagef("--model %q is neither a preset (%s) nor a file", o.Model, strings.Join(model.PresetNames(), ", "))
		}
		switch ext := strings.ToLower(filepath.Ext(o.Model)); ext {
		case ".keras", ".h5", ".onnx":
			kind := map[string]string{".keras": "keras", ".h5": "keras", ".onnx": "onnx"}[ext]
			return usagef("--model %s: import it first (convnet import --%s %s --out model.safetensors), then train --model model.safetensors goes on from its weights", o.Model, kind, o.Model)
		}
		var err error
		if m, err = readArchitecture(o.Model); err != nil {
			return err
		}
		// As Keras's fit, refuse data of another shape than the one the
		// document declares, rather than build a different model.
		if in := m.InputShape(); in != nil && !slices.Equal(in, t.train.Shape()) {
			return fmt.Errorf("%s: the architecture takes inputs of shape %v, the images of %s have shape %v",
				o.Model, in, o.Source.describe(), t.train.Shape())
		}
	}
	if !o.modelFile {
		if err := m.Build(t.train.Shape(), o.Seed); err != nil {
			return fmt.Errorf("%s: %w", o.Model, err)
		}
	}
	if err := t.freeze(m); err != nil {
		return err
	}
	// Compile refuses an output that is not one score per class.
	loss := nn.CrossEntropy{Sparse: o.sparse(), LabelSmoothing: o.LabelSmoothing}
	if err := m.Compile(o.opt, loss); err != nil {
		return fmt.Errorf("%s: %w", o.Model, err)
	}
	if got := m.NumClasses(); got != len(classes) {
		return fmt.Errorf("%s: the model has %d outputs but %s has %d classes", o.Model, got, o.Source.describe(), len(classes))
	}
	if err := checkNoDecay(o.NoDecay, m); err != nil {
		return err
	}
	std, err := t.standardizer(m)
	if err != nil {
		return err
	}
	if r, ok := m.Layers[0].(*nn.Rescaling); ok && std.Rescale != 1 {
		fmt.Fprintf(t.stderr, "Note: the model's first layer, %s (Rescaling), multiplies its input by %g, and --rescale %g rescales the data before it: give --rescale 1 --center none to feed it the pixels 0..255, as Keras does.\n",
			r.Name(), r.Scale, std.Rescale)
	}
	m.Standardizer = std
	t.m, t.std = m, std
	if err := t.adapt(); err != nil {
		return err
	}
	m.ClassNames = classes
	if m.Meta == nil {
		m.Meta = map[string]string{}
	}
	m.Meta["dataset"] = o.Source.describe()
	m.Meta["command"] = "convnet train " + strings.Join(t.args, " ")
	if b, err := json.Marshal(loss.Config()); err == nil {
		m.Meta["loss"] = string(b)
	}
	// How the training images frame their ink, for the classifier to frame
	// drawings and photographs alike.
	f := t.train.MeasureFraming()
	if !f.Framed() {
		f.Crop = o.Source.crop() // as the images were read
	}
	if err := m.SetFraming(f); err != nil {
		return err
	}
	t.m, t.std = m, std
	return nil
}

// standardizer returns the preprocessing of the run: that of the model file
// it starts from, whose weights expect it, or else the flags', fitted on
// the training set.
func (t *trainer) standardizer(m *model.Model) (*data.Standardizer, error) {
	o := t.o
	if o.modelFile && m.Standardizer != nil {
		for _, f := range []string{"rescale", "center", "std"} {
			if o.set[f] {
				return nil, usagef("--%s: %s brings the preprocessing its weights were trained with, which the run keeps", f, o.Model)
			}
		}
		return m.Standardizer, nil
	}
	std := &data.Standardizer{Rescale: float32(o.Rescale)}
	switch o.Center {
	case "image":
		std.ImageCenter = true
	case "channel":
		std.FeaturewiseCenter = true
	}
	std.FeaturewiseStd = o.Std
	std.FitDataset(t.train)
	return std, nil
}

// checkNoDecay refuses an expression of --exclude-from-weight-decay that
// matches the name of no weight of m that trains: a misspelt name would
// leave every weight to the decay, without a word.
func checkNoDecay(list string, m *model.Model) error {
	if list == "" {
		return nil
	}
	var names []string
	for _, p := range m.Params() {
		if p.Trainable && !slices.Contains(names, p.Name) {
			names = append(names, p.Name)
		}
	}
	for _, e := range strings.Split(list, ",") {
		excluded, err := optim.DecayExclusion{ExcludeFromWeightDecay: []string{e}}.Excluded()
		if err != nil {
			return usagef("--exclude-from-weight-decay %s: %v", list, err)
		}
		if !slices.ContainsFunc(names, excluded) {
			return usagef("--exclude-from-weight-decay %s: %q matches no weight of the model that trains (their names: %s)", list, e, strings.Join(names, ", "))
		}
	}
	return nil
}
