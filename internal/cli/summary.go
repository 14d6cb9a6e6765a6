package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/model/pretrained"
)

func init() {
	register(command{
		name:    "summary",
		summary: "print a model's layers, output shapes and parameter counts",
		run:     runSummary,
	})
}

// SummaryOptions are the flags of "convnet summary".
type SummaryOptions struct {
	Model   string // a preset name or a model file
	Input   []int  // for presets: input shape; nil means the preset's
	Classes int    // for presets: number of classes; 0 means the preset's
	// MaxMemory bounds what a model file may need to run on one sample
	// (0: the library's default).
	MaxMemory int64
}

func runSummary(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var opts SummaryOptions
	var input string
	fs := newFlagSet("summary", "--model tutorial|FILE", stderr)
	fs.StringVar(&opts.Model, "model", "tutorial", "a preset ("+strings.Join(model.PresetNames(), ", ")+"), a built-in model ("+strings.Join(pretrained.Names(), ", ")+"), a model file or a JSON architecture file (such as Keras's model.to_json())")
	fs.StringVar(&input, "input", "", "input shape for a preset, such as 28x28x1 (default 32x32x1)")
	fs.IntVar(&opts.Classes, "classes", 0, "number of classes for a preset (default 28)")
	maxMemoryFlag(fs, &opts.MaxMemory)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	if input != "" {
		if opts.Input, err = parseShape(input); err != nil {
			return usagef("--input: %v", err)
		}
	}
	if opts.Classes < 0 {
		return usagef("--classes %d: want a positive number", opts.Classes)
	}
	return summary(opts, stdout)
}

func summary(opts SummaryOptions, stdout io.Writer) error {
	m, err := openModel(opts.Model, opts.Input, opts.Classes, opts.MaxMemory)
	if err != nil {
		return err
	}
	if err := m.Summary(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Memory to run one sample: %v\n", model.Bytes(m.ActivationBytes(1)))
	if v := m.Meta["convnet_version"]; v != "" {
		fmt.Fprintf(stdout, "Written by convnet %s (%s)\n", v, m.Meta["go_version"])
	}
	if len(m.Meta) > 0 { // a model file, not a preset
		inputs(m, stdout)
	}
	trained(m, stdout)
	return nil
}

// trained prints how a model file was trained, as far as it says: the
// command, the epochs of its history and the test evaluation it keeps.
func trained(m *model.Sequential, w io.Writer) {
	if c := m.Meta["command"]; c != "" {
		fmt.Fprintf(w, "Trained with: %s\n", c)
	}
	if h, err := m.History(); err == nil && h != nil && len(h.Epochs) > 0 {
		last := h.Epochs[len(h.Epochs)-1]
		fmt.Fprintf(w, "History: %d epochs, the last with loss %.4f and accuracy %.4f", len(h.Epochs), last.Loss, last.Accuracy)
		if last.HasValidation {
			fmt.Fprintf(w, ", val_loss %.4f and val_accuracy %.4f", last.ValLoss, last.ValAccuracy)
		} else {
			for i := len(h.Epochs) - 1; i >= 0; i-- { // --validation-freq: the last epoch may not be validated
				if e := h.Epochs[i]; e.HasValidation {
					fmt.Fprintf(w, "; the last validated, epoch %d, with val_loss %.4f and val_accuracy %.4f", e.Epoch+1, e.ValLoss, e.ValAccuracy)
					break
				}
			}
		}
		fmt.Fprintln(w)
	}
	if e, err := m.Evaluation(); err == nil && e != nil {
		fmt.Fprintf(w, "Test accuracy: %.4f (%d images of %s), loss %.4f\n", e.Accuracy, e.Count, e.Dataset, e.Loss)
	}
}

// openModel returns the preset called name, built for the given input shape
// and classes (zero values: the preset's defaults), or else the model file
// at that path, loaded within maxMemory, or else the built-in model of that
// name. A name that is none of them is a usage error listing the presets
// and the built-in models.
func openModel(name string, input []int, classes int, maxMemory int64) (*model.Sequential, error) {
	if model.PresetAbout(name) != "" {
		if input == nil {
			input = []int{32, 32, 1}
		}
		if classes == 0 {
			classes = 28
		}
		m, err := model.PresetFor(name, input, classes)
		if err != nil {
			return nil, usagef("%v", err)
		}
		if err := m.Build(nil, 1); err != nil {
			return nil, usagef("preset %s: %v", name, err)
		}
		return m, nil
	}
	_, err := os.Stat(name)
	builtin := os.IsNotExist(err) && slices.Contains(pretrained.Names(), name)
	if err != nil && !builtin {
		if os.IsNotExist(err) && !strings.ContainsAny(name, `/\.`) {
			return nil, usagef("unknown model %q: not a preset (%s), a built-in model (%s) nor a file", name, strings.Join(model.PresetNames(), ", "), strings.Join(pretrained.Names(), ", "))
		}
		return nil, fmt.Errorf("cannot read model %s: %w", name, err)
	}
	if !builtin && isArchitectureFile(name) {
		if classes != 0 {
			return nil, usagef("--classes sizes a preset's last layer: the last layer of the architecture %s fixes its classes", name)
		}
		m, err := readArchitecture(name)
		if err != nil {
			return nil, err
		}
		if input == nil && m.InputShape() == nil {
			input = []int{32, 32, 1}
		}
		if err := m.Build(input, 1); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return m, nil
	}
	if input != nil || classes != 0 {
		return nil, usagef("--input applies to presets and architecture files, --classes to presets: not to model files nor built-in models")
	}
	m, _, err := loadModel(name, maxMemory)
	return m, err
}

// isArchitectureFile reports whether path holds a JSON architecture rather
// than a model file: it starts with "{" where a model file starts with its
// binary header length.
func isArchitectureFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [64]byte
	n, _ := f.Read(b[:])
	return strings.HasPrefix(strings.TrimSpace(string(b[:n])), "{")
}

// readArchitecture reads a JSON architecture file (Keras's model.to_json()
// of a Sequential or Functional model, the document model files store)
// into an unbuilt model.
func readArchitecture(path string) (*model.Sequential, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := model.ParseArchitecture(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// parseShape parses "28x28x1" or "28,28,1".
func parseShape(s string) ([]int, error) {
	parts := strings.Split(strings.ReplaceAll(s, ",", "x"), "x")
	shape := make([]int, len(parts))
	for i, p := range parts {
		var d int
		if _, err := fmt.Sscanf(p, "%d", &d); err != nil || d < 1 || fmt.Sprint(d) != p {
			return nil, fmt.Errorf("shape %q: dimension %q is not a positive integer", s, p)
		}
		shape[i] = d
	}
	return shape, nil
}
