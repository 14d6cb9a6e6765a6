package data

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// idxBytes encodes an IDX file of unsigned bytes.
func idxBytes(dims []int, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func gzipBytes(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// writeMNIST writes four small IDX files (2x3 images) into a new folder.
func writeMNIST(t *testing.T, gz bool, nTrain, nTest int, mutate func(name string, b []byte) []byte) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, b []byte) {
		if mutate != nil {
			b = mutate(name, b)
		}
		if gz {
			b = gzipBytes(b)
			name += ".gz"
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []struct {
		prefix string
		n      int
	}{{"train", nTrain}, {"t10k", nTest}} {
		img := make([]byte, s.n*6)
		lbl := make([]byte, s.n)
		for i := range img {
			img[i] = byte(i)
		}
		for i := range lbl {
			lbl[i] = byte(i % 10)
		}
		write(s.prefix+"-images-idx3-ubyte", idxBytes([]int{s.n, 2, 3}, img))
		write(s.prefix+"-labels-idx1-ubyte", idxBytes([]int{s.n}, lbl))
	}
	return dir
}

func TestLoadMNISTSmall(t *testing.T) {
	for _, gz := range []bool{false, true} {
		dir := writeMNIST(t, gz, 12, 3, nil)
		train, test, err := LoadMNIST(context.Background(), dir, nil)
		if err != nil {
			t.Fatalf("LoadMNIST(gzip=%v): %v", gz, err)
		}
		if train.Len() != 12 || test.Len() != 3 {
			t.Errorf("LoadMNIST(gzip=%v): Len() = %d, %d, want 12, 3", gz, train.Len(), test.Len())
		}
		if s := train.Shape(); s[0] != 2 || s[1] != 3 || s[2] != 1 {
			t.Errorf("Shape() = %v, want [2 3 1]", s)
		}
		if train.Y[11] != 1 || train.Tensor().Data[7] != 7 || train.NumClasses() != 10 {
			t.Errorf("Y[11] = %d, X[7] = %v, NumClasses() = %d, want 1, 7, 10", train.Y[11], train.Tensor().Data[7], train.NumClasses())
		}
		if train.X != nil || len(train.Pix) != 12*6 {
			t.Errorf("LoadMNIST: X = %v, %d bytes in Pix, want the images as 72 bytes", train.X, len(train.Pix))
		}
	}
}

func TestLoadMNISTBad(t *testing.T) {
	trunc := func(name string, b []byte) []byte {
		if name == "t10k-images-idx3-ubyte" {
			return b[:len(b)-1]
		}
		return b
	}
	for _, c := range []struct {
		name   string
		gz     bool
		mutate func(string, []byte) []byte
		want   string
	}{
		{"truncated raw", false, trunc, "t10k-images-idx3-ubyte: dimensions [3 2 3] need 18 data bytes, file has 17"},
		{"truncated in gzip", true, trunc, "t10k-images-idx3-ubyte.gz: truncated: dimensions [3 2 3] need 18 data bytes, got 17"},
		{"trailing data", true, func(name string, b []byte) []byte {
			if name == "train-labels-idx1-ubyte" {
				return append(b, 0)
			}
			return b
		}, "more data than dimensions [12]"},
		{"wrong magic", false, func(name string, b []byte) []byte {
			if name == "train-labels-idx1-ubyte" {
				b[2] = 0x0d
			}
			return b
		}, "magic number 0x00000d01, want 0x000008NN"},
		{"label range", false, func(name string, b []byte) []byte {
			if name == "t10k-labels-idx1-ubyte" {
				b[len(b)-1] = 10
			}
			return b
		}, "t10k-labels-idx1-ubyte: item 2: label 10 outside 0..9"},
		{"count mismatch", false, func(name string, b []byte) []byte {
			if name == "train-labels-idx1-ubyte" {
				return idxBytes([]int{11}, b[8:19])
			}
			return b
		}, "11 labels for 12 images"},
		{"huge dims", false, func(name string, b []byte) []byte {
			if name == "train-images-idx3-ubyte" {
				return idxBytes([]int{1 << 20, 1 << 10, 1 << 10}, nil)
			}
			return b
		}, "exceed"},
		{"huge dims gzip", true, func(name string, b []byte) []byte {
			if name == "train-images-idx3-ubyte" {
				return idxBytes([]int{1 << 20, 1 << 5, 1 << 5}, nil)
			}
			return b
		}, "train-images-idx3-ubyte.gz: decoding would take more than 1.0 MiB for 35 bytes on disk"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeMNIST(t, c.gz, 12, 3, c.mutate)
			train, test, err := LoadMNIST(context.Background(), dir, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("LoadMNIST error = %v, want one containing %q", err, c.want)
			}
			if train != nil || test != nil {
				t.Errorf("LoadMNIST returned data with an error")
			}
		})
	}
	t.Run("corrupt gzip", func(t *testing.T) {
		dir := writeMNIST(t, true, 12, 3, nil)
		p := filepath.Join(dir, "train-images-idx3-ubyte.gz")
		b, _ := os.ReadFile(p)
		os.WriteFile(p, b[:len(b)-6], 0o644)
		if _, _, err := LoadMNIST(context.Background(), dir, nil); err == nil || !strings.Contains(err.Error(), "train-images-idx3-ubyte.gz") {
			t.Errorf("LoadMNIST(truncated gzip) error = %v, want one naming the file", err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		if _, _, err := LoadMNIST(context.Background(), t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "no MNIST file train-images-idx3-ubyte") {
			t.Errorf("LoadMNIST(empty dir) error = %v", err)
		}
	})
}

func TestLoadMNISTReal(t *testing.T) {
	dir := filepath.Join(sharedData(t), "mnist")
	train, test, err := LoadMNIST(context.Background(), dir, nil)
	if err != nil {
		t.Fatalf("LoadMNIST: %v", err)
	}
	for _, c := range []struct {
		name  string
		d     *Dataset
		n     int
		first []int
	}{
		{"train", train, 60000, []int{5, 0, 4, 1, 9, 2}},
		{"test", test, 10000, []int{7, 2, 1, 0, 4}},
	} {
		if c.d.Len() != c.n {
			t.Errorf("%s: Len() = %d, want %d", c.name, c.d.Len(), c.n)
		}
		for i, want := range c.first {
			if c.d.Y[i] != want {
				t.Errorf("%s: Y[%d] = %d, want %d", c.name, i, c.d.Y[i], want)
			}
		}
		if s := c.d.Shape(); s[0] != 28 || s[1] != 28 || s[2] != 1 {
			t.Errorf("%s: Shape() = %v, want [28 28 1]", c.name, s)
		}
		if lo, hi := c.d.Range(); lo != 0 || hi != 255 {
			t.Errorf("%s: Range() = %v, %v, want 0, 255", c.name, lo, hi)
		}
	}
}
