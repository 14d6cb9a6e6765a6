package data

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/convnet-go/convnet/internal/safefile"
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
// name (the full names also carry the table sizes), and their names in the
// published archive.
var (
	ahcdMembers   = [4]string{"csvTrainImages", "csvTrainLabel", "csvTestImages", "csvTestLabel"}
	ahcdPublished = [4]string{"csvTrainImages 13440x1024.csv", "csvTrainLabel 13440x1.csv", "csvTestImages 3360x1024.csv", "csvTestLabel 3360x1.csv"}
)

// maxMember bounds the declared size of a zip member.
const maxMember = 1 << 30

// LoadAHCD loads the Arabic Handwritten Characters Dataset from path: either
// the published zip (read in place) or a folder holding its four extracted
// CSV files. Images come out upright, 32x32x1, white strokes (up to 255) on
// black; labels 1..28 become class indices 0..27 named as in
// [AHCDClassNames]. The data is charged to b (nil: a new budget of
// [DefaultMemory]) before it is read, worked out from the size of each CSV
// file as the zip declares it; a zip may cost at most 100 bytes of memory
// per byte.
func LoadAHCD(ctx context.Context, path string, b *Budget) (train, test *Dataset, err error) {
	b = orDefault(b)
	info, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	var members [4]ahcdMember
	if info.IsDir() {
		members, err = ahcdFolder(path, b)
	} else {
		var f *os.File
		if f, err = safefile.Open(path); err != nil {
			return nil, nil, err
		}
		defer f.Close()
		if info, err = f.Stat(); err != nil {
			return nil, nil, err
		}
		zr, zerr := zip.NewReader(f, info.Size())
		if zerr != nil {
			return nil, nil, &FormatError{File: path, Msg: fmt.Sprintf("not a readable zip archive: %v", zerr)}
		}
		members, err = ahcdZip(path, zr, b.allow(path, info.Size(), packedRate))
	}
	if err != nil {
		return nil, nil, err
	}
	return loadAHCD(ctx, members, b)
}

// loadAHCD reads the four members, each on its own goroutine.
func loadAHCD(ctx context.Context, members [4]ahcdMember, b *Budget) (train, test *Dataset, err error) {
	var (
		wg     sync.WaitGroup
		images [2][]uint8
		labels [2][]int
		errs   [4]error
	)
	for i := range members {
		wg.Go(func() {
			if i%2 == 0 {
				images[i/2], errs[i] = members[i].images(ctx)
			} else {
				labels[i/2], errs[i] = members[i].labels(ctx)
			}
		})
	}
	wg.Wait()
	if err = errors.Join(errs[:]...); err == nil {
		train, err = ahcdDataset(members[0].name, members[1].name, images[0], labels[0])
	}
	if err == nil {
		test, err = ahcdDataset(members[2].name, members[3].name, images[1], labels[1])
	}
	if err != nil {
		for i := range 2 {
			if images[i] != nil {
				b.give(costOf[uint8](cap(images[i])))
			}
			b.give(costOf[int](cap(labels[i])))
		}
		return nil, nil, err
	}
	return train, test, nil
}

// ahcdDataset checks that a split has as many labels as images.
func ahcdDataset(imgFile, lblFile string, pix []uint8, y []int) (*Dataset, error) {
	n := len(pix) / ahcdPixels
	if n == 0 {
		return nil, formatErr(imgFile, 0, 0, "no images")
	}
	if len(y) != n {
		return nil, formatErr(lblFile, 0, 0, "%d labels for %d images in %s", len(y), n, filepath.Base(imgFile))
	}
	return &Dataset{Pix: pix, PixShape: []int{n, ahcdSide, ahcdSide, 1}, Y: y, ClassNames: AHCDClassNames()}, nil
}

// ahcdMember is one of the four CSV files, in a zip or a folder.
type ahcdMember struct {
	name string // for messages
	// open returns the text, its size (as the zip declares it, which its
	// reader enforces) and what reading it may cost.
	open func() (io.ReadCloser, int64, *allowance, error)
}

// images reads an image file: 1,024 values per row, column by column, each
// an integer in 0..255, returned as bytes in row-major order.
func (m ahcdMember) images(ctx context.Context) ([]uint8, error) {
	x, _, err := readMember(ctx, m, ahcdPixels, func(upright []uint8, row []float32, line int) error {
		for i, v := range row {
			if v < 0 || v > 255 {
				return formatErr(m.name, line, i+1, "pixel value %v outside 0..255", v)
			}
			if v != float32(uint8(v)) {
				return formatErr(m.name, line, i+1, "pixel value %v is not an integer", v)
			}
			// Value i is pixel (row i%32, column i/32).
			upright[(i%ahcdSide)*ahcdSide+i/ahcdSide] = uint8(v)
		}
		return nil
	})
	return x, err
}

// labels reads a label file: one label in 1..28 per row, returned as a class
// index 0..27.
func (m ahcdMember) labels(ctx context.Context) ([]int, error) {
	y, _, err := readMember(ctx, m, 1, func(y []int, row []float32, line int) error {
		v := row[0]
		if v != float32(int(v)) || v < 1 || v > float32(len(AHCDClasses)) {
			return formatErr(m.name, line, 1, "label %v outside 1..%d", v, len(AHCDClasses))
		}
		y[0] = int(v) - 1
		return nil
	})
	return y, err
}

// readMember reads the rows of cells values of a member, each turned into
// cells values of type T by fill. Each row takes at least 2*cells bytes of
// text, so the member's size bounds their number: room for that many rows
// is charged and allocated before the first is read.
func readMember[T any](ctx context.Context, m ahcdMember, cells int, fill func(dst []T, row []float32, line int) error) (_ []T, n int, err error) {
	r, size, a, err := m.open()
	if err != nil {
		return nil, 0, err
	}
	defer r.Close()
	out, err := makeCharged[T](a, int((size+1)/int64(2*cells))*cells)
	if err != nil {
		return nil, 0, err
	}
	defer func() {
		if err != nil {
			a.give(costOf[T](len(out)))
		}
	}()
	rr := newRowReader(m.name, ctxReader{ctx, r}, a)
	defer rr.close()
	rr.cols = cells
	for ; ; n++ {
		row, err := rr.next()
		if err == io.EOF {
			return out[:n*cells], n, nil
		} else if err != nil {
			return nil, 0, err
		}
		if (n+1)*cells > len(out) {
			return nil, 0, formatErr(m.name, rr.line, 0, "more rows than %d bytes hold", size)
		}
		if err := fill(out[n*cells:(n+1)*cells], row, rr.line); err != nil {
			return nil, 0, err
		}
	}
}

// ahcdZip finds the four members in a zip archive; reading them is charged
// to a, the archive's allowance.
func ahcdZip(path string, zr *zip.Reader, a *allowance) ([4]ahcdMember, error) {
	var members [4]ahcdMember
	var files [4]*zip.File
	var seen []string
	for _, f := range zr.File {
		base := filepath.Base(f.Name)
		if f.FileInfo().IsDir() || strings.HasPrefix(base, ".") {
			continue
		}
		seen = append(seen, f.Name)
		if i := ahcdRole(base); i >= 0 && files[i] == nil {
			files[i] = f
		}
	}
	for i, f := range files {
		if f == nil {
			return members, formatErr(path, 0, 0, "zip has no member %s*.csv (members: %s)", ahcdMembers[i], listOrNone(seen))
		}
		name := path + "/" + f.Name
		if f.UncompressedSize64 > maxMember {
			return members, formatErr(name, 0, 0, "member of %d bytes, more than %d", f.UncompressedSize64, maxMember)
		}
		members[i] = ahcdMember{name: name, open: func() (io.ReadCloser, int64, *allowance, error) {
			rc, err := f.Open()
			if err != nil {
				return nil, 0, nil, formatErr(name, 0, 0, "cannot open zip member: %v", err)
			}
			return rc, int64(f.UncompressedSize64), a, nil
		}}
	}
	return members, nil
}

// ahcdRole returns the index in ahcdMembers of a file named base, or -1.
func ahcdRole(base string) int {
	for i, m := range ahcdMembers {
		if hasPrefixFold(base, m) && strings.HasSuffix(strings.ToLower(base), ".csv") {
			return i
		}
	}
	return -1
}

// ahcdFiles finds the four extracted CSV files in a folder.
func ahcdFiles(dir string) ([4]string, error) {
	var files [4]string
	entries, err := os.ReadDir(dir)
	if err != nil {
		return files, err
	}
	var seen []string
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		seen = append(seen, e.Name())
		if i := ahcdRole(e.Name()); i >= 0 && files[i] == "" {
			files[i] = filepath.Join(dir, e.Name())
		}
	}
	for i, f := range files {
		if f == "" {
			return files, formatErr(dir, 0, 0, "folder has no file %s*.csv (files: %s)", ahcdMembers[i], listOrNone(seen))
		}
	}
	return files, nil
}

// ahcdFolder returns the four extracted CSV files in a folder; each may
// cost a few bytes of memory per byte.
func ahcdFolder(dir string, b *Budget) ([4]ahcdMember, error) {
	var members [4]ahcdMember
	files, err := ahcdFiles(dir)
	for i, path := range files {
		members[i] = ahcdMember{name: path, open: func() (io.ReadCloser, int64, *allowance, error) {
			f, err := safefile.Open(path)
			if err != nil {
				return nil, 0, nil, err
			}
			info, err := f.Stat()
			if err != nil {
				f.Close()
				return nil, 0, nil, err
			}
			return f, info.Size(), b.allow(path, info.Size(), plainRate), nil
		}}
	}
	return members, err
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
