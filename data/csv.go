package data

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"

	"github.com/convnet-go/convnet/tensor"
)

// CSVOptions describes a CSV file of images, one per row: a label column and
// the pixel values, like Kaggle's MNIST train.csv.
type CSVOptions struct {
	// LabelColumn is the label's column, by header name or 0-based index.
	// Empty means the column named "label" if the header has one, else 0.
	LabelColumn string
	// Header says whether the first row names the columns: "yes", "no", or
	// "auto" (or empty): a header if a cell of the first row holds letters
	// and is not a number.
	Header string
	// Height, Width and Channels give the image shape. All zero means
	// square grayscale: the pixel count must be a perfect square.
	Height, Width, Channels int
	// ColumnMajor says the pixels are stored column by column (value i of
	// a one-channel image is pixel (i%Height, i/Height)), as in AHCD.
	ColumnMajor bool
	// NumClasses bounds the labels to 0..NumClasses-1; 0 means the largest
	// label plus one. Labels must be integers.
	NumClasses int
	// NoLabels says every column is a pixel, as in a Kaggle test.csv: the
	// data set's labels are then all -1 and it has no class names.
	NoLabels bool
}

// maxCSVClasses bounds the number of classes inferred from labels.
const maxCSVClasses = 1 << 16

// LoadCSV loads images and labels from a CSV file (see [CSVOptions]).
// Pixels must lie in 0..255. Class names are the label numbers, "0", "1", ...
func LoadCSV(path string, opts CSVOptions) (*Dataset, error) {
	data, err := readFileLimited(path, maxTextFile)
	if err != nil {
		return nil, err
	}
	return decodeCSV(path, data, opts)
}

func decodeCSV(file string, data []byte, opts CSVOptions) (*Dataset, error) {
	// The header, if any.
	first, rest, _ := bytes.Cut(data, []byte{'\n'})
	var header []string
	switch opts.Header {
	case "yes":
		header = splitHeader(first)
	case "no":
	case "", "auto":
		if len(bytes.TrimSpace(first)) > 0 {
			for _, cell := range splitHeader(first) {
				if _, err := strconv.ParseFloat(cell, 64); err != nil && strings.IndexFunc(cell, unicode.IsLetter) >= 0 {
					header = splitHeader(first)
					break
				}
			}
		}
	default:
		return nil, fmt.Errorf("CSV header option %q, want yes, no or auto", opts.Header)
	}
	body, firstLine := data, 1
	if header != nil {
		body, firstLine = rest, 2
	}
	// Which column holds the label.
	label := 0
	switch {
	case opts.NoLabels:
		label = -1
	case opts.LabelColumn == "":
		for i, h := range header {
			if strings.EqualFold(h, "label") {
				label = i
			}
		}
	default:
		if i, err := strconv.Atoi(opts.LabelColumn); err == nil {
			label = i
		} else if label = indexOf(header, opts.LabelColumn); label < 0 {
			if header == nil {
				return nil, formatErr(file, 1, 0, "label column %q named but the file has no header", opts.LabelColumn)
			}
			return nil, formatErr(file, 1, 0, "no column named %q in the header (columns: %s)", opts.LabelColumn, listOrNone(header))
		}
	}
	wantCols := len(header)
	t, err := parseNumbers(file, body, firstLine, wantCols)
	if err != nil {
		return nil, err
	}
	if t.rows == 0 {
		return nil, formatErr(file, 0, 0, "no data rows")
	}
	npix := t.cols - 1
	if opts.NoLabels {
		npix = t.cols
	} else if label < 0 || label >= t.cols {
		return nil, formatErr(file, firstLine, 0, "label column %d outside the %d columns", label, t.cols)
	}
	// The image shape.
	h, w, c := opts.Height, opts.Width, opts.Channels
	if h == 0 && w == 0 && c == 0 {
		side := int(math.Sqrt(float64(npix)) + 0.5)
		if side*side != npix || npix == 0 {
			return nil, formatErr(file, firstLine, 0, "%d pixel columns are not a square image; give the height, width and channels", npix)
		}
		h, w, c = side, side, 1
	}
	if h <= 0 || w <= 0 || c <= 0 || h*w*c != npix {
		return nil, formatErr(file, firstLine, 0, "%d pixel columns, want %dx%dx%d = %d", npix, h, w, c, h*w*c)
	}
	// Labels.
	y := make([]int, t.rows)
	maxLabel := -1
	for r := range t.rows {
		if opts.NoLabels {
			y[r] = -1
			continue
		}
		v := t.vals[r*t.cols+label]
		limit := opts.NumClasses
		if limit <= 0 {
			limit = maxCSVClasses
		}
		if v != float32(int(v)) || v < 0 || v >= float32(limit) {
			return nil, formatErr(file, firstLine+r, label+1, "label %v, want an integer in 0..%d", v, limit-1)
		}
		y[r] = int(v)
		maxLabel = max(maxLabel, y[r])
	}
	nc := opts.NumClasses
	if nc <= 0 || opts.NoLabels {
		nc = maxLabel + 1
	}
	names := make([]string, nc)
	for i := range names {
		names[i] = strconv.Itoa(i)
	}
	// Pixels.
	x := tensor.New(t.rows, h, w, c)
	for r := range t.rows {
		row := t.vals[r*t.cols : (r+1)*t.cols]
		dst := x.Data[r*npix : (r+1)*npix]
		i := 0
		for col, v := range row {
			if col == label {
				continue
			}
			if v < 0 || v > 255 {
				return nil, formatErr(file, firstLine+r, col+1, "pixel value %v outside 0..255", v)
			}
			if opts.ColumnMajor {
				// i = (column*h + row)*c + channel.
				ch, p := i%c, i/c
				dst[((p%h)*w+p/h)*c+ch] = v
			} else {
				dst[i] = v
			}
			i++
		}
	}
	return &Dataset{X: x, Y: y, ClassNames: names}, nil
}

func splitHeader(line []byte) []string {
	cells := strings.Split(strings.TrimRight(string(line), "\r"), ",")
	for i, c := range cells {
		cells[i] = strings.Trim(strings.TrimSpace(c), `"`)
	}
	return cells
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
