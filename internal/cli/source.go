package cli

import (
	"flag"
	"fmt"
	"math/rand/v2"
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
	Limit     int    // use a random subset of this many training images (0: all)
	TestLimit int    // likewise for the test set
}

func (s *sourceFlags) register(fs *flag.FlagSet, defaultDataset string) {
	fs.StringVar(&s.Dataset, "dataset", defaultDataset, "named data set: ahcd or mnist")
	fs.StringVar(&s.DataDir, "data-dir", "", "folder holding the named data sets (default: $CONVNET_DATA, the user cache, then download)")
	fs.StringVar(&s.Images, "images", "", "training images: a folder with one subfolder per class (replaces --dataset)")
	fs.StringVar(&s.TestImg, "test-images", "", "test images, laid out like --images")
	fs.StringVar(&s.CSV, "csv", "", "training CSV: a label column and pixel columns (replaces --dataset)")
	fs.StringVar(&s.TestCSV, "test-csv", "", "test CSV, laid out like --csv")
	fs.StringVar(&s.CSVLabel, "csv-label", "", "label column of the CSV files: a header name or a 0-based index (default: \"label\" or the first)")
	fs.IntVar(&s.Height, "height", 0, "image height for --images (default: the first image's)")
	fs.IntVar(&s.Width, "width", 0, "image width for --images (default: the first image's)")
	fs.StringVar(&s.ColorMode, "color-mode", "grayscale", "grayscale, rgb or rgba, for --images")
	fs.IntVar(&s.Limit, "limit", 0, "use a random subset of this many training images (0: all)")
	fs.IntVar(&s.TestLimit, "test-limit", 0, "use a random subset of this many test images (0: all)")
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
// cut to the limits.
func (s *sourceFlags) load() (train, test *data.Dataset, err error) {
	if s.Limit < 0 || s.TestLimit < 0 {
		return nil, nil, usagef("--limit and --test-limit must not be negative")
	}
	if train, test, err = s.loadAll(); err != nil {
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

func (s *sourceFlags) loadAll() (train, test *data.Dataset, err error) {
	switch {
	case s.Images != "" && s.CSV != "":
		return nil, nil, usagef("give --images or --csv, not both")
	case s.Images != "":
		if s.Height < 0 || s.Width < 0 {
			return nil, nil, usagef("--height and --width must not be negative")
		}
		if !slices.Contains([]string{"grayscale", "rgb", "rgba"}, s.ColorMode) {
			return nil, nil, usagef("--color-mode %q: want grayscale, rgb or rgba", s.ColorMode)
		}
		opts := data.ImageFolderOptions{Height: s.Height, Width: s.Width, ColorMode: s.ColorMode}
		if train, err = data.LoadImageFolder(s.Images, opts); err != nil {
			return nil, nil, err
		}
		if s.TestImg != "" {
			if test, err = data.LoadImageFolder(s.TestImg, opts); err != nil {
				return nil, nil, err
			}
		}
		return train, test, nil
	case s.CSV != "":
		opts := data.CSVOptions{LabelColumn: s.CSVLabel}
		if train, err = data.LoadCSV(s.CSV, opts); err != nil {
			return nil, nil, err
		}
		if s.TestCSV != "" {
			if test, err = data.LoadCSV(s.TestCSV, opts); err != nil {
				return nil, nil, err
			}
		}
		return train, test, nil
	}
	name := strings.ToLower(s.Dataset)
	if !slices.Contains(data.NamedDatasets(), name) {
		return nil, nil, usagef("unknown dataset %q: want %s (or --images / --csv)", s.Dataset, strings.Join(data.NamedDatasets(), " or "))
	}
	return data.Named(name, s.DataDir)
}

// splits returns the source's data sets with their names: train and test,
// or "all" for a CSV or image folder without a test set.
func (s *sourceFlags) splits() (names []string, sets []*data.Dataset, err error) {
	train, test, err := s.load()
	if err != nil {
		return nil, nil, err
	}
	if test == nil {
		return []string{"all"}, []*data.Dataset{train}, nil
	}
	return []string{"train", "test"}, []*data.Dataset{train, test}, nil
}

// testSet returns the test set of the source, or an error when it has none.
func (s *sourceFlags) testSet() (*data.Dataset, error) {
	_, test, err := s.load()
	if err != nil {
		return nil, err
	}
	if test == nil {
		return nil, fmt.Errorf("%s has no test set (give --test-images or --test-csv)", s.describe())
	}
	return test, nil
}
