package data

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/convnet-go/convnet/tensor"
)

// AHCDClass is one letter of the Arabic Handwritten Characters Dataset.
type AHCDClass struct {
	Name   string // transliterated name, e.g. "alef"
	Letter string // the isolated Arabic letter, e.g. "ا"
}

// AHCDClasses lists the 28 AHCD classes in label order: the file's label 1
// is class index 0.
var AHCDClasses = [28]AHCDClass{
	{"alef", "ا"}, {"beh", "ب"}, {"teh", "ت"}, {"theh", "ث"}, {"jeem", "ج"},
	{"hah", "ح"}, {"khah", "خ"}, {"dal", "د"}, {"thal", "ذ"}, {"reh", "ر"},
	{"zain", "ز"}, {"seen", "س"}, {"sheen", "ش"}, {"sad", "ص"}, {"dad", "ض"},
	{"tah", "ط"}, {"zah", "ظ"}, {"ain", "ع"}, {"ghain", "غ"}, {"feh", "ف"},
	{"qaf", "ق"}, {"kaf", "ك"}, {"lam", "ل"}, {"meem", "م"}, {"noon", "ن"},
	{"heh", "ه"}, {"waw", "و"}, {"yeh", "ي"},
}

// AHCDClassNames returns the class names used by [LoadAHCD]: the name, a
// space and the letter, e.g. "alef ا".
func AHCDClassNames() []string {
	names := make([]string, len(AHCDClasses))
	for i, c := range AHCDClasses {
		names[i] = c.Name + " " + c.Letter
	}
	return names
}

// AHCD layout facts.
const (
	ahcdSide      = 32
	ahcdPixels    = ahcdSide * ahcdSide
	AHCDBlockSize = 224 // training rows per writer: 28 classes x 8
)

// The four members of the AHCD archive, matched by the start of their base
// name (the full names also carry the table sizes).
var ahcdMembers = [4]string{"csvTrainImages", "csvTrainLabel", "csvTestImages", "csvTestLabel"}

// LoadAHCD loads the Arabic Handwritten Characters Dataset from path: either
// the published zip (read in place) or a folder holding its four extracted
// CSV files. Images come out upright, 32x32x1, white strokes (up to 255) on
// black; labels 1..28 become class indices 0..27 named as in
// [AHCDClassNames].
func LoadAHCD(path string) (train, test *Dataset, err error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	var open func(i int) (name string, data []byte, err error)
	if info.IsDir() {
		open, err = ahcdFolder(path)
	} else {
		var zr *zip.ReadCloser
		zr, err = zip.OpenReader(path)
		if err != nil {
			return nil, nil, &FormatError{File: path, Msg: fmt.Sprintf("not a readable zip archive: %v", err)}
		}
		defer zr.Close()
		open, err = ahcdZip(path, &zr.Reader)
	}
	if err != nil {
		return nil, nil, err
	}
	// Each member is read and parsed on its own goroutine.
	var (
		wg     sync.WaitGroup
		tables [4]numberTable
		names  [4]string
		errs   [4]error
	)
	for i := range ahcdMembers {
		wg.Go(func() {
			var data []byte
			names[i], data, errs[i] = open(i)
			if errs[i] != nil {
				return
			}
			cols := 1
			if i%2 == 0 {
				cols = ahcdPixels
			}
			tables[i], errs[i] = parseNumbers(names[i], data, 1, cols)
		})
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, nil, err
	}
	train, err = ahcdDataset(names[0], names[1], tables[0], tables[1])
	if err != nil {
		return nil, nil, err
	}
	test, err = ahcdDataset(names[2], names[3], tables[2], tables[3])
	if err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// ahcdDataset checks one split and turns its column-major rows into upright
// images.
func ahcdDataset(imgFile, lblFile string, img, lbl numberTable) (*Dataset, error) {
	if img.rows == 0 {
		return nil, formatErr(imgFile, 0, 0, "no images")
	}
	if img.rows != lbl.rows {
		return nil, formatErr(lblFile, 0, 0, "%d labels for %d images in %s", lbl.rows, img.rows, filepath.Base(imgFile))
	}
	y := make([]int, lbl.rows)
	for i, v := range lbl.vals {
		if v != float32(int(v)) || v < 1 || v > float32(len(AHCDClasses)) {
			return nil, formatErr(lblFile, i+1, 1, "label %v outside 1..%d", v, len(AHCDClasses))
		}
		y[i] = int(v) - 1
	}
	x := tensor.New(img.rows, ahcdSide, ahcdSide, 1)
	for n := range img.rows {
		src := img.vals[n*ahcdPixels : (n+1)*ahcdPixels]
		dst := x.Data[n*ahcdPixels : (n+1)*ahcdPixels]
		for i, v := range src {
			if v < 0 || v > 255 {
				return nil, formatErr(imgFile, n+1, i+1, "pixel value %v outside 0..255", v)
			}
			// Value i is pixel (row i%32, column i/32).
			dst[(i%ahcdSide)*ahcdSide+i/ahcdSide] = v
		}
	}
	return &Dataset{X: x, Y: y, ClassNames: AHCDClassNames()}, nil
}

// ahcdZip finds the four members in a zip archive.
func ahcdZip(path string, zr *zip.Reader) (func(int) (string, []byte, error), error) {
	var files [4]*zip.File
	var seen []string
	for _, f := range zr.File {
		base := filepath.Base(f.Name)
		if f.FileInfo().IsDir() || strings.HasPrefix(base, ".") {
			continue
		}
		seen = append(seen, f.Name)
		for i, m := range ahcdMembers {
			if hasPrefixFold(base, m) && strings.HasSuffix(strings.ToLower(base), ".csv") && files[i] == nil {
				files[i] = f
			}
		}
	}
	for i, f := range files {
		if f == nil {
			return nil, formatErr(path, 0, 0, "zip has no member %s*.csv (members: %s)", ahcdMembers[i], listOrNone(seen))
		}
	}
	return func(i int) (string, []byte, error) {
		name := path + "/" + files[i].Name
		rc, err := files[i].Open()
		if err != nil {
			return name, nil, formatErr(name, 0, 0, "cannot open zip member: %v", err)
		}
		defer rc.Close()
		var buf bytes.Buffer
		// The header's size is only a hint, and capped.
		buf.Grow(int(min(files[i].UncompressedSize64, 64<<20)))
		if _, err := io.Copy(&buf, io.LimitReader(rc, maxTextFile+1)); err != nil {
			return name, nil, formatErr(name, 0, 0, "cannot read zip member: %v", err)
		}
		if buf.Len() > maxTextFile {
			return name, nil, formatErr(name, 0, 0, "member larger than %d bytes", maxTextFile)
		}
		return name, buf.Bytes(), nil
	}, nil
}

// ahcdFolder finds the four extracted CSV files in a folder.
func ahcdFolder(dir string) (func(int) (string, []byte, error), error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files [4]string
	var seen []string
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		seen = append(seen, e.Name())
		for i, m := range ahcdMembers {
			if hasPrefixFold(e.Name(), m) && strings.HasSuffix(strings.ToLower(e.Name()), ".csv") && files[i] == "" {
				files[i] = filepath.Join(dir, e.Name())
			}
		}
	}
	for i, f := range files {
		if f == "" {
			return nil, formatErr(dir, 0, 0, "folder has no file %s*.csv (files: %s)", ahcdMembers[i], listOrNone(seen))
		}
	}
	return func(i int) (string, []byte, error) {
		data, err := readFileLimited(files[i], maxTextFile)
		return files[i], data, err
	}, nil
}

// maxTextFile bounds the size of one CSV file read into memory.
const maxTextFile = 1 << 30

func readFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, formatErr(path, 0, 0, "file larger than %d bytes", limit)
	}
	return data, nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	if len(names) > 8 {
		return strings.Join(names[:8], ", ") + ", ..."
	}
	return strings.Join(names, ", ")
}
