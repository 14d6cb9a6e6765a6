package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/internal/safefile"
	"github.com/convnet-go/convnet/internal/version"
	"github.com/convnet-go/convnet/model"
)

func init() {
	register(command{
		name:    "export",
		summary: "write a model in another format (onnx) for other runtimes",
		run:     runExport,
	})
}

// ExportOptions are the flags of "convnet export".
type ExportOptions struct {
	Model  string // a model file or a preset
	Format string // a key of exportFormats
	Out    string
	Force  bool
}

// exportFormat writes a model in one format.
type exportFormat struct {
	about string
	write func(w io.Writer, m *model.Sequential) error
}

// exportFormats are the formats "convnet export" writes.
var exportFormats = map[string]exportFormat{
	"onnx": {
		about: "ONNX (opset 13): raw pixels 0..255 in NCHW, class probabilities out",
		write: func(w io.Writer, m *model.Sequential) error {
			return model.ExportONNX(w, m, model.ONNXExportOptions{ProducerVersion: version.String()})
		},
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
	var o ExportOptions
	fs := newFlagSet("export", "--model FILE --format onnx --out FILE", stderr)
	fs.StringVar(&o.Model, "model", "", "the model file, or a preset ("+strings.Join(model.PresetNames(), ", ")+") with random weights (required)")
	fs.StringVar(&o.Format, "format", "onnx", "the format to write: "+strings.Join(exportFormatNames(), ", "))
	fs.StringVar(&o.Out, "out", "", "the file to write (required)")
	fs.BoolVar(&o.Force, "force", false, "overwrite an existing output file")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usagef("unexpected argument %q", rest[0])
	case o.Model == "" || o.Out == "":
		return usagef("--model and --out are required")
	}
	if _, ok := exportFormats[o.Format]; !ok {
		return usagef("--format %q: want one of %s", o.Format, strings.Join(exportFormatNames(), ", "))
	}
	return export(o, stdout)
}

func export(o ExportOptions, stdout io.Writer) error {
	m, err := openModel(o.Model, nil, 0, 0)
	if err != nil {
		return err
	}
	f := exportFormats[o.Format]
	if err := safefile.Write(o.Out, o.Force, func(w io.Writer) error { return f.write(w, m) }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%s)\n", o.Out, f.about)
	return nil
}
