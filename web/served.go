package web

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// served is one model with its classifier and the answers that never change.
type served struct {
	name         string
	c            *model.Classifier
	m            *model.Sequential // the classifier's model, read only
	shape        []int             // [H, W, C]
	classes      []string
	maxPixels    int   // the largest image accepted, in pixels
	maxJSONBytes int64 // the largest JSON body accepted
	info         modelInfo
	history      json.RawMessage // nil if absent
	evaluation   *evaluation     // nil if absent
	embed        *embedding      // the map of the evaluation's test images, made on first request
}

// modelInfo is one entry of GET /api/models.
type modelInfo struct {
	Name       string       `json:"name"`
	InputShape []int        `json:"input_shape"`
	Classes    []classInfo  `json:"classes"`
	Summary    string       `json:"summary"`
	Layers     []layerInfo  `json:"layers"`
	Graph      bool         `json:"graph"` // made as a graph of layers, not a stack
	Framing    data.Framing `json:"framing"`
	// CAMLayer is the layer whose maps a class activation map weighs by
	// default (model.Model.CAMLayer), -1 when the model has no convolution.
	CAMLayer int `json:"cam_layer"`
	// MeanImage is the mean training image the preprocessing subtracts, H*W*C
	// bytes (0..255) in base64; "" without one.
	MeanImage      string  `json:"mean_image,omitempty"`
	LabelSmoothing float64 `json:"label_smoothing"` // of the training loss, as the metadata "loss" records it
	HasHistory     bool    `json:"has_history"`
	HasEvaluation  bool    `json:"has_evaluation"`
	HasMap         bool    `json:"has_map"` // GET .../embedding has a map of the evaluation's test images
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
	Window      *windowInfo    `json:"window,omitempty"`
	// Inbound lists the layers whose outputs this layer takes, -1 for the
	// model's input (model.Model.Inbound).
	Inbound []int `json:"inbound"`
}

type paramInfo struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

// windowInfo is the sliding window of a convolution or pooling layer, as
// the layer computes it (nn.WindowOf).
type windowInfo struct {
	Size     [2]int `json:"size"`
	Strides  [2]int `json:"strides"`
	Pad      [2]int `json:"pad"`      // top, left
	Dilation [2]int `json:"dilation"` // the taps' distance, 1 but in a dilated convolution
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

func newServed(sm Model, opts Options) *served {
	c := sm.Classifier
	m := c.Model()
	s := &served{name: sm.Name, c: c, m: m, shape: c.InputShape(), classes: c.ClassNames()}
	s.maxPixels = opts.MaxImagePixels
	if s.maxPixels <= 0 {
		s.maxPixels = 256 * s.shape[0] * s.shape[1]
	}
	s.maxJSONBytes = int64(32*s.shape[0]*s.shape[1]*s.shape[2] + 4096)
	var summary strings.Builder
	if err := m.Summary(&summary); err != nil {
		summary.WriteString(err.Error())
	}
	s.info = modelInfo{Name: sm.Name, InputShape: s.shape, Summary: summary.String(), Graph: m.IsGraph(), Framing: c.Framing(), CAMLayer: m.CAMLayer()}
	if st := m.Standardizer; st != nil && st.ImageCenter && len(st.MeanImage) > 0 {
		scale := float32(1)
		if st.Rescale != 0 {
			scale = 1 / st.Rescale
		}
		b := make([]byte, len(st.MeanImage))
		for i, v := range st.MeanImage {
			b[i] = uint8(min(255, max(0, v*scale+0.5)))
		}
		s.info.MeanImage = base64.StdEncoding.EncodeToString(b)
	}
	if l := m.Meta["loss"]; l != "" {
		var cfg map[string]any
		loss, err := nn.CrossEntropy{}, json.Unmarshal([]byte(l), &cfg)
		if err == nil {
			loss, err = nn.LossFromConfig(cfg)
		}
		if err != nil {
			fmt.Fprintf(opts.Log, "web: model %s: metadata \"loss\": %v; ignored\n", sm.Name, err)
		}
		s.info.LabelSmoothing = loss.LabelSmoothing
	}
	for i, c := range s.classes {
		short, glyph := splitClass(c)
		s.info.Classes = append(s.info.Classes, classInfo{Label: i, Name: c, Short: short, Glyph: glyph})
	}
	for i, l := range m.Layers {
		li := layerInfo{Index: i, Name: l.Name(), Type: l.Type(), OutputShape: l.OutputShape(), Config: l.Config(), Inbound: m.Inbound(i)}
		for _, p := range l.Params() {
			li.Params = append(li.Params, paramInfo{Name: p.Name, Shape: p.Value.Shape})
		}
		if w, ok := nn.WindowOf(l); ok {
			li.Window = &windowInfo{Size: w.Size, Strides: w.Strides, Pad: w.Pad, Dilation: w.Dilation}
		}
		s.info.Layers = append(s.info.Layers, li)
	}
	if h := m.Meta["history"]; h != "" {
		if err := json.Unmarshal([]byte(h), new(model.History)); err == nil {
			s.history = json.RawMessage(h)
		} else {
			fmt.Fprintf(opts.Log, "web: model %s: metadata \"history\": %v; ignored\n", sm.Name, err)
		}
	}
	if e := m.Meta["evaluation"]; e != "" {
		ev, err := model.ParseEvaluation(e, len(s.classes))
		if err != nil {
			fmt.Fprintf(opts.Log, "web: model %s: metadata \"evaluation\": %v; ignored\n", sm.Name, err)
		} else {
			s.evaluation = ev
		}
	}
	s.info.HasHistory = s.history != nil
	s.info.HasEvaluation = s.evaluation != nil
	s.embed = newEmbedding(s.name, s.evaluation, s.shape)
	s.info.HasMap = s.embed.why == ""
	return s
}

// evaluation is the model's test-set evaluation, from its "evaluation"
// metadata, and sample one of its test images.
type (
	evaluation = model.Evaluation
	sample     = model.EvaluationSample
)
