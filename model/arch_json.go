package model

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/convnet-go/convnet/nn"
)

// Architecture returns the model's architecture as JSON, the same document a
// model file stores under "architecture": the input shape and the list of
// layers with their Keras class names and configurations.
func (m *Model) Architecture() ([]byte, error) {
	m.mustBeBuilt("Architecture")
	return json.MarshalIndent(m.architecture(), "", "  ")
}

// architecture describes the built model's layers for a model file.
func (m *Model) architecture() architecture {
	arch := architecture{InputShape: m.input}
	for _, l := range m.Layers {
		cfg := l.Config()
		if _, ok := cfg["name"]; !ok {
			cfg = maps(cfg)
			cfg["name"] = l.Name()
		}
		arch.Layers = append(arch.Layers, layerEntry{ClassName: l.Type(), Config: cfg})
	}
	return arch
}

// ParseArchitecture returns an unbuilt model from an architecture document
// (see [Model.Architecture]), such as a hand-written JSON model file.
// The input shape is the document's "input_shape", if any: Build(nil, seed)
// uses it.
func ParseArchitecture(b []byte) (*Model, error) {
	var arch architecture
	if err := json.Unmarshal(b, &arch); err != nil {
		return nil, fmt.Errorf("architecture: %w", err)
	}
	if len(arch.Layers) == 0 {
		return nil, errors.New("architecture: no layers")
	}
	if arch.InputShape != nil {
		if err := checkInputShape(arch.InputShape); err != nil {
			return nil, fmt.Errorf("architecture: %w", err)
		}
	}
	layers, err := arch.layers()
	if err != nil {
		return nil, fmt.Errorf("architecture: %w", err)
	}
	return &Model{input: arch.InputShape, Layers: layers}, nil
}

// layers makes the unbuilt layers the architecture lists.
func (a architecture) layers() ([]nn.Layer, error) {
	var layers []nn.Layer
	for i, le := range a.Layers {
		l, err := nn.FromConfig(le.ClassName, le.Config)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i+1, err)
		}
		layers = append(layers, l)
	}
	return layers, nil
}
