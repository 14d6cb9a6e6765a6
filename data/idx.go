package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/convnet-go/convnet/tensor"
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
// be gzip-compressed (detected by its magic bytes). size is the length of the
// uncompressed stream if known, or -1. name is used in messages.
func readIDX(name string, r io.Reader, size int64) (idxArray, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return idxArray{}, formatErr(name, 0, 0, "bad gzip header: %v", err)
		}
		zr.Multistream(false)
		r, size = zr, -1
	} else {
		r = br
	}
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return idxArray{}, formatErr(name, 0, 0, "truncated IDX header: %s", readErrText(err))
	}
	if head[0] != 0 || head[1] != 0 || head[2] != 0x08 || head[3] == 0 || head[3] > maxIDXDims {
		return idxArray{}, formatErr(name, 0, 0, "magic number %#08x, want 0x000008NN (unsigned bytes, 1 to %d dimensions)",
			binary.BigEndian.Uint32(head[:]), maxIDXDims)
	}
	dims := make([]int, head[3])
	total := int64(1)
	for i := range dims {
		var d [4]byte
		if _, err := io.ReadFull(r, d[:]); err != nil {
			return idxArray{}, formatErr(name, 0, 0, "truncated IDX header at dimension %d: %s", i+1, readErrText(err))
		}
		dims[i] = int(binary.BigEndian.Uint32(d[:]))
		total *= int64(dims[i])
		if total > maxIDXBytes {
			return idxArray{}, formatErr(name, 0, 0, "dimensions %v exceed %d bytes", dims[:i+1], maxIDXBytes)
		}
	}
	header := int64(4 + 4*len(dims))
	if size >= 0 && size-header != total {
		return idxArray{}, formatErr(name, 0, 0, "dimensions %v need %d data bytes, file has %d", dims, total, size-header)
	}
	// Read at most one byte past the expected end, growing the buffer only
	// as data arrives.
	data, err := io.ReadAll(io.LimitReader(r, total+1))
	if err != nil {
		return idxArray{}, formatErr(name, 0, 0, "reading data: %s (after %d of %d bytes)", readErrText(err), len(data), total)
	}
	switch {
	case int64(len(data)) < total:
		return idxArray{}, formatErr(name, 0, 0, "truncated: dimensions %v need %d data bytes, got %d", dims, total, len(data))
	case int64(len(data)) > total:
		return idxArray{}, formatErr(name, 0, 0, "more data than dimensions %v describe (%d bytes)", dims, total)
	}
	return idxArray{dims: dims, data: data}, nil
}

func readErrText(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of file"
	}
	return err.Error()
}

// readIDXFile reads an IDX file, gzip-compressed or raw.
func readIDXFile(path string) (idxArray, error) {
	f, err := os.Open(path)
	if err != nil {
		return idxArray{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return idxArray{}, err
	}
	return readIDX(path, f, info.Size())
}

// idxDataset pairs an image file [N, H, W] with a label file [N] whose
// labels must be below numClasses.
func idxDataset(imgName, lblName string, img, lbl idxArray, classNames []string) (*Dataset, error) {
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
	y := make([]int, n)
	for i, v := range lbl.data {
		if int(v) >= len(classNames) {
			return nil, formatErr(lblName, 0, 0, "item %d: label %d outside 0..%d", i, v, len(classNames)-1)
		}
		y[i] = int(v)
	}
	x := tensor.New(n, h, w, 1)
	for i, v := range img.data {
		x.Data[i] = float32(v)
	}
	return &Dataset{X: x, Y: y, ClassNames: classNames}, nil
}

// LoadMNIST loads MNIST from the four IDX files in dir, each gzip-compressed
// (name ending in .gz) or raw: train-images-idx3-ubyte,
// train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte
// (a dot in place of the last dash, as some copies have, works too). Images
// are 28x28x1, 0..255; class names are "0".."9".
func LoadMNIST(dir string) (train, test *Dataset, err error) {
	stems := [4]string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}
	var paths [4]string
	var arrays [4]idxArray
	for i, stem := range stems {
		paths[i], err = findIDX(dir, stem)
		if err != nil {
			return nil, nil, err
		}
		arrays[i], err = readIDXFile(paths[i])
		if err != nil {
			return nil, nil, err
		}
	}
	digits := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	train, err = idxDataset(paths[0], paths[1], arrays[0], arrays[1], digits)
	if err != nil {
		return nil, nil, err
	}
	test, err = idxDataset(paths[2], paths[3], arrays[2], arrays[3], append([]string(nil), digits...))
	if err != nil {
		return nil, nil, err
	}
	return train, test, nil
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
