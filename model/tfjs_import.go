package model

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/nn"
)

// ImportTFJS reads a model that TensorFlow.js saved in its layers format:
// model.save of tfjs-layers, the tensorflowjs_converter of a Keras model,
// a Teachable Machine image model, or [ExportTFJS]. name is its model.json
// in fsys (os.DirFS of its folder, say). The modelTopology is the
// architecture, read as [ParseArchitecture] reads Keras's (TensorFlow.js
// writes Keras 2's layout); the weightsManifest names each weight
// ("conv2d/kernel", its layer's and its own Keras name), its shape and
// dtype, stored one after another in the files its groups list (paths
// beside model.json, the shards read in order). Weights the converter
// quantized (uint8 or uint16 with a scale and a minimum, or float16) are
// restored as TensorFlow.js restores them, v·scale + min in float32.
//
// The class names and the preprocessing come from, in this order: opts;
// the userDefinedMetadata that ExportTFJS writes; the metadata.json that
// Teachable Machine writes beside model.json, whose labels are the class
// names and whose image models take x/127 − 1 of pixels 0..255 (its
// library's capture) of the image's centre square (the model's framing
// crops it, see [data.Framing]). opts.Architecture must be nil.
func ImportTFJS(fsys fs.FS, name string, opts KerasImportOptions) (*Model, error) {
	m, err := importTFJS(fsys, name, opts)
	if err != nil {
		return nil, fmt.Errorf("tfjs: %w", err)
	}
	return m, nil
}

// tfjsWeight is an entry of a weights manifest.
type tfjsWeight struct {
	Name         string `json:"name"`
	Shape        []int  `json:"shape"`
	Dtype        string `json:"dtype"`
	Quantization *struct {
		Dtype string   `json:"dtype"`
		Scale *float64 `json:"scale"`
		Min   *float64 `json:"min"`
	} `json:"quantization"`
}

func importTFJS(fsys fs.FS, name string, opts KerasImportOptions) (*Model, error) {
	if opts.Architecture != nil {
		return nil, errors.New("model.json holds its architecture (modelTopology): an architecture given too is for a Keras file of weights alone")
	}
	limit := opts.MaxBytes
	if limit <= 0 {
		limit = defaultMaxImportBytes
	}
	b, err := readLimited(fsys, name, limit)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Format          string          `json:"format"`
		GeneratedBy     string          `json:"generatedBy"`
		ConvertedBy     string          `json:"convertedBy"`
		ModelTopology   json.RawMessage `json:"modelTopology"`
		WeightsManifest []struct {
			Paths   []string     `json:"paths"`
			Weights []tfjsWeight `json:"weights"`
		} `json:"weightsManifest"`
		UserDefinedMetadata struct {
			Convnet *struct {
				Classes       []string           `json:"classes"`
				Preprocessing *data.Standardizer `json:"preprocessing"`
				Framing       json.RawMessage    `json:"framing"`
			} `json:"convnet"`
		} `json:"userDefinedMetadata"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	switch {
	case doc.Format == "graph-model":
		return nil, fmt.Errorf("%s: a TensorFlow.js graph model (converted from a SavedModel or a frozen graph), not a layers model: convert the original to ONNX (tf2onnx) and import that", name)
	case doc.Format != "" && doc.Format != "layers-model":
		return nil, fmt.Errorf("%s: format %q, want \"layers-model\"", name, doc.Format)
	case len(doc.ModelTopology) == 0 || string(doc.ModelTopology) == "null":
		return nil, fmt.Errorf("%s: no modelTopology: not a model TensorFlow.js saved", name)
	}
	// The converter nests the architecture under model_config; tfjs-layers
	// writes it whole.
	arch := doc.ModelTopology
	var wrapped struct {
		ModelConfig json.RawMessage `json:"model_config"`
	}
	if json.Unmarshal(arch, &wrapped) == nil && len(wrapped.ModelConfig) > 0 {
		arch = wrapped.ModelConfig
	}

	var specs []tfjsWeight
	var weights []byte
	dir := path.Dir(name)
	for g, group := range doc.WeightsManifest {
		specs = append(specs, group.Weights...)
		for _, p := range group.Paths {
			file := path.Join(dir, p)
			if !fs.ValidPath(file) || strings.Contains(p, "\\") {
				return nil, fmt.Errorf("%s: weightsManifest[%d]: path %q is not a file beside model.json", name, g, p)
			}
			shard, err := readLimited(fsys, file, limit-int64(len(weights)))
			if err != nil {
				return nil, fmt.Errorf("%s: weightsManifest[%d]: %w", name, g, err)
			}
			weights = append(weights, shard...)
		}
	}
	values, err := decodeTFJSWeights(specs, weights)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}

	m, err := ParseArchitecture(arch)
	if err != nil {
		return nil, fmt.Errorf("%s: modelTopology: %w", name, err)
	}
	if err := m.buildForWeights(opts.InputShape, int64(len(weights))); err != nil {
		return nil, err
	}
	if err := m.loadTFJSWeights(arch, specs, values); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}

	source := "TensorFlow.js layers model"
	if doc.GeneratedBy != "" {
		source += " (" + doc.GeneratedBy + ")"
	}
	m.Meta = map[string]string{"source": source}
	var classes []string
	var std *data.Standardizer
	if c := doc.UserDefinedMetadata.Convnet; c != nil {
		classes, std = c.Classes, c.Preprocessing
		if err := m.setFramingJSON(string(c.Framing)); err != nil {
			return nil, fmt.Errorf("%s: userDefinedMetadata.convnet.framing: %v", name, err)
		}
	} else if tm, err := readTeachable(fsys, path.Join(dir, "metadata.json"), m.InputShape()); err != nil {
		return nil, err
	} else if tm != nil {
		classes, std = tm.Labels, tm.std
		m.Meta["source"] = strings.TrimSpace(fmt.Sprintf("Teachable Machine %s model %q (%s)", tm.Package, tm.Model, source))
		if tm.std != nil { // an image model: its library crops the centre square
			in := m.InputShape()
			if err := m.SetFraming(data.Framing{Size: [2]int{in[0], in[1]}, Crop: 1}); err != nil {
				return nil, err
			}
		}
	}
	given, err := standardizerFrom(opts.Rescale, opts.Mean, opts.Std)
	if err != nil {
		return nil, err
	}
	switch {
	case given != nil && doc.UserDefinedMetadata.Convnet != nil && std != nil:
		return nil, errors.New("the file holds the preprocessing its weights expect (convnet's userDefinedMetadata): giving preprocessing as well would replace it")
	case given != nil:
		std = given
	}
	if std != nil {
		if err := std.Check(m.InputShape()); err != nil {
			return nil, fmt.Errorf("preprocessing: %v", err)
		}
	}
	m.Standardizer = std
	if opts.ClassNames != nil {
		classes = opts.ClassNames
	}
	if len(classes) > 0 && len(classes) != m.NumClasses() {
		return nil, fmt.Errorf("%d class names for %d outputs", len(classes), m.NumClasses())
	}
	m.ClassNames = classes
	return m, nil
}

// readLimited reads the file name of fsys, refusing one of more than limit
// bytes.
func readLimited(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max(limit, 0)+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: more than the limit of %d bytes", name, limit)
	}
	return b, nil
}

// decodeTFJSWeights returns the values of each weight of specs, stored one
// after another in b, as TensorFlow.js's decodeWeights reads them.
func decodeTFJSWeights(specs []tfjsWeight, b []byte) ([][]float32, error) {
	out := make([][]float32, len(specs))
	seen := map[string]bool{}
	for i, s := range specs {
		where := fmt.Sprintf("weight %q", s.Name)
		if seen[s.Name] {
			return nil, fmt.Errorf("%s: named twice in the manifest", where)
		}
		seen[s.Name] = true
		n := 1
		for _, d := range s.Shape {
			if d < 0 || d > 0 && n > len(b)/d {
				return nil, fmt.Errorf("%s: shape %v: more values than the %d bytes of weights hold", where, s.Shape, len(b))
			}
			n *= d
		}
		if s.Dtype != "float32" && s.Dtype != "int32" {
			return nil, fmt.Errorf("%s: dtype %q, want float32 or int32", where, s.Dtype)
		}
		size, kind := 4, s.Dtype
		if q := s.Quantization; q != nil {
			switch {
			case q.Dtype == "uint8" || q.Dtype == "uint16":
				if q.Scale == nil || q.Min == nil {
					return nil, fmt.Errorf("%s: quantized as %s without a scale and a min", where, q.Dtype)
				}
			case q.Dtype == "float16" && s.Dtype == "float32":
			default:
				return nil, fmt.Errorf("%s: quantization %q of a %s weight, want uint8, uint16 or float16 (of float32)", where, q.Dtype, s.Dtype)
			}
			kind = q.Dtype
			size = map[string]int{"uint8": 1, "uint16": 2, "float16": 2}[kind]
		}
		if n*size > len(b) {
			return nil, fmt.Errorf("%s: %d bytes of %s values, %d left in the weights files", where, n*size, kind, len(b))
		}
		v := make([]float32, n)
		for k := range v {
			switch kind {
			case "float32":
				v[k] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*k:]))
			case "int32":
				v[k] = float32(int32(binary.LittleEndian.Uint32(b[4*k:])))
			case "float16":
				v[k] = halfToFloat(binary.LittleEndian.Uint16(b[2*k:]))
			case "uint8", "uint16":
				q := float64(b[k])
				if kind == "uint16" {
					q = float64(binary.LittleEndian.Uint16(b[2*k:]))
				}
				x := q**s.Quantization.Scale + *s.Quantization.Min // in float64, then float32, as JavaScript
				if s.Dtype == "int32" {
					x = math.Round(x)
				}
				v[k] = float32(x)
			}
		}
		out[i], b = v, b[n*size:]
	}
	if len(b) > 0 {
		return nil, fmt.Errorf("the weights files hold %d bytes more than the manifest's weights", len(b))
	}
	return out, nil
}

// halfToFloat returns the IEEE 754 half-precision value h as a float32,
// exactly.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp, frac := uint32(h>>10)&0x1f, uint32(h)&0x3ff
	switch {
	case exp == 0x1f: // infinities and NaNs
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0: // zero and subnormals: frac·2⁻²⁴
		v := float32(frac) / (1 << 24)
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}

// loadTFJSWeights sets every parameter of the built model from the weights
// of a manifest, found by their Keras names as in a Keras 2 file.
func (m *Sequential) loadTFJSWeights(arch []byte, specs []tfjsWeight, values [][]float32) error {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	return m.matchKeras2Weights(arch, names, func(n string) string { return n }, "the manifest", "the manifest",
		func(i int, p *nn.Param) error { return setTFJSParam(p, specs[i], values[i]) })
}

// setTFJSParam copies a weight's values into p, whose shape it must have
// (see sameWeightShape).
func setTFJSParam(p *nn.Param, s tfjsWeight, v []float32) error {
	if !sameWeightShape(s.Shape, p.Value.Shape) || len(v) != p.Value.Len() {
		return fmt.Errorf("weight %s: shape %v, the layer's %s is %v", s.Name, s.Shape, p.Name, p.Value.Shape)
	}
	copy(p.Value.Data, v)
	return nil
}

// teachable is the metadata.json of a Teachable Machine model.
type teachable struct {
	Package string   `json:"packageName"`
	Model   string   `json:"modelName"`
	Labels  []string `json:"labels"`
	std     *data.Standardizer
}

// readTeachable reads the metadata.json beside a model.json, if there is
// one and Teachable Machine wrote it: the labels, and for an image model the
// preprocessing of its library's capture, x/127 − 1.
func readTeachable(fsys fs.FS, name string, input []int) (*teachable, error) {
	b, err := readLimited(fsys, name, 1<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var tm teachable
	if err := json.Unmarshal(b, &tm); err != nil {
		return nil, fmt.Errorf("%s: %v (want Teachable Machine's metadata: labels, packageName)", name, err)
	}
	if !strings.HasPrefix(tm.Package, "@teachablemachine/") {
		return nil, nil // another program's
	}
	if tm.Package == "@teachablemachine/image" && len(input) == 3 {
		tm.std = &data.Standardizer{Rescale: 1.0 / 127, FeaturewiseCenter: true, Mean: slices.Repeat([]float32{1}, input[2])}
	}
	return &tm, nil
}
