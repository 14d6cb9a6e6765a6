package hdf5

import (
	"bytes"
	"fmt"
)

// Layout classes.
const (
	layoutCompact    = 0
	layoutContiguous = 1
	layoutChunked    = 2
)

// Chunk indexes of version 4 layouts the reader handles.
const (
	indexBtree  = 0 // version 1 B-tree (layouts of version 3)
	indexSingle = 1 // one chunk, the whole dataset
)

// layout is a decoded data layout message.
type layout struct {
	class   uint8
	compact []byte   // compact data
	addr    uint64   // contiguous data, chunk index, or single chunk
	size    uint64   // bytes of contiguous data, or of a filtered single chunk
	chunk   []uint64 // chunk dimensions, then the element size
	index   uint8    // chunk index type
	mask    uint32   // filters skipped for a single chunk
}

// parseLayout decodes a data layout message of a dataset of rank dimensions.
func parseLayout(b []byte, f *File, rank int) (layout, error) {
	d := &decoder{b: b, f: f}
	var l layout
	version := d.u8()
	if version != 3 && version != 4 {
		return l, fmt.Errorf("data layout version %d is not supported, want 3 or 4", version)
	}
	l.class = d.u8()
	switch l.class {
	case layoutCompact:
		l.compact = d.take(int(d.u16()))
	case layoutContiguous:
		l.addr, l.size = d.addr(), d.length()
	case layoutChunked:
		if err := l.parseChunked(d, version, rank); err != nil {
			return l, err
		}
	case 3:
		return l, fmt.Errorf("virtual datasets are not supported")
	default:
		return l, fmt.Errorf("data layout class %d, want 0 to 2", l.class)
	}
	if d.short {
		return l, fmt.Errorf("data layout message of %d bytes, too short for class %d", len(b), l.class)
	}
	return l, nil
}

// parseChunked decodes the part of a layout message that describes chunks.
func (l *layout) parseChunked(d *decoder, version uint8, rank int) error {
	flags, ndims, dimBytes := uint8(0), 0, 4
	if version == 4 {
		flags, ndims, dimBytes = d.u8(), int(d.u8()), int(d.u8())
		if dimBytes < 1 || dimBytes > 8 {
			return fmt.Errorf("chunk dimensions of %d bytes, want 1 to 8", dimBytes)
		}
	} else {
		ndims = int(d.u8())
		l.addr = d.addr()
	}
	if ndims != rank+1 {
		return fmt.Errorf("chunks of %d dimensions for a dataset of rank %d, want %d", ndims, rank, rank+1)
	}
	l.chunk = make([]uint64, ndims)
	for i := range l.chunk {
		l.chunk[i] = d.uint(dimBytes)
	}
	if version == 3 {
		return nil
	}
	l.index = d.u8()
	if l.index != indexSingle {
		names := map[uint8]string{2: "implicit", 3: "fixed array", 4: "extensible array", 5: "version 2 B-tree"}
		return fmt.Errorf("chunk index type %d (%s) is not supported, want 1 (single chunk) or a version 1 B-tree", l.index, names[l.index])
	}
	if flags&0x02 != 0 {
		l.size, l.mask = d.length(), d.u32()
	}
	l.addr = d.addr()
	return nil
}

// filter is one stage of a filter pipeline.
type filter struct {
	id   uint16
	name string
}

// Filter identifiers.
const (
	filterDeflate = 1
	filterShuffle = 2
)

// knownFilters names the filters of HDF5 and of common plugins, for errors.
var knownFilters = map[uint16]string{1: "deflate", 2: "shuffle", 3: "fletcher32", 4: "szip", 5: "nbit", 6: "scaleoffset",
	307: "bzip2", 32000: "lzf", 32001: "blosc", 32004: "lz4", 32008: "bitshuffle", 32015: "zstd"}

// parseFilters decodes a filter pipeline message.
func parseFilters(b []byte) ([]filter, error) {
	d := &decoder{b: b}
	version, n := d.u8(), int(d.u8())
	if version != 1 && version != 2 {
		return nil, fmt.Errorf("filter pipeline version %d, want 1 or 2", version)
	}
	if version == 1 {
		d.skip(6)
	}
	if n > 32 {
		return nil, fmt.Errorf("filter pipeline of %d filters, want at most 32", n)
	}
	var fs []filter
	for range n {
		var f filter
		f.id = d.u16()
		nameLen := 0
		if version == 1 || f.id >= 256 {
			nameLen = int(d.u16())
		}
		d.u16() // flags
		values := int(d.u16())
		name := d.take(nameLen)
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		f.name = string(name)
		d.skip(4 * values)
		if version == 1 && values%2 == 1 {
			d.skip(4)
		}
		fs = append(fs, f)
	}
	if d.short {
		return nil, fmt.Errorf("filter pipeline message of %d bytes, too short for %d filters", len(b), n)
	}
	return fs, nil
}

// String names the filter for errors.
func (f filter) String() string {
	name := knownFilters[f.id]
	if name == "" {
		name = f.name
	}
	if name == "" {
		return fmt.Sprintf("filter %d", f.id)
	}
	return fmt.Sprintf("filter %d (%s)", f.id, name)
}
