package model

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/hdf5"
	"github.com/convnet-go/convnet/nn"
)

// importKerasH5 reads an HDF5 file of Keras: a whole model as Keras 2 (and
// Keras 3's legacy format) saves it to "m.h5", its architecture in the
// attribute model_config and its weights under "model_weights", or weights
// alone (save_weights, Keras 2's or Keras 3's layout) with the architecture
// given in opts.
func importKerasH5(h *hdf5.File, size int64, opts KerasImportOptions) (*Model, error) {
	root := h.Root()
	doc := opts.Architecture
	cfg, ok, err := root.Attr("model_config")
	if err != nil {
		return nil, err
	}
	if ok && doc != nil {
		return nil, fmt.Errorf("the file holds its architecture (model_config): an architecture given too is for a file of weights alone")
	}
	if ok {
		if doc, err = keras2Config(cfg); err != nil {
			return nil, fmt.Errorf("model_config: %w", err)
		}
	}
	if doc == nil {
		return nil, fmt.Errorf("the file holds weights only (Keras's save_weights): give the architecture too, the JSON model.to_json() writes")
	}
	m, err := ParseArchitecture(doc)
	if err != nil {
		return nil, err
	}
	if err := m.buildForWeights(opts.InputShape, size); err != nil {
		return nil, err
	}
	switch {
	case root.Has("layers") || root.Has(legacyLayers):
		err = m.loadKerasWeights(doc, h)
	case root.Has("model_weights"):
		var g *hdf5.Group
		if g, err = root.Group("model_weights"); err == nil {
			err = m.loadKeras2Weights(doc, g)
		}
	default:
		err = m.loadKeras2Weights(doc, root)
	}
	if err != nil {
		return nil, err
	}
	version, _, _ := root.Attr("keras_version")
	if version == "" {
		version = "3"
	}
	m.Meta = map[string]string{"source": "Keras " + version + " (HDF5 file)"}
	if about, ok, err := root.Attr("convnet"); err != nil {
		return nil, err
	} else if ok { // written by ExportKeras: the class names, the preprocessing and the framing
		var meta struct {
			Classes       []string           `json:"classes"`
			Preprocessing *data.Standardizer `json:"preprocessing"`
			Framing       json.RawMessage    `json:"framing"`
		}
		if err := json.Unmarshal([]byte(about), &meta); err != nil {
			return nil, fmt.Errorf("the attribute convnet: %v", err)
		}
		if len(meta.Classes) > 0 && len(meta.Classes) != m.NumClasses() {
			return nil, fmt.Errorf("the attribute convnet: %d class names for %d outputs", len(meta.Classes), m.NumClasses())
		}
		m.ClassNames, m.Standardizer = meta.Classes, meta.Preprocessing
		m.Meta["source"] = "convnet's Keras HDF5 file"
		if err := m.setFramingJSON(string(meta.Framing)); err != nil {
			return nil, fmt.Errorf("the attribute convnet: %v", err)
		}
	}
	return m, nil
}

// keras2Config returns the document of a model_config attribute, with the
// Sequential config of Keras up to 2.2.2, a list of layers, in the form of
// later versions.
func keras2Config(cfg string) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal([]byte(cfg), &doc); err != nil {
		return nil, err
	}
	if layers, ok := doc["config"].([]any); ok {
		doc["config"] = map[string]any{"layers": layers}
	}
	return json.Marshal(doc)
}

// loadKeras2Weights sets every parameter of the built model from the
// weights of a Keras 2 weights group g: one group per layer, its attribute
// weight_names naming its datasets ("conv2d/kernel:0"). A parameter is
// found by its layer's and its own name; a weight left over, or one
// missing, is an error naming it.
func (m *Sequential) loadKeras2Weights(doc []byte, g *hdf5.Group) error {
	layerNames, ok, err := keras2AttrNames(g, "layer_names")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s: no attribute layer_names: not a weights group of Keras", g.Path())
	}
	var weights []*hdf5.Dataset
	var names []string // without ":0"
	for _, ln := range layerNames {
		lg, err := g.Group(ln)
		if err != nil {
			return err
		}
		wns, _, err := keras2AttrNames(lg, "weight_names")
		if err != nil {
			return err
		}
		for _, wn := range wns {
			d, err := lg.Dataset(wn)
			if err != nil {
				return err
			}
			weights, names = append(weights, d), append(names, strings.TrimSuffix(wn, ":0"))
		}
	}
	return m.matchKeras2Weights(doc, names, func(n string) string { return n + ":0" }, g.Path(), "the file",
		func(i int, p *nn.Param) error { return readKerasDataset(weights[i], p) })
}

// matchKeras2Weights gives every parameter of the built model its weight
// among names, a file's weights in order, found by the name Keras 2 gives
// it (keras2WeightName; a nested model's may carry the model's name in
// front): set reads weight i into p. A parameter without a weight, or a
// weight left over, or one that is not finite, is an error naming it as
// show writes it, and the file (weights in in, of of).
func (m *Sequential) matchKeras2Weights(doc []byte, names []string, show func(string) string, in, of string, set func(i int, p *nn.Param) error) error {
	classes, err := kerasClasses(doc)
	if err != nil {
		return err
	}
	index := map[string]int{}
	for i, n := range names {
		if _, ok := index[n]; !ok {
			index[n] = i
		}
	}
	used := make([]bool, len(names))
	for _, l := range m.Layers {
		for _, p := range l.Params() {
			key := keras2WeightName(l.Name(), p.Name, classes)
			i, ok := index[key]
			if !ok {
				i = slices.IndexFunc(names, func(n string) bool { return strings.HasSuffix(n, "/"+key) })
			}
			if i < 0 {
				return fmt.Errorf("layer %s: no weight %s in %s", l.Name(), show(key), in)
			}
			if err := set(i, p); err != nil {
				return fmt.Errorf("layer %s: %w", l.Name(), err)
			}
			for k, v := range p.Value.Data {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return fmt.Errorf("layer %s: weight %s: value %d of %d is %v, want a finite number", l.Name(), show(names[i]), k, len(p.Value.Data), v)
				}
			}
			used[i] = true
		}
	}
	for i, n := range names {
		if !used[i] {
			return fmt.Errorf("weight %s of %s belongs to no layer of the architecture", show(n), of)
		}
	}
	return nil
}

// keras2WeightName is the name Keras 2 gives parameter param of layer
// layer: "conv2d/kernel"; the two layers of a SeparableConv2D X hold
// "X/depthwise_kernel", and "X/pointwise_kernel" and "X/bias".
func keras2WeightName(layer, param string, classes map[string]string) string {
	if base, ok := strings.CutSuffix(layer, "_depthwise"); ok && classes[base] == "SeparableConv2D" {
		return base + "/" + param
	}
	if classes[layer] == "SeparableConv2D" && param == "kernel" {
		param = "pointwise_kernel"
	}
	return layer + "/" + param
}

// kerasClasses maps the name of every layer of an architecture document,
// nested ones included, to its class.
func kerasClasses(doc []byte) (map[string]string, error) {
	paths, err := kerasWeightPaths(doc)
	if err != nil {
		return nil, err
	}
	classes := map[string]string{}
	for name, v := range paths {
		classes[name] = v.class
	}
	return classes, nil
}

// readKerasDataset reads d into p, whose shape it must have but for axes
// of 1: a scalar fills a parameter of one value, and a Normalization's
// mean of Keras's shape (3,), the kept axes, fills convnet's [1 1 3].
func readKerasDataset(d *hdf5.Dataset, p *nn.Param) error {
	shape := d.Shape()
	if !sameWeightShape(shape, p.Value.Shape) {
		return fmt.Errorf("%s: shape %v, the layer's %s is %v", d.Path(), shape, p.Name, p.Value.Shape)
	}
	v, err := d.Float32s()
	if err != nil {
		return err
	}
	if len(v) != p.Value.Len() {
		return fmt.Errorf("%s: %d values, the layer's %s has %d", d.Path(), len(v), p.Name, p.Value.Len())
	}
	copy(p.Value.Data, v)
	return nil
}

// sameWeightShape reports whether a file's weight of shape file fills a
// parameter of shape param: the same shape, or, with another number of axes,
// the same but for axes of 1 (a Normalization's mean of Keras's shape [3]
// and convnet's [1 1 3], a scalar and a parameter of one value). Of the same
// rank, axes of 1 in other places are another layout ([3 3 2 1] is not a
// kernel of [3 3 1 2]).
func sameWeightShape(file, param []int) bool {
	if len(file) == len(param) {
		return slices.Equal(file, param)
	}
	return slices.Equal(squeeze(file), squeeze(param))
}

// squeeze returns shape without its axes of 1.
func squeeze(shape []int) []int {
	var s []int
	for _, d := range shape {
		if d != 1 {
			s = append(s, d)
		}
	}
	return s
}

// keras2AttrNames reads the list of names that Keras 2's
// save_attributes_to_hdf5_group writes: the attribute name, or when it was
// too large for one, its chunks name0, name1, ... in order.
func keras2AttrNames(g *hdf5.Group, name string) ([]string, bool, error) {
	names, ok, err := g.AttrStrings(name)
	if ok || err != nil {
		return names, ok, err
	}
	for i := 0; ; i++ {
		chunk, ok, err := g.AttrStrings(fmt.Sprintf("%s%d", name, i))
		if err != nil || !ok {
			return names, i > 0, err
		}
		names = append(names, chunk...)
	}
}
