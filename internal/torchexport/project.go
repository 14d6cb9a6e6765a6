package torchexport

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"strings"
	"text/template"

	"github.com/convnet-go/convnet/model"
)

//go:embed templates/*.tmpl
var templateFiles embed.FS

var templates = template.Must(template.ParseFS(templateFiles, "templates/*.tmpl"))

// ModelFile is the name of the convnet model file in a project: the
// network the training starts from.
const ModelFile = "convnet.safetensors"

// Project is a PyTorch project to write: a network and how to train it.
type Project struct {
	// Model is the network, built, with its weights, class names and
	// preprocessing (Standardizer); it is saved in the project as ModelFile.
	Model *model.Sequential
	// Title names the network for the reader, such as `convnet's
	// "tutorial" network`.
	Title string
	// Trained says that Model's weights come from training, not from
	// initialisation.
	Trained bool
	Recipe  Recipe
	// Version is convnet's version, written in the files.
	Version string
}

// File is one file of a project.
type File struct {
	Name string // a base name: the project is one folder
	Data []byte
}

// Generate returns the project's files: ModelFile, model.py, train.py and
// README.md. A layer, preprocessing step or option the PyTorch side cannot
// reproduce exactly is an *[UnsupportedError] naming it.
func Generate(p Project) ([]File, error) {
	m := p.Model
	if m == nil || !m.Built() {
		return nil, errors.New("torchexport: the model is not built")
	}
	if m.NumClasses() < 2 {
		return nil, unsupported("the model's output", "shape %v, want a vector of class scores", m.OutputShape())
	}
	in := m.InputShape()
	if len(in) != 3 {
		return nil, unsupported("the model's input", "shape %v: the PyTorch project trains on images (height, width, channels)", in)
	}
	w := &walker{attrs: map[string]bool{}, flat: map[string]*[3]int{}, inference: m.InferenceInTraining}
	layers, output, err := w.layers(m)
	if err != nil {
		return nil, err
	}
	pre, err := w.preprocess(m.Standardizer, in)
	if err != nil {
		return nil, err
	}
	md := modelData{
		Title: pyDoc(p.Title), Version: pyDoc(p.Version), ModelFile: ModelFile,
		NumLayers: len(m.Layers), Classes: m.NumClasses(),
		InputHWC:      fmt.Sprintf("%dx%dx%d", in[0], in[1], in[2]),
		InputCHW:      fmt.Sprintf("%d, %d, %d", in[2], in[0], in[1]),
		EndsInSoftmax: w.softmax,
		Helpers:       w.helpers, Preprocess: pre, Layers: layers, Output: output,
	}
	train, _ := m.ParamCount()
	md.Params = commas(train)
	if md.Penalties, err = penalties(m, layers); err != nil {
		return nil, err
	}
	if md.Constraints, err = constraints(m, layers); err != nil {
		return nil, err
	}
	if md.Frozen, err = frozen(m, layers); err != nil {
		return nil, err
	}
	for i, l := range layers {
		if l.Attr != "" {
			md.LayerNames = append(md.LayerNames, fmt.Sprintf("%s: %s,", pyStr(l.Attr), pyStr(m.Layers[i].Name())))
		}
	}
	td, err := p.trainData()
	if err != nil {
		return nil, err
	}
	if o := p.Recipe.Optimizer; o != nil {
		names, err := noDecay(m, layers, o.Config())
		if err != nil {
			return nil, err
		}
		if len(names) > 0 {
			td.Opt.NoDecay = pySet(names)
		}
	}
	var weights bytes.Buffer
	if err := model.Encode(&weights, m, false); err != nil {
		return nil, err
	}
	files := []File{{Name: ModelFile, Data: weights.Bytes()}}
	for _, f := range []struct {
		name, tmpl string
		data       any
	}{
		{"model.py", "model.py.tmpl", md},
		{"train.py", "train.py.tmpl", td},
		{"README.md", "README.md.tmpl", p.readmeData(td, w.helpers)},
	} {
		var b bytes.Buffer
		if err := templates.ExecuteTemplate(&b, f.tmpl, f.data); err != nil {
			return nil, fmt.Errorf("torchexport: %s: %w", f.name, err)
		}
		files = append(files, File{Name: f.name, Data: b.Bytes()})
	}
	return files, nil
}

// modelData fills model.py.tmpl.
type modelData struct {
	Title, Version, ModelFile string
	NumLayers, Classes        int
	Params                    string
	InputHWC, InputCHW        string
	EndsInSoftmax             bool
	Helpers                   helpers
	Preprocess                preprocess
	Layers                    []pyLayer
	Output                    string   // the variable Net.forward returns
	LayerNames                []string // the entries of LAYER_NAMES
	Penalties                 []string // the terms of regularization(net)
	Constraints               []string // the statements of constrain(net)
	Frozen                    []string // the tensors of Net that do not train
}

// HasLoad reports whether load_convnet copies anything.
func (d modelData) HasLoad() bool {
	if len(d.Preprocess.Load) > 0 {
		return true
	}
	for _, l := range d.Layers {
		if len(l.Load) > 0 {
			return true
		}
	}
	return false
}

// HasSave reports whether save_convnet copies anything.
func (d modelData) HasSave() bool {
	for _, l := range d.Layers {
		if len(l.Save) > 0 {
			return true
		}
	}
	return false
}

// readmeData fills README.md.tmpl.
type readmeData struct {
	Title, Version, Command, ModelFile string
	Trained, BatchNorm                 bool
	Augment, Mix, Validation, Images   bool
	BatchSize                          int
	Accumulate                         int // steps per update; 0: every step
	Seed                               uint64
	DataNote, EvaluateFlags            string
	TensorBoard                        string // the folder of the event files, "": none
	WriteImages                        bool   // the weights drawn as images too
	UpdateFreq                         int    // batch figures every this many steps; 0: none
	// The parts of the loop whose state a checkpoint holds.
	Plateau, EMA, SWA, EarlyStopping, RestoreBest, CSVLog bool
}

func (p Project) readmeData(td trainData, h helpers) readmeData {
	r := p.Recipe
	d := readmeData{
		Title: p.Title, Version: p.Version, Command: p.Recipe.Command, ModelFile: ModelFile,
		Trained: p.Trained, BatchNorm: h.BatchNorm, Augment: r.Augment != nil, Mix: td.Mix,
		Validation: r.Validation.Split > 0, Images: r.Data.Images != "",
		BatchSize: r.BatchSize, Accumulate: td.Opt.Accumulate, Seed: r.Seed, TensorBoard: r.TensorBoard, WriteImages: r.WriteImages, UpdateFreq: r.UpdateFreq,
		Plateau: td.Sched.Kind == "plateau", EMA: td.Opt.EMA != "", SWA: td.SWA != "", EarlyStopping: td.EarlyStopping != "",
		RestoreBest: td.RestoreBest, CSVLog: td.CSVLog != "",
	}
	switch {
	case r.Data.Images != "":
		d.DataNote = "the folder given by --images, or where train.py's --images says"
		if r.Data.TestImages != "" {
			d.EvaluateFlags = " --images " + r.Data.TestImages
		}
	case r.Data.CSV != "":
		d.DataNote = "the file given by --csv, or where train.py's --csv says"
		if r.Data.TestCSV != "" {
			d.EvaluateFlags = " --csv " + r.Data.TestCSV
		}
	default:
		d.DataNote = fmt.Sprintf("in $CONVNET_DATA/%s, the folder of --data-dir, or downloaded into ~/.cache/convnet", r.Data.Dataset)
		d.EvaluateFlags = " --dataset " + r.Data.Dataset
	}
	return d
}

// commas writes n with thousands separators.
func commas(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
