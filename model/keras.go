package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/convnet-go/convnet/nn"
)

// The architecture documents read and written here are Keras's: what
// model.to_json() writes, {"class_name": "Sequential" or "Functional",
// "config": {...}}. See arch_json.go for the entry points.

// kerasDoc is the top of a Keras model document. Keras 3 adds module,
// registered_name, build_config and compile_config; tf.keras adds
// keras_version and backend. None of them changes the architecture.
type kerasDoc struct {
	ClassName      string       `json:"class_name"`
	Config         kerasModel   `json:"config"`
	KerasVersion   any          `json:"keras_version,omitempty"`
	Backend        any          `json:"backend,omitempty"`
	Module         any          `json:"module,omitempty"`
	RegisteredName any          `json:"registered_name,omitempty"`
	BuildConfig    *buildConfig `json:"build_config,omitempty"`
	CompileConfig  any          `json:"compile_config,omitempty"`
}

type buildConfig struct {
	InputShape any `json:"input_shape"`
}

// kerasModel is the config of a Sequential or Functional model, and
// convnet's own first architecture form ({"input_shape": [...], "layers":
// [...]}, which has no wrapper).
type kerasModel struct {
	Name            string       `json:"name,omitempty"`
	Trainable       *bool        `json:"trainable,omitempty"`
	DType           any          `json:"dtype,omitempty"`
	Layers          []kerasEntry `json:"layers"`
	InputLayers     any          `json:"input_layers,omitempty"`
	OutputLayers    any          `json:"output_layers,omitempty"`
	BuildInputShape any          `json:"build_input_shape,omitempty"`
	InputShape      []int        `json:"input_shape,omitempty"` // convnet's first form

	depth int // of a Sequential inside others: 1 for one inside the document's model
}

// maxNesting bounds how deep Sequential models may sit inside one another:
// each level is decoded again from its parent's config, so a deep document
// of a few hundred kilobytes would take minutes. Keras models nest one or
// two levels.
const maxNesting = 8

// kerasEntry is one layer of a model's config.
type kerasEntry struct {
	ClassName      string         `json:"class_name"`
	Config         map[string]any `json:"config"`
	Name           string         `json:"name,omitempty"`
	InboundNodes   any            `json:"inbound_nodes,omitempty"`
	Module         any            `json:"module,omitempty"`
	RegisteredName any            `json:"registered_name,omitempty"`
	BuildConfig    *buildConfig   `json:"build_config,omitempty"`
}

// decodeStrict decodes JSON into v, refusing unknown fields.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}

// parseArchitecture reads an architecture document: a Keras model's
// to_json() (Sequential or Functional, Keras 2 or 3) or convnet's first
// form. It returns the unbuilt model, with the input shape the document
// gives (nil if none).
func parseArchitecture(b []byte) (*Model, error) {
	var probe struct {
		ClassName      *string `json:"class_name"`
		RegisteredName any     `json:"registered_name"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, err
	}
	switch c := probe.ClassName; {
	case c == nil, *c == "Sequential", *c == "Functional", *c == "Model":
	case probe.RegisteredName != nil:
		return nil, fmt.Errorf("class_name %q (registered as %v): a subclassed model, whose computation is Python code; convnet reads Sequential and Functional models", *c, probe.RegisteredName)
	default:
		return nil, fmt.Errorf("class_name %q: want Sequential or Functional", *c)
	}
	if probe.ClassName == nil {
		var km kerasModel
		if err := decodeStrict(b, &km); err != nil {
			return nil, err
		}
		return km.sequential()
	}
	var doc kerasDoc
	if err := decodeStrict(b, &doc); err != nil {
		return nil, err
	}
	if err := checkAugmentation(doc.Config.Layers); err != nil {
		return nil, err
	}
	km := &doc.Config
	if err := doc.checkHardSigmoid(); err != nil {
		return nil, err
	}
	if km.BuildInputShape == nil && doc.BuildConfig != nil {
		km.BuildInputShape = doc.BuildConfig.InputShape
	}
	var m *Model
	var err error
	switch doc.ClassName {
	case "Sequential":
		m, err = km.sequential()
	case "Functional", "Model":
		m, err = km.functional()
	default:
		return nil, fmt.Errorf("class_name %q: want Sequential or Functional", doc.ClassName)
	}
	if err != nil {
		return nil, err
	}
	m.Name = km.Name
	return m, nil
}

// checkHardSigmoid refuses tf.keras 2's hard_sigmoid, which is not Keras
// 3's (and convnet's): clip(0.2·x + 0.5, 0, 1) against relu6(x + 3) / 6.
func (doc *kerasDoc) checkHardSigmoid() error {
	v, _ := doc.KerasVersion.(string)
	if !strings.HasPrefix(v, "2.") {
		return nil
	}
	for _, e := range doc.Config.Layers {
		if e.Config["activation"] == "hard_sigmoid" {
			return fmt.Errorf("layer %v (%s): activation \"hard_sigmoid\" of keras_version %s is clip(0.2·x + 0.5, 0, 1); convnet's is Keras 3's, relu6(x + 3) / 6", e.Config["name"], e.ClassName, v)
		}
	}
	return nil
}

// common checks the model-level fields both kinds share.
func (km *kerasModel) common() error {
	if km.DType != nil && !isFloat32(km.DType) {
		return fmt.Errorf("dtype = %s: convnet supports only float32", jsonText(km.DType))
	}
	if len(km.Layers) == 0 {
		return errors.New("no layers")
	}
	return nil
}

// sequential makes the stack a Sequential config lists. The input shape
// comes from a first InputLayer, else from the first layer's
// batch_input_shape, else from build_input_shape or the first layer's
// build_config (Keras 3), else from convnet's input_shape. A Sequential
// inside comes in as its layers in place; one that holds a Functional model
// makes the whole a graph (a chain).
func (km *kerasModel) sequential() (*Model, error) {
	g, err := km.chainNodes()
	if err != nil {
		return nil, err
	}
	if holdsFunctional(km.Layers) {
		return g.model()
	}
	return g.stack(), nil
}

// layer makes the entry's layer; the entry's name must agree with its
// config's.
func (e kerasEntry) layer() (kerasLayer, error) {
	if e.ClassName == "" {
		return kerasLayer{}, errors.New("no class_name")
	}
	if _, ok := e.Config["name"]; !ok && e.Name != "" {
		if e.Config == nil {
			e.Config = map[string]any{}
		}
		e.Config["name"] = e.Name
	}
	kl, err := layerFromKeras(e.ClassName, e.Config)
	if err != nil {
		return kl, err
	}
	if e.Name != "" && kl.layer.Name() != e.Name {
		return kl, fmt.Errorf("layer %q has %q in its config", e.Name, kl.layer.Name())
	}
	return kl, nil
}

// inputLayer reads an InputLayer entry: its name and the shape of a sample.
func inputLayer(e kerasEntry) (string, []int, error) {
	cfg := e.Config
	name, _ := cfg["name"].(string)
	if name == "" {
		name = e.Name
	}
	var shape []int
	for key, v := range cfg {
		var err error
		switch key {
		case "name":
		case "batch_input_shape", "batch_shape":
			shape, err = batchShape(v)
		case "dtype":
			if !isFloat32(v) {
				err = fmt.Errorf("%s: convnet supports only float32", jsonText(v))
			}
		case "sparse", "ragged", "optional":
			if v != false {
				err = fmt.Errorf("%s: convnet supports only false", jsonText(v))
			}
		case "input_tensor":
			if v != nil {
				err = fmt.Errorf("%s: convnet supports only null", jsonText(v))
			}
		default:
			err = errors.New("unknown field")
		}
		if err != nil {
			return "", nil, fmt.Errorf("%s (InputLayer): %s: %w", name, key, err)
		}
	}
	if shape == nil {
		return "", nil, fmt.Errorf("%s (InputLayer): no batch_input_shape", name)
	}
	return name, shape, nil
}

// checkAxis returns an error if a layer read with a positive axis (see
// lastAxis) does not find it last in its input of shape in.
func (m *Model) checkAxis(l nn.Layer, in []int) error {
	if k, ok := m.lastAxes[l]; ok && k != len(in) {
		return fmt.Errorf("%s (%s): axis %d is not the last axis of its input (None, ...) of rank %d: convnet supports only the last axis",
			l.Name(), l.Type(), k, len(in)+1)
	}
	return nil
}
