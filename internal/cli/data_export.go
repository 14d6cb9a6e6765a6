package cli

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/data"
)

// DataExportOptions are the flags of "convnet data export".
type DataExportOptions struct {
	Source   sourceFlags
	Out      string
	PerClass int    // at most this many images of each class and split (0: all)
	Split    string // train, test or all (both, or the one split of a CSV or folder)
	Force    bool
}

func runDataExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var opts DataExportOptions
	fs := newFlagSet("data export", "--out DIR [--dataset ahcd|mnist | --csv FILE | --images DIR] [flags]", stderr)
	opts.Source.register(fs, "ahcd")
	fs.StringVar(&opts.Out, "out", "", "folder to write: <split>/<class>/<n>.png, the layout --images reads (required)")
	fs.IntVar(&opts.PerClass, "per-class", 0, "at most this many images of each class in each split, the first ones (0: all)")
	fs.StringVar(&opts.Split, "split", "all", "split of a data set with a test set to write: train, test or all")
	fs.BoolVar(&opts.Force, "force", false, "replace a split's folder that holds files")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usagef("unexpected argument %q", rest[0])
	case opts.Out == "":
		return usagef("--out is required")
	case opts.PerClass < 0:
		return usagef("--per-class %d: want 0 (all) or more", opts.PerClass)
	case !slices.Contains([]string{"train", "test", "all"}, opts.Split):
		return usagef("--split %q: want train, test or all", opts.Split)
	}
	return dataExport(ctx, opts, stdout)
}

// dataExport writes each split of the data set as PNG files, one folder per
// class. A split is written in a temporary folder beside its own and takes
// its place once whole: an interrupted export leaves no half-written split
// (the next export removes what it left).
func dataExport(ctx context.Context, opts DataExportOptions, stdout io.Writer) error {
	names, sets, err := opts.Source.splits(ctx)
	if err != nil {
		return err
	}
	if opts.Split != "all" && len(sets) == 1 {
		return usagef("--split %s: %s has one split (give --test-images or --test-csv for two)", opts.Split, opts.Source.describe())
	}
	write := func(k int) bool { return opts.Split == "all" || names[k] == opts.Split }
	for k, d := range sets {
		dir := filepath.Join(opts.Out, names[k])
		if entries, err := os.ReadDir(dir); write(k) && err == nil && len(entries) > 0 && !opts.Force {
			return fmt.Errorf("%s holds files: use --force to replace it", dir)
		}
		for _, c := range d.ClassNames {
			if c == "" || c == "." || c == ".." || strings.ContainsAny(c, `/\`) {
				return fmt.Errorf("%s: class %q cannot name a folder", opts.Source.describe(), c)
			}
		}
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return err
	}
	for k, d := range sets {
		if !write(k) {
			continue
		}
		dir := filepath.Join(opts.Out, names[k])
		n, err := exportSplit(ctx, d, dir, opts.PerClass)
		if err != nil {
			return err
		}
		classes := 0 // those with images, each a folder
		for _, c := range d.ClassCounts() {
			if c > 0 {
				classes++
			}
		}
		fmt.Fprintf(stdout, "%s: %d images of %d classes in %s\n", names[k], n, classes, dir)
	}
	return nil
}

// exportSplit writes at most perClass images of each class of d (0: all)
// into dir, which it replaces, and returns how many it wrote.
func exportSplit(ctx context.Context, d *data.Dataset, dir string, perClass int) (total int, err error) {
	parent, base := filepath.Dir(dir), filepath.Base(dir)
	tmp := filepath.Join(parent, "."+base+".partial")
	if err := os.RemoveAll(tmp); err != nil { // an interrupted export's
		return 0, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	written := make([]int, d.NumClasses())
	for i := range d.Len() {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		c := d.Y[i]
		if perClass > 0 && written[c] == perClass {
			continue
		}
		folder := filepath.Join(tmp, d.ClassNames[c])
		if written[c] == 0 {
			if err := os.MkdirAll(folder, 0o755); err != nil {
				return 0, err
			}
		}
		var b bytes.Buffer
		if err := png.Encode(&b, sampleImage(d, i)); err != nil {
			return 0, err
		}
		if err := os.WriteFile(filepath.Join(folder, fmt.Sprintf("%05d.png", i)), b.Bytes(), 0o644); err != nil {
			return 0, err
		}
		written[c]++
		total++
	}
	old := filepath.Join(parent, "."+base+".replaced")
	os.RemoveAll(old)
	if _, err := os.Stat(dir); err == nil {
		if err := os.Rename(dir, old); err != nil {
			return 0, err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return 0, err
	}
	return total, os.RemoveAll(old)
}

// sampleImage returns image i of d as a grayscale, RGB or RGBA image, its
// values rounded and clamped to 0..255.
func sampleImage(d *data.Dataset, i int) image.Image {
	s := d.Shape()
	h, w, c := s[0], s[1], s[2]
	px := d.Image(i)
	at := func(j int) uint8 { return uint8(math.Round(math.Min(255, math.Max(0, float64(px[j]))))) }
	r := image.Rect(0, 0, w, h)
	if c == 1 {
		g := image.NewGray(r)
		for j := range g.Pix {
			g.Pix[j] = at(j)
		}
		return g
	}
	img := image.NewNRGBA(r)
	for j := range h * w {
		col := color.NRGBA{A: 255}
		col.R, col.G, col.B = at(j*c), at(j*c+min(1, c-1)), at(j*c+min(2, c-1))
		if c == 4 {
			col.A = at(j*c + 3)
		}
		img.SetNRGBA(j%w, j/w, col)
	}
	return img
}
