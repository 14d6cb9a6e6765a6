package torchexport

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/convnet-go/convnet/data"
)

// dataData is what train.py's data functions need of the data source.
type dataData struct {
	Kind             string // ahcd, mnist, images or csv
	Named            bool
	Describe         string
	Const, Flags     []string
	Limit, TestLimit int
	ColorMode        string
}

// dataSource describes where train.py reads its data.
func dataSource(s Data) (dataData, error) {
	d := dataData{Limit: s.Limit, TestLimit: s.TestLimit}
	abs := func(path string) string {
		if path == "" {
			return ""
		}
		if a, err := filepath.Abs(path); err == nil {
			return a
		}
		return path
	}
	optional := func(path string) string {
		if path == "" {
			return "None"
		}
		return pyStr(abs(path))
	}
	switch {
	case s.Images != "":
		d.Kind, d.Describe = "images", pyStr("images:"+s.Images)
		mode := s.ColorMode
		if mode == "" {
			mode = "rgb"
		}
		d.ColorMode = mode
		d.Const = []string{
			"IMAGES = " + pyStr(abs(s.Images)) + "  # one folder of images per class",
			"TEST_IMAGES = " + optional(s.TestImages),
			fmt.Sprintf("HEIGHT, WIDTH = %d, %d  # the size images are resized to (0: the first image's)", s.Height, s.Width),
			"COLOR_MODE = " + pyStr(mode),
			"CROP = " + pyFloat(s.Crop) + "  # an image of another shape: its centred region of HEIGHT x WIDTH's shape, this fraction of the largest that fits (0: resized whole)",
		}
		d.Flags = []string{
			`p.add_argument("--images", default=IMAGES, help="training images: one folder per class")`,
			`p.add_argument("--test-images", default=TEST_IMAGES, help="test images, laid out like --images")`,
		}
	case s.CSV != "":
		if s.CSV == "-" || s.TestCSV == "-" {
			return d, unsupported("--csv -", "the PyTorch project reads files, not the standard input")
		}
		d.Kind, d.Describe = "csv", pyStr("csv:"+s.CSV)
		d.Const = []string{
			"CSV = " + pyStr(abs(s.CSV)) + "  # a label column and the pixels of each image",
			"TEST_CSV = " + optional(s.TestCSV),
			"LABEL_COLUMN = " + pyStr(s.CSVLabel) + `  # a header name or a 0-based index ("": "label" or the first)`,
		}
		d.Flags = []string{
			`p.add_argument("--csv", default=CSV, help="the training CSV file")`,
			`p.add_argument("--test-csv", default=TEST_CSV, help="the test CSV file")`,
		}
	default:
		remotes, ok := data.DefaultRemotes[s.Dataset]
		if !ok {
			return d, unsupported("--dataset "+s.Dataset, "not a named data set (%v)", data.NamedDatasets())
		}
		d.Kind, d.Named, d.Describe = s.Dataset, true, pyStr(s.Dataset)
		var classes []string
		switch s.Dataset {
		case "ahcd":
			classes = data.AHCDClassNames()
		case "mnist":
			for k := range 10 {
				classes = append(classes, strconv.Itoa(k))
			}
		default:
			return d, unsupported("--dataset "+s.Dataset, "the PyTorch project has no reader for it")
		}
		d.Const = append(d.Const, "CLASSES = "+pyStrs(classes))
		d.Const = append(d.Const, "DATA_DIR = "+optional(s.DataDir)+"  # default: $CONVNET_DATA, then the user cache")
		d.Const = append(d.Const, "REMOTES = [  # (file in the data folder, its public address, SHA-256, {unpacked file: SHA-256})")
		for _, r := range remotes {
			d.Const = append(d.Const, fmt.Sprintf("    (%s, %s, %s, {", pyStr(r.Path), pyStr(r.URL), pyStr(r.SHA256)))
			for _, name := range slices.Sorted(maps.Keys(r.Unpacked)) {
				d.Const = append(d.Const, fmt.Sprintf("        %s: %s,", pyStr(name), pyStr(r.Unpacked[name])))
			}
			d.Const = append(d.Const, "    }),")
		}
		d.Const = append(d.Const, "]")
		d.Flags = []string{
			`p.add_argument("--data-dir", default=DATA_DIR, help="the folder holding the data set (default: $CONVNET_DATA, then the user cache)")`,
			fmt.Sprintf(`p.add_argument("--skip-checksum", action="store_true", default=%s, help="load files whose SHA-256 is not the published one")`, pyBool(s.SkipChecksum)),
		}
	}
	return d, nil
}
