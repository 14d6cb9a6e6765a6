package model

import (
	"errors"
	"fmt"
	"slices"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// SetTrainable freezes layers of the model (trainable false) or lets them
// train again (true), as Keras's layer.trainable: the way to train a new
// head on a base that has learnt its features elsewhere, then, perhaps,
// to fine-tune the whole at a small learning rate. It may be called before
// or after Build, between training steps too.
//
// A frozen layer's weights stay as they are: they count as non-trainable
// (see [Model.ParamCount]), get no gradient, are left alone by the
// optimizer (and its moving average), and their regularizers and
// constraints do nothing, as Keras 3 takes those of the trainable weights
// only. A frozen BatchNormalization also runs as in inference while
// training, normalising with its moving statistics and leaving them be,
// Keras's rule since TensorFlow 2. The backward pass stops at the layers
// that neither train nor lead to one that does: training a head on a
// frozen base costs the base's forward pass and the head's backward.
//
// The frozen layers are saved with the model, as "trainable": false in the
// layers' configs (see [Model.Architecture]), and read back from Keras's.
// Every layer must be one of the model's.
func (m *Model) SetTrainable(trainable bool, layers ...nn.Layer) error {
	if err := m.ownLayers("SetTrainable", layers); err != nil {
		return err
	}
	for _, l := range layers {
		if trainable {
			delete(m.frozen, l)
		} else {
			m.frozen.add(l)
		}
	}
	if m.Built() {
		m.settleTrainable()
	}
	return nil
}

// Trainable reports whether the layer trains: false once frozen by
// [Model.SetTrainable] or read frozen from a file.
func (m *Model) Trainable(l nn.Layer) bool { return !m.frozen[l] }

// SetInferenceInTraining makes layers run as in inference also in training
// (on true), or as in training again (false), as Keras's
// base_model(x, training=False) does for the layers of a base, the way
// Keras's transfer-learning guide fine-tunes a base with batch
// normalization: a BatchNormalization normalises with its moving
// statistics and leaves them be, a dropout or noise layer does nothing;
// their weights train unless frozen. The setting is saved with the model,
// as the layers' calls with training false in a Functional architecture
// (a stack is then written as a Functional chain), and read back from
// Keras's. Every layer must be one of the model's.
func (m *Model) SetInferenceInTraining(on bool, layers ...nn.Layer) error {
	if err := m.ownLayers("SetInferenceInTraining", layers); err != nil {
		return err
	}
	for _, l := range layers {
		if on {
			m.inference.add(l)
		} else {
			delete(m.inference, l)
		}
	}
	if m.Built() {
		m.plan = newPlan(m)
	}
	return nil
}

// InferenceInTraining reports whether the layer runs as in inference also
// in training: a frozen BatchNormalization (see [Model.SetTrainable]), or a
// layer set so by [Model.SetInferenceInTraining] or called with
// training=False in a Keras model, such as the layers of a base in Keras's
// transfer learning, which keep their BatchNormalization on its moving
// statistics and their dropout off, trainable or not.
func (m *Model) InferenceInTraining(l nn.Layer) bool {
	_, bn := l.(*nn.BatchNormalization)
	return m.inference[l] || bn && m.frozen[l]
}

// ownLayers returns an error naming op unless every layer is one of m's.
func (m *Model) ownLayers(op string, layers []nn.Layer) error {
	for _, l := range layers {
		if l == nil || !slices.Contains(m.Layers, l) {
			return fmt.Errorf("%s: %s is not a layer of the model", op, describeLayer(l))
		}
	}
	return nil
}

func describeLayer(l nn.Layer) string {
	if l == nil {
		return "a nil layer"
	}
	return fmt.Sprintf("%q (%s)", l.Name(), l.Type())
}

// settleTrainable marks the parameters of the built model as the frozen
// layers say, lists the regularized and constrained ones that train and
// plans the passes again.
func (m *Model) settleTrainable() {
	for l := range m.frozen {
		if !slices.Contains(m.Layers, l) { // a stack's layers changed before Build
			delete(m.frozen, l)
		}
	}
	for l := range m.inference {
		if !slices.Contains(m.Layers, l) {
			delete(m.inference, l)
		}
	}
	for _, l := range m.Layers {
		for _, p := range l.Params() {
			p.Trainable = p.Grad != nil && !m.frozen[l]
		}
	}
	m.penalized, m.constrained = m.penalized[:0], m.constrained[:0]
	for _, p := range m.params {
		if !p.Trainable {
			continue
		}
		if !p.Regularizer.IsZero() {
			m.penalized = append(m.penalized, p)
		}
		if !p.Constraint.IsZero() {
			m.constrained = append(m.constrained, p)
		}
	}
	m.plan = newPlan(m)
}

// NewHead gives the model a new head for a task of classes classes, as a
// Keras user puts a new top on a base model, or a PyTorch user replaces a
// torchvision network's classifier. The model's head, its last layer with
// weights, is replaced by one of classes outputs with the same name,
// activation, bias, initializer, regularizers and constraints: a Dense, or a
// 1x1 Conv2D whose channels are the classes (SqueezeNet's, or Keras
// MobileNet's conv_preds), followed by layers without weights that keep the
// channels apart (an activation, a dropout, a pooling, a Flatten or Reshape
// of a 1x1 map; a Reshape to the classes takes the new number). The layers
// after a Dense must have no weights and
// keep the shape (an Activation, a Softmax, a Dropout). A model without a
// top (Keras's include_top=False) gets one: a model whose output is an
// image, a GlobalAveragePooling2D and a Dense with a softmax; one whose
// output is a vector made by a layer without weights (a pooling, a
// Flatten), the Dense alone. The new head's weights are drawn from seed;
// every other layer keeps its weights and its frozen or trainable state,
// and the new head trains. The model stays built; a compiled model is
// compiled again, its optimizer's state starting over. It returns the new
// head.
func (m *Model) NewHead(classes int, seed uint64) (nn.Layer, error) {
	m.mustBeBuilt("NewHead")
	if classes < 1 {
		return nil, fmt.Errorf("NewHead: %d classes", classes)
	}
	kept := make([][]*tensor.Tensor, len(m.Layers))
	for i, k := range m.Layers {
		for _, p := range k.Params() {
			kept[i] = append(kept[i], p.Value.Clone())
		}
	}
	layers, inbound := slices.Clone(m.Layers), [][]int(nil)
	if m.graph != nil {
		inbound = slices.Clone(m.graph.inbound)
	}
	var head nn.Layer
	h, conv := m.convHead()
	switch {
	case !conv && m.headless():
		head = &nn.Dense{Units: classes, Activation: "softmax"}
		if len(m.output) == 3 {
			m.appendLayer(&nn.GlobalAveragePooling2D{})
		}
		m.appendLayer(head)
	default:
		if !conv {
			var err error
			if h, err = m.head(); err != nil {
				return nil, err
			}
		}
		old := m.Layers[h]
		from := m.outputLen()
		cfg := old.Config()
		if conv {
			cfg["filters"] = classes
		} else {
			cfg["units"] = classes
		}
		l, err := nn.FromConfig(old.Type(), cfg)
		if err != nil {
			return nil, fmt.Errorf("NewHead: %w", err)
		}
		l.SetName(old.Name())
		m.replaceLayer(h, l)
		head, kept[h] = l, nil
		if conv {
			m.reshapeTo(h, from, classes)
		}
	}
	if err := m.Build(m.input, seed); err != nil {
		m.Layers = layers
		if m.graph != nil {
			m.graph.layers, m.graph.inbound = slices.Clone(layers), inbound
		}
		if berr := m.Build(m.input, seed); berr != nil {
			panic("model: NewHead: " + berr.Error())
		}
		m.restore(kept)
		return nil, fmt.Errorf("NewHead: %w", err)
	}
	m.restore(kept)
	return head, nil
}

// convHead returns the index of the model's head when that is a 1x1
// Conv2D whose channels are the model's outputs: every layer after it has
// no weights, one input, and keeps the channels apart (a pooling, a Flatten
// or Reshape of a 1x1 map, a layer that keeps the shape), and the output
// has as many values as it has filters.
func (m *Model) convHead() (int, bool) {
	for i := len(m.Layers) - 1; i >= 0; i-- {
		if len(m.Layers[i].Params()) == 0 {
			continue
		}
		c, ok := m.Layers[i].(*nn.Conv2D)
		if !ok || c.KernelSize != [2]int{1, 1} || max(c.Groups, 1) != 1 || m.outputLen() != c.Filters {
			return 0, false
		}
		for j := i + 1; j < len(m.Layers); j++ {
			src := m.inbound(j)
			if len(src) != 1 {
				return 0, false
			}
			in, out := m.input, m.Layers[j].OutputShape()
			if src[0] > 0 {
				in = m.Layers[src[0]-1].OutputShape()
			}
			switch m.Layers[j].(type) {
			case *nn.GlobalAveragePooling2D, *nn.GlobalMaxPooling2D, *nn.AveragePooling2D, *nn.MaxPool2D:
			default:
				if !slices.Equal(in, out) && !(len(in) == 3 && in[0] == 1 && in[1] == 1) {
					return 0, false
				}
			}
		}
		return i, true
	}
	return 0, false
}

// replaceLayer puts l in place of layer i, which leaves the frozen layers.
func (m *Model) replaceLayer(i int, l nn.Layer) {
	delete(m.frozen, m.Layers[i])
	m.Layers[i] = l
	if m.graph != nil {
		m.graph.layers[i] = l
	}
}

// reshapeTo gives each Reshape after the convolutional head at h whose
// last dimension is the old number of classes, from, the new one, to (Keras
// MobileNet's Reshape((classes,))).
func (m *Model) reshapeTo(h, from, to int) {
	for j := h + 1; j < len(m.Layers); j++ {
		r, ok := m.Layers[j].(*nn.Reshape)
		if !ok || r.TargetShape[len(r.TargetShape)-1] != from {
			continue
		}
		target := slices.Clone(r.TargetShape)
		target[len(target)-1] = to
		l := &nn.Reshape{TargetShape: target}
		l.SetName(r.Name())
		m.replaceLayer(j, l)
	}
}

// outputLen is the number of values of the model's output.
func (m *Model) outputLen() int {
	n := 1
	for _, d := range m.output {
		n *= d
	}
	return n
}

// headless reports whether the model has no top: its output is an image,
// or a vector that a layer without weights made of an image (a pooling, a
// Flatten).
func (m *Model) headless() bool {
	if len(m.output) == 3 {
		return true
	}
	n := len(m.Layers)
	last := m.Layers[n-1]
	in := m.input
	if j := m.inbound(n - 1)[0]; j > 0 {
		in = m.Layers[j-1].OutputShape()
	}
	return len(m.output) == 1 && len(last.Params()) == 0 && len(in) == 3
}

// appendLayer adds l after the model's last layer, called on its output.
func (m *Model) appendLayer(l nn.Layer) {
	if m.graph != nil {
		m.graph.layers = append(m.graph.layers, l)
		m.graph.inbound = append(m.graph.inbound, []int{len(m.Layers)})
	}
	m.Layers = append(m.Layers, l)
}

// restore copies kept, per layer the values of its parameters (nil: keep
// the layer's own), into the first layers' parameters.
func (m *Model) restore(kept [][]*tensor.Tensor) {
	for i, vs := range kept {
		for k, p := range m.Layers[i].Params() {
			if vs != nil {
				p.Value.CopyFrom(vs[k])
			}
		}
	}
}

// head finds the layer NewHead replaces: the last Dense, followed only by
// layers without weights that keep its shape.
func (m *Model) head() (int, error) {
	for i := len(m.Layers) - 1; i >= 0; i-- {
		l := m.Layers[i]
		if _, ok := l.(*nn.Dense); ok {
			return i, nil
		}
		if len(l.Params()) > 0 {
			return 0, fmt.Errorf("NewHead: the last layer with weights is %s, not a Dense", describeLayer(l))
		}
		if i > 0 && !slices.Equal(l.OutputShape(), m.Layers[i-1].OutputShape()) {
			return 0, fmt.Errorf("NewHead: %s after the head changes the shape %v to %v", describeLayer(l), m.Layers[i-1].OutputShape(), l.OutputShape())
		}
	}
	return 0, errors.New("NewHead: the model has no Dense layer")
}

// layerSet is a set of layers.
type layerSet map[nn.Layer]bool

// add puts layers in the set, but nil ones.
func (s *layerSet) add(layers ...nn.Layer) {
	for _, l := range layers {
		if l == nil {
			continue
		}
		if *s == nil {
			*s = layerSet{}
		}
		(*s)[l] = true
	}
}
