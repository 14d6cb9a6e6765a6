package model

import (
	"encoding/json"
	"fmt"
)

// Architecture returns the model's architecture as JSON in the layout of
// Keras 2's model.to_json(), the document a model file stores under
// "architecture": {"class_name": "Sequential", "config": {"name", "layers"}}
// for a stack, whose first layer is an InputLayer holding the input shape
// (a stack with layers that run as in inference in training, see
// [Model.SetInferenceInTraining], is written as a Functional chain),
// and {"class_name": "Functional", "config": {"name", "trainable", "layers",
// "input_layers", "output_layers"}} for a graph, whose layers list their
// "inbound_nodes". Layer configs hold every field Keras writes, at the
// values convnet implements (data_format "channels_last", no activity
// regularizers, zero bias initializers, ...), and initializers and
// regularizers as objects, so that Keras's
// model_from_json reads the document. ChannelShuffle and ChannelSlice,
// which Keras has not, keep their own class names and configs (groups;
// start, end): Keras reads them given layers of those names in
// custom_objects.
func (m *Model) Architecture() ([]byte, error) {
	m.mustBeBuilt("Architecture")
	return json.MarshalIndent(m.architecture(), "", "  ")
}

// architecture describes the built model for a model file.
func (m *Model) architecture() map[string]any {
	if m.graph != nil || len(m.inference) > 0 { // only a Functional model's calls say training false
		return m.kerasFunctional()
	}
	return m.kerasSequential()
}

// ParseArchitecture returns an unbuilt model from an architecture document:
// what Keras 2 or Keras 3 model.to_json() writes, for a Sequential or a
// Functional model made of the layers convnet has, or convnet's first form
// {"input_shape": [32, 32, 1], "layers": [{"class_name": "Conv2D", "config":
// {...}}, ...]}. Fields Keras writes that convnet does not use are accepted
// when they hold Keras's defaults; a value that would change the
// computation (an activity regularizer, shared layers, several inputs or
// outputs) is an error naming the layer and the field. Layers with
// trainable false, or all those of a model with trainable false, are read
// frozen (see [Model.SetTrainable]). Kernel and bias regularizers (L1, L2, L1L2) and constraints
// (MaxNorm, MinMaxNorm, UnitNorm, NonNeg) are read: the penalties join the
// loss and the constraints follow every optimizer step, as in Keras.
// The input shape is the document's, if it has one: Build(nil, seed) uses
// it.
func ParseArchitecture(b []byte) (*Model, error) {
	m, err := parseArchitecture(b)
	if err != nil {
		return nil, fmt.Errorf("architecture: %w", err)
	}
	if m.input != nil {
		if err := checkInputShape(m.input); err != nil {
			return nil, fmt.Errorf("architecture: %w", err)
		}
	}
	return m, nil
}
