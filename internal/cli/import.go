package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/convnet-go/convnet/model"
)

func init() {
	register(command{
		name:    "import",
		summary: "turn an ONNX model (from PyTorch, say), a Keras model or a TensorFlow.js model (Teachable Machine's) into a convnet model file",
		run:     runImport,
	})
}

// ImportOptions are the flags of "convnet import".
type ImportOptions struct {
	ONNX    string // the ONNX file
	Keras   string // or the .keras or HDF5 file
	TFJS    string // or the TensorFlow.js model.json, its folder, or a zip of them
	Arch    string // the architecture of a file of Keras weights alone
	Out     string // the model file to write
	Classes string // a file of class names, one per line
	Force   bool
	Crop    *float64 // the framing's center crop, if given
	Model   model.ONNXImportOptions
}

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o ImportOptions
	var shape, rescale, mean, std string
	fs := newFlagSet("import", "--onnx FILE | --keras FILE | --tfjs model.json --out FILE [flags]", stderr)
	fs.StringVar(&o.ONNX, "onnx", "", "the ONNX model to import")
	fs.StringVar(&o.Keras, "keras", "", "or the Keras model to import: model.save(\"m.keras\") of Keras 3, model.save(\"m.h5\") of Keras 2, or save_weights(\"w.h5\") with --arch")
	fs.StringVar(&o.TFJS, "tfjs", "", "or the TensorFlow.js layers model to import: its model.json (the weights files beside it), its folder, or a zip of them such as Teachable Machine's download")
	fs.StringVar(&o.Arch, "arch", "", "with --keras of weights alone: the architecture, as model.to_json() writes it")
	fs.StringVar(&o.Out, "out", "", "the convnet model file to write (required)")
	fs.StringVar(&o.Classes, "classes", "", "a text file of class names, one per line, or Teachable Machine's labels.txt (\"0 Cat\"...) (default: the ONNX metadata's \"classes\", Teachable Machine's labels; for Keras, the class indices)")
	fs.StringVar(&shape, "input-shape", "", "the input shape HxWxC (or F for vectors), when the ONNX input leaves it symbolic")
	fs.StringVar(&rescale, "rescale", "", "preprocessing the graph leaves out: multiply raw pixels 0..255 by this, such as 1/255 for PyTorch's ToTensor")
	fs.StringVar(&mean, "mean", "", "preprocessing: subtract these per-channel values after --rescale, such as 0.1307 (torchvision's Normalize)")
	fs.StringVar(&std, "std", "", "preprocessing: then divide by these per-channel values, such as 0.3081")
	centerCropFlag(fs, &o.Crop, "how predict and serve fit a photograph of another shape: the centred region of the input's shape, this fraction of the largest that fits, resized (1: Teachable Machine's centre square, 224/256: torchvision's Resize(256) and CenterCrop(224); 0: resized whole; default: Teachable Machine's for its models, else whole)")
	fs.BoolVar(&o.Force, "force", false, "overwrite an existing output file")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usagef("unexpected argument %q", rest[0])
	case given(o.ONNX, o.Keras, o.TFJS) != 1 || o.Out == "":
		return usagef("give one of --onnx, --keras and --tfjs, and --out")
	case o.Arch != "" && o.Keras == "":
		return usagef("--arch goes with --keras (a file of Keras weights alone)")
	}
	if shape != "" {
		if o.Model.InputShape, err = parseShape(shape); err != nil {
			return usagef("--input-shape: %v", err)
		}
	}
	if rescale != "" {
		r, err := parseNumbers(rescale)
		if err != nil || len(r) != 1 || !(r[0] > 0) {
			return usagef("--rescale %q: want one positive number, such as 1/255", rescale)
		}
		o.Model.Rescale = r[0]
	}
	if o.Model.Mean, err = parseNumbers(mean); err != nil {
		return usagef("--mean: %v", err)
	}
	if o.Model.Std, err = parseNumbers(std); err != nil {
		return usagef("--std: %v", err)
	}
	return importONNX(o, stdout)
}

// unnumbered returns names without the numbers Teachable Machine's
// labels.txt puts before them ("0 Cat", "1 Dog"): when each line i begins
// with i and a space, those go.
func unnumbered(names []string) []string {
	for i, n := range names {
		if !strings.HasPrefix(n, strconv.Itoa(i)+" ") {
			return names
		}
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.TrimPrefix(n, strconv.Itoa(i)+" ")
	}
	return out
}

// given counts the strings that are not empty.
func given(s ...string) int {
	n := 0
	for _, v := range s {
		if v != "" {
			n++
		}
	}
	return n
}

// parseNumbers parses comma-separated numbers, each possibly a fraction
// such as 1/255; "" gives nil.
func parseNumbers(s string) ([]float32, error) {
	if s == "" {
		return nil, nil
	}
	var out []float32
	for _, p := range strings.Split(s, ",") {
		num, den, frac := strings.Cut(strings.TrimSpace(p), "/")
		v, err := strconv.ParseFloat(num, 64)
		if err == nil && frac {
			var d float64
			if d, err = strconv.ParseFloat(den, 64); err == nil {
				v /= d
			}
		}
		if err != nil || v != v || v > 1e30 || v < -1e30 {
			return nil, fmt.Errorf("%q is not a number", p)
		}
		out = append(out, float32(v))
	}
	return out, nil
}

func importONNX(o ImportOptions, stdout io.Writer) error {
	if o.Classes != "" {
		b, err := os.ReadFile(o.Classes)
		if err != nil {
			return err
		}
		if strings.TrimSpace(string(b)) == "" {
			return fmt.Errorf("--classes %s: no class names (want one per line)", o.Classes)
		}
		for _, line := range strings.Split(strings.TrimRight(string(b), "\r\n"), "\n") {
			o.Model.ClassNames = append(o.Model.ClassNames, strings.TrimRight(line, "\r"))
		}
		o.Model.ClassNames = unnumbered(o.Model.ClassNames)
	}
	if o.TFJS != "" {
		k := o.Model
		m, err := importTFJS(o.TFJS, model.KerasImportOptions{InputShape: k.InputShape, ClassNames: k.ClassNames,
			Rescale: k.Rescale, Mean: k.Mean, Std: k.Std, MaxBytes: k.MaxBytes})
		if err != nil {
			return fmt.Errorf("%s: %w", o.TFJS, err)
		}
		return writeImported(o, m, stdout)
	}
	in := o.ONNX + o.Keras
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	var m *model.Sequential
	if o.Keras != "" {
		var st os.FileInfo
		var arch []byte
		if o.Arch != "" {
			if arch, err = os.ReadFile(o.Arch); err != nil {
				return err
			}
		}
		if st, err = f.Stat(); err == nil {
			k := o.Model
			m, err = model.ImportKeras(f, st.Size(), model.KerasImportOptions{InputShape: k.InputShape, ClassNames: k.ClassNames,
				Rescale: k.Rescale, Mean: k.Mean, Std: k.Std, MaxBytes: k.MaxBytes, Architecture: arch})
		}
	} else {
		m, err = model.ImportONNX(f, o.Model)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	return writeImported(o, m, stdout)
}

// writeImported saves the imported model to --out and says what it is.
func writeImported(o ImportOptions, m *model.Sequential, stdout io.Writer) error {
	if o.Crop != nil {
		f, err := m.Framing()
		if err != nil {
			return err
		}
		if f.Framed() {
			return fmt.Errorf("--center-crop: the model frames images in a box of %v pixels (cropped to their ink)", f.Box)
		}
		f.Crop = *o.Crop
		if err := m.SetFraming(f); err != nil {
			return err
		}
	}
	if err := model.Save(o.Out, m, model.SaveOptions{Overwrite: o.Force}); err != nil {
		return err
	}
	train, _ := m.ParamCount()
	fmt.Fprintf(stdout, "wrote %s: %d layers, %d classes, %d trainable parameters, input %v\n", o.Out, len(m.Layers), m.NumClasses(), train, m.InputShape())
	return nil
}
