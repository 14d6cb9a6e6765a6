package data

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadCSV(t *testing.T) {
	for _, c := range []struct {
		name    string
		text    string
		opts    CSVOptions
		shape   []int
		y       []int
		pixels  []float32 // first image
		classes int
	}{
		{"kaggle header", "label,p0,p1,p2,p3\n3,0,1,2,3\n1,4,5,6,7\n", CSVOptions{}, []int{2, 2, 1}, []int{3, 1}, []float32{0, 1, 2, 3}, 4},
		{"no header, label last", "0,1,2,3,2\r\n4,5,6,7,0\r\n", CSVOptions{LabelColumn: "4"}, []int{2, 2, 1}, []int{2, 0}, []float32{0, 1, 2, 3}, 3},
		{"named label, quoted, spaces", "\"a\",\"b\",\"cls\"\n 10 , 20.5 ,\"1\"\n", CSVOptions{LabelColumn: "cls", Height: 1, Width: 2, Channels: 1}, []int{1, 2, 1}, []int{1}, []float32{10, 20.5}, 2},
		{"column major", "1,0,1,2,3\n", CSVOptions{ColumnMajor: true}, []int{2, 2, 1}, []int{1}, []float32{0, 2, 1, 3}, 2},
		{"rgb", "0,1,2,3,4,5,6\n", CSVOptions{Height: 1, Width: 2, Channels: 3, NumClasses: 5}, []int{1, 2, 3}, []int{0}, []float32{1, 2, 3, 4, 5, 6}, 5},
		{"header forced", "1,2\n0,7\n", CSVOptions{Header: "yes", Height: 1, Width: 1, Channels: 1}, []int{1, 1, 1}, []int{0}, []float32{7}, 1},
		{"trailing blank lines", "0,1\n\n\n", CSVOptions{}, []int{1, 1, 1}, []int{0}, []float32{1}, 1},
		{"no labels, kaggle test header", "pixel0,pixel1,pixel2,pixel3\n0,1,2,3\n4,5,6,7\n", CSVOptions{NoLabels: true}, []int{2, 2, 1}, []int{-1, -1}, []float32{0, 1, 2, 3}, 0},
		{"no labels, column major", "0,1,2,3\n", CSVOptions{NoLabels: true, ColumnMajor: true}, []int{2, 2, 1}, []int{-1}, []float32{0, 2, 1, 3}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := parseCSV("x.csv", c.text, c.opts)
			if err != nil {
				t.Fatalf("decodeCSV: %v", err)
			}
			if got := d.Shape(); !equalInts(got, c.shape) {
				t.Errorf("Shape() = %v, want %v", got, c.shape)
			}
			if !equalInts(d.Y, c.y) {
				t.Errorf("Y = %v, want %v", d.Y, c.y)
			}
			if got := d.Image(0); !equalFloats(got, c.pixels) {
				t.Errorf("Image(0) = %v, want %v", got, c.pixels)
			}
			if d.NumClasses() != c.classes {
				t.Errorf("NumClasses() = %d, want %d", d.NumClasses(), c.classes)
			}
		})
	}
}

func TestLoadCSVBad(t *testing.T) {
	for _, c := range []struct {
		name string
		text string
		opts CSVOptions
		want string
	}{
		{"empty", "", CSVOptions{}, "x.csv: no data rows"},
		{"header only", "label,a\n", CSVOptions{}, "x.csv: no data rows"},
		{"ragged", "label,a,b,c,d\n1,2,3,4,5\n1,2,3,4\n", CSVOptions{}, "x.csv:3: row has 4 cells, want 5"},
		{"empty row", "1,2,3,4,5\n\n1,2,3,4,5\n", CSVOptions{}, "x.csv:2: empty row, want 5 numbers"},
		{"empty cell", "1,2,,4,5\n", CSVOptions{}, "x.csv:1:3: empty cell"},
		{"non-numeric", "label,a,b,c,d\n1,2,3,4,5\n1,2,3,four,5\n", CSVOptions{}, `x.csv:3:4: expected a number, got "four"`},
		{"nan", "1,2,3,NaN,5\n", CSVOptions{}, `x.csv:1:4: expected a number, got "NaN"`},
		{"pixel range", "1,2,3,-4,5\n", CSVOptions{}, "x.csv:1:4: pixel value -4 outside 0..255"},
		{"pixel range 2", "1,2,3,4,300\n", CSVOptions{}, "x.csv:1:5: pixel value 300 outside 0..255"},
		{"label range", "1,2,3,4,5\n12,2,3,4,5\n", CSVOptions{NumClasses: 10}, "x.csv:2:1: label 12, want an integer in 0..9"},
		{"label fraction", "1.5,2,3,4,5\n", CSVOptions{}, "x.csv:1:1: label 1.5, want an integer"},
		{"not square", "1,2,3,4\n", CSVOptions{}, "3 pixel columns are not a square image"},
		{"shape mismatch", "1,2,3,4,5\n", CSVOptions{Height: 3, Width: 3, Channels: 1}, "4 pixel columns, want 3x3x1 = 9"},
		{"shape overflows", "1\n", CSVOptions{Height: 1 << 40, Width: 1 << 40, Channels: 1}, "x.csv:1: 0 pixel columns, want 1099511627776x1099511627776x1"},
		{"no labels, shape mismatch", "1,2,3,4,5\n", CSVOptions{NoLabels: true, Height: 2, Width: 2, Channels: 1}, "x.csv:1: 5 pixel columns, want 2x2x1 = 4"},
		{"no labels, ragged", "1,2,3,4\n1,2,3,4,5\n", CSVOptions{NoLabels: true}, "x.csv:2: row has 5 cells, want 4"},
		{"unknown label name", "a,b\n1,2\n", CSVOptions{LabelColumn: "label"}, `no column named "label"`},
		{"label name without header", "1,2\n", CSVOptions{LabelColumn: "label"}, "the file has no header"},
		{"label index", "1,2\n", CSVOptions{LabelColumn: "5"}, "label column 5 outside the 2 columns"},
		{"junk after cell", "1,2 3\n", CSVOptions{}, `x.csv:1:2: expected a comma or the end of the line, got '3'`},
		{"unterminated quote", "1,\"2\n", CSVOptions{}, "x.csv:1:2: unterminated quoted cell"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := parseCSV("x.csv", c.text, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("decodeCSV error = %v, want one containing %q", err, c.want)
			}
			if d != nil {
				t.Errorf("decodeCSV returned data with an error")
			}
			if !errors.As(err, new(*FormatError)) {
				t.Errorf("error %v is not a *FormatError", err)
			}
		})
	}
}

func TestLoadCSVFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "train.csv")
	os.WriteFile(path, []byte("label,a\n1,255\n"), 0o644)
	d, err := LoadCSV(context.Background(), path, CSVOptions{})
	if err != nil || d.Len() != 1 || d.X.Data[0] != 255 {
		t.Fatalf("LoadCSV = %v, %v; want one image of value 255", d, err)
	}
	if _, err := LoadCSV(context.Background(), path+".missing", CSVOptions{}); err == nil {
		t.Errorf("LoadCSV(missing file) returned no error")
	}
}

// parseCSV decodes CSV text.
func parseCSV(name, text string, opts CSVOptions) (*Dataset, error) {
	return ReadCSV(context.Background(), name, strings.NewReader(text), opts)
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
