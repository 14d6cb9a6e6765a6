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
func (m *Sequential) Architecture() ([]byte, error) {
	m.mustBeBuilt("Architecture")
	arch := architecture{InputShape: m.input}
	for _, l := range m.Layers {
		cfg := l.Config()
		if _, ok := cfg["name"]; !ok {
			cfg = maps(cfg)
			cfg["name"] = l.Name()
		}
		arch.Layers = append(arch.Layers, layerEntry{ClassName: l.Type(), Config: cfg})
	}
	return json.MarshalIndent(arch, "", "  ")
}

// ParseArchitecture returns an unbuilt model from an architecture document
// (see [Sequential.Architecture]), such as a hand-written JSON model file.
// The input shape is the document's "input_shape", if any: Build(nil, seed)
// uses it.
func ParseArchitecture(b []byte) (*Sequential, error) {
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
	m := &Sequential{input: arch.InputShape}
	for i, le := range arch.Layers {
		l, err := nn.FromConfig(le.ClassName, le.Config)
		if err != nil {
			return nil, fmt.Errorf("architecture: layer %d: %w", i+1, err)
		}
		m.Layers = append(m.Layers, l)
	}
	return m, nil
}
