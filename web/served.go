package web

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/tensor"
)

// served is one model with its pool of network clones and the answers that
// never change.
type served struct {
	name       string
	shape      []int // [H, W, C]
	classes    []string
	layers     []LayerInfo
	pool       chan Network
	info       modelInfo
	history    json.RawMessage // nil if absent
	evaluation *evaluation     // nil if absent
}

// modelInfo is one entry of GET /api/models.
type modelInfo struct {
	Name          string      `json:"name"`
	InputShape    []int       `json:"input_shape"`
	Classes       []classInfo `json:"classes"`
	Summary       string      `json:"summary"`
	Layers        []layerInfo `json:"layers"`
	HasHistory    bool        `json:"has_history"`
	HasEvaluation bool        `json:"has_evaluation"`
}

type classInfo struct {
	Label int    `json:"label"`
	Name  string `json:"name"`  // the full class name, such as "alef ا"
	Short string `json:"short"` // the name without the glyph, such as "alef"
	Glyph string `json:"glyph"` // the glyph if the name ends in a non-ASCII word, such as "ا"
}

type layerInfo struct {
	Index       int            `json:"index"`
	Name        string         `json:"name"`
	Type        string         `json:"type"`
	OutputShape []int          `json:"output_shape"`
	Config      map[string]any `json:"config"`
	Params      []paramInfo    `json:"params"`
}

type paramInfo struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

// splitClass splits "alef ا" into "alef" and "ا".
func splitClass(name string) (short, glyph string) {
	i := strings.LastIndexByte(name, ' ')
	if i < 0 {
		return name, ""
	}
	last := name[i+1:]
	for _, r := range last {
		if r < 0x80 {
			return name, ""
		}
	}
	return name[:i], last
}

func newServed(m Model, opts Options) (*served, error) {
	net := m.Net
	shape := slices.Clone(net.InputShape())
	if len(shape) != 3 || shape[0] <= 0 || shape[1] <= 0 || (shape[2] != 1 && shape[2] != 3) {
		return nil, fmt.Errorf("web: model %s: input shape %v, want [H W 1] or [H W 3]", m.Name, shape)
	}
	s := &served{
		name:    m.Name,
		shape:   shape,
		classes: slices.Clone(net.ClassNames()),
		layers:  net.Layers(),
		pool:    make(chan Network, opts.Clones),
	}
	if len(s.layers) == 0 {
		return nil, fmt.Errorf("web: model %s has no layers", m.Name)
	}
	out := s.layers[len(s.layers)-1].OutputShape
	if len(out) != 1 || out[0] < 1 {
		return nil, fmt.Errorf("web: model %s: output shape %v, want [classes]", m.Name, out)
	}
	if len(s.classes) == 0 {
		for i := range out[0] {
			s.classes = append(s.classes, fmt.Sprint(i))
		}
	}
	if len(s.classes) != out[0] {
		return nil, fmt.Errorf("web: model %s: %d class names for %d outputs", m.Name, len(s.classes), out[0])
	}
	s.pool <- net
	for range opts.Clones - 1 {
		s.pool <- net.Clone()
	}

	s.info = modelInfo{Name: m.Name, InputShape: shape, Summary: net.Summary()}
	for i, c := range s.classes {
		short, glyph := splitClass(c)
		s.info.Classes = append(s.info.Classes, classInfo{Label: i, Name: c, Short: short, Glyph: glyph})
	}
	for i, l := range s.layers {
		li := layerInfo{Index: i, Name: l.Name, Type: l.Type, OutputShape: l.OutputShape, Config: l.Config}
		for _, p := range l.Params {
			li.Params = append(li.Params, paramInfo{Name: p.Name, Shape: p.Value.Shape})
		}
		s.info.Layers = append(s.info.Layers, li)
	}
	if h := net.Meta("history"); h != "" {
		if err := json.Unmarshal([]byte(h), new(model.History)); err == nil {
			s.history = json.RawMessage(h)
		} else {
			fmt.Fprintf(opts.Log, "web: model %s: metadata \"history\": %v; ignored\n", m.Name, err)
		}
	}
	if e := net.Meta("evaluation"); e != "" {
		ev, err := model.ParseEvaluation(e, len(s.classes))
		if err != nil {
			fmt.Fprintf(opts.Log, "web: model %s: metadata \"evaluation\": %v; ignored\n", m.Name, err)
		} else {
			s.evaluation = ev
		}
	}
	s.info.HasHistory = s.history != nil
	s.info.HasEvaluation = s.evaluation != nil
	return s, nil
}

// acquire takes a network from the pool, waiting until one is free or ctx ends.
func (s *served) acquire(ctx context.Context) (Network, error) {
	select {
	case n := <-s.pool:
		return n, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *served) release(n Network) { s.pool <- n }

// input returns a batch of one image holding the network input for raw pixels.
func (s *served) input(net Network, pixels []float32) *tensor.Tensor {
	x := tensor.New(1, s.shape[0], s.shape[1], s.shape[2])
	net.Preprocess(x.Data, pixels)
	return x
}

// evaluation is the model's test-set evaluation, from its "evaluation"
// metadata, and sample one of its test images.
type (
	evaluation = model.Evaluation
	sample     = model.EvaluationSample
)
