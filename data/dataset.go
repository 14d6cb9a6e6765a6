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
type Dataset struct {
	X          *tensor.Tensor
	Y          []int
	ClassNames []string
}

// Len returns the number of images.
func (d *Dataset) Len() int { return len(d.Y) }

// NumClasses returns the number of classes.
func (d *Dataset) NumClasses() int { return len(d.ClassNames) }

// Shape returns the shape of one image, [H, W, C].
func (d *Dataset) Shape() []int { return slices.Clone(d.X.Shape[1:]) }

// SampleSize returns the number of values in one image, H*W*C.
func (d *Dataset) SampleSize() int { return tensor.Size(d.X.Shape[1:]) }

// Image returns the pixels of image i as a slice of X's data (not a copy).
func (d *Dataset) Image(i int) []float32 {
	n := d.SampleSize()
	return d.X.Data[i*n : (i+1)*n]
}

// Subset returns a new dataset holding copies of the images idx, in that
// order. Indices may repeat. It panics on an index out of range.
func (d *Dataset) Subset(idx []int) *Dataset {
	n := d.SampleSize()
	shape := slices.Clone(d.X.Shape)
	shape[0] = len(idx)
	x := tensor.New(shape...)
	y := make([]int, len(idx))
	for k, i := range idx {
		if i < 0 || i >= d.Len() {
			panic(fmt.Sprintf("data: Subset: index %d out of range [0,%d)", i, d.Len()))
		}
		copy(x.Data[k*n:(k+1)*n], d.X.Data[i*n:(i+1)*n])
		y[k] = d.Y[i]
	}
	return &Dataset{X: x, Y: y, ClassNames: slices.Clone(d.ClassNames)}
}

// ClassCounts returns the number of images of each class.
func (d *Dataset) ClassCounts() []int {
	counts := make([]int, d.NumClasses())
	for _, y := range d.Y {
		counts[y]++
	}
	return counts
}

// Range returns the smallest and largest pixel value; both are 0 for an
// empty dataset.
func (d *Dataset) Range() (lo, hi float32) {
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
