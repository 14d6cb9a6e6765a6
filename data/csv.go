package data

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"

	"github.com/convnet-go/convnet/internal/safefile"
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
	// Budget bounds the memory the data takes; nil means a new budget of
	// DefaultMemory.
	Budget *Budget
}

// maxCSVClasses bounds the number of classes inferred from labels.
const maxCSVClasses = 1 << 16

// LoadCSV loads images and labels from a CSV file (see [CSVOptions]).
// Pixels must lie in 0..255. Class names are the label numbers, "0", "1", ...
// The file is read a line at a time; it must be a regular file.
func LoadCSV(ctx context.Context, path string, opts CSVOptions) (*Dataset, error) {
	f, err := safefile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	a := orDefault(opts.Budget).allow(path, info.Size(), plainRate)
	return decodeCSV(path, ctxReader{ctx, f}, a, opts)
}

// ReadCSV is [LoadCSV] for a stream, such as the standard input; name is
// used in messages.
func ReadCSV(ctx context.Context, name string, r io.Reader, opts CSVOptions) (*Dataset, error) {
	return decodeCSV(name, ctxReader{ctx, r}, orDefault(opts.Budget).allow(name, -1, plainRate), opts)
}

func decodeCSV(file string, r io.Reader, a *allowance, opts CSVOptions) (*Dataset, error) {
	rr := newRowReader(file, r, a)
	defer rr.close()
	first, err := rr.readLine()
	if err == io.EOF {
		return nil, formatErr(file, 0, 0, "no data rows")
	}
	if err != nil {
		return nil, err
	}
	if n := bytes.Count(first, []byte{','}) + 1; n > maxCSVColumns {
		return nil, formatErr(file, 1, 0, "row has %d cells, more than %d", n, maxCSVColumns)
	}
	// The header, if any.
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
	rr.cols = len(header)
	c := csvRows{file: file, opts: opts, label: label, pixels: pile[float32]{a: a}, labels: pile[int]{a: a}}
	defer c.pixels.free()
	defer c.labels.free()
	var row []float32
	if header == nil {
		// The first line is a row.
		if len(bytes.Trim(first, " \t\r")) == 0 {
			rr.blank = 1
		} else if row, err = rr.parse(first); err != nil {
			return nil, err
		}
	}
	for {
		if row == nil {
			if row, err = rr.next(); err == io.EOF {
				break
			} else if err != nil {
				return nil, err
			}
		}
		if err := c.add(row, rr.line); err != nil {
			return nil, err
		}
		row = nil
	}
	if c.rows == 0 {
		return nil, formatErr(file, 0, 0, "no data rows")
	}
	return c.dataset()
}

// csvRows collects the rows of a CSV file as they are read.
type csvRows struct {
	file    string
	opts    CSVOptions
	label   int
	h, w, c int
	px      []float32 // the pixels of one row
	scratch []float32 // the same in row-major order, for ColumnMajor

	rows     int
	maxLabel int
	pixels   pile[float32]
	labels   pile[int]
}

// add checks one row, numbered line in the file, and keeps it.
func (c *csvRows) add(row []float32, line int) error {
	file, opts := c.file, c.opts
	if c.rows == 0 {
		if err := c.setShape(len(row), line); err != nil {
			return err
		}
	}
	y := -1
	if c.label >= 0 {
		v := row[c.label]
		limit := opts.NumClasses
		if limit <= 0 {
			limit = maxCSVClasses
		}
		if v != float32(int(v)) || v < 0 || v >= float32(limit) {
			return formatErr(file, line, c.label+1, "label %v, want an integer in 0..%d", v, limit-1)
		}
		y = int(v)
		c.maxLabel = max(c.maxLabel, y)
	}
	if err := c.labels.add(y); err != nil {
		return err
	}
	for col, v := range row {
		if col != c.label && (v < 0 || v > 255) {
			return formatErr(file, line, col+1, "pixel value %v outside 0..255", v)
		}
	}
	px := append(c.px[:0], row...)
	if c.label >= 0 {
		px = append(append(c.px[:0], row[:c.label]...), row[c.label+1:]...)
	}
	c.px = px
	if opts.ColumnMajor {
		// Value i = (column*h + row)*c + channel.
		for i, v := range px {
			ch, p := i%c.c, i/c.c
			c.scratch[((p%c.h)*c.w+p/c.h)*c.c+ch] = v
		}
		px = c.scratch
	}
	c.rows++
	return c.pixels.add(px...)
}

// setShape checks the label column and works out the image shape from the
// first row's number of cells.
func (c *csvRows) setShape(cols, line int) error {
	npix := cols - 1
	if c.opts.NoLabels {
		npix = cols
	} else if c.label < 0 || c.label >= cols {
		return formatErr(c.file, line, 0, "label column %d outside the %d columns", c.label, cols)
	}
	h, w, ch := c.opts.Height, c.opts.Width, c.opts.Channels
	if h == 0 && w == 0 && ch == 0 {
		side := int(math.Sqrt(float64(npix)) + 0.5)
		if side*side != npix || npix == 0 {
			return formatErr(c.file, line, 0, "%d pixel columns are not a square image; give the height, width and channels", npix)
		}
		h, w, ch = side, side, 1
	}
	if h <= 0 || w <= 0 || ch <= 0 || h > npix || w > npix || ch > npix {
		// Not h*w*ch, which may overflow.
		return formatErr(c.file, line, 0, "%d pixel columns, want %dx%dx%d", npix, h, w, ch)
	}
	if h*w*ch != npix {
		return formatErr(c.file, line, 0, "%d pixel columns, want %dx%dx%d = %d", npix, h, w, ch, h*w*ch)
	}
	c.h, c.w, c.c = h, w, ch
	if c.opts.ColumnMajor {
		c.scratch = make([]float32, npix)
	}
	return nil
}

// dataset returns the rows read as a data set.
func (c *csvRows) dataset() (*Dataset, error) {
	nc := c.opts.NumClasses
	if nc <= 0 {
		nc = c.maxLabel + 1
	}
	if c.opts.NoLabels {
		nc = 0
	}
	if err := c.pixels.a.take(int64(nc) * 24); err != nil {
		return nil, err
	}
	names := make([]string, nc)
	for i := range names {
		names[i] = strconv.Itoa(i)
	}
	y, err := c.labels.collect()
	if err != nil {
		return nil, err
	}
	x, err := c.pixels.collect()
	if err != nil {
		return nil, err
	}
	return &Dataset{X: tensor.FromData(x, c.rows, c.h, c.w, c.c), Y: y, ClassNames: names}, nil
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
