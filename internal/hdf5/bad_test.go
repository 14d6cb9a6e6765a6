package hdf5

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// load returns the bytes of testdata/name.
func load(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// walkAll opens b and reads everything in it, returning the first error.
func walkAll(b []byte) error {
	f, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return err
	}
	return walkGroup(f.Root(), 0)
}

func walkGroup(g *Group, depth int) error {
	if depth > 8 {
		return nil
	}
	if _, _, err := g.Attr("name"); err != nil {
		return err
	}
	for _, name := range g.Names() {
		sub, err := g.Group(name)
		if err == nil {
			if err := walkGroup(sub, depth+1); err != nil {
				return err
			}
			continue
		}
		if !strings.Contains(err.Error(), "not a group") {
			return err
		}
		d, err := g.Dataset(name)
		if err != nil {
			return err
		}
		if _, err := d.Float32s(); err != nil {
			return err
		}
	}
	return nil
}

// replace returns b with the only occurrence of old replaced by new.
func replace(t *testing.T, b, old, new []byte) []byte {
	t.Helper()
	if n := bytes.Count(b, old); n != 1 {
		t.Fatalf("%x occurs %d times, want once", old, n)
	}
	return bytes.Replace(b, old, new, 1)
}

// le returns the little-endian bytes of 8-byte values.
func le(vs ...uint64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

func TestTruncated(t *testing.T) {
	for _, name := range []string{"keras315.weights.h5", "keras.h5", "latest.h5"} {
		b := load(t, name)
		for _, n := range []int{0, 7, 8, 40, 95, 200, 800, 1500, 3000, len(b) / 2, len(b) - 4096} {
			err := walkAll(b[:n])
			if err == nil {
				t.Errorf("%s cut at %d bytes: no error", name, n)
				continue
			}
			if !strings.HasPrefix(err.Error(), "hdf5: ") {
				t.Errorf("%s cut at %d bytes: error %q, want the prefix \"hdf5: \"", name, n, err)
			}
			if n > 8 && !strings.Contains(err.Error(), "past the end of the file") && !strings.Contains(err.Error(), "truncated") {
				t.Errorf("%s cut at %d bytes: error %q, want it to say the file is too short", name, n, err)
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	keras := load(t, "keras.h5")
	// The root group's B-tree is the first; make its only child itself.
	tree := bytes.Index(keras, []byte("TREE"))
	cycle := append([]byte(nil), keras...)
	cycle[tree+5] = 1 // level: its child is a node
	copy(cycle[tree+32:], le(uint64(tree)))

	// The first chunk B-tree of types.h5 is that of /chunked, of rank 2:
	// its keys are 32 bytes.
	chunks := load(t, "types.h5")
	tree = bytes.Index(chunks, []byte("TREE\x01"))
	chunks[tree+5] = 1
	copy(chunks[tree+24+32:], le(uint64(tree)))

	sig := append([]byte(nil), keras...)
	sig[1] = 'X'

	// /layers/dense/vars/0 is 1440 bytes at 10296.
	past := replace(t, keras, le(10296, 1440), le(uint64(len(keras))-100, 1440))
	short := replace(t, keras, le(10296, 1440), le(10296, 1000))
	// Its dimensions are followed by the same maximum dimensions.
	huge := replace(t, keras, le(36, 10, 36, 10), le(36, 1<<20, 36, 1<<20))
	overflow := replace(t, keras, le(36, 10, 36, 10), le(1<<31-1, 1<<31-1, 1<<31-1, 1<<31-1))

	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"cycle", cycle, "hdf5: /: B-tree node at address 136 is reached twice (a cycle)"},
		{"chunk cycle", chunks, "hdf5: /chunked: B-tree node at address 5632 is reached twice (a cycle)"},
		{"signature", sig, "hdf5: no HDF5 signature"},
		{"past", past, "hdf5: /layers/dense/vars/0: data at offset 20380 of 1440 bytes runs past the end of the file (20480 bytes)"},
		{"short", short, "hdf5: /layers/dense/vars/0: contiguous storage of 1000 bytes, want 1440 for shape [36 10]"},
		{"huge", huge, "hdf5: /layers/dense/vars/0: 37748736 values of shape [36 1048576] would take 150994944 bytes, more than the limit"},
		{"overflow", overflow, "hdf5: /layers/dense/vars/0: dimensions [2147483647 2147483647] overflow"},
	}
	for _, tt := range tests {
		err := walkAll(tt.b)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}
