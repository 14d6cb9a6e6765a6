package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"text/tabwriter"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/data/augment"
	"github.com/convnet-go/convnet/internal/safefile"
	"github.com/convnet-go/convnet/plot"
)

func init() {
	register(command{
		name:    "data",
		summary: "inspect a data set: \"data info\" (counts, shape, values), \"data show\" (PNG of samples), \"data export\" (a PNG file per image)",
		run:     runData,
	})
}

func runData(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("want a subcommand: info, show or export")
	}
	switch args[0] {
	case "info":
		return runDataInfo(ctx, args[1:], stdout, stderr)
	case "show":
		return runDataShow(ctx, args[1:], stdout, stderr)
	case "export":
		return runDataExport(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stderr, "Usage: convnet data info|show|export [flags]\n\nRun \"convnet data info -h\", \"convnet data show -h\" or \"convnet data export -h\" for the flags.")
		return flag.ErrHelp
	}
	return usagef("unknown subcommand %q: want info, show or export", args[0])
}

// DataInfoOptions are the flags of "convnet data info".
type DataInfoOptions struct {
	Source sourceFlags
}

func runDataInfo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var opts DataInfoOptions
	fs := newFlagSet("data info", "[--dataset ahcd|mnist | --csv FILE | --images DIR] [flags]", stderr)
	opts.Source.register(fs, "ahcd")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	return dataInfo(ctx, opts, stdout)
}

func dataInfo(ctx context.Context, opts DataInfoOptions, stdout io.Writer) error {
	names, sets, err := opts.Source.splits(ctx)
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
		px := make([]float32, d.SampleSize())
		for j := range d.Len() {
			for _, v := range d.ImageTo(px, j) {
				sum += float64(v)
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%g\t%g\t%.2f\t\n", names[i], d.Len(), lo, hi, sum/float64(max(d.Len()*len(px), 1)))
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
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = io.WriteString(stdout, balance(counts[0], first.ClassNames))
	return err
}

// balance says how uneven the classes of a training set are, the largest
// against the smallest, and from twice as many on suggests class weights.
func balance(counts []int, names []string) string {
	lo, hi := slices.Index(counts, slices.Min(counts)), slices.Index(counts, slices.Max(counts))
	s := fmt.Sprintf("\nlargest class %s (%d images), smallest %s (%d)", names[hi], counts[hi], names[lo], counts[lo])
	switch {
	case counts[lo] == 0:
		return s + ": a class without images\n"
	case counts[hi] >= 2*counts[lo]:
		return s + fmt.Sprintf(": %.3g to 1; convnet train --class-weight balanced weighs each image by n / (classes · n_class)\n", float64(counts[hi])/float64(counts[lo]))
	}
	return s + fmt.Sprintf(": %.3g to 1\n", float64(counts[hi])/float64(counts[lo]))
}

// DataShowOptions are the flags of "convnet data show".
type DataShowOptions struct {
	Source  sourceFlags
	Out     string
	Force   bool
	N       int
	Split   string
	Seed    uint64
	Augment bool
	Copies  int
	Aug     augmentFlags
}

func runDataShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var opts DataShowOptions
	fs := newFlagSet("data show", "--out FILE.png [--dataset ahcd|mnist | --csv FILE | --images DIR] [--augment ...] [flags]", stderr)
	opts.Source.register(fs, "ahcd")
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
	if !opts.Augment {
		var stray string
		fs.Visit(func(f *flag.Flag) {
			if stray == "" && (f.Name == "copies" || slices.Contains(transformFlags, f.Name) || f.Name == "mixup" || f.Name == "cutmix") {
				stray = f.Name
			}
		})
		if stray != "" {
			return usagef("--%s goes with --augment: without it, the samples are shown as they are", stray)
		}
	}
	if err := dataShow(ctx, opts); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", opts.Out)
	return nil
}

func dataShow(ctx context.Context, opts DataShowOptions) error {
	var aug *augment.Config
	var mix augment.Mix
	if opts.Augment {
		var err error
		if aug, err = opts.Aug.config(); err != nil {
			return err
		}
		if mix, err = opts.Aug.mix(); err != nil {
			return err
		}
	}
	_, sets, err := opts.Source.splits(ctx)
	if err != nil {
		return err
	}
	d := sets[0]
	switch {
	case len(sets) > 1 && opts.Split == "test":
		d = sets[1]
	case opts.Split == "test":
		return usagef("--split test: %s has no test set (give --test-images or --test-csv)", opts.Source.describe())
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x73686f77))
	picks := pickByClass(d, opts.N, rng)
	s := d.Shape()
	h, w, c := s[0], s[1], s[2]
	var cells []plot.Cell
	cols := min(len(picks), 7)
	for r, i := range picks {
		label := d.ClassNames[d.Y[i]]
		cells = append(cells, plot.Cell{Pixels: d.Image(i), H: h, W: w, C: c, Label: label})
		if aug == nil {
			continue
		}
		other := picks[(r+len(picks)-1)%len(picks)] // mixed with, as the batch rolled by one
		for k := range opts.Copies {
			px := make([]float32, 2*h*w*c)
			name := fmt.Sprintf("augmented %d", k+1)
			if mix.Enabled() {
				aug.Apply(px[:h*w*c], d.Image(other), h, w, c, rng)
			}
			aug.Apply(px[h*w*c:], d.Image(i), h, w, c, rng)
			if mix.Enabled() {
				// A batch of two: the second image is this one, mixed with the other.
				p := mix.Random(h, w, rng)
				p.Apply(px, make([]float32, 2*d.NumClasses()), 2, h, w, c, d.NumClasses(), nil)
				kind := "mixup"
				if p.CutMix {
					kind = "cutmix"
				}
				name = fmt.Sprintf("%s +%.0f%% %s", kind, 100*(1-p.Lambda), d.ClassNames[d.Y[other]])
			}
			cells = append(cells, plot.Cell{Pixels: px[h*w*c:], H: h, W: w, C: c, Label: name})
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
