package hdf5

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
)

// signature opens every HDF5 superblock.
var signature = []byte("\x89HDF\r\n\x1a\n")

// undefined is the address of nothing: all bits set, whatever the offset size.
const undefined = ^uint64(0)

// maxDepth bounds the nesting of B-trees and chains of header blocks.
const maxDepth = 64

// File is an open HDF5 file.
type File struct {
	r          io.ReaderAt
	size       int64
	base       uint64 // file offset that addresses are relative to
	offsetSize int    // bytes of an address
	lengthSize int    // bytes of a length
	root       *Group
}

// Open reads the superblock and the root group of the file r of size bytes.
func Open(r io.ReaderAt, size int64) (*File, error) {
	if size < 0 {
		return nil, fmt.Errorf("hdf5: negative file size %d", size)
	}
	f := &File{r: r, size: size}
	rd := f.newReader()
	at, err := f.findSuperblock(rd)
	if err != nil {
		return nil, err
	}
	rootAddr, err := f.readSuperblock(rd, at)
	if err != nil {
		return nil, err
	}
	root, err := rd.loadGroup("/", rootAddr)
	if err != nil {
		return nil, err
	}
	f.root = root
	return f, nil
}

// Root returns the root group.
func (f *File) Root() *Group { return f.root }

// findSuperblock returns the offset of the signature: 0, or a power of two
// from 512 on, after a user block.
func (f *File) findSuperblock(rd *reader) (uint64, error) {
	for at := int64(0); at+8 <= f.size; {
		b, err := rd.readAt(uint64(at), 8, "/", "signature")
		if err != nil {
			return 0, err
		}
		if bytes.Equal(b, signature) {
			return uint64(at), nil
		}
		if at == 0 {
			at = 512
		} else {
			at *= 2
		}
	}
	return 0, fmt.Errorf("hdf5: no HDF5 signature at offset 0 or at a power of two from 512 (file of %d bytes)", f.size)
}

// readSuperblock decodes the superblock at file offset at and returns the
// address of the root group's object header.
func (f *File) readSuperblock(rd *reader, at uint64) (uint64, error) {
	n := uint64(f.size) - at
	n = min(n, 256)
	b, err := rd.readAt(at, n, "/", "superblock")
	if err != nil {
		return 0, err
	}
	if len(b) < 16 {
		return 0, fmt.Errorf("hdf5: superblock at offset %d: %d bytes, want at least 16", at, len(b))
	}
	version := b[8]
	d := &decoder{b: b}
	switch version {
	case 0, 1:
		d.pos = 13
	case 2, 3:
		d.pos = 9
	default:
		return 0, fmt.Errorf("hdf5: superblock at offset %d: version %d, want 0 to 3", at, version)
	}
	f.offsetSize, f.lengthSize = int(d.u8()), int(d.u8())
	for _, s := range []int{f.offsetSize, f.lengthSize} {
		if s != 2 && s != 4 && s != 8 {
			return 0, fmt.Errorf("hdf5: superblock at offset %d: sizes of offsets and lengths %d and %d, want 2, 4 or 8", at, f.offsetSize, f.lengthSize)
		}
	}
	d.f = f
	var root uint64
	if version <= 1 {
		d.pos = 24
		if version == 1 {
			d.pos = 28
		}
		f.base = d.addr()
		d.addr()        // free-space info
		d.addr()        // end of file
		d.addr()        // driver information block
		d.addr()        // root's link name offset
		root = d.addr() // root's object header
	} else {
		d.pos = 12
		f.base = d.addr()
		d.addr()        // superblock extension
		d.addr()        // end of file
		root = d.addr() // root's object header
	}
	if d.short {
		return 0, fmt.Errorf("hdf5: superblock at offset %d: version %d truncated at %d bytes", at, version, len(b))
	}
	if f.base == undefined || f.base > uint64(f.size) {
		return 0, fmt.Errorf("hdf5: superblock at offset %d: base address %#x outside the file (%d bytes)", at, f.base, f.size)
	}
	return root, nil
}

// reader holds one call's budget: the bytes it may still read.
type reader struct {
	f     *File
	left  int64
	heaps map[uint64]map[uint32][]byte // global heap collections read, by address: objects by index
}

// newReader returns a reader allowed to read four times the file, plus a little.
func (f *File) newReader() *reader {
	return &reader{f: f, left: min(f.size, math.MaxInt64/8)*4 + 64<<10}
}

// read returns n bytes at the address addr (relative to the base address),
// for the object at path; what names the structure for errors.
func (r *reader) read(addr, n uint64, path, what string) ([]byte, error) {
	if addr == undefined {
		return nil, fmt.Errorf("hdf5: %s: %s has an undefined address", path, what)
	}
	off := r.f.base + addr
	if off < addr {
		return nil, fmt.Errorf("hdf5: %s: %s at address %#x overflows", path, what, addr)
	}
	return r.readAt(off, n, path, what)
}

// readAt returns n bytes at file offset off.
func (r *reader) readAt(off, n uint64, path, what string) ([]byte, error) {
	size := uint64(r.f.size)
	if off > size || n > size-off {
		return nil, fmt.Errorf("hdf5: %s: %s at offset %d of %d bytes runs past the end of the file (%d bytes)", path, what, off, n, size)
	}
	if int64(n) > r.left {
		return nil, fmt.Errorf("hdf5: %s: %s at offset %d: reading %d more bytes exceeds the budget of this call (4 times the file size)", path, what, off, n)
	}
	r.left -= int64(n)
	b := make([]byte, n)
	m, err := r.f.r.ReadAt(b, int64(off))
	if m == len(b) {
		return b, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return nil, fmt.Errorf("hdf5: %s: reading %s at offset %d: %w", path, what, off, err)
}

// visit records in seen the address of a structure that must be read once
// in a walk, and fails if it was read already: a cycle in a hostile file.
func visit(seen map[uint64]bool, addr uint64, path, what string) error {
	if seen[addr] {
		return fmt.Errorf("hdf5: %s: %s at address %d is reached twice (a cycle)", path, what, addr)
	}
	seen[addr] = true
	return nil
}
