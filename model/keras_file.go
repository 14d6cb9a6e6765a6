package model

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/convnet-go/convnet/internal/hdf5"
	"github.com/convnet-go/convnet/nn"
)

// KerasImportOptions configure [ImportKeras] and [ImportTFJS]. The fields
// mean what those of [ONNXImportOptions] of the same names do: a Keras model
// takes its inputs as its training fed them, so preprocessing outside the
// model (such as x/255 before fit) is given here; a file [ExportKeras] or
// [ExportTFJS] wrote holds its own, and giving it as well is an error.
type KerasImportOptions struct {
	InputShape []int // [H W C], when the model's config leaves it out
	// Architecture is the model's architecture document (what to_json
	// writes), for a file of weights alone.
	Architecture []byte
	ClassNames   []string
	Rescale      float32
	Mean, Std    []float32
	// MaxBytes bounds the size of the file and of what it unpacks to; 0
	// means 1 GiB.
	MaxBytes int64
}

// The members of a .keras file, and where the layers of an older one are.
const (
	legacyLayers = "_layer_checkpoint_dependencies"

	kerasConfigFile  = "config.json"
	kerasWeightsFile = "model.weights.h5"
	kerasMetaFile    = "metadata.json"
)

// ImportKeras reads a model saved by Keras: a .keras file of Keras 3,
// model.save("m.keras"), whose config.json is the architecture, read as
// [ParseArchitecture] reads it, and whose model.weights.h5 holds every
// layer's variables (those of layer i of a class under "layers/<class in
// snake case>_<i>/vars", numbered in the order the layer creates them); or
// an HDF5 file of Keras 2, model.save("m.h5"), whose attribute model_config
// is the architecture and whose group model_weights holds the weights by
// name ("conv2d/kernel:0"); or the weights alone of either
// (model.save_weights), with opts.Architecture. The weights take the place
// of the built model's; a layer whose weights are missing, more or fewer
// than the layer's, or of other shapes, is an error naming it.
func ImportKeras(r io.ReaderAt, size int64, opts KerasImportOptions) (*Model, error) {
	limit := opts.MaxBytes
	if limit <= 0 {
		limit = defaultMaxImportBytes
	}
	if size > limit {
		return nil, fmt.Errorf("keras: the file has %d bytes, more than the limit of %d", size, limit)
	}
	var m *Model
	head := make([]byte, 4)
	r.ReadAt(head, 0)
	if string(head) == "PK\x03\x04" || string(head) == "PK\x05\x06" { // a zip archive's first member, or the end of an empty one
		if opts.Architecture != nil {
			return nil, fmt.Errorf("keras: a .keras file holds its architecture (config.json): an architecture given too is for a file of weights alone")
		}
		var err error
		if m, err = importKerasZip(r, size, limit, opts); err != nil {
			return nil, fmt.Errorf("keras: %w", err)
		}
	} else {
		h, err := hdf5.Open(r, size)
		if err != nil {
			return nil, fmt.Errorf("keras: neither a .keras file (a zip archive) nor an HDF5 file of Keras: %w", err)
		}
		if m, err = importKerasH5(h, size, opts); err != nil {
			return nil, fmt.Errorf("keras: %w", err)
		}
	}
	std, err := standardizerFrom(opts.Rescale, opts.Mean, opts.Std)
	if err != nil {
		return nil, fmt.Errorf("keras: %w", err)
	}
	switch {
	case std != nil && m.Standardizer != nil:
		return nil, fmt.Errorf("keras: the file holds the preprocessing its weights expect (convnet's attribute): giving preprocessing as well would replace it")
	case std != nil:
		m.Standardizer = std
	}
	if std := m.Standardizer; std != nil {
		if err := std.Check(m.InputShape()); err != nil {
			return nil, fmt.Errorf("keras: preprocessing: %v", err)
		}
	}
	if opts.ClassNames != nil || m.ClassNames == nil {
		m.ClassNames = opts.ClassNames
	}
	if len(m.ClassNames) > 0 && len(m.ClassNames) != m.NumClasses() {
		return nil, fmt.Errorf("keras: %d class names for %d outputs", len(m.ClassNames), m.NumClasses())
	}
	return m, nil
}

// importKerasZip reads a .keras file.
func importKerasZip(r io.ReaderAt, size, limit int64, opts KerasImportOptions) (*Model, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("not a .keras file (a zip archive): %v", err)
	}
	files := map[string][]byte{}
	for _, name := range []string{kerasConfigFile, kerasWeightsFile, kerasMetaFile} {
		b, err := zipMember(zr, name, limit)
		if err != nil {
			return nil, err
		}
		files[name] = b
	}
	if files[kerasConfigFile] == nil || files[kerasWeightsFile] == nil {
		return nil, fmt.Errorf("the archive lacks %s or %s: not a model saved by Keras 3's model.save", kerasConfigFile, kerasWeightsFile)
	}
	h, err := hdf5.Open(bytes.NewReader(files[kerasWeightsFile]), int64(len(files[kerasWeightsFile])))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kerasWeightsFile, err)
	}
	m, err := ParseArchitecture(files[kerasConfigFile])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kerasConfigFile, err)
	}
	if err := m.buildForWeights(opts.InputShape, int64(len(files[kerasWeightsFile]))); err != nil {
		return nil, err
	}
	if err := m.loadKerasWeights(files[kerasConfigFile], h); err != nil {
		return nil, fmt.Errorf("%s: %w", kerasWeightsFile, err)
	}
	var meta struct {
		Version string `json:"keras_version"`
		Saved   string `json:"date_saved"`
	}
	json.Unmarshal(files[kerasMetaFile], &meta) // only for the record
	m.Meta = map[string]string{"source": strings.TrimSpace(fmt.Sprintf("Keras %s (.keras file saved %s)", meta.Version, meta.Saved))}
	return m, nil
}

// buildForWeights builds m for a weights file of size bytes, refusing
// before it allocates them more weights than such a file can hold: two per
// byte (float16), and some.
func (m *Sequential) buildForWeights(inputShape []int, size int64) error {
	limit := 2*size + 1<<16
	var n int64
	return m.build(inputShape, 1, func(l nn.Layer, in []int, built bool) error {
		if built {
			return nil
		}
		if n = addSat(n, paramEstimate(l, in)); n > limit {
			return fmt.Errorf("%s (%s) would bring the weights to %d values, more than a weights file of %d bytes can hold", l.Name(), l.Type(), n, size)
		}
		return nil
	})
}

// zipMember returns the member called name of zr, or nil if there is none;
// one larger than limit is an error.
func zipMember(zr *zip.Reader, name string, limit int64) ([]byte, error) {
	for _, f := range zr.File {
		if f.Name != name {
			continue
		}
		if f.UncompressedSize64 > uint64(limit) {
			return nil, fmt.Errorf("%s unpacks to %d bytes, more than the limit of %d", name, f.UncompressedSize64, limit)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, int64(f.UncompressedSize64)+1))
		if err == nil && uint64(len(b)) != f.UncompressedSize64 {
			err = fmt.Errorf("%d bytes, the archive says %d", len(b), f.UncompressedSize64)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		return b, nil
	}
	return nil, nil
}

// kerasVars is where a layer's variables are in a Keras 3 weights file,
// and the layer's class.
type kerasVars struct{ path, class string }

// kerasWeightPaths walks the layers of a Keras 3 architecture document as
// Keras's saving walks a model's layers, and returns where each named
// layer's variables are: "layers/<class in snake case>", with "_1", "_2",
// ... for the second and later layers of a class, a nested Sequential's or
// Functional's under its own "layers".
func kerasWeightPaths(doc []byte) (map[string]kerasVars, error) {
	var root struct {
		Config struct {
			Layers []json.RawMessage `json:"layers"`
		} `json:"config"`
	}
	if err := json.Unmarshal(doc, &root); err != nil {
		return nil, err
	}
	paths := map[string]kerasVars{}
	var walk func(layers []json.RawMessage, prefix string, depth int) error
	walk = func(layers []json.RawMessage, prefix string, depth int) error {
		if depth > maxNesting {
			return fmt.Errorf("models nested more than %d deep", maxNesting)
		}
		used := map[string]int{}
		for _, raw := range layers {
			var l struct {
				ClassName string `json:"class_name"`
				Config    struct {
					Name   string            `json:"name"`
					Layers []json.RawMessage `json:"layers"`
				} `json:"config"`
			}
			if err := json.Unmarshal(raw, &l); err != nil {
				return err
			}
			path := prefix + "/" + uniqueName(snakeCase(l.ClassName), used) // Keras's naming.to_snake_case
			if l.ClassName == "Sequential" || l.ClassName == "Functional" || l.ClassName == "Model" {
				if err := walk(l.Config.Layers, path+"/layers", depth+1); err != nil {
					return err
				}
				continue
			}
			paths[l.Config.Name] = kerasVars{path + "/vars", l.ClassName}
		}
		return nil
	}
	return paths, walk(root.Config.Layers, "layers", 0)
}

// uniqueName is Keras's saving_lib._get_unique_name.
func uniqueName(name string, used map[string]int) string {
	n, ok := used[name]
	if !ok {
		used[name] = 0
		return name
	}
	used[name] = n + 1
	return fmt.Sprintf("%s_%d", name, n+1)
}

// loadKerasWeights sets every parameter of the built model from the
// variables of the Keras weights file h, found through the architecture
// document doc.
func (m *Sequential) loadKerasWeights(doc []byte, h *hdf5.File) error {
	paths, err := kerasWeightPaths(doc)
	if err != nil {
		return err
	}
	if root := h.Root(); !root.Has("layers") && root.Has(legacyLayers) {
		// The .keras files of TensorFlow 2.12 to 2.15's Keras: Keras 3
		// reads them by this substitution.
		for name, v := range paths {
			v.path = strings.ReplaceAll(v.path, "layers", legacyLayers)
			paths[name] = v
		}
	}
	for _, l := range m.Layers {
		ps := l.Params()
		if len(ps) == 0 {
			continue
		}
		vars, first, err := layerVars(l, paths)
		if err != nil {
			return err
		}
		g, err := h.Root().Group(vars.path)
		if err != nil {
			return fmt.Errorf("layer %s (%s): %w%s", l.Name(), vars.class, err, siblings(h.Root(), vars.path))
		}
		// A SeparableConv2D's variables are shared by its two layers.
		if n := len(g.Names()); n != len(ps)+first && !(vars.class == "SeparableConv2D" && n >= len(ps)+first) {
			return fmt.Errorf("layer %s (%s): %s holds %d variables, the layer has %d (%s)", l.Name(), vars.class, g.Path(), n, len(ps), paramList(ps))
		}
		for i, p := range ps {
			if err := readKerasVar(g, fmt.Sprint(first+i), p); err != nil {
				return fmt.Errorf("layer %s (%s): %w", l.Name(), vars.class, err)
			}
		}
	}
	return nil
}

// siblings says what the nearest existing group above path holds.
func siblings(root *hdf5.Group, path string) string {
	for dir := path; dir != ""; {
		i := strings.LastIndex(dir, "/")
		if i < 0 {
			break
		}
		dir = dir[:i]
		if g, err := root.Group(dir); err == nil {
			return fmt.Sprintf(" (%s holds %s)", g.Path(), strings.Join(g.Names(), ", "))
		}
	}
	return ""
}

// layerVars finds where layer l's variables are, and the number of the
// first: a SeparableConv2D came in as two layers, its depthwise kernel (0)
// for the first, its pointwise kernel and bias (1 and 2) for the second.
func layerVars(l nn.Layer, paths map[string]kerasVars) (kerasVars, int, error) {
	if v, ok := paths[l.Name()]; ok {
		if v.class == "SeparableConv2D" {
			return v, 1, nil
		}
		return v, 0, nil
	}
	if base, ok := strings.CutSuffix(l.Name(), "_depthwise"); ok {
		if v, ok := paths[base]; ok && v.class == "SeparableConv2D" {
			return v, 0, nil
		}
	}
	return kerasVars{}, 0, fmt.Errorf("layer %s: not in the architecture's layers", l.Name())
}

// readKerasVar reads dataset name of g into p.
func readKerasVar(g *hdf5.Group, name string, p *nn.Param) error {
	d, err := g.Dataset(name)
	if err != nil {
		return err
	}
	return readKerasDataset(d, p)
}

// paramList names the parameters and their shapes.
func paramList(ps []*nn.Param) string {
	var s []string
	for _, p := range ps {
		s = append(s, fmt.Sprintf("%s %v", p.Name, p.Value.Shape))
	}
	return strings.Join(s, ", ")
}
