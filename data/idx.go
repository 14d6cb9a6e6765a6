package data

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/convnet-go/convnet/internal/safefile"
)

// IDX limits: the format allows up to 255 dimensions of 2^32-1 each; files
// past these bounds are rejected before anything is allocated.
const (
	maxIDXDims  = 4
	maxIDXBytes = 1 << 30
)

// idxArray is the content of one IDX file of unsigned bytes.
type idxArray struct {
	dims []int
	data []byte
}

// readIDX decodes an IDX file of unsigned bytes (type 0x08) from r, which may
// be gzip-compressed (detected by its magic bytes). size is the length of r
// if known, or -1. The data is charged to a at the plain rate, or at the
// packed rate when compressed. name is used in messages.
func readIDX(name string, r io.Reader, size int64, b *Budget) (idxArray, *allowance, error) {
	br := bufio.NewReader(r)
	a := b.allow(name, size, plainRate)
	streamed := size
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return idxArray{}, nil, formatErr(name, 0, 0, "bad gzip header: %v", err)
		}
		zr.Multistream(false)
		r, streamed = zr, -1
		a = b.allow(name, size, packedRate)
	} else {
		r = br
	}
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); stopped(err) {
		return idxArray{}, nil, readErr(name, err)
	} else if err != nil {
		return idxArray{}, nil, formatErr(name, 0, 0, "truncated IDX header: %s", readErrText(err))
	}
	if head[0] != 0 || head[1] != 0 || head[2] != 0x08 || head[3] == 0 || head[3] > maxIDXDims {
		return idxArray{}, nil, formatErr(name, 0, 0, "magic number %#08x, want 0x000008NN (unsigned bytes, 1 to %d dimensions)",
			binary.BigEndian.Uint32(head[:]), maxIDXDims)
	}
	dims := make([]int, head[3])
	total := int64(1)
	for i := range dims {
		var d [4]byte
		if _, err := io.ReadFull(r, d[:]); stopped(err) {
			return idxArray{}, nil, readErr(name, err)
		} else if err != nil {
			return idxArray{}, nil, formatErr(name, 0, 0, "truncated IDX header at dimension %d: %s", i+1, readErrText(err))
		}
		dims[i] = int(binary.BigEndian.Uint32(d[:]))
		total *= int64(dims[i])
		if total > maxIDXBytes {
			return idxArray{}, nil, formatErr(name, 0, 0, "dimensions %v exceed %d bytes", dims[:i+1], maxIDXBytes)
		}
	}
	header := int64(4 + 4*len(dims))
	if streamed >= 0 && streamed-header != total {
		return idxArray{}, nil, formatErr(name, 0, 0, "dimensions %v need %d data bytes, file has %d", dims, total, streamed-header)
	}
	// The header's size is checked against the allowance before the data
	// is read; reading past its end would find more data.
	data, err := makeCharged[byte](a, int(total))
	if err != nil {
		return idxArray{}, nil, err
	}
	n, err := io.ReadFull(r, data)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return idxArray{}, nil, formatErr(name, 0, 0, "truncated: dimensions %v need %d data bytes, got %d", dims, total, n)
	case err != nil:
		return idxArray{}, nil, readFailed(name, err, fmt.Sprintf(" (after %d of %d bytes)", n, total))
	}
	if k, err := r.Read(make([]byte, 1)); k > 0 {
		return idxArray{}, nil, formatErr(name, 0, 0, "more data than dimensions %v describe (%d bytes)", dims, total)
	} else if err != nil && err != io.EOF {
		return idxArray{}, nil, readFailed(name, err, "")
	}
	return idxArray{dims: dims, data: data}, a, nil
}

// readFailed describes an error while reading the data of an IDX file.
func readFailed(name string, err error, where string) error {
	if stopped(err) {
		return readErr(name, err)
	}
	return formatErr(name, 0, 0, "reading data: %s%s", readErrText(err), where)
}

func readErrText(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of file"
	}
	return err.Error()
}

// readIDXFile reads an IDX file, gzip-compressed or raw.
func readIDXFile(ctx context.Context, path string, b *Budget) (idxArray, *allowance, error) {
	f, err := safefile.Open(path)
	if err != nil {
		return idxArray{}, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return idxArray{}, nil, err
	}
	return readIDX(path, ctxReader{ctx, f}, info.Size(), b)
}

// idxDataset pairs an image file [N, H, W] with a label file [N] whose
// labels must be below numClasses. The images' bytes are given back to
// their allowance ai once they are converted.
func idxDataset(imgName, lblName string, img, lbl idxArray, ai, al *allowance, classNames []string) (*Dataset, error) {
	if len(img.dims) != 3 {
		return nil, formatErr(imgName, 0, 0, "images have %d dimensions %v, want 3 (count, rows, columns)", len(img.dims), img.dims)
	}
	if len(lbl.dims) != 1 {
		return nil, formatErr(lblName, 0, 0, "labels have %d dimensions %v, want 1", len(lbl.dims), lbl.dims)
	}
	n, h, w := img.dims[0], img.dims[1], img.dims[2]
	if n == 0 || h == 0 || w == 0 {
		return nil, formatErr(imgName, 0, 0, "empty images, dimensions %v", img.dims)
	}
	if lbl.dims[0] != n {
		return nil, formatErr(lblName, 0, 0, "%d labels for %d images in %s", lbl.dims[0], n, filepath.Base(imgName))
	}
	y, err := makeCharged[int](al, n)
	if err != nil {
		return nil, err
	}
	for i, v := range lbl.data {
		if int(v) >= len(classNames) {
			return nil, formatErr(lblName, 0, 0, "item %d: label %d outside 0..%d", i, v, len(classNames)-1)
		}
		y[i] = int(v)
	}
	// The images stay as the bytes read, still charged.
	al.give(costOf[byte](len(lbl.data)))
	return &Dataset{Pix: img.data, PixShape: []int{n, h, w, 1}, Y: y, ClassNames: classNames}, nil
}

// LoadMNIST loads MNIST from the four IDX files in dir, each gzip-compressed
// (name ending in .gz) or raw: train-images-idx3-ubyte,
// train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte
// (a dot in place of the last dash, as some copies have, works too). Images
// are 28x28x1, 0..255; class names are "0".."9".
//
// The data is charged to b (nil: a new budget of [DefaultMemory]); a
// compressed file may cost at most 100 bytes of memory per byte.
func LoadMNIST(ctx context.Context, dir string, b *Budget) (train, test *Dataset, err error) {
	b = orDefault(b)
	paths, err := mnistFiles(dir)
	if err != nil {
		return nil, nil, err
	}
	var arrays [4]idxArray
	var allowed [4]*allowance
	for i, p := range paths {
		arrays[i], allowed[i], err = readIDXFile(ctx, p, b)
		if err != nil {
			return nil, nil, err
		}
	}
	digits := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	train, err = idxDataset(paths[0], paths[1], arrays[0], arrays[1], allowed[0], allowed[1], digits)
	if err != nil {
		return nil, nil, err
	}
	test, err = idxDataset(paths[2], paths[3], arrays[2], arrays[3], allowed[2], allowed[3], append([]string(nil), digits...))
	if err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// mnistStems are the names of the four MNIST files, without ".gz".
var mnistStems = [4]string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}

// mnistFiles finds the four MNIST files in dir.
func mnistFiles(dir string) ([4]string, error) {
	var paths [4]string
	for i, stem := range mnistStems {
		var err error
		if paths[i], err = findIDX(dir, stem); err != nil {
			return paths, err
		}
	}
	return paths, nil
}

// findIDX returns the first existing spelling of an IDX file in dir.
func findIDX(dir, stem string) (string, error) {
	dotted := stem[:len(stem)-len("-idx3-ubyte")] + "." + stem[len(stem)-len("idx3-ubyte"):]
	var tried []string
	for _, name := range []string{stem + ".gz", stem, dotted + ".gz", dotted} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, name)
	}
	return "", fmt.Errorf("%s: no MNIST file %s (looked for %v)", dir, stem, tried)
}
