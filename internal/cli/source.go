package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/data"
)

// sourceFlags selects a data set: a named one (ahcd, mnist), an image folder
// or a CSV file, each with an optional separate test set.
type sourceFlags struct {
	Dataset   string // named data set
	DataDir   string // where named data sets are looked for first
	Images    string // training images, one folder per class
	TestImg   string // test images, one folder per class
	CSV       string // training CSV
	TestCSV   string // test CSV
	CSVLabel  string // label column of the CSVs: name or index
	Height    int    // image folder target size
	Width     int
	ColorMode string // grayscale or rgb
	// Crop fits image-folder images of another shape (data's
	// ImageFolderOptions.Crop); nil until --center-crop is given.
	Crop      *float64
	Limit     int // use a random subset of this many training images (0: all)
	TestLimit int // likewise for the test set
	// SkipChecksum loads files of a named data set that are not the
	// published ones.
	SkipChecksum bool
	Memory       int // MiB the data sets may take
}

func (s *sourceFlags) register(fs *flag.FlagSet, defaultDataset string) {
	fs.StringVar(&s.Dataset, "dataset", defaultDataset, "named data set: ahcd or mnist")
	fs.StringVar(&s.DataDir, "data-dir", "", "folder holding the named data sets (default: $CONVNET_DATA, the user cache, then download)")
	fs.StringVar(&s.Images, "images", "", "training images: a folder with one subfolder per class (replaces --dataset)")
	fs.StringVar(&s.TestImg, "test-images", "", "test images, laid out like --images")
	fs.StringVar(&s.CSV, "csv", "", "training CSV: a label column and pixel columns, - for the standard input (replaces --dataset)")
	fs.StringVar(&s.TestCSV, "test-csv", "", "test CSV, laid out like --csv")
	fs.StringVar(&s.CSVLabel, "csv-label", "", "label column of the CSV files: a header name or a 0-based index (default: \"label\" or the first)")
	fs.IntVar(&s.Height, "height", 0, "image height for --images (default: the first image's)")
	fs.IntVar(&s.Width, "width", 0, "image width for --images (default: the first image's)")
	fs.StringVar(&s.ColorMode, "color-mode", "grayscale", "grayscale, rgb or rgba, for --images")
	centerCropFlag(fs, &s.Crop, "how --images and --test-images fit an image of another shape: the centred region of the size read, this fraction of the largest that fits, resized (1: Keras's keep_aspect_ratio and crop_to_aspect_ratio; 0: resized whole, the default; with --model of a file, its own); the model keeps it for predict and serve")
	fs.IntVar(&s.Limit, "limit", 0, "use a random subset of this many training images (0: all)")
	fs.IntVar(&s.TestLimit, "test-limit", 0, "use a random subset of this many test images (0: all)")
	fs.BoolVar(&s.SkipChecksum, "skip-checksum", false, "load files of a named data set whose SHA-256 is not the published one (a custom copy)")
	fs.IntVar(&s.Memory, "data-memory", data.DefaultMemory>>20, "most memory the data sets may take, in MiB")
}

// crop returns how image folders are fitted to the size read: --center-crop,
// or 0 (resized whole).
func (s *sourceFlags) crop() float64 {
	if s.Crop == nil {
		return 0
	}
	return *s.Crop
}

// describe names the source for messages and model metadata.
func (s *sourceFlags) describe() string {
	switch {
	case s.Images != "":
		return "images:" + s.Images
	case s.CSV != "":
		return "csv:" + s.CSV
	}
	return s.Dataset
}

// load returns the training set and the test set (nil when there is none),
// cut to the limits. It stops when ctx is done.
func (s *sourceFlags) load(ctx context.Context) (train, test *data.Dataset, err error) {
	return s.loadSets(ctx, false)
}

// loadSets is load; testOnly loads a --test-images or --test-csv given
// without a training set alone.
func (s *sourceFlags) loadSets(ctx context.Context, testOnly bool) (train, test *data.Dataset, err error) {
	switch {
	case s.Limit < 0 || s.TestLimit < 0:
		return nil, nil, usagef("--limit and --test-limit must not be negative")
	case s.Memory <= 0:
		return nil, nil, usagef("--data-memory %d: want a positive number of MiB", s.Memory)
	case s.CSV == "-" && s.TestCSV == "-":
		return nil, nil, usagef("--csv and --test-csv cannot both be the standard input")
	}
	if train, test, err = s.loadAll(ctx, data.NewBudget(int64(s.Memory)<<20), testOnly); err != nil {
		var me *data.MemoryError
		switch {
		case errors.As(err, new(*data.ChecksumError)):
			err = fmt.Errorf("%w; give --skip-checksum to load it anyway", err)
		case errors.As(err, &me) && me.Budget:
			err = fmt.Errorf("%w; --data-memory raises it", me) // the first, of the files read at once
		}
		return nil, nil, err
	}
	return limit(train, s.Limit), limit(test, s.TestLimit), nil
}

// limit returns a random subset of n images of d (the same for every run),
// in their original order; n = 0 or n >= d.Len() keeps d.
func limit(d *data.Dataset, n int) *data.Dataset {
	if d == nil || n == 0 || n >= d.Len() {
		return d
	}
	idx := data.Permutation(d.Len(), rand.New(rand.NewPCG(1, 2)))[:n]
	slices.Sort(idx)
	return d.Subset(idx)
}

// loadAll loads the data sets; testOnly loads a --test-images or
// --test-csv given without a training set alone, as the test set.
func (s *sourceFlags) loadAll(ctx context.Context, budget *data.Budget, testOnly bool) (train, test *data.Dataset, err error) {
	switch {
	case s.Images != "" && s.CSV != "":
		return nil, nil, usagef("give --images or --csv, not both")
	case s.TestImg != "" && s.TestCSV != "":
		return nil, nil, usagef("give --test-images or --test-csv, not both")
	case s.Images == "" && s.TestImg != "" && !testOnly:
		return nil, nil, usagef("--test-images goes with --images, the training images whose classes it tests")
	case s.CSV == "" && s.TestCSV != "" && !testOnly:
		return nil, nil, usagef("--test-csv goes with --csv, the training CSV whose classes it tests")
	case s.Crop != nil && s.Images == "" && s.TestImg == "":
		return nil, nil, usagef("--center-crop goes with --images or --test-images (how image files of another shape are fitted)")
	case testOnly && s.TestImg != "":
		test, err = data.LoadImageFolder(ctx, s.TestImg, data.ImageFolderOptions{Height: s.Height, Width: s.Width, ColorMode: s.ColorMode, Crop: s.crop(), Budget: budget})
		return nil, test, err
	case testOnly && s.TestCSV != "":
		test, err = loadCSV(ctx, s.TestCSV, data.CSVOptions{LabelColumn: s.CSVLabel, Budget: budget})
		return nil, test, err
	case s.Images != "":
		if s.Height < 0 || s.Width < 0 {
			return nil, nil, usagef("--height and --width must not be negative")
		}
		if !slices.Contains([]string{"grayscale", "rgb", "rgba"}, s.ColorMode) {
			return nil, nil, usagef("--color-mode %q: want grayscale, rgb or rgba", s.ColorMode)
		}
		opts := data.ImageFolderOptions{Height: s.Height, Width: s.Width, ColorMode: s.ColorMode, Crop: s.crop(), Budget: budget}
		if train, err = data.LoadImageFolder(ctx, s.Images, opts); err != nil {
			return nil, nil, err
		}
		if s.TestImg != "" {
			shape := train.Shape() // the test images are read at the training images' size
			opts.Height, opts.Width = shape[0], shape[1]
			if test, err = data.LoadImageFolder(ctx, s.TestImg, opts); err != nil {
				return nil, nil, err
			}
			if err := test.Relabel(train.ClassNames); err != nil {
				return nil, nil, fmt.Errorf("--test-images %s: %w: the classes of --images %s", s.TestImg, err, s.Images)
			}
		}
		return train, test, nil
	case s.CSV != "":
		opts := data.CSVOptions{LabelColumn: s.CSVLabel, Budget: budget}
		if train, err = loadCSV(ctx, s.CSV, opts); err != nil {
			return nil, nil, err
		}
		if s.TestCSV != "" {
			if test, err = loadCSV(ctx, s.TestCSV, opts); err != nil {
				return nil, nil, err
			}
			if !slices.Equal(test.Shape(), train.Shape()) {
				return nil, nil, fmt.Errorf("--test-csv %s: images of shape %v, those of --csv %s %v", s.TestCSV, test.Shape(), s.CSV, train.Shape())
			}
			if err := test.Relabel(train.ClassNames); err != nil {
				return nil, nil, fmt.Errorf("--test-csv %s: %w: the labels of --csv %s", s.TestCSV, err, s.CSV)
			}
		}
		return train, test, nil
	}
	name := strings.ToLower(s.Dataset)
	if !slices.Contains(data.NamedDatasets(), name) {
		return nil, nil, usagef("unknown dataset %q: want %s (or --images / --csv)", s.Dataset, strings.Join(data.NamedDatasets(), " or "))
	}
	cat := data.DefaultCatalog(s.DataDir)
	cat.SkipChecksum, cat.Budget = s.SkipChecksum, budget
	return cat.Load(ctx, name)
}

// loadCSV loads a CSV file, or the standard input for "-".
func loadCSV(ctx context.Context, path string, opts data.CSVOptions) (*data.Dataset, error) {
	if path != "-" {
		return data.LoadCSV(ctx, path, opts)
	}
	return data.ReadCSV(ctx, "standard input", stdin(ctx), opts)
}

// stdin returns the standard input as a reader whose reads end when ctx is
// done, even while the input is silent.
func stdin(ctx context.Context) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		_, err := io.Copy(pw, os.Stdin)
		pw.CloseWithError(err)
	}()
	context.AfterFunc(ctx, func() { pw.CloseWithError(ctx.Err()) })
	return pr
}

// splits returns the source's data sets with their names: train and test,
// or "all" for a CSV or image folder without a test set.
func (s *sourceFlags) splits(ctx context.Context) (names []string, sets []*data.Dataset, err error) {
	train, test, err := s.load(ctx)
	if err != nil {
		return nil, nil, err
	}
	if test == nil {
		return []string{"all"}, []*data.Dataset{train}, nil
	}
	return []string{"train", "test"}, []*data.Dataset{train, test}, nil
}

// testSet returns the test set of the source, or an error when it has none.
func (s *sourceFlags) testSet(ctx context.Context) (*data.Dataset, error) {
	_, test, err := s.loadSets(ctx, s.Images == "" && s.CSV == "")
	if err != nil {
		return nil, err
	}
	if test == nil {
		return nil, fmt.Errorf("%s has no test set (give --test-images or --test-csv)", s.describe())
	}
	return test, nil
}
