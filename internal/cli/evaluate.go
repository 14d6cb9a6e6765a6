package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/safefile"
	"github.com/convnet-go/convnet/metrics"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/model/pretrained"
	"github.com/convnet-go/convnet/plot"
)

func init() {
	register(command{name: "evaluate", summary: "test a model: accuracy, confusion matrix, per-class report", run: runEvaluate})
}

type evaluateOptions struct {
	Model     string
	Source    sourceFlags
	JSON      bool
	OutDir    string
	BatchSize int
	Top       int
	Update    bool
	Force     bool
	Map       bool
	MaxMemory int64
	TTA       ttaFlags
	BF16      bool
}

func parseEvaluate(args []string, stderr io.Writer) (*evaluateOptions, error) {
	o := &evaluateOptions{}
	fs := newFlagSet("evaluate", "--model FILE|NAME [flags]", stderr)
	fs.StringVar(&o.Model, "model", "", "the model to evaluate: a model file, or a built-in model ("+strings.Join(pretrained.Names(), ", ")+")")
	o.Source.register(fs, "")
	// The training set only names the classes the test set's labels are.
	fs.Lookup("images").Usage = "with --test-images: the training images (a folder with one subfolder per class) whose classes the test images' folders are; the test images are what is evaluated"
	fs.Lookup("csv").Usage = "with --test-csv: the training CSV whose classes the test CSV's labels are; the test CSV is what is evaluated"
	fs.Lookup("limit").Usage = "not taken: evaluate tests the test set (see --test-limit)"
	fs.BoolVar(&o.JSON, "json", false, "print the results as JSON")
	fs.StringVar(&o.OutDir, "out-dir", "", "folder for the PNGs, made if missing (default: beside the model file; the current folder for a built-in model)")
	fs.IntVar(&o.BatchSize, "batch-size", 256, "images per forward pass")
	fs.IntVar(&o.Top, "top-confused", 10, "how many of the most confused pairs to list")
	fs.BoolVar(&o.Update, "update-model", false, "store the results in the model file (for convnet serve)")
	fs.BoolVar(&o.Force, "force", false, "overwrite existing PNGs")
	fs.BoolVar(&o.Map, "map", false, "also draw how the network groups the test images: <model>.map.png, t-SNE of the features the last layer reads (up to 1000 images)")
	maxMemoryFlag(fs, &o.MaxMemory)
	o.TTA.register(fs)
	bf16Flag(fs, &o.BF16, "the model's products")
	if _, err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, usagef("unexpected argument %q", fs.Arg(0))
	case o.Model == "":
		return nil, usagef("--model is required")
	case o.BatchSize < 1:
		return nil, usagef("--batch-size %d: want at least 1", o.BatchSize)
	case o.Top < 0:
		return nil, usagef("--top-confused %d: want 0 or more", o.Top)
	case o.Source.Limit != 0:
		return nil, usagef("--limit %d cuts the training set, which evaluate does not test: --test-limit cuts the test set", o.Source.Limit)
	case o.TTA.copies > 0 && o.Update:
		return nil, usagef("--update-model stores the model's own results, not those of --tta")
	case o.BF16 && o.Update:
		return nil, usagef("--update-model stores the model's own results, in float32 as the file predicts: not with --bf16")
	}
	if err := checkBF16(o.BF16); err != nil {
		return nil, err
	}
	if err := o.TTA.check(fs); err != nil {
		return nil, err
	}
	return o, nil
}

func runEvaluate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseEvaluate(args, stderr)
	if err != nil {
		return err
	}
	c, builtin, err := classifier(o.Model, o.MaxMemory, model.ClassifierOptions{BatchSize: o.BatchSize, BF16: o.BF16})
	if err != nil {
		return err
	}
	if builtin && o.Update {
		return usagef("--update-model: %s is a built-in model; save a copy first", o.Model)
	}
	m := c.Model()
	src := &o.Source
	if src.Dataset == "" && src.Images == "" && src.CSV == "" && src.TestImg == "" && src.TestCSV == "" {
		o.Source.Dataset = m.Meta["dataset"]
		if o.Source.Dataset == "" || strings.Contains(o.Source.Dataset, ":") {
			return usagef("say which data to test on: --dataset, --test-images or --test-csv")
		}
	}
	if in := m.InputShape(); src.Height == 0 && src.Width == 0 && len(in) == 3 {
		// Image folders are read at the model's size, in its colours.
		src.Height, src.Width = in[0], in[1]
		if src.ColorMode == "grayscale" {
			src.ColorMode = map[int]string{1: "grayscale", 3: "rgb", 4: "rgba"}[in[2]]
		}
	}
	if f, err := m.Framing(); err == nil && src.Crop == nil && f.Crop > 0 && (src.Images != "" || src.TestImg != "") {
		src.Crop = &f.Crop // fitted as the model's predictions fit them
	}
	test, err := o.Source.testSet(ctx)
	if err != nil {
		return err
	}
	if err := checkCompatible(o.Model, m, test, src.CSV != "" || src.TestCSV != ""); err != nil {
		return err
	}
	ev, err := evaluateWith(ctx, c, test, o.BatchSize, o.TTA.tta)
	if err != nil {
		return err
	}
	ev.Dataset = o.Source.describe()
	if o.Update {
		if err := ev.store(m, test); err != nil {
			return err
		}
		if err := model.Save(o.Model, m, model.SaveOptions{Overwrite: true, IncludeOptimizer: m.Compiled()}); err != nil {
			return err
		}
	}
	// The PNGs come last, and a failure to write them is reported after
	// the results, which are never lost.
	pngErr := ev.writePNGs(o, test, m.ClassNames)
	if pngErr == nil && o.Map {
		pngErr = ev.writeMap(ctx, o, c, test)
	}
	if o.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(ev); err != nil {
			return err
		}
	} else {
		ev.writeText(stdout, m.ClassNames, o.Top)
	}
	return pngErr
}

// writePNGs writes the confusion heatmap and the grid of misclassified
// images, beside the model file or in --out-dir, and records the paths of
// those written.
func (ev *evaluation) writePNGs(o *evaluateOptions, test *data.Dataset, names []string) error {
	dir := outDir(o)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("the results are above, but the PNGs were not written: --out-dir: %w", err)
	}
	base := strings.TrimSuffix(filepath.Base(o.Model), filepath.Ext(o.Model))
	heatmap := filepath.Join(dir, base+".confusion.png")
	if err := safefile.Write(heatmap, o.Force, func(w io.Writer) error {
		return plot.ConfusionHeatmap(w, ev.Confusion.Counts, names, fmt.Sprintf("%s on %s: %.2f%% accuracy", base, ev.Dataset, 100*ev.Accuracy))
	}); err != nil {
		return fmt.Errorf("the results are above, but the PNGs were not written: %w", err)
	}
	ev.HeatmapPNG = heatmap
	cells := misclassifiedCells(test, ev, names, 64)
	if len(cells) == 0 {
		return nil
	}
	errors := filepath.Join(dir, base+".misclassified.png")
	if err := safefile.Write(errors, o.Force, func(w io.Writer) error {
		return plot.WritePNG(w, plot.Grid(cells, 8))
	}); err != nil {
		return fmt.Errorf("the results are above, but the grid of misclassified images was not written: %w", err)
	}
	ev.ErrorsPNG = errors
	return nil
}

// outDir is where the PNGs go: --out-dir, or beside the model file.
func outDir(o *evaluateOptions) string {
	if o.OutDir == "" {
		return filepath.Dir(o.Model)
	}
	return o.OutDir
}

// checkCompatible reports a data set that does not fit the model,
// and gives ds the model's classes: a CSV's (numbered) labels by number, up
// to the model's last class; others (image folders, named data sets) by
// name, when the model names its classes.
func checkCompatible(path string, m *model.Sequential, ds *data.Dataset, numbered bool) error {
	if got, want := ds.Shape(), m.InputShape(); !slices.Equal(got, want) {
		return fmt.Errorf("%s takes images of shape %v, the data has %v", path, want, got)
	}
	names := m.ClassNames
	if len(names) != m.NumClasses() {
		names = make([]string, m.NumClasses())
		for i := range names {
			names[i] = strconv.Itoa(i)
		}
	}
	if numbered || len(m.ClassNames) != m.NumClasses() {
		if ds.NumClasses() > m.NumClasses() {
			return fmt.Errorf("%s has %d classes, the data has labels up to %d", path, m.NumClasses(), ds.NumClasses()-1)
		}
		ds.ClassNames = names
		return nil
	}
	if err := ds.Relabel(names); err != nil {
		return fmt.Errorf("the test images against the classes of %s: %w", path, err)
	}
	return nil
}

// evaluation is the result of testing a model on a data set.
type evaluation struct {
	Dataset      string                       `json:"dataset"`
	Count        int                          `json:"count"`
	Loss         float64                      `json:"loss"`
	Accuracy     float64                      `json:"accuracy"`
	Classes      []string                     `json:"classes"`
	Confusion    *metrics.Confusion           `json:"confusion"`
	Report       metrics.ClassificationReport `json:"report"`
	MostConfused []metrics.Pair               `json:"most_confused"`
	HeatmapPNG   string                       `json:"confusion_png,omitempty"`
	ErrorsPNG    string                       `json:"misclassified_png,omitempty"`
	MapPNG       string                       `json:"map_png,omitempty"`
	TTA          string                       `json:"tta,omitempty"` // the test-time augmentation, if any

	Pred  []int       `json:"-"` // predicted class per image
	Probs [][]float32 `json:"-"` // probability of the predicted class and the true one
}

// evaluateModel evaluates m on ds, as evaluateWith does.
func evaluateModel(m *model.Sequential, ds *data.Dataset, batch int) (*evaluation, error) {
	c, err := model.NewClassifier(m, model.ClassifierOptions{BatchSize: batch})
	if err != nil {
		return nil, err
	}
	return evaluateWith(context.Background(), c, ds, batch, nil)
}

// evaluateWith classifies every image of ds, a batch at a time, and
// gathers the figures. The loss is the cross-entropy of the predicted
// probabilities (clipped at 1e-7 as Keras does), without label smoothing.
func evaluateWith(ctx context.Context, c *model.Classifier, ds *data.Dataset, batch int, tta *model.TTA) (*evaluation, error) {
	n, classes := ds.Len(), len(c.ClassNames())
	m := c.Model()
	ev := &evaluation{Count: n, Classes: m.ClassNames, Confusion: metrics.NewConfusion(classes), Pred: make([]int, n)}
	if tta != nil {
		ev.TTA = describeTTA(tta)
	}
	var sum float64
	size := ds.SampleSize()
	buf := make([]float32, min(batch, n)*size) // the batch's images, reused
	px := make([][]float32, min(batch, n))
	for lo := 0; lo < n; lo += batch {
		px = px[:min(batch, n-lo)]
		for i := range px {
			px[i] = ds.ImageTo(buf[i*size:(i+1)*size], lo+i)
		}
		var rs []model.Result
		var err error
		if tta != nil {
			t := *tta
			t.First = lo
			rs, err = c.ClassifyPixelsTTA(ctx, px, 1, t)
		} else {
			rs, err = c.ClassifyPixels(ctx, px, 1)
		}
		if nf := new(model.NonFiniteError); errors.As(err, &nf) {
			return nil, fmt.Errorf("test image %d: the model's output is not finite (NaN or infinite values): the model is broken", lo+nf.Index+1)
		} else if err != nil {
			return nil, fmt.Errorf("test images %d to %d: %w", lo+1, lo+len(px), err)
		}
		for i, r := range rs {
			pred, label := r.Top[0].Label, ds.Y[lo+i]
			ev.Pred[lo+i] = pred
			ev.Confusion.Add(label, pred)
			sum -= math.Log(max(float64(r.Probabilities[label]), 1e-7))
		}
	}
	ev.Loss = sum/float64(n) + m.Penalty() // Keras's loss holds the regularizers' penalties
	ev.Accuracy = ev.Confusion.Accuracy()
	names := m.ClassNames
	if len(names) != classes {
		names = nil
	}
	ev.Report = metrics.Report(ev.Confusion, names)
	ev.MostConfused = metrics.MostConfused(ev.Confusion, 10)
	return ev, nil
}

// writeText prints the evaluation for a person.
func (ev *evaluation) writeText(w io.Writer, names []string, top int) {
	if ev.TTA != "" {
		fmt.Fprintf(w, "Test-time augmentation: %s\n", ev.TTA)
	}
	fmt.Fprintf(w, "Test loss: %.4f\nTest accuracy: %.4f (%d of %d images)\n\n", ev.Loss, ev.Accuracy, ev.Confusion.Correct(), ev.Count)
	metrics.WriteConfusionText(w, ev.Confusion, names)
	fmt.Fprintln(w)
	ev.Report.WriteText(w)
	pairs := metrics.MostConfused(ev.Confusion, top)
	if len(pairs) > 0 {
		fmt.Fprintln(w, "\nMost confused pairs (true -> predicted: count):")
		for _, p := range pairs {
			fmt.Fprintf(w, "  %s -> %s: %d\n", className(names, p.True), className(names, p.Pred), p.Count)
		}
	}
	if ev.HeatmapPNG != "" {
		fmt.Fprintf(w, "\nConfusion heatmap: %s\n", ev.HeatmapPNG)
	}
	if ev.MapPNG != "" {
		fmt.Fprintf(w, "Map of the test images: %s\n", ev.MapPNG)
	}
	if ev.ErrorsPNG != "" {
		fmt.Fprintf(w, "Misclassified images: %s\n", ev.ErrorsPNG)
	}
}

func className(names []string, i int) string {
	if i < len(names) {
		return names[i]
	}
	return fmt.Sprint(i)
}

// misclassifiedCells returns up to limit misclassified images labelled with
// their true and predicted classes.
func misclassifiedCells(ds *data.Dataset, ev *evaluation, names []string, limit int) []plot.Cell {
	var cells []plot.Cell
	shape := ds.Shape()
	for i, pred := range ev.Pred {
		if pred == ds.Y[i] || len(cells) == limit {
			continue
		}
		cells = append(cells, plot.Cell{
			Pixels: ds.Image(i), H: shape[0], W: shape[1], C: shape[2],
			Label: fmt.Sprintf("true: %s\npred: %s", className(names, ds.Y[i]), className(names, pred)),
			Color: plot.ErrorColor,
		})
	}
	return cells
}

// samplesPerCell bounds the test images kept per confusion cell.
const samplesPerCell = 8

// store records the evaluation of ds in the model's metadata for convnet
// serve: the figures, the confusion matrix and, for each of its cells, a few
// test images as raw bytes.
func (ev *evaluation) store(m *model.Sequential, ds *data.Dataset) error {
	se := model.Evaluation{
		Dataset: ev.Dataset, Classes: ev.Classes, Accuracy: ev.Accuracy, Loss: ev.Loss, Count: ev.Count,
		Matrix: ev.Confusion.Counts, ImageShape: ds.Shape(),
	}
	kept := map[[2]int]int{}
	img := make([]float32, ds.SampleSize())
	for i, pred := range ev.Pred {
		cell := [2]int{ds.Y[i], pred}
		if kept[cell] == samplesPerCell {
			continue
		}
		kept[cell]++
		ds.ImageTo(img, i)
		px := make([]byte, len(img))
		for j, v := range img {
			px[j] = byte(min(max(v, 0), 255) + 0.5)
		}
		se.Samples = append(se.Samples, &model.EvaluationSample{True: ds.Y[i], Pred: pred, Index: i, Pixels: px})
	}
	return m.SetEvaluation(&se)
}
