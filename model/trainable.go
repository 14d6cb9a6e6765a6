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
// Keras user puts a new top on a base model. The model's head, its last
// layer with weights when that is a Dense, is replaced by a Dense of
// classes units with the same name, activation, bias, initializer,
// regularizers and constraints; the layers after it, if any, must have no
// weights and keep the shape (an Activation, a Softmax, a Dropout). A
// model without a top (Keras's include_top=False) gets one: a model whose
// output is an image, a GlobalAveragePooling2D and a Dense with a softmax;
// one whose output is a vector made by a layer without weights (a pooling,
// a Flatten), the Dense alone. The new head's weights are drawn from seed;
// every other layer keeps its weights and its frozen or trainable state,
// and the new head trains. The model stays built; a compiled model is
// compiled again, its optimizer's state starting over. It returns the new
// head.
func (m *Model) NewHead(classes int, seed uint64) (*nn.Dense, error) {
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
	var head *nn.Dense
	if m.headless() {
		head = &nn.Dense{Units: classes, Activation: "softmax"}
		if len(m.output) == 3 {
			m.appendLayer(&nn.GlobalAveragePooling2D{})
		}
		m.appendLayer(head)
	} else {
		h, err := m.head()
		if err != nil {
			return nil, err
		}
		old := m.Layers[h]
		cfg := old.Config()
		cfg["units"] = classes
		l, err := nn.FromConfig(old.Type(), cfg)
		if err != nil {
			return nil, fmt.Errorf("NewHead: %w", err)
		}
		l.SetName(old.Name())
		m.Layers[h], head, kept[h] = l, l.(*nn.Dense), nil
		if m.graph != nil {
			m.graph.layers[h] = l
		}
		delete(m.frozen, old)
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
