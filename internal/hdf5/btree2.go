package hdf5

import (
	"bytes"
	"fmt"
	"math/bits"
)

// Record types of version 2 B-trees.
const (
	btree2Huge     = 1 // huge objects of a fractal heap, not filtered, found by ID
	btree2AttrName = 8 // densely stored attributes, indexed by name
)

// btree2Prefix is the bytes of a version 2 B-tree node that are not records
// or child pointers: signature, version, type and checksum.
const btree2Prefix = 10

// btree2 is the header of a version 2 B-tree.
type btree2 struct {
	addr        uint64
	addrSize    int // bytes of an address in the file
	typ         uint8
	nodeSize    uint64
	recordSize  int
	depth       int
	root        uint64
	rootRecords int
	countSize   int   // bytes of a child pointer's count of the child's records
	totalSize   []int // bytes of the count of all records below a child of a node at depth d, at d-1
}

// openBtree2 reads the header of the version 2 B-tree at addr, whose records
// must be of type typ.
func (r *reader) openBtree2(addr uint64, typ uint8, path string) (*btree2, error) {
	o, l := r.f.offsetSize, r.f.lengthSize
	p, err := r.read(addr, uint64(16+o+2+l+4), path, "v2 B-tree header")
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(p[:4], []byte("BTHD")) || p[4] != 0 {
		return nil, fmt.Errorf("hdf5: %s: v2 B-tree header at address %d: signature %q version %d, want \"BTHD\" version 0", path, addr, p[:4], p[4])
	}
	d := &decoder{b: p, pos: 5, f: r.f}
	t := &btree2{addr: addr, addrSize: o, typ: d.u8(), nodeSize: uint64(d.u32()), recordSize: int(d.u16()), depth: int(d.u16())}
	d.skip(2) // split and merge percents
	t.root, t.rootRecords = d.addr(), int(d.u16())
	if t.typ != typ {
		return nil, fmt.Errorf("hdf5: %s: v2 B-tree at address %d: records of type %d, want %d", path, addr, t.typ, typ)
	}
	if t.recordSize == 0 || t.nodeSize < uint64(btree2Prefix+t.recordSize) || t.nodeSize > 1<<20 || t.depth > maxDepth {
		return nil, fmt.Errorf("hdf5: %s: v2 B-tree at address %d: nodes of %d bytes, records of %d, depth %d: want records of at least 1 byte in nodes of at most 1 MiB, depth at most %d", path, addr, t.nodeSize, t.recordSize, t.depth, maxDepth)
	}
	// The sizes of the counts in child pointers follow from the node size,
	// as the HDF5 library computes them (H5B2__hdr_init).
	leafMax := (t.nodeSize - btree2Prefix) / uint64(t.recordSize)
	t.countSize = encSize(leafMax)
	t.totalSize = []int{0}
	cum := leafMax
	for depth := 1; depth <= t.depth; depth++ {
		ptr := t.pointerSize(depth)
		if t.nodeSize < uint64(btree2Prefix+ptr) {
			return nil, fmt.Errorf("hdf5: %s: v2 B-tree at address %d: nodes of %d bytes hold no record at depth %d", path, addr, t.nodeSize, depth)
		}
		n := (t.nodeSize - uint64(btree2Prefix+ptr)) / uint64(t.recordSize+ptr)
		hi, lo := bits.Mul64(n+1, cum)
		if hi != 0 || lo+n < lo {
			cum = ^uint64(0)
		} else {
			cum = lo + n
		}
		t.totalSize = append(t.totalSize, encSize(cum))
	}
	return t, nil
}

// encSize is the bytes that hold the number n (H5VM_limit_enc_size).
func encSize(n uint64) int {
	if n == 0 {
		return 1
	}
	return (bits.Len64(n)-1)/8 + 1
}

// pointerSize is the bytes of a child pointer in a node at depth.
func (t *btree2) pointerSize(depth int) int {
	n := t.addrSize + t.countSize
	if depth > 1 {
		n += t.totalSize[depth-1]
	}
	return n
}

// walk calls record with each record of the tree, in order.
func (r *reader) walkBtree2(t *btree2, path string, record func([]byte) error) error {
	if t.root == undefined {
		return nil
	}
	return r.btree2Node(t, t.root, t.depth, t.rootRecords, path, map[uint64]bool{}, record)
}

// btree2Node calls record with each record of the node at addr, at depth,
// which holds n records, and of the nodes below it.
func (r *reader) btree2Node(t *btree2, addr uint64, depth, n int, path string, seen map[uint64]bool, record func([]byte) error) error {
	if err := visit(seen, addr, path, "v2 B-tree node"); err != nil {
		return err
	}
	want, what := "BTLF", "v2 B-tree leaf"
	ptr := 0
	if depth > 0 {
		want, what = "BTIN", "v2 B-tree internal node"
		ptr = t.pointerSize(depth)
	}
	need := uint64(6+n*t.recordSize) + uint64(n+1)*uint64(ptr)
	if depth == 0 {
		need -= uint64(ptr)
	}
	if need+4 > t.nodeSize {
		return fmt.Errorf("hdf5: %s: %s at address %d: %d records need %d bytes, more than the tree's nodes of %d", path, what, addr, n, need+4, t.nodeSize)
	}
	p, err := r.read(addr, need, path, what)
	if err != nil {
		return err
	}
	if !bytes.Equal(p[:4], []byte(want)) || p[4] != 0 || p[5] != t.typ {
		return fmt.Errorf("hdf5: %s: %s at address %d: signature %q version %d type %d, want %q version 0 type %d", path, what, addr, p[:4], p[4], p[5], want, t.typ)
	}
	records := p[6 : 6+n*t.recordSize]
	d := &decoder{b: p, pos: 6 + n*t.recordSize, f: r.f}
	for i := 0; i <= n; i++ {
		if depth > 0 {
			child := d.addr()
			count := d.uint(t.countSize)
			d.skip(t.totalSize[depth-1])
			if count > uint64(t.nodeSize) {
				return fmt.Errorf("hdf5: %s: %s at address %d: child %d holds %d records, more than a node of %d bytes can", path, what, addr, i, count, t.nodeSize)
			}
			if err := r.btree2Node(t, child, depth-1, int(count), path, seen, record); err != nil {
				return err
			}
		}
		if i < n {
			if err := record(records[i*t.recordSize : (i+1)*t.recordSize]); err != nil {
				return err
			}
		}
	}
	return nil
}
