package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/model/pretrained"
)

func init() {
	register(command{name: "predict", summary: "classify images, folders of images or CSV rows with a trained or built-in model", run: runPredict})
}

type predictOptions struct {
	Model       string
	Top         int
	Output      string // table, csv or json
	Invert      string // auto, yes, no
	CSVLabel    string // label column of the CSV inputs; "" means none
	ColumnMajor bool   // CSV pixels stored column by column (AHCD)
	Inputs      []string
	MaxMemory   int64  // what the model may take to run (0: the default)
	CAM         string // a class activation map to draw for each input: gradcam, hirescam, occlusion or ""
	CAMDir      string // where the maps go
	CAMLayer    string // the name of the layer the maps weigh; "": the last convolution's block
	TTA         ttaFlags
	BF16        bool
}

func parsePredict(args []string, stderr io.Writer) (*predictOptions, error) {
	o := &predictOptions{}
	fs := newFlagSet("predict", "--model FILE|NAME [flags] INPUT...\n\nAn INPUT is an image file (PNG, JPEG, GIF, BMP, PGM, PPM), a folder (its images, recursively),\n- (an image on standard input) or a .csv file (one image per row, pixel columns only unless\n--csv-label names a label column). Flags may come before or after the inputs.", stderr)
	fs.StringVar(&o.Model, "model", "", "the model: a model file, or a built-in model ("+strings.Join(pretrained.Names(), ", ")+")")
	fs.IntVar(&o.Top, "top", 3, "how many classes to give per input")
	fs.StringVar(&o.Output, "output", "table", "table, csv or json (one JSON object per line)")
	fs.StringVar(&o.Invert, "invert", "auto", "make images white on black like the training data: auto (when the border is light and the model learnt light ink on dark, not for a model of photographs), yes or no; CSV rows are used as they are")
	fs.StringVar(&o.CSVLabel, "csv-label", "", "label column of the CSV inputs, a header name or a 0-based index (default: none, every column is a pixel)")
	fs.BoolVar(&o.ColumnMajor, "column-major", false, "CSV pixels are stored column by column, as in AHCD's CSV files")
	maxMemoryFlag(fs, &o.MaxMemory)
	fs.StringVar(&o.CAM, "cam", "", "also draw each input's class activation map of its top class: "+strings.Join(model.CAMMethods, " or ")+" (the map of Zeiler and Fergus's occlusion test: where hiding a square of the input lowers the class's probability), into --cam-dir")
	fs.StringVar(&o.CAMDir, "cam-dir", "", "the folder of the --cam pictures, made if missing: INPUT.METHOD.png each (the input as the model sees it, the map over it)")
	fs.StringVar(&o.CAMLayer, "cam-layer", "", "the layer whose maps --cam weighs, by its name in convnet summary (default: the last convolution's block)")
	o.TTA.register(fs)
	bf16Flag(fs, &o.BF16, "the model's products")
	inputs, err := parseFlagsAnywhere(fs, args)
	if err != nil {
		return nil, err
	}
	o.Inputs = inputs
	if err := o.TTA.check(fs); err != nil {
		return nil, err
	}
	switch {
	case o.Model == "":
		return nil, usagef("--model is required: a model file or one of %s", strings.Join(pretrained.Names(), ", "))
	case len(o.Inputs) == 0:
		return nil, usagef("give the image files, folders or CSV files to classify (- for standard input)")
	case o.Top < 1:
		return nil, usagef("--top %d: want at least 1", o.Top)
	case !slices.Contains([]string{"table", "csv", "json"}, o.Output):
		return nil, usagef("--output %q: want table, csv or json", o.Output)
	case !slices.Contains([]string{"auto", "yes", "no"}, o.Invert):
		return nil, usagef("--invert %q: want auto, yes or no", o.Invert)
	case o.CAM != "" && !slices.Contains(model.CAMMethods, o.CAM):
		return nil, usagef("--cam %q: want one of %s", o.CAM, strings.Join(model.CAMMethods, ", "))
	case o.CAM != "" && o.CAMDir == "":
		return nil, usagef("--cam needs --cam-dir, the folder its pictures go to")
	case o.CAM == "" && (o.CAMDir != "" || o.CAMLayer != ""):
		return nil, usagef("--cam-dir and --cam-layer go with --cam")
	case o.CAM == "occlusion" && o.CAMLayer != "":
		return nil, usagef("--cam-layer goes with gradcam and hirescam: occlusion hides squares of the input, it weighs no layer")
	}
	return o, nil
}

// loadModel reads the model a --model flag names: a model file or, when no
// such file exists, a built-in model. A model that needs more than maxMemory
// bytes to run on one image (0: the library's default) is refused.
func loadModel(spec string, maxMemory int64) (m *model.Sequential, builtin bool, err error) {
	if _, err := os.Stat(spec); errors.Is(err, fs.ErrNotExist) && slices.Contains(pretrained.Names(), spec) {
		m, err := pretrained.Load(spec)
		if err == nil && maxMemory > 0 && m.ActivationBytes(1) > maxMemory { // as model.LoadWith checks a file
			err = fmt.Errorf("%w (--max-memory raises the limit)", &model.MemoryError{Need: model.Bytes(m.ActivationBytes(1)), Limit: model.Bytes(maxMemory), Input: m.InputShape()})
		}
		return m, true, err
	}
	m, err = model.LoadWith(spec, model.LoadOptions{MaxMemory: maxMemory})
	switch me := new(model.MemoryError); {
	case err != nil && isArchitectureFile(spec):
		err = fmt.Errorf("%s is an architecture (JSON) without trained weights, not a model file: train it first (convnet train --model %s)", spec, spec)
	case errors.Is(err, fs.ErrNotExist):
		err = fmt.Errorf("%w (the built-in models are %s)", err, strings.Join(pretrained.Names(), ", "))
	case errors.As(err, &me):
		err = fmt.Errorf("%w (--max-memory raises the limit)", err)
	case err != nil && strings.EqualFold(filepath.Ext(spec), ".onnx"):
		err = fmt.Errorf("%w (an ONNX model becomes a model file with convnet import --onnx %s --out MODEL.safetensors)", err, spec)
	case err != nil && slices.Contains([]string{".keras", ".h5", ".hdf5"}, strings.ToLower(filepath.Ext(spec))):
		err = fmt.Errorf("%w (a Keras model becomes a model file with convnet import --keras %s --out MODEL.safetensors)", err, spec)
	case err != nil && strings.EqualFold(filepath.Ext(spec), ".json"):
		err = fmt.Errorf("%s: neither a model file nor an architecture, a JSON object as Keras's model.to_json() writes it", spec)
	case err != nil && slices.Contains(imageExts, strings.ToLower(filepath.Ext(spec))):
		err = fmt.Errorf("%s is an image, not a model: give the model with --model and the images to classify after it", spec)
	}
	return m, false, err
}

// classifier loads the model a --model flag names and makes its classifier,
// running batches of at most opts.BatchSize images that fit in maxMemory
// (0: the library's default) with those of its other copies.
func classifier(spec string, maxMemory int64, opts model.ClassifierOptions) (*model.Classifier, bool, error) {
	m, builtin, err := loadModel(spec, maxMemory)
	if err != nil {
		return nil, false, err
	}
	opts.MaxMemory = cmp.Or(maxMemory, model.DefaultMaxMemory)
	c, err := model.NewClassifier(m, opts)
	if err != nil {
		return nil, false, fmt.Errorf("model %s: %w", spec, err)
	}
	return c, builtin, nil
}

func runPredict(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parsePredict(args, stderr)
	if err != nil {
		return err
	}
	invert := map[string]model.Invert{"auto": model.InvertAuto, "yes": model.InvertAlways, "no": model.InvertNever}[o.Invert]
	if err := checkBF16(o.BF16); err != nil {
		return err
	}
	c, _, err := classifier(o.Model, o.MaxMemory, model.ClassifierOptions{Invert: invert, BatchSize: predictChunk, BF16: o.BF16})
	if err != nil {
		return err
	}
	camLayer := -1
	if o.CAM != "" {
		if camLayer, err = layerNamed(c.Model(), o.CAMLayer); err != nil {
			return err
		}
		if _, err := c.Model().CheckCAMLayer(camLayer); err != nil && o.CAM != "occlusion" {
			return usagef("--cam: %v", err)
		}
		if err := os.MkdirAll(o.CAMDir, 0o755); err != nil {
			return fmt.Errorf("--cam-dir: %w", err)
		}
	}
	p := &predictor{ctx: ctx, o: o, c: c, camLayer: camLayer, stderr: stderr, progress: newProgress(stderr, isTerminal(stderr), 0)}
	p.out, err = newPredictWriter(o.Output, stdout, c.ClassNames(), o.Top, o.CSVLabel != "")
	if err != nil {
		return err
	}
	sources := p.list()
	for _, s := range sources {
		if !s.csv {
			p.progress.grow(1)
		}
	}
	defer p.progress.clear()
	if err := p.run(sources); err != nil {
		return err
	}
	if err := p.out.flush(); err != nil {
		return err
	}
	if o.CAM != "" {
		fmt.Fprintf(stderr, "Wrote %d class activation maps (%s) to %s\n", p.done, o.CAM, o.CAMDir)
	}
	if p.failed > 0 {
		return fmt.Errorf("%d of %d inputs could not be classified (see above)", p.failed, p.failed+p.done)
	}
	return nil
}
