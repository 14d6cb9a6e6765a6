package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/data/augment"
	"github.com/convnet-go/convnet/internal/safefile"
	"github.com/convnet-go/convnet/plot"
)

func init() {
	register(command{
		name:    "data",
		summary: "inspect a data set: \"data info\" (counts, shape, values), \"data show\" (PNG of samples)",
		run:     runData,
	})
}

func runData(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("want a subcommand: info or show")
	}
	switch args[0] {
	case "info":
		return runDataInfo(args[1:], stdout, stderr)
	case "show":
		return runDataShow(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stderr, "Usage: convnet data info|show [flags]\n\nRun \"convnet data info -h\" or \"convnet data show -h\" for the flags.")
		return flag.ErrHelp
	}
	return usagef("unknown subcommand %q: want info or show", args[0])
}

// dataSource selects the images to inspect: a named data set, a CSV file or
// an image folder.
type dataSource struct {
	Dataset   string
	DataDir   string
	CSV       string
	CSVLabel  string
	Images    string
	Height    int
	Width     int
	ColorMode string
}

func (s *dataSource) register(fs *flag.FlagSet) {
	fs.StringVar(&s.Dataset, "dataset", "ahcd", "named data set: "+strings.Join(data.NamedDatasets(), " or "))
	fs.StringVar(&s.DataDir, "data-dir", "", "folder holding the named data sets (default: $CONVNET_DATA, the user cache, then a download)")
	fs.StringVar(&s.CSV, "csv", "", "a CSV file of images, one per row with a label column (replaces --dataset)")
	fs.StringVar(&s.CSVLabel, "csv-label", "", "the CSV's label column: a header name or 0-based index (default \"label\" or the first)")
	fs.StringVar(&s.Images, "images", "", "a folder with one subfolder of images per class (replaces --dataset)")
	fs.IntVar(&s.Height, "height", 0, "image height for --images (default: the first image's)")
	fs.IntVar(&s.Width, "width", 0, "image width for --images (default: the first image's)")
	fs.StringVar(&s.ColorMode, "color-mode", "grayscale", "grayscale, rgb or rgba, for --images")
}

// load returns the splits of the source by name, in order.
func (s *dataSource) load() (names []string, sets []*data.Dataset, err error) {
	switch {
	case s.CSV != "" && s.Images != "":
		return nil, nil, usagef("give --csv or --images, not both")
	case s.CSV != "":
		d, err := data.LoadCSV(s.CSV, data.CSVOptions{LabelColumn: s.CSVLabel})
		return []string{"all"}, []*data.Dataset{d}, err
	case s.Images != "":
		if s.Height < 0 || s.Width < 0 {
			return nil, nil, usagef("--height and --width must not be negative")
		}
		switch s.ColorMode {
		case "grayscale", "rgb", "rgba":
		default:
			return nil, nil, usagef("--color-mode %q: want grayscale, rgb or rgba", s.ColorMode)
		}
		d, err := data.LoadImageFolder(s.Images, data.ImageFolderOptions{Height: s.Height, Width: s.Width, ColorMode: s.ColorMode})
		return []string{"all"}, []*data.Dataset{d}, err
	}
	name := strings.ToLower(s.Dataset)
	if _, ok := data.DefaultRemotes[name]; !ok {
		return nil, nil, usagef("unknown dataset %q: want %s (or --csv / --images)", s.Dataset, strings.Join(data.NamedDatasets(), " or "))
	}
	train, test, err := data.Named(name, s.DataDir)
	return []string{"train", "test"}, []*data.Dataset{train, test}, err
}

func (s *dataSource) describe() string {
	switch {
	case s.CSV != "":
		return s.CSV
	case s.Images != "":
		return s.Images
	}
	return s.Dataset
}

// DataInfoOptions are the flags of "convnet data info".
type DataInfoOptions struct {
	Source dataSource
}

func runDataInfo(args []string, stdout, stderr io.Writer) error {
	var opts DataInfoOptions
	fs := newFlagSet("data info", "[--dataset ahcd|mnist | --csv FILE | --images DIR] [flags]", stderr)
	opts.Source.register(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	return dataInfo(opts, stdout)
}

func dataInfo(opts DataInfoOptions, stdout io.Writer) error {
	names, sets, err := opts.Source.load()
	if err != nil {
		return err
	}
	first := sets[0]
	shape := first.Shape()
	fmt.Fprintf(stdout, "data set:    %s\n", opts.Source.describe())
	fmt.Fprintf(stdout, "image shape: %dx%dx%d (height x width x channels)\n", shape[0], shape[1], shape[2])
	fmt.Fprintf(stdout, "classes:     %d\n", first.NumClasses())
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(stdout)
	fmt.Fprint(tw, "split\timages\tmin\tmax\tmean\t\n")
	for i, d := range sets {
		lo, hi := d.Range()
		var sum float64
		for _, v := range d.X.Data {
			sum += float64(v)
		}
		fmt.Fprintf(tw, "%s\t%d\t%g\t%g\t%.2f\t\n", names[i], d.Len(), lo, hi, sum/float64(max(len(d.X.Data), 1)))
	}
	tw.Flush()
	fmt.Fprintln(stdout)
	counts := make([][]int, len(sets))
	for i, d := range sets {
		counts[i] = d.ClassCounts()
	}
	fmt.Fprint(tw, "class\tname\t")
	for _, n := range names {
		fmt.Fprintf(tw, "%s\t", n)
	}
	fmt.Fprint(tw, "\n")
	for k, name := range first.ClassNames {
		fmt.Fprintf(tw, "%d\t%s\t", k, name)
		for i := range sets {
			fmt.Fprintf(tw, "%d\t", counts[i][k])
		}
		fmt.Fprint(tw, "\n")
	}
	return tw.Flush()
}

// augmentFlags are the ImageDataGenerator options as flags.
type augmentFlags struct {
	Rotation    float64
	WidthShift  float64
	HeightShift float64
	Shear       float64
	Zoom        float64
	HFlip       bool
	VFlip       bool
	FillMode    string
	Cval        float64
	Brightness  string
}

func (a *augmentFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&a.Rotation, "rotation", 10, "augmentation: largest rotation in degrees")
	fs.Float64Var(&a.WidthShift, "width-shift", 0.1, "augmentation: largest horizontal shift (below 1: fraction of the width, else pixels)")
	fs.Float64Var(&a.HeightShift, "height-shift", 0.1, "augmentation: largest vertical shift (below 1: fraction of the height, else pixels)")
	fs.Float64Var(&a.Shear, "shear", 0, "augmentation: largest shear angle in degrees")
	fs.Float64Var(&a.Zoom, "zoom", 0.1, "augmentation: zoom range z, zoom drawn from [1-z, 1+z] per axis")
	fs.BoolVar(&a.HFlip, "hflip", false, "augmentation: flip left-right half the time")
	fs.BoolVar(&a.VFlip, "vflip", false, "augmentation: flip upside down half the time")
	fs.StringVar(&a.FillMode, "fill-mode", "nearest", "augmentation: fill outside the image: nearest, constant, reflect or wrap")
	fs.Float64Var(&a.Cval, "cval", 0, "augmentation: fill value of --fill-mode constant")
	fs.StringVar(&a.Brightness, "brightness", "", "augmentation: brightness factor range lo,hi (default off)")
}

// config returns the augmentation the flags describe, or a usage error.
func (a *augmentFlags) config() (*augment.Config, error) {
	c := &augment.Config{
		RotationRange: a.Rotation, WidthShiftRange: a.WidthShift, HeightShiftRange: a.HeightShift,
		ShearRange: a.Shear, HorizontalFlip: a.HFlip, VerticalFlip: a.VFlip, FillMode: a.FillMode, Cval: a.Cval,
	}
	if a.Zoom != 0 {
		c.ZoomRange = augment.ZoomRangeOf(a.Zoom)
	}
	if a.Brightness != "" {
		lo, hi, ok := strings.Cut(a.Brightness, ",")
		l, err1 := strconv.ParseFloat(strings.TrimSpace(lo), 64)
		h, err2 := strconv.ParseFloat(strings.TrimSpace(hi), 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, usagef("--brightness %q: want two numbers lo,hi such as 0.8,1.2", a.Brightness)
		}
		c.BrightnessRange = [2]float64{l, h}
	}
	if err := c.Validate(); err != nil {
		return nil, usagef("augmentation: %v", err)
	}
	return c, nil
}

// DataShowOptions are the flags of "convnet data show".
type DataShowOptions struct {
	Source  dataSource
	Out     string
	Force   bool
	N       int
	Split   string
	Seed    uint64
	Augment bool
	Copies  int
	Aug     augmentFlags
}

func runDataShow(args []string, stdout, stderr io.Writer) error {
	var opts DataShowOptions
	fs := newFlagSet("data show", "--out FILE.png [--dataset ahcd|mnist | --csv FILE | --images DIR] [--augment ...] [flags]", stderr)
	opts.Source.register(fs)
	fs.StringVar(&opts.Out, "out", "", "PNG file to write (required)")
	fs.BoolVar(&opts.Force, "force", false, "overwrite --out if it exists")
	fs.IntVar(&opts.N, "n", 28, "number of samples, taken class by class")
	fs.StringVar(&opts.Split, "split", "train", "split of a named data set: train or test")
	fs.Uint64Var(&opts.Seed, "seed", 1, "random seed for the choice of samples and the augmentation")
	fs.BoolVar(&opts.Augment, "augment", false, "show each sample beside augmented copies")
	fs.IntVar(&opts.Copies, "copies", 5, "augmented copies per sample, with --augment")
	opts.Aug.register(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	switch {
	case opts.Out == "":
		return usagef("--out is required")
	case opts.N <= 0 || opts.N > 1000:
		return usagef("--n %d: want 1..1000", opts.N)
	case opts.Copies <= 0 || opts.Copies > 20:
		return usagef("--copies %d: want 1..20", opts.Copies)
	case opts.Split != "train" && opts.Split != "test":
		return usagef("--split %q: want train or test", opts.Split)
	}
	if err := dataShow(opts); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", opts.Out)
	return nil
}

func dataShow(opts DataShowOptions) error {
	var aug *augment.Config
	if opts.Augment {
		var err error
		if aug, err = opts.Aug.config(); err != nil {
			return err
		}
	}
	_, sets, err := opts.Source.load()
	if err != nil {
		return err
	}
	d := sets[0]
	if len(sets) > 1 && opts.Split == "test" {
		d = sets[1]
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x73686f77))
	picks := pickByClass(d, opts.N, rng)
	s := d.Shape()
	h, w, c := s[0], s[1], s[2]
	var cells []plot.Cell
	cols := min(len(picks), 7)
	for _, i := range picks {
		label := d.ClassNames[d.Y[i]]
		cells = append(cells, plot.Cell{Pixels: d.Image(i), H: h, W: w, C: c, Label: label})
		if aug == nil {
			continue
		}
		for k := range opts.Copies {
			px := make([]float32, h*w*c)
			aug.Apply(px, d.Image(i), h, w, c, rng)
			cells = append(cells, plot.Cell{Pixels: px, H: h, W: w, C: c, Label: fmt.Sprintf("augmented %d", k+1)})
		}
		cols = 1 + opts.Copies
	}
	img := plot.Grid(cells, cols)
	return safefile.Write(opts.Out, opts.Force, func(w io.Writer) error { return plot.WritePNG(w, img) })
}

// pickByClass chooses n images, going round the classes in order and taking
// a random not yet chosen image of each, so that n = the number of classes
// shows one image per class.
func pickByClass(d *data.Dataset, n int, rng *rand.Rand) []int {
	byClass := make([][]int, d.NumClasses())
	for i, y := range d.Y {
		byClass[y] = append(byClass[y], i)
	}
	for _, idx := range byClass {
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	}
	var picks []int
	for round := 0; len(picks) < n && len(picks) < d.Len(); round++ {
		for _, idx := range byClass {
			if round < len(idx) && len(picks) < n {
				picks = append(picks, idx[round])
			}
		}
	}
	return picks
}
