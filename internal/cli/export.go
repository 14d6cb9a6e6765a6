package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/internal/safefile"
	"github.com/convnet-go/convnet/internal/torchexport"
	"github.com/convnet-go/convnet/internal/version"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/model/pretrained"
)

func init() {
	register(command{
		name:    "export",
		summary: "write a model for other runtimes (onnx, tfjs) or as a PyTorch project that trains it on many GPUs (pytorch)",
		run:     runExport,
	})
}

// ExportOptions are the flags of "convnet export".
type ExportOptions struct {
	Model  string // a model file or a preset (and for pytorch a JSON architecture)
	Format string // a key of exportFormats
	Out    string
	Force  bool
	// Train holds convnet train's flags, the recipe of --format pytorch.
	Train *trainOptions
	// set names the flags given on the command line; flags holds them all.
	set    map[string]bool
	flags  *flag.FlagSet
	args   []string
	stderr io.Writer // notes, such as a Normalization adapted on the data
}

// exportFormat writes a model in one format.
type exportFormat struct {
	about string
	// recipe says that the format takes convnet train's flags.
	recipe bool
	run    func(ctx context.Context, o *ExportOptions, stdout io.Writer) error
}

// exportFormats are the formats "convnet export" writes.
var exportFormats = map[string]exportFormat{
	"onnx": {
		about: "ONNX (opset 13): raw pixels 0..255 in NCHW, class probabilities out",
		run:   exportONNX,
	},
	"tfjs": {
		about: "TensorFlow.js's layers format: a folder of model.json and its weight files, for tf.loadLayersModel",
		run:   exportTFJS,
	},
	"keras": {
		about: "Keras's HDF5 model file (Keras 2's model.save(\"m.h5\")), for keras.models.load_model in Keras 2 and 3",
		run:   exportKeras,
	},
	"pytorch": {
		about:  "a PyTorch project: model.py, train.py (the recipe, DistributedDataParallel), README.md and the model file",
		recipe: true,
		run:    exportPyTorch,
	},
}

func exportFormatNames() []string {
	var names []string
	for k := range exportFormats {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := ExportOptions{Train: &trainOptions{}, set: map[string]bool{}, args: args, stderr: stderr}
	fs := newFlagSet("export", "--model FILE --format onnx --out FILE\n       convnet export --model FILE --format tfjs --out DIR\n       convnet export --model FILE --format keras --out FILE.h5\n       convnet export --format pytorch --out DIR [--model FILE|PRESET|ARCH.json] [convnet train's flags]", stderr)
	fs.StringVar(&o.Format, "format", "onnx", "the format to write: "+strings.Join(exportFormatNames(), ", "))
	// convnet train's flags are the recipe of --format pytorch; --model,
	// --out and --force are the export's own.
	tfs := flag.NewFlagSet("train", flag.ContinueOnError)
	o.Train.register(tfs)
	tfs.VisitAll(func(f *flag.Flag) {
		usage, value := "pytorch: "+f.Usage, f.Value
		switch f.Name {
		case "model":
			usage = "the model file, a built-in model (" + strings.Join(pretrained.Names(), ", ") + "), or a preset (" + strings.Join(model.PresetNames(), ", ") + ") or JSON architecture with random weights " +
				"(pytorch: convnet's initial weights for --seed); required for onnx, tfjs and keras (pytorch default: the recipe's)"
		case "out":
			usage = "the file (onnx, keras) or the new folder (pytorch, tfjs) to write (required)"
		case "force":
			usage = "overwrite an existing output file (pytorch: the project's files in an existing folder)"
		case "max-memory":
			// A model file's limit, as for predict and serve.
			usage = "the memory a model file may need to run on one image, such as 2GiB: larger models are refused"
			value = &memorySize{n: &o.Train.MaxMemory, text: fmt.Sprintf("%dMiB", model.DefaultMaxMemory>>20)}
		}
		fs.Var(value, f.Name, usage)
		if f.Name == "model" {
			// Train's default preset is not the export's: onnx, tfjs
			// and keras require --model, pytorch takes the recipe's.
			fs.Lookup(f.Name).DefValue = ""
		}
	})
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	o.flags = fs
	o.Model, o.Out, o.Force = o.Train.Model, o.Train.Out, o.Train.Force
	f, ok := exportFormats[o.Format]
	switch {
	case len(rest) > 0:
		return usagef("unexpected argument %q", rest[0])
	case !ok:
		return usagef("--format %q: want one of %s", o.Format, strings.Join(exportFormatNames(), ", "))
	case o.Out == "":
		return usagef("--out is required")
	}
	if !f.recipe {
		if !o.set["model"] {
			return usagef("--model and --out are required")
		}
		for name := range o.set {
			if !slices.Contains([]string{"format", "model", "out", "force", "max-memory"}, name) {
				return usagef("--%s is a training flag: it applies to --format pytorch", name)
			}
		}
	}
	return f.run(ctx, &o, stdout)
}

func exportONNX(ctx context.Context, o *ExportOptions, stdout io.Writer) error {
	m, err := openModel(o.Model, nil, 0, o.Train.MaxMemory)
	if err != nil {
		return err
	}
	write := func(w io.Writer) error {
		return model.ExportONNX(w, m, model.ONNXExportOptions{ProducerVersion: version.String()})
	}
	if err := safefile.Write(o.Out, o.Force, write); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (ONNX opset 13: raw pixels 0..255 in NCHW, class probabilities out)\n", o.Out)
	return nil
}

func exportKeras(ctx context.Context, o *ExportOptions, stdout io.Writer) error {
	if ext := strings.ToLower(filepath.Ext(o.Out)); ext != ".h5" && ext != ".hdf5" {
		return usagef("--out %s: Keras reads this format from a .h5 file (a .keras file is a zip Keras 3 writes otherwise)", o.Out)
	}
	m, err := openModel(o.Model, nil, 0, o.Train.MaxMemory)
	if err != nil {
		return err
	}
	write := func(w io.Writer) error {
		return model.ExportKeras(w, m, model.KerasExportOptions{GeneratedBy: "convnet " + version.String()})
	}
	if err := safefile.Write(o.Out, o.Force, write); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (Keras's HDF5 model file: keras.models.load_model(%q); inputs standardised as its convnet attribute says, outputs the model's)\n", o.Out, filepath.Base(o.Out))
	return nil
}

func exportTFJS(ctx context.Context, o *ExportOptions, stdout io.Writer) error {
	m, err := openModel(o.Model, nil, 0, o.Train.MaxMemory)
	if err != nil {
		return err
	}
	files, err := model.ExportTFJS(m, model.TFJSExportOptions{GeneratedBy: "convnet " + version.String()})
	if err != nil {
		return err
	}
	project := make([]torchexport.File, len(files))
	for i, f := range files {
		project[i] = torchexport.File(f)
	}
	if err := writeProject(o.Out, o.Force, project); err != nil {
		return err
	}
	// Weight files of a model written there before, which model.json no
	// longer names, go.
	written := map[string]bool{}
	for _, f := range files {
		written[f.Name] = true
	}
	old, _ := filepath.Glob(filepath.Join(o.Out, "group*-shard*of*.bin"))
	for _, path := range old {
		if !written[filepath.Base(path)] {
			if err := os.Remove(path); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(stdout, "wrote %s (TensorFlow.js layers format: model.json and %d weight file(s); inputs standardised as the model's metadata says, outputs the model's)\n", o.Out, len(files)-1)
	return nil
}
