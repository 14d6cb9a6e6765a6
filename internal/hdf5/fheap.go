package hdf5

import (
	"bytes"
	"fmt"
	"math/bits"
)

// fheap is the header of a fractal heap: objects of any size, the small
// ones ("managed") in direct blocks of a doubling table, the large ones
// ("huge") on their own and found through a v2 B-tree, the tiny ones inside
// their IDs. HDF5 keeps densely stored attributes in one.
type fheap struct {
	addr       uint64
	idLen      int
	direct     bool   // huge objects' IDs hold their address and length
	checksums  bool   // direct blocks end their header with a checksum
	maxManaged uint64 // bytes of the largest managed object
	hugeTree   uint64
	width      uint64 // blocks in a row of the doubling table
	start      uint64 // bytes of the blocks of the first two rows
	maxDirect  uint64 // bytes of the largest direct block
	offSize    int    // bytes of an offset in the heap
	lenSize    int    // bytes of a managed object's length in its ID
	root       uint64 // root block: direct, or indirect with rootRows rows
	rootRows   int
}

// openFheap reads the header of the fractal heap at addr.
func (r *reader) openFheap(addr uint64, path string) (*fheap, error) {
	o, l := r.f.offsetSize, r.f.lengthSize
	p, err := r.read(addr, uint64(22+12*l+3*o+4), path, "fractal heap header")
	if err != nil {
		return nil, err
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("hdf5: %s: fractal heap at address %d: %s", path, addr, fmt.Sprintf(format, args...))
	}
	if !bytes.Equal(p[:4], []byte("FRHP")) || p[4] != 0 {
		return nil, fail("signature %q version %d, want \"FRHP\" version 0", p[:4], p[4])
	}
	d := &decoder{b: p, pos: 5, f: r.f}
	h := &fheap{addr: addr, idLen: int(d.u16())}
	filters, flags := d.u16(), d.u8()
	h.maxManaged = uint64(d.u32())
	d.length() // next huge object ID
	h.hugeTree = d.addr()
	d.length() // free space in managed blocks
	d.addr()   // free-space manager
	for range 8 {
		d.length() // managed space, allocated space, iterator, counts and sizes of objects
	}
	h.width = uint64(d.u16())
	h.start, h.maxDirect = d.length(), d.length()
	heapBits := int(d.u16())
	d.u16() // starting rows of the root indirect block
	h.root, h.rootRows = d.addr(), int(d.u16())
	if filters != 0 {
		return nil, fail("filtered fractal heaps are not supported")
	}
	if h.idLen < 2 || h.idLen > 4096 {
		return nil, fail("heap IDs of %d bytes, want 2 to 4096", h.idLen)
	}
	pow2 := func(v uint64) bool { return v != 0 && v&(v-1) == 0 }
	if !pow2(h.width) || !pow2(h.start) || !pow2(h.maxDirect) || h.start > h.maxDirect || heapBits < 1 || heapBits > 64 {
		return nil, fail("table of width %d, blocks of %d to %d bytes, offsets of %d bits: want powers of two, the first block no larger than the largest, 1 to 64 bits", h.width, h.start, h.maxDirect, heapBits)
	}
	if uint64(h.rootRows) > h.maxRows() {
		return nil, fail("root indirect block of %d rows, more than heap offsets of %d bits allow", h.rootRows, heapBits)
	}
	h.checksums = flags&2 != 0
	h.offSize = (heapBits + 7) / 8
	h.lenSize = min((bits.Len64(h.maxDirect)-1+7)/8, encSize(h.maxManaged))
	h.direct = h.idLen-1 >= o+l
	return h, nil
}

// maxRows bounds the rows of an indirect block: past it, block sizes overflow.
func (h *fheap) maxRows() uint64 { return uint64(64 - bits.Len64(h.start) + 1) }

// directRows is the number of rows of an indirect block that are direct blocks.
func (h *fheap) directRows() int {
	return bits.Len64(h.maxDirect) - bits.Len64(h.start) + 2
}

// rowSize is the bytes of each block of row.
func (h *fheap) rowSize(row int) uint64 {
	if row == 0 {
		return h.start
	}
	return h.start << (row - 1)
}

// object returns the object of the heap whose ID is id.
func (r *reader) heapObject(h *fheap, id []byte, path string) ([]byte, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("hdf5: %s: fractal heap at address %d: %s", path, h.addr, fmt.Sprintf(format, args...))
	}
	if len(id) != h.idLen {
		return nil, fail("heap ID of %d bytes, want %d", len(id), h.idLen)
	}
	if id[0]>>6 != 0 {
		return nil, fail("heap ID of version %d, want 0", id[0]>>6)
	}
	d := &decoder{b: id, pos: 1, f: r.f}
	switch id[0] >> 4 & 3 {
	case 0:
		off, n := d.uint(h.offSize), d.uint(h.lenSize)
		if d.short {
			return nil, fail("managed object's ID of %d bytes, too short", len(id))
		}
		return r.managed(h, off, n, path)
	case 1:
		if h.direct {
			return r.read(d.addr(), d.length(), path, "huge object of a fractal heap")
		}
		key := d.uint(min(h.idLen-1, 8))
		return r.huge(h, key, path)
	case 2:
		n := int(id[0]&0x0f) + 1
		if h.idLen > 18 { // extended: 12 bits of length
			n = (int(id[0]&0x0f)<<8 | int(id[1])) + 1
			d.skip(1)
		}
		b := d.take(n)
		if d.short {
			return nil, fail("tiny object of %d bytes in an ID of %d", n, len(id))
		}
		return b, nil
	}
	return nil, fail("heap ID of type %d, want 0 to 2", id[0]>>4&3)
}

// huge returns the huge object whose ID is key, through the heap's B-tree.
func (r *reader) huge(h *fheap, key uint64, path string) ([]byte, error) {
	if h.hugeTree == undefined {
		return nil, fmt.Errorf("hdf5: %s: fractal heap at address %d: huge object %d, but no huge objects", path, h.addr, key)
	}
	t, err := r.openBtree2(h.hugeTree, btree2Huge, path)
	if err != nil {
		return nil, err
	}
	var addr, n uint64
	found := false
	err = r.walkBtree2(t, path, func(rec []byte) error {
		d := &decoder{b: rec, f: r.f}
		a, l, id := d.addr(), d.length(), d.length()
		if d.short {
			return fmt.Errorf("hdf5: %s: huge object record of %d bytes, too short", path, len(rec))
		}
		if id == key && !found {
			addr, n, found = a, l, true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("hdf5: %s: fractal heap at address %d: no huge object %d", path, h.addr, key)
	}
	return r.read(addr, n, path, "huge object of a fractal heap")
}

// managed returns the n bytes at offset off of the heap's managed space,
// walking the doubling table down from the root block.
func (r *reader) managed(h *fheap, off, n uint64, path string) ([]byte, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("hdf5: %s: fractal heap at address %d: object at offset %d of %d bytes: %s", path, h.addr, off, n, fmt.Sprintf(format, args...))
	}
	if n > h.maxManaged {
		return nil, fail("larger than the heap's managed objects (%d bytes)", h.maxManaged)
	}
	addr, base, rows, size := h.root, uint64(0), h.rootRows, h.start
	o := r.f.offsetSize
	for depth := 0; rows > 0; depth++ {
		if depth > maxDepth {
			return nil, fail("indirect blocks nested more than %d deep", maxDepth)
		}
		// Find the row and column of the block that holds off.
		if off < base {
			return nil, fail("before the indirect block at offset %d", base)
		}
		rel, row := off-base, 0
		for ; row < rows; row++ {
			hi, span := bits.Mul64(h.rowSize(row), h.width)
			if hi != 0 || rel < span {
				break
			}
			rel -= span
		}
		if row == rows {
			return nil, fail("past the indirect block at address %d of %d rows", addr, rows)
		}
		col := rel / h.rowSize(row)
		if col >= h.width {
			return nil, fail("past the indirect block at address %d", addr)
		}
		head := uint64(5 + o + h.offSize)
		entry := head + (uint64(row)*h.width+col)*uint64(o)
		p, err := r.read(addr, entry+uint64(o), path, "fractal heap indirect block")
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(p[:4], []byte("FHIB")) || p[4] != 0 {
			return nil, fail("indirect block at address %d: signature %q version %d, want \"FHIB\" version 0", addr, p[:4], p[4])
		}
		size = h.rowSize(row)
		base = off - rel + col*size
		addr = (&decoder{b: p, pos: int(entry), f: r.f}).addr()
		if row < h.directRows() {
			rows = 0
		} else {
			// A child indirect block has the rows that add up to its size.
			rows = bits.Len64(size) - bits.Len64(h.start) - bits.Len64(h.width) + 2
			if rows <= 0 || uint64(rows) > h.maxRows() {
				return nil, fail("child indirect block of %d bytes in a table of width %d", size, h.width)
			}
		}
	}
	head := uint64(5 + o + h.offSize)
	if h.checksums {
		head += 4
	}
	rel := off - base
	if rel < head || rel > size || n > size-rel {
		return nil, fail("outside the direct block at address %d of %d bytes (its header %d)", addr, size, head)
	}
	p, err := r.read(addr, 4, path, "fractal heap direct block")
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(p, []byte("FHDB")) {
		return nil, fail("direct block at address %d: signature %q, want \"FHDB\"", addr, p)
	}
	return r.read(addr+rel, n, path, "object of a fractal heap")
}
