package data

import (
	"fmt"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/tensor"
)

// Dataset is a set of labelled images held in memory.
//
// X has shape [N, H, W, C] and holds the raw pixel values as loaded (0..255
// for every loader of this package); Y holds N class indices in
// 0..len(ClassNames)-1.
//
// A data set of 8-bit images may hold them as bytes instead, a quarter of
// the memory: the AHCD and MNIST loaders do. Pix then holds the N·H·W·C
// values in X's layout, PixShape is [N, H, W, C], and X is nil. Read the
// images with [Dataset.Image], [Dataset.ImageTo] or [Dataset.Tensor], which
// work either way; [Dataset.Bytes] converts a data set of 8-bit values.
type Dataset struct {
	X          *tensor.Tensor
	Pix        []uint8
	PixShape   []int
	Y          []int
	ClassNames []string
}

// Len returns the number of images.
func (d *Dataset) Len() int { return len(d.Y) }

// NumClasses returns the number of classes.
func (d *Dataset) NumClasses() int { return len(d.ClassNames) }

// shape returns the shape of the images, [N, H, W, C], not a copy.
func (d *Dataset) shape() []int {
	if d.X == nil {
		return d.PixShape
	}
	return d.X.Shape
}

// Shape returns the shape of one image, [H, W, C].
func (d *Dataset) Shape() []int { return slices.Clone(d.shape()[1:]) }

// SampleSize returns the number of values in one image, H*W*C.
func (d *Dataset) SampleSize() int { return tensor.Size(d.shape()[1:]) }

// Image returns the pixels of image i: a slice of X's data (not a copy),
// or a new slice for images held as bytes.
func (d *Dataset) Image(i int) []float32 {
	n := d.SampleSize()
	if d.X == nil {
		return d.ImageTo(make([]float32, n), i)
	}
	return d.X.Data[i*n : (i+1)*n]
}

// ImageTo copies the pixels of image i into dst, which must hold
// SampleSize values, and returns dst[:SampleSize()].
func (d *Dataset) ImageTo(dst []float32, i int) []float32 {
	n := d.SampleSize()
	dst = dst[:n]
	if d.X != nil {
		copy(dst, d.X.Data[i*n:(i+1)*n])
		return dst
	}
	for k, v := range d.Pix[i*n : (i+1)*n] {
		dst[k] = float32(v)
	}
	return dst
}

// Tensor returns the images as float32 values, [N, H, W, C]: X, or a new
// tensor for images held as bytes.
func (d *Dataset) Tensor() *tensor.Tensor {
	if d.X != nil {
		return d.X
	}
	x := tensor.New(d.PixShape...)
	for i, v := range d.Pix {
		x.Data[i] = float32(v)
	}
	return x
}

// Bytes returns the data set with its images held as bytes (d itself if
// they are), sharing its labels, or nil if a value is not an integer in
// 0..255.
func (d *Dataset) Bytes() *Dataset {
	if d.X == nil {
		return d
	}
	pix := make([]uint8, len(d.X.Data))
	for i, v := range d.X.Data {
		if !(v >= 0 && v <= 255) || v != float32(uint8(v)) {
			return nil
		}
		pix[i] = uint8(v)
	}
	return &Dataset{Pix: pix, PixShape: slices.Clone(d.X.Shape), Y: d.Y, ClassNames: d.ClassNames}
}

// Subset returns a new dataset holding copies of the images idx, in that
// order, held as d holds them. Indices may repeat. It panics on an index
// out of range.
func (d *Dataset) Subset(idx []int) *Dataset {
	n := d.SampleSize()
	shape := slices.Clone(d.shape())
	shape[0] = len(idx)
	var x *tensor.Tensor
	var pix []uint8
	if d.X != nil {
		x = tensor.New(shape...)
	} else {
		pix = make([]uint8, len(idx)*n)
	}
	y := make([]int, len(idx))
	for k, i := range idx {
		if i < 0 || i >= d.Len() {
			panic(fmt.Sprintf("data: Subset: index %d out of range [0,%d)", i, d.Len()))
		}
		if x != nil {
			copy(x.Data[k*n:(k+1)*n], d.X.Data[i*n:(i+1)*n])
		} else {
			copy(pix[k*n:(k+1)*n], d.Pix[i*n:(i+1)*n])
		}
		y[k] = d.Y[i]
	}
	if x == nil {
		return &Dataset{Pix: pix, PixShape: shape, Y: y, ClassNames: slices.Clone(d.ClassNames)}
	}
	return &Dataset{X: x, Y: y, ClassNames: slices.Clone(d.ClassNames)}
}

// ClassCounts returns the number of images of each class; unlabelled
// images (label -1, see [CSVOptions].NoLabels) count in none.
func (d *Dataset) ClassCounts() []int {
	counts := make([]int, d.NumClasses())
	for _, y := range d.Y {
		if y >= 0 {
			counts[y]++
		}
	}
	return counts
}

// Range returns the smallest and largest pixel value; both are 0 for an
// empty dataset.
func (d *Dataset) Range() (lo, hi float32) {
	if d.X == nil {
		if len(d.Pix) == 0 {
			return 0, 0
		}
		a, b := d.Pix[0], d.Pix[0]
		for _, v := range d.Pix {
			a, b = min(a, v), max(b, v)
		}
		return float32(a), float32(b)
	}
	if len(d.X.Data) == 0 {
		return 0, 0
	}
	lo, hi = d.X.Data[0], d.X.Data[0]
	for _, v := range d.X.Data {
		lo = min(lo, v)
		hi = max(hi, v)
	}
	return lo, hi
}

// FormatError reports malformed input: the file, the position where it
// applies (a line and column for text files, 0 when not relevant) and what
// was expected against what was found.
type FormatError struct {
	File   string
	Line   int // 1-based; 0 when not relevant
	Column int // 1-based; 0 when not relevant
	Msg    string
}

func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

func formatErr(file string, line, col int, format string, args ...any) error {
	return &FormatError{File: file, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// Relabel gives d the classes names, in their order: each image's class is
// found by its name among names, as when a test set's folders are matched
// with the classes a model was trained on. A class of d that some image
// has and names has not is an error naming it; classes of d without
// images are dropped.
func (d *Dataset) Relabel(names []string) error {
	index := make(map[string]int, len(names))
	for i, n := range names {
		if _, ok := index[n]; !ok {
			index[n] = i
		}
	}
	to := make([]int, len(d.ClassNames))
	for i, n := range d.ClassNames {
		j, ok := index[n]
		if !ok {
			j = -1
		}
		to[i] = j
	}
	y := make([]int, len(d.Y))
	for i, c := range d.Y {
		if c < 0 || c >= len(to) || to[c] < 0 {
			name := "?"
			if c >= 0 && c < len(d.ClassNames) {
				name = d.ClassNames[c]
			}
			return fmt.Errorf("image %d is of class %q, not one of the %d classes %s", i+1, name, len(names), quoteList(names, 8))
		}
		y[i] = to[c]
	}
	d.Y, d.ClassNames = y, slices.Clone(names)
	return nil
}

// quoteList quotes the first n names, and says how many more there are.
func quoteList(names []string, n int) string {
	var b strings.Builder
	for i, s := range names[:min(n, len(names))] {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", s)
	}
	if len(names) > n {
		fmt.Fprintf(&b, " and %d more", len(names)-n)
	}
	return b.String()
}
