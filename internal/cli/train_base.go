package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/model/pretrained"
	"github.com/convnet-go/convnet/nn"
)

// Transfer learning: a run whose --model is a model file starts from its
// weights and its preprocessing, with a new head when the data's classes
// are not the model's; --freeze chooses the layers that do not train, and
// --inference-mode those that run as in inference while training.

// isModelFile reports whether --model names a trained model, a model file
// (.safetensors, as convnet train and convnet import write) or a built-in
// model, rather than a preset or a JSON architecture.
func isModelFile(name string) bool {
	return strings.HasSuffix(name, ".safetensors") || slices.Contains(pretrained.Names(), name)
}

// loadBase loads the model a run starts from. Its memory is checked in
// buildModel, for the run's batch size.
func (t *trainer) loadBase() error {
	m, _, err := loadModel(t.o.Model, -1)
	if err != nil {
		return err
	}
	t.base = m
	return nil
}

// sizeImages makes --images without --width and --height read the images
// at the size the model takes, without --color-mode with its channels, and
// without --center-crop fitted as its own were.
func (t *trainer) sizeImages(m *model.Model) {
	s, in := &t.o.Source, m.InputShape()
	if s.Images == "" || len(in) != 3 {
		return
	}
	if s.Width == 0 && s.Height == 0 {
		s.Height, s.Width = in[0], in[1]
	}
	if mode, ok := map[int]string{1: "grayscale", 3: "rgb", 4: "rgba"}[in[2]]; ok && !t.o.set["color-mode"] {
		s.ColorMode = mode
	}
	if f, err := m.Framing(); err == nil && s.Crop == nil && f.Crop > 0 {
		s.Crop = &f.Crop // as the model's weights saw its images
	}
}

// fromBase readies the loaded model for the training data: the same input
// shape, and a new head if the data's classes are not the model's (their
// names and order), or a top if it has none (see model.NewHead).
func (t *trainer) fromBase() (*model.Model, error) {
	o, m, classes := t.o, t.base, t.train.ClassNames
	// The model's test evaluation and history were the start's, not the run's.
	delete(m.Meta, "evaluation")
	delete(m.Meta, "history")
	if !slices.Equal(m.InputShape(), t.train.Shape()) {
		hint := ""
		if in := m.InputShape(); len(in) == 3 && o.Source.Images != "" {
			hint = fmt.Sprintf(" (read them with --width %d --height %d --color-mode %s)", in[1], in[0], map[int]string{1: "grayscale", 3: "rgb", 4: "rgba"}[in[2]])
		}
		return nil, fmt.Errorf("%s: the model takes inputs of shape %v, the images of %s have shape %v%s",
			o.Model, m.InputShape(), o.Source.describe(), t.train.Shape(), hint)
	}
	if slices.Equal(m.ClassNames, classes) {
		fmt.Fprintf(t.stderr, "Starting from %s: its weights, preprocessing and head (the same %d classes).\n", o.Model, len(classes))
		return m, nil
	}
	if sameNames(m.ClassNames, classes) { // the same classes in another order, such as folders read alphabetically
		for _, d := range []*data.Dataset{t.train, t.val, t.test} {
			if d != nil {
				if err := d.Relabel(m.ClassNames); err != nil {
					return nil, err
				}
			}
		}
		fmt.Fprintf(t.stderr, "Starting from %s: its weights, preprocessing and head (the same %d classes, the data's labels put in its order).\n", o.Model, len(classes))
		return m, nil
	}
	n, old := len(m.Layers), m.NumClasses()
	head, err := m.NewHead(len(classes), o.Seed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.Model, err)
	}
	if len(m.Layers) == n {
		t.head = slices.Index(m.Layers, nn.Layer(head))
		fmt.Fprintf(t.stderr, "Starting from %s: its weights and preprocessing, with a new head %s (%s) of %d classes for %s in place of its %d classes.\n",
			o.Model, head.Name(), head.Type(), len(classes), o.Source.describe(), old)
		return m, nil
	}
	t.head = n
	var top []string
	for _, l := range m.Layers[n:] {
		top = append(top, fmt.Sprintf("%s (%s)", l.Name(), l.Type()))
	}
	fmt.Fprintf(t.stderr, "Starting from %s: its weights and preprocessing, and a top for the %d classes of %s, which it had not: %s.\n",
		o.Model, len(classes), o.Source.describe(), strings.Join(top, ", "))
	return m, nil
}

// freeze applies --freeze and --inference-mode to the model and says which
// layers do not train, and which run as in inference in training.
func (t *trainer) freeze(m *model.Model) error {
	for _, f := range []struct {
		flag, spec string
		set        func(bool, ...nn.Layer) error
		is         func(nn.Layer) bool
		says       string
	}{
		{"freeze", t.o.Freeze, func(on bool, ls ...nn.Layer) error { return m.SetTrainable(!on, ls...) },
			func(l nn.Layer) bool { return !m.Trainable(l) }, "Frozen"},
		{"inference-mode", t.o.InferenceMode, m.SetInferenceInTraining, m.InferenceInTraining, "In inference mode in training too"},
	} {
		if f.spec != "" {
			ls, err := layerSpec(m, f.spec, t.head)
			if err != nil {
				return usageError{fmt.Errorf("--%s %s: %w", f.flag, f.spec, err)}
			}
			if err := f.set(false, m.Layers...); err != nil {
				return err
			}
			if err := f.set(true, ls...); err != nil {
				return err
			}
		}
		var names []string
		for _, l := range m.Layers {
			if f.is(l) {
				names = append(names, l.Name())
			}
		}
		switch {
		case len(names) == 0:
		case f.flag == "freeze":
			tr, non := m.ParamCount()
			fmt.Fprintf(t.stderr, "%s: %s (%d layers); %d weights train, %d do not.\n", f.says, layerRuns(m, names), len(names), tr, non)
		default:
			fmt.Fprintf(t.stderr, "%s: %s (%d layers).\n", f.says, layerRuns(m, names), len(names))
		}
	}
	return nil
}

// layerSpec reads --freeze and --inference-mode: "none"; "base", every
// layer before the head, which starts at Layers[head] (-1: the last Dense);
// or layer names and ranges separated by commas, a range A..B holding
// the layers from A to B in the order they run, both included (..B from
// the first layer, A.. to the last).
func layerSpec(m *model.Model, spec string, head int) ([]nn.Layer, error) {
	switch spec {
	case "none":
		return nil, nil
	case "base":
		if head >= 0 {
			return m.Layers[:head], nil
		}
		for i := len(m.Layers) - 1; i >= 0; i-- {
			if _, ok := m.Layers[i].(*nn.Dense); ok {
				return m.Layers[:i], nil
			}
		}
		return nil, errors.New(`"base" is the layers before the last Dense, and the model has none`)
	}
	index := func(name string) (int, error) {
		for i, l := range m.Layers {
			if l.Name() == name {
				return i, nil
			}
		}
		var names []string
		for _, l := range m.Layers {
			names = append(names, l.Name())
		}
		return 0, fmt.Errorf("no layer is named %q (the model's: %s)", name, strings.Join(names, ", "))
	}
	var out []nn.Layer
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		lo, hi, isRange := strings.Cut(item, "..")
		if item == "" || isRange && lo == "" && hi == "" {
			return nil, fmt.Errorf("empty item %q: want a layer name or a range (A..B, ..B or A..)", item)
		}
		first, last := 0, len(m.Layers)-1
		var err error
		if lo != "" {
			if first, err = index(lo); err != nil {
				return nil, err
			}
		}
		if !isRange {
			last = first
		} else if hi != "" {
			if last, err = index(hi); err != nil {
				return nil, err
			}
		}
		if first > last {
			return nil, fmt.Errorf("%s runs after %s", m.Layers[first].Name(), m.Layers[last].Name())
		}
		for _, l := range m.Layers[first : last+1] {
			if !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	return out, nil
}

// layerRuns writes names, layers of m in order, as runs of consecutive
// layers: "conv2d..flatten, dense_1".
func layerRuns(m *model.Model, names []string) string {
	var parts []string
	for i := 0; i < len(m.Layers); {
		if !slices.Contains(names, m.Layers[i].Name()) {
			i++
			continue
		}
		j := i
		for j+1 < len(m.Layers) && slices.Contains(names, m.Layers[j+1].Name()) {
			j++
		}
		if j == i {
			parts = append(parts, m.Layers[i].Name())
		} else {
			parts = append(parts, m.Layers[i].Name()+".."+m.Layers[j].Name())
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// sameNames reports whether a and b hold the same distinct names, in any order.
func sameNames(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	sa, sb := slices.Clone(a), slices.Clone(b)
	slices.Sort(sa)
	slices.Sort(sb)
	return slices.Equal(sa, sb) && len(slices.Compact(sa)) == len(a)
}
